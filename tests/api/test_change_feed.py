"""The change feed (chalicelib/store/change_feed.py, jobs/change_feed.py): what the streams of moto's tables carry
after real requests, decoded into entities, and how a batch answers when a consumer stops part way."""
from __future__ import annotations

import json

import pytest

from tests.api import jobs_queue, steps
from tests.conftest import ADMIN, TENANT

JSON = {**ADMIN, "Content-Type": "application/json"}


def feed() -> list:
    """The decodable changes written since the last read (the counters, members and so on left out)."""
    from chalicelib.store import change_feed
    return [change for change in map(change_feed.decode, change_feed.read(1000)) if change is not None]


def everyone(tenant: str) -> bool:
    return True


def create_target(client, controller_id: str) -> None:
    answer = client.http.post("/rest/v1/targets", headers=JSON,
                              body=json.dumps([{"controllerId": controller_id, "name": controller_id}]))
    assert answer.status_code == 201, answer.body


def test_a_created_target_is_one_insert_with_its_entity(client):
    from chalicelib.domain import targets
    from chalicelib.store.change_feed import INSERT, Kind
    feed()
    create_target(client, "dev-1")
    [change] = [c for c in feed() if c.kind is Kind.TARGET]
    assert change.event == INSERT and change.tenant == TENANT and change.old is None
    assert isinstance(change.new, targets.Target) and change.new.controller_id == "dev-1"
    assert change.sequence and change.at_ms > 0


def test_an_update_carries_both_images_and_a_delete_the_old_one(client):
    from chalicelib.store.change_feed import MODIFY, REMOVE, Kind
    create_target(client, "dev-1")
    feed()
    answer = client.http.put("/rest/v1/targets/dev-1", headers=JSON, body=json.dumps({"name": "renamed"}))
    assert answer.status_code == 200, answer.body
    [change] = [c for c in feed() if c.kind is Kind.TARGET]
    assert change.event == MODIFY and (change.old.name, change.new.name) == ("dev-1", "renamed")
    assert client.http.delete("/rest/v1/targets/dev-1", headers=ADMIN).status_code == 200
    jobs_queue.drain()  # the deletion's work item removes the item last
    removed = [c for c in feed() if c.kind is Kind.TARGET and c.event == REMOVE]
    assert [(c.old.controller_id, c.new) for c in removed] == [("dev-1", None)]


def test_an_assignment_feeds_the_action_and_its_history(client):
    from chalicelib.store.change_feed import INSERT, Kind
    steps.create_target(client, "dev-1")
    ds_id, _ = steps.release(client)
    feed()
    steps.assign(client, ds_id, "dev-1")
    kinds = [(c.kind, c.event) for c in feed()]
    assert (Kind.ACTION, INSERT) in kinds
    assert (Kind.ACTION_STATUS, INSERT) in kinds  # its first history entry (tenant from its key)
    assert (Kind.TARGET, "MODIFY") in kinds


def test_a_refused_request_feeds_nothing(client):
    create_target(client, "dev-1")
    feed()
    answer = client.http.post("/rest/v1/targets", headers=JSON,
                              body=json.dumps([{"controllerId": "dev-1", "name": "again"}]))
    assert answer.status_code == 409
    assert feed() == []


def test_a_cancelled_transaction_feeds_nothing(client, aws_env):
    """moto writes a transaction's items one by one and puts them back when one condition fails: the stream
    must not keep the records of the items written before the failing one."""
    from chalicelib.store import aws, tables
    create_target(client, "dev-1")
    feed()
    table = tables.Target.Meta.table_name
    with pytest.raises(Exception):
        aws.client("dynamodb").transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"tenant": {"S": TENANT}, "controller_id": {"S": "dev-2"}}}},
            {"Put": {"TableName": table, "Item": {"tenant": {"S": TENANT}, "controller_id": {"S": "dev-1"}},
                     "ConditionExpression": "attribute_not_exists(controller_id)"}}])
    assert feed() == []


def test_a_batch_answers_the_earliest_record_a_consumer_did_not_deliver(client, monkeypatch):
    from chalicelib.jobs import change_feed as job
    from chalicelib.store import change_feed
    for n in range(3):
        create_target(client, f"dev-{n}")
    records = change_feed.read(1000)
    assert len(records) >= 3
    seen: dict[str, int] = {}

    def first(changes):
        seen["first"] = len(changes)
        return 2

    def second(changes):
        seen["second"] = len(changes)
        return 1

    monkeypatch.setattr(job, "_consumers", lambda: [("first", everyone, first), ("second", everyone, second)])
    answer = job.run_batch(records)
    assert seen == {"first": len(records), "second": 2}  # the second consumer sees only what the first delivered
    assert answer["batchItemFailures"] == [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]
    assert answer["delivered"] == 1


def test_a_consumer_that_raises_fails_the_whole_batch(client, monkeypatch):
    from chalicelib.jobs import change_feed as job
    from chalicelib.store import change_feed
    create_target(client, "dev-1")
    records = change_feed.read(1000)

    def broken(changes):
        raise RuntimeError("boom")

    monkeypatch.setattr(job, "_consumers", lambda: [("broken", everyone, broken)])
    answer = job.run_batch(records)
    assert answer["batchItemFailures"] == [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]


def test_the_local_feed_hands_a_failed_record_over_again(client, monkeypatch):
    """launcher.drain_changes: as the event source mapping, from the failed record on, until delivered."""
    from app import app
    from chalicelib.jobs import change_feed as job
    from infra import launcher
    create_target(client, "dev-1")
    calls: list[int] = []

    def flaky(changes):
        calls.append(len(changes))
        return 0 if len(calls) == 1 else None

    monkeypatch.setattr(job, "_consumers", lambda: [("flaky", everyone, flaky)])
    first = launcher.drain_changes(app)
    assert first["delivered"] == 0 and launcher.FEED.records
    second = launcher.drain_changes(app)
    assert second["delivered"] == calls[0] and not launcher.FEED.records


def test_records_of_tenants_no_consumer_wants_are_not_decoded(client, monkeypatch):
    """A tenant with neither DMF nor events: its records reach the consumers as None, undecoded."""
    from chalicelib.jobs import change_feed as job
    from chalicelib.store import change_feed
    create_target(client, "dev-1")
    records = change_feed.read(1000)
    assert change_feed.tenant_of(records[0]) == TENANT
    seen: list = []
    monkeypatch.setattr(job, "_consumers", lambda: [("picky", lambda tenant: tenant != TENANT, seen.extend)])
    monkeypatch.setattr(change_feed, "decode", lambda record: pytest.fail("decoded"))
    answer = job.run_batch(records)
    assert answer["changes"] == 0 and answer["delivered"] == len(records) and set(seen) == {None}
