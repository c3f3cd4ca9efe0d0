"""/rest/v1/rollouts through HTTP: creation, the lifecycle, groups and their progress driven by device
feedback, and hawkBit's refusals (docs/rollouts-hawkbit.md). The rollouts job runs as deployed: operations and
feedback queue its units, the tests drain the queue (tests/api/jobs_queue.py)."""
from __future__ import annotations

import pytest

from chalicelib.store import action_counts
from chalicelib.store import rollouts as rollout_store
from tests.api import jobs_queue, steps
from tests.api.catalog_helpers import body, delete, error_code, get, post, put, usage, user_with

ROLLOUTS = "/rest/v1/rollouts"


def _fleet(client, count: int, prefix: str = "dev", **extra) -> list[str]:
    steps.enable_target_tokens(client)
    ids = [f"{prefix}-{i:02d}" for i in range(count)]
    for cid in ids:
        steps.create_target(client, cid, token=f"tok-{cid}", **extra)
    return ids


def _create(client, payload: dict, status: int = 201) -> dict:
    resp = post(client, ROLLOUTS, payload)
    assert resp.status_code == status, resp.body
    return body(resp)


def _rollout(client, rollout_id: int) -> dict:
    resp = get(client, f"{ROLLOUTS}/{rollout_id}")
    assert resp.status_code == 200, resp.body
    return body(resp)


def _groups(client, rollout_id: int, full: bool = True) -> list[dict]:
    resp = get(client, f"{ROLLOUTS}/{rollout_id}/deploygroups" + ("?representation=full" if full else ""))
    assert resp.status_code == 200, resp.body
    return body(resp)["content"]


def _ready(client, payload: dict) -> dict:
    created = _create(client, payload)
    assert created["status"] == "creating"
    jobs_queue.drain()
    return _rollout(client, created["id"])


def _op(client, rollout_id: int, name: str, status: int = 200, query: str = ""):
    resp = post(client, f"{ROLLOUTS}/{rollout_id}/{name}{query}", None)
    assert resp.status_code == status, resp.body
    return resp


def _action_of(client, controller_id: str) -> dict | None:
    deployment = steps.poll(client, controller_id, f"tok-{controller_id}")
    href = (deployment or {}).get("_links", {}).get("deploymentBase", {}).get("href")
    if href is None:
        return None
    return {"id": int(href.split("/deploymentBase/")[1].split("?")[0])}


def _report(client, controller_id: str, finished: str = "success") -> None:
    action = _action_of(client, controller_id)
    assert action is not None, f"{controller_id} has no action"
    steps.feedback(client, controller_id, f"tok-{controller_id}", action["id"], "closed", finished)


def test_a_rollout_runs_group_by_group_on_device_feedback(client):
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 8)
    rollout = _ready(client, {"name": "r1", "distributionSetId": ds_id, "targetFilterQuery": "controllerId==dev-*",
                              "amountGroups": 2, "successCondition": {"condition": "THRESHOLD", "expression": "100"}})
    assert (rollout["status"], rollout["totalTargets"], rollout["totalGroups"]) == ("ready", 8, 2)
    assert rollout["totalTargetsPerStatus"] == {"scheduled": 0, "running": 0, "error": 0, "finished": 0,
                                                "cancelled": 0, "notstarted": 8}
    groups = _groups(client, rollout["id"])
    assert [(g["name"], g["status"], g["totalTargets"]) for g in groups] == [("group-1", "ready", 4),
                                                                             ("group-2", "ready", 4)]
    assert all(_action_of(client, cid) is None for cid in devices)

    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    rollout = _rollout(client, rollout["id"])
    assert rollout["status"] == "running"
    assert rollout["totalTargetsPerStatus"]["running"] == 4 and rollout["totalTargetsPerStatus"]["scheduled"] == 4
    first = [t["controllerId"] for t in body(get(client, f"{ROLLOUTS}/{rollout['id']}/deploygroups/"
                                                       f"{groups[0]['id']}/targets"))["content"]]
    second = [cid for cid in devices if cid not in first]
    assert len(first) == 4 and all(_action_of(client, cid) for cid in first)
    assert not any(_action_of(client, cid) for cid in second)
    action = steps.action(client, first[0], _action_of(client, first[0])["id"])
    assert action["rollout"] == rollout["id"] and action["rolloutName"] == "r1"

    for cid in first[:3]:
        _report(client, cid)
    jobs_queue.drain()
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["running", "scheduled"]
    _report(client, first[3])
    jobs_queue.drain()  # the feedback queued the check that starts group 2
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["finished", "running"]
    assert all(_action_of(client, cid) for cid in second)
    for cid in second:
        _report(client, cid)
    jobs_queue.drain()
    rollout = _rollout(client, rollout["id"])
    assert rollout["status"] == "finished"
    assert rollout["totalTargetsPerStatus"]["finished"] == 8
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["finished", "finished"]


