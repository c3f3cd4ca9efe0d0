"""The scheduled jobs' queue (chalicelib/jobs/fanout.py), with moto's SQS: a schedule enqueues one unit per
tenant and index shard (a page of tenants at a time), a unit stops at its budget and a continuation goes on
from where it stopped, and a unit delivered again counts and changes nothing twice."""
from __future__ import annotations

import json
import zlib
from collections import Counter

import pytest

from chalicelib import clock
from chalicelib.domain.actions import INDEX_SHARDS
from chalicelib.domain.targets import OVERDUE_SHARDS
from tests.api import jobs_queue, steps
from tests.conftest import ADMIN, TENANT

DAY = 86_400_000


def _settings(monkeypatch, **env: str) -> None:
    from chalicelib import config
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config.reset()


def _receive_all() -> list[dict]:
    """Every visible message, received (so invisible until handed to the worker or their timeout)."""
    from chalicelib.store import job_queue
    received = []
    while messages := job_queue.receive():
        received += messages
    return received


def _run(messages: list[dict]) -> dict:
    """The worker on exactly these received messages, as Lambda would call it (deleting what succeeded)."""
    from app import app
    from infra import launcher
    return launcher.invoke_worker(app, messages)


def _drain_recording() -> tuple[dict[str, dict[str, int]], list[dict]]:
    """Drain the queue as the launcher does; also every body the worker was handed."""
    from chalicelib.store import job_queue
    totals: dict[str, dict[str, int]] = {}
    bodies = []
    while messages := job_queue.receive(5):
        bodies += [json.loads(m["Body"]) for m in messages]
        for job, counts in _run(messages)["jobs"].items():
            for key, value in counts.items():
                totals.setdefault(job, {})[key] = totals.get(job, {}).get(key, 0) + value
    return totals, bodies


# --- fan-out ------------------------------------------------------------------------------------------

def test_a_schedule_enqueues_one_unit_per_tenant_and_shard_a_page_of_tenants_at_a_time(client, monkeypatch):
    from chalicelib.services import tenants
    _settings(monkeypatch, SKYHAWK_JOBS_TENANTS_PER_MESSAGE="2")
    for tenant in ("ACME", "ZETA"):
        tenants.ensure_tenant(tenant)

    assert jobs_queue.fire("overdue") == {"job": "overdue", "enqueued": 2 * OVERDUE_SHARDS + 1}
    first = _receive_all()
    bodies = [json.loads(m["Body"]) for m in first]
    [fanout] = [b for b in bodies if b.get("fanout")]
    assert fanout == {"job": "overdue", "now": bodies[0]["now"], "fanout": True, "after": "DEFAULT"}
    units = Counter((b["tenant"], b["shard"]) for b in bodies if not b.get("fanout"))
    assert units == Counter({(tenant, shard): 1 for tenant in ("ACME", "DEFAULT") for shard in range(OVERDUE_SHARDS)})

    # the worker takes the fan-out continuation: the next page of tenants (the last: no further continuation)
    answer = _run([m for m in first if json.loads(m["Body"]).get("fanout")])
    assert answer["jobs"] == {"overdue": {"enqueued": OVERDUE_SHARDS}} and answer["batchItemFailures"] == []
    _run([m for m in first if not json.loads(m["Body"]).get("fanout")])
    rest = [json.loads(m["Body"]) for m in _receive_all()]
    assert Counter((b["tenant"], b["shard"]) for b in rest) == Counter({("ZETA", s): 1 for s in range(OVERDUE_SHARDS)})
    assert {b["now"] for b in rest} == {fanout["now"]}  # every unit works on what was due when the schedule fired


@pytest.mark.parametrize("job, shards", [("action_cleanup", INDEX_SHARDS), ("reaper", None),
                                         ("config_task_expiry", None)])
def test_per_tenant_jobs_enqueue_one_unit_per_tenant_and_sharded_ones_one_per_shard(client, job, shards):
    steps.put_config(client, "action.cleanup.enabled", True)
    assert jobs_queue.fire(job)["enqueued"] == (shards or 1)
    bodies = [json.loads(m["Body"]) for m in _receive_all()]
    expected = range(shards) if shards else [None]
    assert sorted((b["tenant"], b["shard"]) for b in bodies) == [(TENANT, s) for s in expected]


def test_a_tenant_without_action_cleanup_gets_no_units(client):
    assert jobs_queue.fire("action_cleanup")["enqueued"] == 0  # off by default (action.cleanup.enabled)
    assert _receive_all() == []


