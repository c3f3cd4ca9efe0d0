"""/rest/v1/rollouts through HTTP: creation, the lifecycle, groups and their progress driven by device
feedback, and hawkBit's refusals (docs/rollouts-hawkbit.md). The rollouts job runs as deployed: operations and
feedback queue its units, the tests drain the queue (tests/api/jobs_queue.py)."""
from __future__ import annotations

import pytest

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