def _stored_status(rollout_id: int) -> str:
    found = rollout_store.get("DEFAULT", rollout_id)
    assert found is not None
    return found.status


def test_explicit_groups_with_filters_and_percentages(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 6, prefix="eu")
    _fleet(client, 4, prefix="us")
    rollout = _ready(client, {
        "name": "regions", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
        "groups": [{"name": "eu-half", "targetFilterQuery": "controllerId==eu-*", "targetPercentage": 50},
                   {"name": "rest", "successCondition": {"condition": "THRESHOLD", "expression": "80"},
                    "errorAction": {"action": "PAUSE"}}]})
    groups = _groups(client, rollout["id"])
    assert [(g["name"], g["totalTargets"], g["targetFilterQuery"], g["targetPercentage"]) for g in groups] == [
        ("eu-half", 3, "controllerId==eu-*", 50.0), ("rest", 7, "", 100.0)]
    # a group takes the rollout's defaults field by field (hawkBit: 50 % success, 50 % error, PAUSE)
    assert groups[0]["successCondition"] == {"condition": "THRESHOLD", "expression": "50"}
    assert groups[1]["successCondition"] == {"condition": "THRESHOLD", "expression": "80"}
    assert groups[1]["errorCondition"] == {"condition": "THRESHOLD", "expression": "50"}
    members = body(get(client, f"{ROLLOUTS}/{rollout['id']}/deploygroups/{groups[0]['id']}/targets"))
    assert members["total"] == 3 and all(t["controllerId"].startswith("eu-") for t in members["content"])
    rest = f"{ROLLOUTS}/{rollout['id']}/deploygroups/{groups[1]['id']}/targets"
    page = body(get(client, f"{rest}?q=controllerId==us-*&sort=controllerId:DESC&limit=2"))
    assert page["total"] == 4 and [t["controllerId"] for t in page["content"]] == ["us-03", "us-02"]
    one = body(get(client, f"{ROLLOUTS}/{rollout['id']}/deploygroups/{groups[1]['id']}"))
    assert one["totalTargetsPerStatus"]["notstarted"] == 7


@pytest.mark.parametrize("payload, status, code", [
    ({"distributionSetId": 1, "targetFilterQuery": "name==*"}, 400, "hawkbit.server.error.repo.constraintViolation"),
    ({"name": "x", "distributionSetId": 1}, 400, "hawkbit.server.error.rest.param.rsqlParamSyntax"),
    ({"name": "x", "distributionSetId": 1, "targetFilterQuery": "colour==red"}, 400,
     "hawkbit.server.error.rest.param.rsqlInvalidField"),
    ({"name": "x", "distributionSetId": 999, "targetFilterQuery": "name==*"}, 404,
     "hawkbit.server.error.repo.entityNotFound"),
    ({"name": "x", "targetFilterQuery": "name==*", "amountGroups": 2, "groups": [{"name": "g"}]}, 400,
     "hawkbit.server.error.repo.constraintViolation"),
    ({"name": "x", "targetFilterQuery": "name==*", "type": "sometimes"}, 400,
     "hawkbit.server.error.rest.body.notReadable"),
    ({"name": "x", "targetFilterQuery": "name==*", "successCondition": {"expression": "most"}}, 400,
     "hawkbit.server.error.repo.constraintViolation"),
])
def test_bad_bodies_are_refused_and_nothing_is_written(client, payload, status, code):
    ds_id, _ = steps.release(client)
    payload = {**payload, "distributionSetId": payload.get("distributionSetId", ds_id)}
    resp = post(client, ROLLOUTS, payload)
    assert resp.status_code == status, resp.body
    assert error_code(resp) == code
    assert body(get(client, ROLLOUTS))["total"] == 0 and usage("ROLLOUT") == 0


