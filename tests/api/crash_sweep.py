"""Crash-point sweeps: run an operation once per AWS call it makes, killing it at that call.

The Lambda "dies" at the K-th DynamoDB or S3 call: from that call on every AWS call raises `Crash`, a
BaseException, so no error handler can run a step (an undo, a cleanup) that a dead process would not run
either. Between crash points the moto state is restored to the scenario's starting point (DynamoDB tables
deep-copied, S3 objects put back), which is much cheaper than building the scenario again.

For every crash point the sweep records the state the crash left (`observe` is the scenario's view of
everything the operation touches, ids of burned sequences left out) and classifies it:

- "old" / "new": the operation did nothing, or everything;
- otherwise partial, and then: does a retry of the request turn it into old or new, does one reaper run
  (with the clock past the reaper's grace period) do so? Each repair starts from the state the crash left.
"""
from __future__ import annotations

import copy
import importlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable
from unittest import mock

import botocore.client

SERVICES = ("dynamodb", "s3")
REAPER_DELAY_MS = 60 * 60 * 1000  # well past any grace period: the reaper treats the work as abandoned


class Crash(BaseException):
    """The process died at this AWS call (not an Exception: no handler of the code under test sees it)."""


@dataclass
class CallCounter:
    fail_from: int | None = None
    calls: list[str] = field(default_factory=list)


def aws_error(name: str) -> BaseException:
    """What an AWS outage looks like to the code: a botocore error it may handle (unlike Crash)."""
    from botocore.exceptions import ClientError
    return ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, name.split(":")[1])


@contextmanager
def aws_calls(fail_from: int | None = None, fail_after: tuple[str, int] | None = None,
              error: Callable[[str], BaseException] | None = None):
    """Count DynamoDB and S3 calls ("dynamodb:GetItem"); every call from the `fail_from`-th on raises Crash
    (or `error(call)`), or every call after the n-th call named c, for `fail_after=(c, n)`."""
    counter = CallCounter(fail_from)
    original = botocore.client.BaseClient._make_api_call

    def call(self, operation_name, api_params):
        service = self.meta.service_model.service_name
        if service in SERVICES:
            name = f"{service}:{operation_name}"
            if fail_after is not None and counter.fail_from is None and counter.calls.count(fail_after[0]) >= \
                    fail_after[1]:
                counter.fail_from = len(counter.calls) + 1
            counter.calls.append(name)
            if counter.fail_from is not None and len(counter.calls) >= counter.fail_from:
                raise error(name) if error else Crash(f"crash at call {len(counter.calls)}: {name}")
        return original(self, operation_name, api_params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", call):
        yield counter


def crash_after(operation: Callable[[], Any], call: str, nth: int = 1) -> CallCounter:
    """Run `operation` and let the process die right after its `nth` call named `call`."""
    with aws_calls(fail_after=(call, nth)) as counter:
        try:
            operation()
        except Crash:
            pass
    assert counter.fail_from is not None, f"{call} #{nth} never happened: {counter.calls}"
    return counter


# --- moto state -------------------------------------------------------------------------------------
def _dynamodb_backend():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib import config
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][config.region()]


def _bucket_objects() -> dict[str, bytes]:
    from chalicelib import config
    from chalicelib.store import aws

    s3, bucket = aws.s3(), config.settings().bucket
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def object_keys(prefix: str = "") -> list[str]:
    from chalicelib import config
    from chalicelib.store import aws

    found = aws.s3().list_objects_v2(Bucket=config.settings().bucket, Prefix=prefix, MaxKeys=1000)
    return sorted(o["Key"] for o in found.get("Contents", []))


@dataclass
class Saved:
    tables: dict
    objects: dict[str, bytes]


def save_state() -> Saved:
    return Saved(copy.deepcopy(_dynamodb_backend().tables), _bucket_objects())


def restore_state(saved: Saved, warm_up: Callable[[], Any]) -> None:
    from chalicelib import config
    from chalicelib.store import aws

    _dynamodb_backend().tables = copy.deepcopy(saved.tables)
    s3, bucket = aws.s3(), config.settings().bucket
    for key in _bucket_objects():
        if key not in saved.objects:
            s3.delete_object(Bucket=bucket, Key=key)
    for key, data in saved.objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    _forget_caches()
    warm_up()


