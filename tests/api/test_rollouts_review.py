"""Rollout defects a review found, kept as regression tests: targets created in one millisecond and dynamic
groups, timed-out actions of deleted targets, a stop racing a group's start, the scheduled check beside a
creation in flight, a dynamic rollout whose set was invalidated, the size of a group's counters, and a delete
arriving during a stop's walk."""
from __future__ import annotations

from chalicelib import clock
from chalicelib.store import action_counts
from chalicelib.store import rollouts as rollout_store
from tests.api import jobs_queue, steps
from tests.api.catalog_helpers import body, delete
from tests.api.test_rollouts import ROLLOUTS, _action_of, _fleet, _groups, _op, _ready, _report, _rollout


def _members(rollout_id: int, position: int) -> list[str]:
    return list(rollout_store.member_ids("DEFAULT", rollout_id, position))


def test_dynamic_fills_take_targets_created_in_one_millisecond_once(client):
    """Targets created in one ms (one bulk POST /targets uses one `now`) beyond a full dynamic group: each goes
    to one group, and every one of them is taken."""
    ds_id, _ = steps.release(client)
    _fleet(client, 1, prefix="old")
    rollout = _ready(client, {"name": "dyn", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "dynamic": True, "amountGroups": 1,
                              "dynamicGroupTemplate": {"nameSuffix": "-dyn", "targetCount": 2}})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    now = clock.now_ms() + 5
    clock.set_now(now)  # five targets created in the same ms (as a bulk POST of five)
    _fleet(client, 5, prefix="new")
    clock.set_now(None)
    clock.advance(5)
    _report(client, "old-00")
    jobs_queue.drain()
    for _ in range(3):  # three scheduled checks a minute apart
        clock.advance(61_000)
        jobs_queue.fire("rollouts")
        jobs_queue.drain()
    groups = rollout_store.groups_of("DEFAULT", rollout["id"])
    by_group = {g.name: _members(rollout["id"], g.position) for g in groups}
    print(by_group)
    seen = [cid for members in by_group.values() for cid in members]
    assert len(seen) == len(set(seen)), f"a target is in two dynamic groups: {by_group}"
    assert {f"new-{i:02d}" for i in range(5)} <= set(seen), by_group


def test_a_deleted_target_takes_its_timed_out_action_off_the_counts(client):
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 3)
    rollout = _ready(client, {"name": "to", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "actionTimeout": {"inProgressMinutes": 1},
                              "errorCondition": {"condition": "THRESHOLD", "expression": "40"},
                              "successCondition": {"condition": "THRESHOLD", "expression": "100"}})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    _report(client, devices[0])
    jobs_queue.drain()
    # devices[1] only is slow: time out its action alone (1/3 = 33 % < 40 %: still running)
    from chalicelib.services import rollout_runner
    from chalicelib.store import actions as action_store
    a1 = _action_of(client, devices[1])["id"]
    rollout_runner._time_out("DEFAULT", devices[1], a1, clock.now_ms() + 61_000)
    assert action_counts.of_rollout("DEFAULT", rollout["id"])[0].get("TIMEDOUT") == 1
    # the slow device is decommissioned: its target (and its open action) is deleted
    resp = delete(client, f"/rest/v1/targets/{devices[1]}")
    assert resp.status_code in (200, 204), resp.body
    jobs_queue.drain()
    assert action_store.find("DEFAULT", devices[1], a1) is None
    counts = action_counts.of_rollout("DEFAULT", rollout["id"])[0]
    print(counts)
    _report(client, devices[2])  # the last device succeeds: every remaining action FINISHED
    jobs_queue.drain()
    counts = action_counts.of_rollout("DEFAULT", rollout["id"])[0]
    print(counts)
    status = (_rollout(client, rollout["id"])["status"], [g["status"] for g in _groups(client, rollout["id"])])
    assert (counts.get("TIMEDOUT", 0), status) == (0, ("finished", ["finished"])), (counts, status)


