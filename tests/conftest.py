"""Shared fixtures: moto's mock_aws per test, chalice's test client, DynamoDB call counting."""
from __future__ import annotations

import base64
import os
import sys
from collections import Counter as _Counter
from pathlib import Path

# Before anything imports chalicelib (PynamoDB reads region and table names at class creation).
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "skyhawk")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # tests that assert EMF output turn them on
os.environ["SKYHAWK_PASSWORD_HASH_ITERATIONS"] = "1000"  # hashing cost is not under test; speed is
# Request limits run on every request but never refuse one, except in tests that lower them: many tests
# freeze the clock (buckets would never refill) or send bursts no real client would.
for _kind in ("IP", "DEVICE", "LOGIN"):
    for _way in ("READS", "WRITES"):
        os.environ[f"SKYHAWK_RATE_LIMIT_{_way}_PER_{_kind}"] = "1000000"
for _var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
    os.environ.pop(_var, None)

import botocore.client  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _copy_only_what_a_transaction_writes() -> None:
    """Speed up moto, not change it: its TransactWriteItems deep-copies every table it touches for rollback,
    once per *item* (99 copies of the same table for a 99-item transaction), so a transaction's cost grew
    with items x table size: about 0.1 s per transaction on a table of 2,000 items, 0.6 s on 8,000, which made
    a 1,000-device rollout (tests/e2e/test_rollouts_e2e.py) and a 10,000-target bench take many minutes.
    A copy of each item the transaction names, put back if moto cancels it, is the same rollback state: moto
    writes no other item of the table in a transaction (its indexes are read from the items at query time).
    A transaction whose items cannot all be read first (a malformed key moto refuses) copies its tables once.
    """
    import copy
    import types

    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models.dynamo_type import DynamoType

    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def snapshot(backend, transact_items) -> list | None:
        saved = []
        for entry in transact_items:
            try:
                (kind, op), = entry.items()
                table = backend.tables[op["TableName"]]
                key = op["Key"] if kind != "Put" else op["Item"]
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                item = table.get_item(hash_value, range_value)
            except Exception:  # noqa: BLE001 - moto raises its own refusal in the call itself
                return None
            if kind != "ConditionCheck":
                saved.append((table, hash_value, range_value, copy.deepcopy(item)))
        return saved

    def restore(saved: list) -> None:
        for table, hash_value, range_value, item in reversed(saved):
            if table.range_key_attr:
                if item is None:
                    table.items.get(hash_value, {}).pop(range_value, None)
                    if hash_value in table.items and not table.items[hash_value]:
                        del table.items[hash_value]
                else:
                    table.items[hash_value][range_value] = item
            elif item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item

    def stream_lengths(backend, transact_items) -> list:
        """Where each touched table's stream ends: a cancelled transaction's records are cut off there, as moto's
        own rollback (which puts back copies of whole tables, streams included) drops them."""
        tables = {entry_op["TableName"] for entry in transact_items for entry_op in entry.values()
                  if isinstance(entry_op, dict) and entry_op.get("TableName") in backend.tables}
        return [(backend.tables[name].stream_shard, len(backend.tables[name].stream_shard.items))
                for name in tables if backend.tables[name].stream_shard is not None]

    def transact_write_items(self, transact_items):
        saved = snapshot(self, transact_items)
        streams = stream_lengths(self, transact_items) if saved is not None else []
        copies: dict[int, object] = {}

        def deepcopy(value, memo=None):
            if isinstance(value, dynamodb_models.Table):
                if saved is not None:
                    return value  # moto's rollback puts the same table back; restore() undoes the items
                if id(value) not in copies:
                    copies[id(value)] = copy.deepcopy(value, memo)
                return copies[id(value)]
            return copy.deepcopy(value, memo)

        dynamodb_models.copy = types.SimpleNamespace(deepcopy=deepcopy)
        try:
            return original(self, transact_items)
        except Exception:
            if saved is not None:
                restore(saved)
                for shard, length in streams:
                    del shard.items[length:]
            raise
        finally:
            dynamodb_models.copy = copy

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def _query_reads_only_its_partition() -> None:
    """Speed up moto, not change it: a Query of a table (not of an index) took every item of the table, sorted
    them all, then kept its partition's: each Query cost the whole table (a rollout's progress check, a Query of
    its counters, grew with the fleet). It now starts from the partition's items; moto filters and sorts them by
    the sort key as before. Tables without a sort key, and index queries, take moto's own path.
    """
    import threading

    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    reading = threading.local()  # (table, its partition's items) of this thread's Query

    def all_items(self):
        current = getattr(reading, "partition", None)
        if current is not None and current[0] is self:
            return list(current[1].values())
        return original_all_items(self)

    def query(self, hash_key, *args, **kwargs):
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or not self.range_key_attr or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        before = getattr(reading, "partition", None)
        reading.partition = (self, self.items.get(hash_key) or {})
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            reading.partition = before

    Table.all_items = all_items
    Table.query = query


def _no_value_drops_list_items() -> None:
    """Correct moto, not speed it up: CloudFormation drops a list item that resolves to AWS::NoValue (the data
    template's optional Secrets statement and its resources); moto 5.2 keeps it as null and then refuses the
    policy. Every other value is resolved by moto as before; cfn-lint checks the template against the real
    semantics. Here for the e2e tests too (they deploy the template to the launcher's in-process moto).
    """
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json, resources_map):
        cleaned = original(resource_json, resources_map)
        if isinstance(resource_json, list):
            return [value for value in cleaned if value is not None]
        return cleaned

    parsing.clean_json = clean_json