def test_the_local_queue_has_a_dead_letter_queue(aws_env):
    from chalicelib.store import aws, job_queue
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=job_queue.url(), AttributeNames=["All"])["Attributes"]
    dead_arn = aws.client("sqs").get_queue_attributes(QueueUrl=job_queue.dead_letter_url(),
                                                      AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dead_arn,
                                                       "maxReceiveCount": job_queue.MAX_RECEIVES}
    assert int(attributes["VisibilityTimeout"]) == job_queue.VISIBILITY_SECONDS


# --- budgets and continuations --------------------------------------------------------------------------

def _same_shard_ids(count: int) -> list[str]:
    by_shard: dict[int, list[str]] = {}
    for n in range(1000):
        cid = f"dev-{n}"
        by_shard.setdefault(zlib.crc32(cid.encode()) % OVERDUE_SHARDS, []).append(cid)
        if len(by_shard[zlib.crc32(cid.encode()) % OVERDUE_SHARDS]) == count:
            return by_shard[zlib.crc32(cid.encode()) % OVERDUE_SHARDS]
    raise AssertionError("unreachable")


def _overdue_targets(client, controller_ids: list[str]) -> None:
    steps.enable_target_tokens(client)
    steps.put_config(client, "pollingTime", "00:05:00")
    steps.put_config(client, "pollingOverdueTime", "00:05:00")
    start = clock.now_ms()
    clock.set_now(start)
    for cid in controller_ids:
        steps.create_target(client, cid, f"tok-{cid}")
        steps.poll(client, cid, f"tok-{cid}")
    clock.set_now(start + 10 * 60_000 + 1)


def test_a_unit_stops_at_its_page_budget_and_a_continuation_finishes_the_work_exactly_once(client, monkeypatch):
    crowded = _same_shard_ids(5)
    _overdue_targets(client, crowded)
    _settings(monkeypatch, SKYHAWK_JOBS_PAGE_SIZE="2", SKYHAWK_JOBS_PAGES_PER_MESSAGE="1")

    jobs_queue.fire("overdue")
    totals, bodies = _drain_recording()

    assert totals == {"overdue": {"overdue": 5}}  # each target reported once, in all
    shard = zlib.crc32(crowded[0].encode()) % OVERDUE_SHARDS
    chain = [b for b in bodies if b["shard"] == shard]
    # pages of 2, 2 and 1 target: the unit and two continuations, each from where the one before stopped
    assert [b.get("part", 0) for b in chain] == [0, 1, 2]
    assert chain[0]["after"] is None and chain[1]["after"] != chain[2]["after"]
    from chalicelib.jobs import fanout
    assert set(fanout.decode(chain[1]["after"])) >= {"seen_order", "controller_id"}  # DynamoDB's position
    assert all(b.get("part", 0) == 0 for b in bodies if b["shard"] != shard)  # an empty shard is one page
    assert all(steps.target(client, cid)["pollStatus"]["overdue"] for cid in crowded)
    jobs_queue.fire("overdue")
    assert _drain_recording()[0] == {"overdue": {"overdue": 0}}


def test_a_unit_stops_when_the_invocations_time_runs_low_and_goes_on_in_a_continuation(client, monkeypatch):
    crowded = _same_shard_ids(3)
    _overdue_targets(client, crowded)
    _settings(monkeypatch, SKYHAWK_JOBS_PAGE_SIZE="2")  # pages enough for the unit: only its time stops it
    shard = zlib.crc32(crowded[0].encode()) % OVERDUE_SHARDS
    jobs_queue.fire("overdue")
    messages = [m for m in _receive_all() if json.loads(m["Body"])["shard"] == shard]
    # the first page is read with time to spare; then the invocation has 5 s left (less than the reserve)
    from app import app
    from infra import launcher
    answer = launcher.invoke_worker(app, messages, jobs_queue.LowOnTime(30_000, then=5_000))
    assert answer["jobs"] == {"overdue": {"overdue": 2}}
    [continuation] = [m for m in _receive_all() if json.loads(m["Body"])["shard"] == shard]
    assert json.loads(continuation["Body"])["part"] == 1
    assert launcher.invoke_worker(app, [continuation])["jobs"] == {"overdue": {"overdue": 1}}
    assert all(steps.target(client, cid)["pollStatus"]["overdue"] for cid in crowded)


def _action_counts(controller_ids) -> list[int]:
    from chalicelib.store import targets as target_store
    return [target_store.find(TENANT, cid).action_count for cid in controller_ids]