def test_refusals_found_by_counting_the_targets_are_a_400(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 3)
    resp = post(client, ROLLOUTS, {"name": "none", "distributionSetId": ds_id, "targetFilterQuery": "name==nope*"})
    assert resp.status_code == 400 and body(resp)["message"] == "Rollout does not match any existing targets"
    resp = post(client, ROLLOUTS, {"name": "gaps", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                                   "groups": [{"name": "one", "targetFilterQuery": "controllerId==dev-00"}]})
    assert resp.status_code == 400
    assert body(resp)["message"] == "Rollout groups don't match all targets that are targeted by the rollout"
    assert usage("ROLLOUT") == 0


def test_name_is_unique_and_freed_by_delete(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 2)
    payload = {"name": "once", "distributionSetId": ds_id, "targetFilterQuery": "name==*"}
    first = _ready(client, payload)
    resp = post(client, ROLLOUTS, payload)
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert usage("ROLLOUT") == 1
    assert delete(client, f"{ROLLOUTS}/{first['id']}").status_code == 200
    assert usage("ROLLOUT") == 0
    jobs_queue.drain()
    assert get(client, f"{ROLLOUTS}/{first['id']}").status_code == 404  # never ran: deleted outright
    assert rollout_store.groups_of("DEFAULT", first["id"]) == []
    assert _create(client, payload)["name"] == "once"