_copy_only_what_a_transaction_writes()
_query_reads_only_its_partition()
_no_value_drops_list_items()
sys.path.insert(0, str(PROJECT_DIR))

TENANT = "DEFAULT"


def basic(user: str = "admin", password: str = "admin", tenant: str | None = None) -> dict[str, str]:
    login = f"{tenant}\\{user}" if tenant else user
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


ADMIN = basic()


def reset_process_state() -> None:
    from chalicelib import auth, clock, config
    from chalicelib.services import auto_assignment, health, rate_limits, snapshots, tenant_config
    from chalicelib.store import aws, change_feed, dmf_queues, job_queue, tx
    from infra import launcher

    config.reset()
    clock.reset()
    aws.reset()
    job_queue.reset()
    dmf_queues.reset()
    change_feed.reset()
    launcher.FEED.records.clear()
    tx.reset()
    tenant_config.invalidate()
    auth.forget_verified()
    health.forget()
    rate_limits.reset()
    snapshots.forget()
    auto_assignment.forget()


def _dynamodb_tables() -> dict:
    """moto's DynamoDB tables of the test account and region (its backend state, by table name)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib import config
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][config.settings().region].tables


_bootstrapped_tables: dict | None = None


@pytest.fixture
def aws_env():
    """Fresh moto state with every table, the bucket, the jobs queue and tenant DEFAULT (admin/admin).

    Tables and tenant are made once per test process, through the code under test, and their moto state
    copied; each test starts from a fresh copy of it (creating 9 tables and a tenant per test was most of
    the suite's time). Everything else moto holds is new for every test, as `mock_aws` resets it.
    """
    import copy

    global _bootstrapped_tables
    reset_process_state()
    with mock_aws():
        from chalicelib import config
        from chalicelib.services import tenants
        from chalicelib.store import aws, dmf_queues, event_bus, job_queue, schema

        if _bootstrapped_tables is None:
            schema.ensure_tables()
            tenants.ensure_tenant(TENANT)
            _bootstrapped_tables = copy.deepcopy(_dynamodb_tables())
        else:
            _dynamodb_tables().update(copy.deepcopy(_bootstrapped_tables))
        aws.s3().create_bucket(Bucket=config.settings().bucket)
        job_queue.ensure()
        dmf_queues.ensure()
        event_bus.ensure()
        yield
    reset_process_state()


def pytest_configure(config):
    from tests.contract.hooks import OPT_OUT_MARKER

    config.addinivalue_line("markers", f"{OPT_OUT_MARKER}: do not check this test's responses against "
                                       "the OpenAPI documents (chalicelib/openapi, tests/contract)")


@pytest.fixture
def client(aws_env, request):
    """chalice's test client; every response it returns is checked against the OpenAPI documents."""
    from chalice.test import Client

    from app import app
    from tests.contract.hooks import OPT_OUT_MARKER, check_chalice_client

    with Client(app, stage_name="local", project_dir=str(PROJECT_DIR)) as test_client:
        if request.node.get_closest_marker(OPT_OUT_MARKER) is None:
            check_chalice_client(test_client.http)
        yield test_client


class DynamoCalls:
    """Counts DynamoDB API calls by operation name (a spy on botocore's single call seam)."""

    READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
    WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

    def __init__(self) -> None:
        self.calls: _Counter[str] = _Counter()

    def reset(self) -> None:
        self.calls.clear()

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.calls.items() if op in self.READS)

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if op in self.WRITES)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


@pytest.fixture
def serialised_transactions(monkeypatch):
    """moto's threaded server does not isolate TransactWriteItems from each other; DynamoDB does. Tests that race
    writers serialise moto's transactions (and leave everything else concurrent)."""
    import threading

    from moto.dynamodb import models
    isolated = threading.Lock()
    transact_write_items = models.DynamoDBBackend.transact_write_items

    def serialised(self, *args, **kwargs):
        with isolated:
            return transact_write_items(self, *args, **kwargs)

    monkeypatch.setattr(models.DynamoDBBackend, "transact_write_items", serialised)


@pytest.fixture
def aws_fails(monkeypatch):
    """`aws_fails(when, error)`: raise `error()` for AWS calls `when(service, operation, params)` selects."""
    original = botocore.client.BaseClient._make_api_call
    rules = []

    def failing(self, operation, params):
        service = self.meta.service_model.service_name
        for when, error in rules:
            if when(service, operation, params):
                raise error()
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", failing)
    return lambda when, error: rules.append((when, error))


@pytest.fixture
def capacity_units():
    """A `Meter` (docs/capacity/units.py, the instrument behind `make capacity` and `make bench`): DynamoDB
    read and write units of the calls made inside `with capacity_units:`, priced from the items moto holds."""
    import importlib.util

    from chalicelib import config

    units = sys.modules.get("capacity_units")
    if units is None:
        path = Path(__file__).resolve().parents[1] / "docs" / "capacity" / "units.py"
        spec = importlib.util.spec_from_file_location("capacity_units", path)
        units = sys.modules["capacity_units"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(units)
    return units.Meter(config.table_prefix())


@pytest.fixture
def dynamo_calls(monkeypatch):
    """Counts DynamoDB calls by operation, in a warm container: the login and tenant-configuration caches do not
    expire while a test counts (their expiry is wall-clock time, which a loaded machine stretches)."""
    from chalicelib import auth, config

    monkeypatch.setattr(auth, "_VERIFIED_SECONDS", 86400)
    monkeypatch.setenv("SKYHAWK_TENANT_CONFIG_CACHE_SECONDS", "86400")
    config.reset()
    spy = DynamoCalls()
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            spy.calls[operation_name] += 1
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return spy