def test_a_stop_racing_a_group_start_leaves_no_live_action(client, monkeypatch):
    """A unit starting a group's page commits after a stop has been fully processed by another unit."""
    from chalicelib.services import rollout_runner
    from chalicelib.services import rollouts as rollout_service
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 5)
    rollout = _ready(client, {"name": "race", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    _op(client, rollout["id"], "start")
    original = rollout_runner._start_targets
    fired = []

    def racing(tenant, r, group, cids, now):
        if not fired:
            fired.append(1)
            rollout_service.stop(tenant, r.id, "admin")  # the operator stops it meanwhile ...
            rollout_runner.advance(tenant, r.id, None, lambda: True)  # ... and another unit closes it
            assert rollout_store.get(tenant, r.id).status == "STOPPED"
        return original(tenant, r, group, cids, now)

    monkeypatch.setattr(rollout_runner, "_start_targets", racing)
    rollout_runner.advance("DEFAULT", rollout["id"], None, lambda: True)
    jobs_queue.drain()
    final = _rollout(client, rollout["id"])
    live = [cid for cid in devices if _action_of(client, cid)]
    print(final["status"], final["totalTargetsPerStatus"], live)
    print(action_counts.of_rollout("DEFAULT", rollout["id"]))
    assert final["status"] == "stopped"
    assert live == [], f"a STOPPED rollout has running actions on {live}"


def test_the_scheduled_check_leaves_a_creation_in_flight_alone(client, monkeypatch):
    """Every minute the schedule queues a unit without a position for a CREATING rollout: it must not start a
    second creation chain beside the one in flight."""
    from chalicelib.services import rollout_creation
    from chalicelib.services import rollouts as rollout_service
    monkeypatch.setattr(rollout_creation, "PAGE", 2)
    monkeypatch.setattr(rollout_service, "INLINE_PAGES", 1)
    ds_id, _ = steps.release(client)
    _fleet(client, 8)
    starts = []
    original = rollout_creation.step

    def spy(tenant, rollout, groups, state, pages, has_time=lambda: True):
        if state.phase == "count" and state.key is None:
            starts.append(rollout.id)
        return original(tenant, rollout, groups, state, 1, has_time)  # one page a unit (a large tenant)

    monkeypatch.setattr(rollout_creation, "step", spy)
    from tests.api.catalog_helpers import post
    resp = post(client, ROLLOUTS, {"name": "big", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    assert resp.status_code == 201
    rid = body(resp)["id"]
    # the creation chain is in flight (its continuation queued); the minute's schedule fires
    jobs_queue.fire("rollouts")
    jobs_queue.drain()
    assert len(starts) == 1  # the schedule's unit left the chain in flight alone
    assert _rollout(client, rid)["status"] == "ready"


def test_a_dynamic_rollout_of_an_invalidated_set_goes_on(client):
    from tests.api.catalog_helpers import post
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 2)
    rollout = _ready(client, {"name": "dyn", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "dynamic": True, "amountGroups": 1,
                              "dynamicGroupTemplate": {"nameSuffix": "-dyn", "targetCount": 5}})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    resp = post(client, f"/rest/v1/distributionsets/{ds_id}/invalidate",
                {"actionCancelationType": "none", "cancelRollouts": False})
    assert resp.status_code == 200, resp.body
    for cid in devices:
        _report(client, cid)
    clock.advance(61_000)
    jobs_queue.fire("rollouts")
    result = jobs_queue.drain()
    assert result["rollouts"].get("failed", 0) == 0 if "rollouts" in result else True
    assert [g["status"] for g in _groups(client, rollout["id"])][0] == "finished"


def test_a_groups_counts_take_a_few_items(client):
    from chalicelib.store.tables import DistributionSetActionCounts as Counts
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 20)
    rollout = _ready(client, {"name": "c", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    for cid in devices:
        _report(client, cid)
    jobs_queue.drain()
    items = list(Counts.query("DEFAULT", Counts.key.startswith(action_counts.rollout_prefix(rollout["id"]))))
    assert len(items) <= action_counts.GROUP_SHARDS  # a check reads them all


def test_a_delete_during_a_stop_walk_closes_every_action(client, monkeypatch):
    """DELETE while the stop's walk is half-way: the targets the stop walked get their actions closed too
    (hawkBit force-cancels them all)."""
    from chalicelib.services import rollout_runner
    from chalicelib.store import actions as action_store
    monkeypatch.setattr(rollout_runner, "CLOSE_PAGE", 1)
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 3)
    rollout = _ready(client, {"name": "sd", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    ids = {cid: _action_of(client, cid)["id"] for cid in devices}
    _op(client, rollout["id"], "stop")
    from chalicelib.store import job_queue
    job_queue.delete(m["ReceiptHandle"] for m in job_queue.receive())  # the stop's unit is taken by a worker...
    answers = iter([True, True])
    position = rollout_runner.advance("DEFAULT", rollout["id"], None, lambda: next(answers, False))
    print("stop chain position", position)
    resp = delete(client, f"{ROLLOUTS}/{rollout['id']}")  # ... the operator deletes it meanwhile
    assert resp.status_code == 200
    rollout_runner.advance("DEFAULT", rollout["id"], position, lambda: True)  # the stop's continuation
    jobs_queue.drain()  # the DELETE's own unit
    statuses = {cid: action_store.find("DEFAULT", cid, ids[cid]).status for cid in devices}
    print(rollout_store.get("DEFAULT", rollout["id"]).status, statuses)
    assert set(statuses.values()) == {"CANCELED"}, statuses