def test_operations_refused_in_the_wrong_status(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 2)
    rollout = _ready(client, {"name": "r", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    for name, message in (("pause", "Rollout can only be paused in state running but current state is ready"),
                          ("resume", "Rollout can only be resumed in state paused but current state is ready"),
                          ("approve", "Rollout is not in status WAITING_FOR_APPROVAL"),
                          ("triggerNextGroup", "Rollout is not in running state")):
        resp = _op(client, rollout["id"], name, status=400)
        assert error_code(resp) == "hawkbit.server.error.rollout.illegalState" and body(resp)["message"] == message
    resp = _op(client, rollout["id"], "retry", status=400)
    assert body(resp)["message"] == "Rollout must be finished in order to be retried!"
    _op(client, rollout["id"], "start")
    resp = _op(client, rollout["id"], "start", status=400)
    assert "can only be started in state ready" in body(resp)["message"]
    assert _op(client, 987654, "start", status=404)


def test_rename_and_describe(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 1)
    rollout = _ready(client, {"name": "old", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    other = _ready(client, {"name": "other", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    resp = put(client, f"{ROLLOUTS}/{rollout['id']}", {"name": "new", "description": "the new one"})
    assert resp.status_code == 200 and (body(resp)["name"], body(resp)["description"]) == ("new", "the new one")
    resp = put(client, f"{ROLLOUTS}/{other['id']}", {"name": "new"})
    assert resp.status_code == 409
    assert _create(client, {"name": "old", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})


def test_pause_and_resume_hold_the_next_group(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 4)
    rollout = _ready(client, {"name": "p", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "amountGroups": 2, "successCondition": {"expression": "100"}})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    first = [t["controllerId"] for t in body(get(
        client, f"{ROLLOUTS}/{rollout['id']}/deploygroups/{_groups(client, rollout['id'])[0]['id']}/targets"))["content"]]
    _op(client, rollout["id"], "pause")
    assert _rollout(client, rollout["id"])["status"] == "paused"
    for cid in first:
        _report(client, cid)
    jobs_queue.drain()
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["running", "scheduled"]
    _op(client, rollout["id"], "resume")
    jobs_queue.drain()
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["finished", "running"]


def test_error_threshold_pauses_and_resume_starts_the_next_group(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 4)
    rollout = _ready(client, {"name": "e", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "amountGroups": 2, "errorCondition": {"condition": "THRESHOLD", "expression": "50"},
                              "errorAction": {"action": "PAUSE"}})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    group1 = _groups(client, rollout["id"])[0]
    first = [t["controllerId"] for t in body(get(
        client, f"{ROLLOUTS}/{rollout['id']}/deploygroups/{group1['id']}/targets"))["content"]]
    _report(client, first[0], "failure")
    jobs_queue.drain()
    assert _rollout(client, rollout["id"])["status"] == "running"  # 1 of 2 failed: 50 %, not above 50 %
    _report(client, first[1], "failure")
    jobs_queue.drain()
    rollout = _rollout(client, rollout["id"])
    assert rollout["status"] == "paused" and rollout["totalTargetsPerStatus"]["error"] == 2
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["error", "scheduled"]
    _op(client, rollout["id"], "resume")
    jobs_queue.drain()
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["error", "running"]


def test_trigger_next_group_starts_it_whatever_its_condition(client):
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 3)
    rollout = _ready(client, {"name": "t", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "amountGroups": 3})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    _op(client, rollout["id"], "triggerNextGroup")
    jobs_queue.drain()
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["running", "running", "scheduled"]
    assert sum(1 for cid in devices if _action_of(client, cid)) == 2


def test_stop_cancels_open_actions_and_drops_the_rest(client):
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 4)
    rollout = _ready(client, {"name": "s", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "amountGroups": 2})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    _op(client, rollout["id"], "stop")
    jobs_queue.drain()
    rollout = _rollout(client, rollout["id"])
    assert rollout["status"] == "stopped"
    assert rollout["totalTargetsPerStatus"] == {"scheduled": 0, "running": 2, "error": 0, "finished": 0,
                                                "cancelled": 0, "notstarted": 2}  # the canceling ones still run
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["finished", "finished"]
    started = [cid for cid in devices if steps.target(client, cid)["updateStatus"] == "pending"]
    assert len(started) == 2
    for cid in started:
        deployment = steps.poll(client, cid, f"tok-{cid}")
        assert "cancelAction" in deployment["_links"]


def test_delete_of_a_rollout_that_ran_cancels_its_actions_and_keeps_it_deleted(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 2)
    rollout = _ready(client, {"name": "d", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    assert delete(client, f"{ROLLOUTS}/{rollout['id']}").status_code == 200
    jobs_queue.drain()
    found = _rollout(client, rollout["id"])
    assert (found["status"], found["deleted"]) == ("deleted", True)
    assert body(get(client, ROLLOUTS))["total"] == 0
    assert found["totalTargetsPerStatus"]["cancelled"] == 2
    resp = put(client, f"{ROLLOUTS}/{rollout['id']}", {"name": "again"})
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.entityReadOnly"
    assert delete(client, f"{ROLLOUTS}/{rollout['id']}").status_code == 200  # again: nothing to do


def test_retry_takes_the_failed_targets(client):
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 3)
    rollout = _ready(client, {"name": "first", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "errorCondition": {"expression": "100"}})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    _report(client, devices[0], "failure")
    for cid in devices[1:]:
        _report(client, cid)
    jobs_queue.drain()
    assert _rollout(client, rollout["id"])["status"] == "finished"
    resp = _op(client, rollout["id"], "retry", status=201)
    retried = body(resp)
    assert (retried["name"], retried["targetFilterQuery"]) == ("first_retry", f"failedrollout=={rollout['id']}")
    jobs_queue.drain()
    retried = _rollout(client, retried["id"])
    assert (retried["status"], retried["totalTargets"]) == ("ready", 1)
    group = _groups(client, retried["id"])[0]
    members = body(get(client, f"{ROLLOUTS}/{retried['id']}/deploygroups/{group['id']}/targets"))["content"]
    assert [t["controllerId"] for t in members] == [devices[0]]


def test_approval_when_the_tenant_asks_for_it(client):
    steps.put_config(client, "rollout.approval.enabled", True)
    ds_id, _ = steps.release(client)
    _fleet(client, 2)
    creator = user_with(client, "creator", "CREATE_ROLLOUT", "READ_ROLLOUT", "READ_REPOSITORY", "READ_TARGET")
    resp = post(client, ROLLOUTS, {"name": "a", "distributionSetId": ds_id, "targetFilterQuery": "name==*"},
                headers=creator)
    assert resp.status_code == 201, resp.body
    jobs_queue.drain()
    rollout = _rollout(client, body(resp)["id"])
    assert rollout["status"] == "waiting_for_approval"
    _op(client, rollout["id"], "start", status=400)
    _op(client, rollout["id"], "approve", query="?remark=looks%20good")
    rollout = _rollout(client, rollout["id"])
    assert (rollout["status"], rollout["approvalRemark"], rollout["approveDecidedBy"]) == ("ready", "looks good",
                                                                                          "admin")
    # an admin may approve: its own rollouts need none
    assert _ready(client, {"name": "b", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})["status"] == \
        "ready"
    denied = body(post(client, ROLLOUTS, {"name": "c", "distributionSetId": ds_id, "targetFilterQuery": "name==*"},
                       headers=creator))
    jobs_queue.drain()
    _op(client, denied["id"], "deny")
    assert _rollout(client, denied["id"])["status"] == "approval_denied"


def test_a_start_at_in_the_past_starts_with_the_scheduled_check(client):
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 2)
    rollout = _ready(client, {"name": "later", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "startAt": 1})
    assert rollout["status"] == "running" and rollout["startAt"] == 1  # the creation's own unit started it
    assert all(_action_of(client, cid) for cid in devices)


def test_a_target_that_has_the_set_gets_a_finished_action(client):
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 2)
    steps.assign(client, ds_id, devices[0])
    rollout = _ready(client, {"name": "dup", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    rollout = _rollout(client, rollout["id"])
    assert rollout["totalTargetsPerStatus"]["finished"] == 1 and rollout["totalTargetsPerStatus"]["running"] == 1


def test_rate_control_starts_at_most_the_rate_a_minute(client):
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 5)
    rollout = _ready(client, {"name": "slow", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "rateControl": {"maximumPerMinute": 2}})
    assert rollout["rateControl"] == {"maximumPerMinute": 2}
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    assert sum(1 for cid in devices if _action_of(client, cid)) == 2
    jobs_queue.run_job(client, "rollouts", delay_ms=61_000)
    assert sum(1 for cid in devices if _action_of(client, cid)) == 4


def test_list_hides_deleted_and_filters(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 1)
    for name in ("b", "a", "c"):
        _ready(client, {"name": name, "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    page = body(get(client, f"{ROLLOUTS}?sort=name:ASC&limit=2"))
    assert page["total"] == 3 and [r["name"] for r in page["content"]] == ["a", "b"]
    page = body(get(client, f"{ROLLOUTS}?offset=1&limit=1"))  # id order: the page read alone
    assert page["total"] == 3 and [r["name"] for r in page["content"]] == ["a"]
    assert [r["name"] for r in body(get(client, f"{ROLLOUTS}?sort=id:DESC"))["content"]] == ["c", "a", "b"]
    assert "totalTargetsPerStatus" not in page["content"][0]
    full = body(get(client, f"{ROLLOUTS}?q=name==c&representation=full"))
    assert [r["name"] for r in full["content"]] == ["c"] and "totalTargetsPerStatus" in full["content"][0]
    assert body(get(client, f"{ROLLOUTS}?q=status==ready"))["total"] == 3


def test_permissions(client):
    reader = user_with(client, "reader", "READ_ROLLOUT")
    assert get(client, ROLLOUTS, headers=reader).status_code == 200
    assert post(client, ROLLOUTS, {"name": "x"}, headers=reader).status_code == 403
    assert post(client, f"{ROLLOUTS}/1/start", None, headers=reader).status_code == 403


def test_set_statistics_count_its_rollouts_and_invalidation_stops_them(client):
    ds_id, _ = steps.release(client)
    _fleet(client, 2)
    rollout = _ready(client, {"name": "inv", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    stats = body(get(client, f"/rest/v1/distributionsets/{ds_id}/statistics/rollouts"))
    assert stats["rollouts"] == {"READY": 1, "total": 1}
    resp = post(client, f"/rest/v1/distributionsets/{ds_id}/invalidate",
                {"actionCancelationType": "soft", "cancelRollouts": True})
    assert resp.status_code == 200, resp.body
    jobs_queue.drain()
    assert _rollout(client, rollout["id"])["status"] == "stopped"


def test_a_dynamic_rollout_takes_targets_created_after_it(client):
    from chalicelib import clock
    ds_id, _ = steps.release(client)
    _fleet(client, 2, prefix="old")
    rollout = _ready(client, {"name": "dyn", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "dynamic": True, "amountGroups": 1,
                              "dynamicGroupTemplate": {"nameSuffix": "-dyn", "targetCount": 2}})
    groups = _groups(client, rollout["id"])
    assert [(g["name"], g["dynamic"], g["totalTargets"]) for g in groups] == [("group-1", False, 2),
                                                                              ("group-2-dyn", True, 0)]
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    clock.advance(1)
    new = _fleet(client, 3, prefix="new")
    for cid in ("old-00", "old-01"):
        _report(client, cid)
    jobs_queue.drain()
    jobs_queue.run_job(client, "rollouts", delay_ms=61_000)
    groups = _groups(client, rollout["id"])
    assert [(g["name"], g["status"], g["totalTargets"]) for g in groups][:2] == [
        ("group-1", "finished", 2), ("group-2-dyn", "running", 2)]
    assert groups[2]["name"] == "group-3-dyn" and groups[2]["status"] == "scheduled"
    assert sum(1 for cid in new if _action_of(client, cid)) == 2
    assert _rollout(client, rollout["id"])["totalTargets"] == 4


def test_actions_past_the_timeout_count_against_the_error_condition(client):
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 2)
    rollout = _ready(client, {"name": "slowpoke", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                              "actionTimeout": {"inProgressMinutes": 1},
                              "errorCondition": {"condition": "THRESHOLD", "expression": "40"}})
    assert rollout["actionTimeout"] == {"inProgressMinutes": 1}
    _op(client, rollout["id"], "start")
    jobs_queue.drain()
    _report(client, devices[0])  # one device answers in time; the other never does
    jobs_queue.drain()
    assert _rollout(client, rollout["id"])["status"] == "running"
    jobs_queue.run_job(client, "rollouts", delay_ms=61_000)
    rollout = _rollout(client, rollout["id"])
    assert rollout["status"] == "paused"  # 1 of 2 timed out: 50 % > 40 %
    assert [g["status"] for g in _groups(client, rollout["id"])] == ["error"]
    late = _action_of(client, devices[1])
    steps.feedback(client, devices[1], f"tok-{devices[1]}", late["id"], "closed", "success")
    jobs_queue.drain()
    # the late success counts as finished, no longer as timed out
    assert action_counts.of_rollout("DEFAULT", rollout["id"])[0] == {"FINISHED": 2}


def test_units_racing_on_one_rollout_start_each_target_once(client, serialised_transactions):
    """Four units move the same rollout at once (a redelivered message beside the scheduled check): each target
    gets one action, the counts add up. moto's transactions are serialised, as DynamoDB isolates them."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.services import rollout_runner
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 30)
    rollout = _ready(client, {"name": "race", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    _op(client, rollout["id"], "start")
    start = threading.Barrier(4)

    def unit(_: int) -> None:
        start.wait()
        rollout_runner.advance("DEFAULT", rollout["id"], None, lambda: True)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(unit, range(4)))
    jobs_queue.drain()
    per_target = [len(body(get(client, f"/rest/v1/targets/{cid}/actions"))["content"]) for cid in devices]
    assert per_target == [1] * 30
    assert action_counts.of_rollout("DEFAULT", rollout["id"]) == {0: {"RUNNING": 30}}
    assert _rollout(client, rollout["id"])["totalTargetsPerStatus"]["running"] == 30


def test_a_lost_creation_message_is_made_good_by_the_scheduled_check(client):
    from chalicelib.store import job_queue
    steps.put_config(client, "rollout.approval.enabled", True)
    ds_id, _ = steps.release(client)
    _fleet(client, 3)
    creator = user_with(client, "creator", "CREATE_ROLLOUT", "READ_ROLLOUT", "READ_REPOSITORY", "READ_TARGET")
    resp = post(client, ROLLOUTS, {"name": "lost", "distributionSetId": ds_id, "targetFilterQuery": "name==*"},
                headers=creator)
    assert resp.status_code == 201, resp.body
    job_queue.delete(m["ReceiptHandle"] for m in job_queue.receive())  # the creation's unit is lost
    assert _stored_status(body(resp)["id"]) == "CREATING"
    jobs_queue.run_job(client, "rollouts")
    rollout = _rollout(client, body(resp)["id"])
    assert (rollout["status"], rollout["totalTargets"]) == ("waiting_for_approval", 3)


def test_rollout_quota_counts_rollouts_not_deleted(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_QUOTA_ROLLOUT", "1")
    ds_id, _ = steps.release(client)
    _fleet(client, 1)
    first = _ready(client, {"name": "one", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    resp = post(client, ROLLOUTS, {"name": "two", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert body(get(client, "/rest/v1/system/quota/ROLLOUT"))["used"] == 1
    delete(client, f"{ROLLOUTS}/{first['id']}")
    assert _create(client, {"name": "two", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})


def test_a_group_over_the_target_quota_is_refused(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_TARGETS_PER_ROLLOUT_GROUP", 2)
    ds_id, _ = steps.release(client)
    _fleet(client, 3)
    resp = post(client, ROLLOUTS, {"name": "big", "distributionSetId": ds_id, "targetFilterQuery": "name==*"})
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert _create(client, {"name": "big", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                            "amountGroups": 2})


def test_a_queue_that_refuses_loses_no_progress(client, aws_fails):
    """SQS down: the operation and the device's feedback are stored all the same (201, 200); the scheduled check
    then does what the lost messages would have done."""
    from botocore.exceptions import EndpointConnectionError
    ds_id, _ = steps.release(client)
    devices = _fleet(client, 2)
    down = []
    aws_fails(lambda service, op, params: service == "sqs" and op == "SendMessageBatch" and down,
              lambda: EndpointConnectionError(endpoint_url="http://sqs"))
    down.append(True)
    created = _create(client, {"name": "q", "distributionSetId": ds_id, "targetFilterQuery": "name==*",
                               "amountGroups": 2, "successCondition": {"expression": "100"}})
    _op(client, created["id"], "start", status=400)  # still creating: nothing ran it
    down.clear()
    jobs_queue.run_job(client, "rollouts")
    assert _rollout(client, created["id"])["status"] == "ready"
    _op(client, created["id"], "start")
    jobs_queue.drain()
    first = next(cid for cid in devices if _action_of(client, cid))
    down.append(True)
    _report(client, first)  # 200 although its check could not be queued
    down.clear()
    assert [g["status"] for g in _groups(client, created["id"])] == ["running", "scheduled"]
    jobs_queue.run_job(client, "rollouts")
    assert [g["status"] for g in _groups(client, created["id"])] == ["finished", "running"]