def _forget_caches() -> None:
    """The process caches that hold data (the AWS clients stay: building them again is what costs)."""
    from chalicelib import auth, clock
    from chalicelib.services import tenant_config

    clock.reset()
    tenant_config.invalidate()
    auth.forget_verified()


# --- the sweep --------------------------------------------------------------------------------------
def run_reaper() -> Any:
    """One reaper run (its schedule, its queued units) with the clock past its grace period; a no-op where no
    reaper exists."""
    try:
        importlib.import_module("chalicelib.jobs.reaper")
    except ImportError:
        return None
    from tests.api import jobs_queue
    return jobs_queue.run_job(None, "reaper", REAPER_DELAY_MS)


@dataclass
class Outcome:
    point: int
    call: str
    state: str  # "old", "new" or "partial"
    by_retry: str | None = None  # partial only: what a retry of the request left
    by_reaper: str | None = None  # partial only: what one reaper run left
    detail: Any = None

    @property
    def repaired(self) -> bool:
        return self.by_retry in ("old", "new") or self.by_reaper in ("old", "new")


@dataclass
class Report:
    name: str
    outcomes: list[Outcome]

    @property
    def tried(self) -> int:
        return len(self.outcomes)

    @property
    def partial(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state == "partial"]

    @property
    def unrepaired(self) -> list[Outcome]:
        return [o for o in self.partial if not o.repaired]

    def summary(self) -> str:
        retry = sum(1 for o in self.partial if o.by_retry in ("old", "new"))
        reaper = sum(1 for o in self.partial if o.by_reaper in ("old", "new"))
        return (f"{self.name}: {self.tried} crash points, {self.tried - len(self.partial)} left old/new state, "
                f"{len(self.partial)} partial ({retry} completed by a retry, {reaper} by one reaper run), "
                f"{len(self.unrepaired)} left partial")


def classify(state: Any, old: Any, new: Any) -> str:
    return "old" if state == old else "new" if state == new else "partial"


def sweep(name: str, operation: Callable[[], Any], observe: Callable[[], Any], warm_up: Callable[[], Any],
          after_crash: Callable[[], None] | None = None) -> Report:
    """Crash `operation` at each of its AWS calls; `observe` describes the state it acts on.

    Every run starts from the same state and the same process caches: `warm_up` (read-only requests) fills
    the caches that a fresh process state lacks, so the operation makes the same calls in the same order.
    `after_crash`, when given, runs from every crash state (before any repair) and asserts what must
    hold even then (e.g. a re-created target inherits nothing); it may change the state.
    """
    saved = save_state()
    restore_state(saved, warm_up)
    old = observe()
    restore_state(saved, warm_up)
    with aws_calls() as clean:
        operation()
    new = observe()
    assert new != old, f"{name}: the operation changed nothing"
    outcomes = []
    for k, call in enumerate(clean.calls, start=1):
        state = _crash_at(saved, warm_up, k, operation, observe)
        outcome = Outcome(k, call, classify(state, old, new), detail=state)
        crashed = save_state() if outcome.state == "partial" or after_crash is not None else None
        if outcome.state == "partial":
            restore_state(crashed, warm_up)
            operation()
            outcome.by_retry = classify(observe(), old, new)
            restore_state(crashed, warm_up)
            run_reaper()
            outcome.by_reaper = classify(observe(), old, new)
        if after_crash is not None:
            restore_state(crashed, warm_up)
            after_crash()
        outcomes.append(outcome)
    restore_state(saved, warm_up)
    return Report(name, outcomes)


def _crash_at(saved: Saved, warm_up: Callable[[], Any], k: int, operation: Callable[[], Any],
              observe: Callable[[], Any]) -> Any:
    restore_state(saved, warm_up)
    with aws_calls(fail_from=k):
        try:
            operation()
        except Crash:
            pass
    return observe()