def test_a_redelivered_unit_counts_and_deletes_nothing_twice(client):
    start = clock.now_ms()
    clock.set_now(start)
    closed = steps.closed_actions(client, 3)
    ds_id, _ = steps.release(client, name="next", version="2")
    open_action = steps.assign(client, ds_id, "c0")["assignedActions"][0]["id"]  # stays
    steps.put_config(client, "action.cleanup.enabled", True)
    steps.put_config(client, "action.cleanup.actionExpiry", DAY)
    assert _action_counts(["c0", "c1", "c2"]) == [2, 1, 1]
    clock.set_now(start + 2 * DAY)

    jobs_queue.fire("action_cleanup")
    messages = _receive_all()
    assert len(messages) == INDEX_SHARDS
    from app import app
    from infra import launcher
    event = launcher.sqs_event(messages, "us-east-1")
    first = app.handler_map["jobs_worker"](event, jobs_queue.LowOnTime(then=30_000))
    # SQS hands the same messages out again (the first invocation's answer was lost, say)
    again = app.handler_map["jobs_worker"](event, jobs_queue.LowOnTime(then=30_000))
    assert first["jobs"] == {"action_cleanup": {"deleted": 3}}
    assert again["jobs"] == {"action_cleanup": {"deleted": 0}}
    assert _action_counts(["c0", "c1", "c2"]) == [1, 0, 0]
    for cid, action_id in closed:
        assert client.http.get(f"/rest/v1/targets/{cid}/actions/{action_id}", headers=ADMIN).status_code == 404
    assert steps.action(client, "c0", open_action)["id"] == open_action


def test_cleanup_continues_through_its_statuses_and_pages(client, monkeypatch):
    start = clock.now_ms()
    clock.set_now(start)
    closed = steps.closed_actions(client, INDEX_SHARDS + 1)  # one shard holds two of them (shard = id mod 16)
    steps.put_config(client, "action.cleanup.enabled", True)
    steps.put_config(client, "action.cleanup.actionExpiry", DAY)
    steps.put_config(client, "action.cleanup.actionStatus", "CANCELED,ERROR")
    clock.set_now(start + 2 * DAY)
    _settings(monkeypatch, SKYHAWK_JOBS_PAGE_SIZE="1", SKYHAWK_JOBS_PAGES_PER_MESSAGE="1")
    jobs_queue.fire("action_cleanup")
    totals, bodies = _drain_recording()
    assert totals == {"action_cleanup": {"deleted": INDEX_SHARDS + 1}}
    continued = [b for b in bodies if b.get("part")]
    from chalicelib.jobs import fanout
    positions = [fanout.decode(b["after"]) for b in continued]
    # CANCELED (nothing closed so) was read to its end, then ERROR a page at a time
    assert {p["status"] for p in positions} == {"ERROR"}
    assert any(p["key"] is None for p in positions) and any(p["key"] is not None for p in positions)
    assert _action_counts([cid for cid, _ in closed]) == [0] * (INDEX_SHARDS + 1)


def test_a_unit_whose_turn_comes_too_late_in_a_batch_is_queued_again_unstarted(client):
    jobs_queue.fire("reaper")
    jobs_queue.fire("config_task_expiry")
    messages = sorted(_receive_all(), key=lambda m: json.loads(m["Body"])["job"] != "reaper")  # the reaper first
    from app import app
    from infra import launcher
    # the reaper's unit reads its one page with time to spare; when the next unit's turn comes, 5 s are left
    answer = launcher.invoke_worker(app, messages, jobs_queue.LowOnTime(30_000, then=5_000))
    assert (answer["units"], answer["deferred"], answer["failed"]) == (1, 1, 0)
    assert answer["jobs"] == {"reaper": {"repaired": 0, "failed": 0}}
    [again] = _receive_all()
    assert again["Body"] == messages[1]["Body"]  # exactly as it was: not started, no receive used up


def test_a_malformed_message_fails_alone(client):
    from app import app
    from infra import launcher
    jobs_queue.fire("reaper")
    [good] = _receive_all()
    from chalicelib.store import job_queue
    job_queue.send_raw(["not json", json.dumps({"job": "no-such-job", "now": 1, "tenant": TENANT})])
    bad = _receive_all()
    answer = launcher.invoke_worker(app, [good, *bad])
    assert sorted(f["itemIdentifier"] for f in answer["batchItemFailures"]) == sorted(m["MessageId"] for m in bad)
    assert answer["jobs"] == {"reaper": {"repaired": 0, "failed": 0}}
