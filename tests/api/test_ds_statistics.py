"""GET /rest/v1/distributionsets/{id}/statistics[/actions|/rollouts] (hawkBit MgmtDistributionSetStatistics):
the set's actions counted by status from counters that move with every action write, checked against the
actions themselves after assignments, feedback, cancels, confirmations, invalidations and deletions."""
import json
from collections import Counter

from chalicelib import clock
from tests.api import steps
from tests.api.catalog_helpers import user_with
from tests.api.jobs_queue import run_job
from tests.conftest import ADMIN

DAY = 86_400_000


def _get(client, ds_id, part="", status=200, headers=ADMIN):
    resp = client.http.get(f"/rest/v1/distributionsets/{ds_id}/statistics{part}", headers=headers)
    assert resp.status_code == status, resp.body
    return json.loads(resp.body)


def _actions(client, ds_id):
    """The set's counts, checked against its actions as the Management API lists them."""
    body = _get(client, ds_id, "/actions")
    listed = json.loads(client.http.get(f"/rest/v1/actions?q=distributionSet.id=={ds_id}&limit=500",
                                        headers=ADMIN).body)["content"]
    expected = dict(Counter(a["status"].upper() for a in listed))
    assert body == ({"actions": {**expected, "total": len(listed)}} if listed else {}), (body, expected)
    return body.get("actions", {})


def _fleet(client, *cids, ds=None):
    steps.enable_target_tokens(client)
    for cid in cids:
        steps.create_target(client, cid, f"tok-{cid}")
    ds_id = ds or steps.release(client)[0]
    assigned = steps.assign(client, ds_id, *cids)["assignedActions"]
    return ds_id, {a["_links"]["self"]["href"].split("/targets/")[1].split("/")[0]: a["id"] for a in assigned}


def test_a_set_without_actions(client):
    ds_id, _ = steps.release(client)
    assert _get(client, ds_id) == {"actions": {"total": 0}, "rollouts": {"total": 0}, "totalAutoAssignments": 0}
    assert _actions(client, ds_id) == {}
    assert _get(client, ds_id, "/rollouts") == {}


def test_counts_follow_assignments_and_device_feedback(client):
    ds_id, actions = _fleet(client, "a1", "a2", "a3", "a4")
    assert _actions(client, ds_id) == {"RUNNING": 4, "total": 4}
    steps.ddi_get(client, "a1", "tok-a1", f"/deploymentBase/{actions['a1']}")
    steps.feedback(client, "a2", "tok-a2", actions["a2"], "proceeding", "none")  # status kept: nothing moves
    steps.feedback(client, "a3", "tok-a3", actions["a3"], "closed", "success")
    steps.feedback(client, "a4", "tok-a4", actions["a4"], "closed", "failure")
    assert _actions(client, ds_id) == {"RETRIEVED": 1, "RUNNING": 1, "FINISHED": 1, "ERROR": 1, "total": 4}
    full = _get(client, ds_id)
    assert full == {"actions": {"RETRIEVED": 1, "RUNNING": 1, "FINISHED": 1, "ERROR": 1, "total": 4},
                    "rollouts": {"total": 0}, "totalAutoAssignments": 0}
    assert _get(client, ds_id, "/rollouts") == {}


def test_counts_follow_cancels_and_supersession(client):
    ds_id, actions = _fleet(client, "c1", "c2", "c3")
    client.http.delete(f"/rest/v1/targets/c1/actions/{actions['c1']}", headers=ADMIN)
    client.http.delete(f"/rest/v1/targets/c2/actions/{actions['c2']}", headers=ADMIN)
    assert _actions(client, ds_id) == {"CANCELING": 2, "RUNNING": 1, "total": 3}
    steps.feedback(client, "c1", "tok-c1", actions["c1"], "closed", "success", kind="cancelAction")
    client.http.delete(f"/rest/v1/targets/c2/actions/{actions['c2']}?force=true", headers=ADMIN)
    assert _actions(client, ds_id) == {"CANCELED": 2, "RUNNING": 1, "total": 3}

    ds2, _ = steps.release(client, name="next", version="2")
    steps.assign(client, ds2, "c3")  # c3's first action is asked to cancel
    assert _actions(client, ds_id) == {"CANCELED": 2, "CANCELING": 1, "total": 3}
    assert _actions(client, ds2) == {"RUNNING": 1, "total": 1}
    steps.put_config(client, "repository.actions.autoclose.enabled", True)
    ds3, _ = steps.release(client, name="third", version="3")
    steps.assign(client, ds3, "c3")  # autoclose: c3's second action is closed at once
    assert _actions(client, ds2) == {"CANCELED": 1, "total": 1}
    assert _actions(client, ds3) == {"RUNNING": 1, "total": 1}


def test_counts_follow_confirmations_and_offline_assignments(client):
    steps.enable_confirmation_flow(client)
    ds_id, actions = _fleet(client, "w1", "w2")
    assert _actions(client, ds_id) == {"WAIT_FOR_CONFIRMATION": 2, "total": 2}
    steps.confirm(client, "w1", "tok-w1", actions["w1"])
    assert _actions(client, ds_id) == {"WAIT_FOR_CONFIRMATION": 1, "RUNNING": 1, "total": 2}

    steps.create_target(client, "o1")
    resp = client.http.post(f"/rest/v1/distributionsets/{ds_id}/assignedTargets?offline=true",
                            headers={**ADMIN, "Content-Type": "application/json"}, body=json.dumps([{"id": "o1"}]))
    assert resp.status_code == 200, resp.body
    assert _actions(client, ds_id) == {"WAIT_FOR_CONFIRMATION": 1, "RUNNING": 1, "FINISHED": 1, "total": 3}


def test_counts_follow_an_invalidation(client):
    ds_id, actions = _fleet(client, "i1", "i2", "i3")
    steps.feedback(client, "i3", "tok-i3", actions["i3"], "closed", "success")
    resp = client.http.post(f"/rest/v1/distributionsets/{ds_id}/invalidate",
                            headers={**ADMIN, "Content-Type": "application/json"},
                            body=json.dumps({"actionCancelationType": "soft"}))
    assert resp.status_code == 200, resp.body
    assert _actions(client, ds_id) == {"CANCELING": 2, "FINISHED": 1, "total": 3}
    resp = client.http.post(f"/rest/v1/distributionsets/{ds_id}/invalidate",
                            headers={**ADMIN, "Content-Type": "application/json"},
                            body=json.dumps({"actionCancelationType": "force"}))
    assert resp.status_code == 200, resp.body
    assert _actions(client, ds_id) == {"CANCELED": 2, "FINISHED": 1, "total": 3}


def test_deleted_actions_leave_the_counts(client):
    start = clock.now_ms()
    clock.set_now(start)
    ds_id, actions = _fleet(client, "d1", "d2", "d3")
    steps.feedback(client, "d1", "tok-d1", actions["d1"], "closed", "failure")
    assert client.http.delete("/rest/v1/targets/d2", headers=ADMIN).status_code == 200
    assert _actions(client, ds_id) == {"ERROR": 1, "RUNNING": 1, "total": 2}
    steps.put_config(client, "action.cleanup.enabled", True)
    steps.put_config(client, "action.cleanup.actionExpiry", DAY)
    clock.set_now(start + 2 * DAY)
    assert run_job(client, "action_cleanup") == {"deleted": 1}
    assert _actions(client, ds_id) == {"RUNNING": 1, "total": 1}


def test_unknown_deleted_sets_and_permissions(client):
    _get(client, 4242, status=404)
    _get(client, 4242, "/actions", status=404)
    _get(client, 4242, "/rollouts", status=404)
    ds_id, _ = _fleet(client, "x1")
    assert client.http.delete(f"/rest/v1/distributionsets/{ds_id}", headers=ADMIN).status_code == 200
    assert _actions(client, ds_id) == {"RUNNING": 1, "total": 1}  # soft-deleted: still answered
    for part in ("", "/actions", "/rollouts"):
        _get(client, ds_id, part, status=403, headers=user_with(client, f"t{len(part)}", "READ_TARGET"))
    assert _get(client, ds_id, "/actions", headers=user_with(client, "repo", "READ_REPOSITORY")) == {
        "actions": {"RUNNING": 1, "total": 1}}


def test_statistics_read_one_query_of_the_sets_counters(client, capacity_units):
    ds_id, actions = _fleet(client, *[f"q{i}" for i in range(40)])  # more targets than one transaction holds
    capacity_units.reset()
    with capacity_units:
        assert _get(client, ds_id)["actions"] == {"RUNNING": 40, "total": 40}
    read = capacity_units.totals()
    # the set (one consistent GetItem), its action counters (one Query of at most 128 small items), its rollouts
    # by status (one GetItem of one small item) and the tenant's auto-assigning filters (one consistent Query of
    # their small copies), whatever the fleet and however many rollouts
    assert read["calls"] == {"GetItem": 2, "Query": 2} and read["rru"] <= 3.0, read


def test_actions_of_an_older_deployment_are_not_counted_and_move_nothing(client):
    """Actions written before the counts existed carry no `counted` mark: their changes and deletion leave the
    counts alone (no negative counts), while the set's newer actions are counted."""
    from chalicelib.store.tables import Action
    from chalicelib.store.tables import DistributionSetActionCounts as Counts
    ds_id, actions = _fleet(client, "old1", "new1")
    older = Action.get("DEFAULT#old1", actions["old1"])
    older.update(actions=[Action.counted.remove()])  # as an older deployment wrote it
    for item in Counts.query("DEFAULT", Counts.key.startswith(f"dsactions#{ds_id}#")):
        item.delete()  # ... and counted nothing
    steps.assign(client, ds_id, "new1")  # already assigned: nothing changes
    steps.feedback(client, "old1", "tok-old1", actions["old1"], "closed", "failure")
    assert _get(client, ds_id, "/actions") == {}
    assert client.http.delete("/rest/v1/targets/old1", headers=ADMIN).status_code == 200
    assert _get(client, ds_id, "/actions") == {}
    ds2, _ = steps.release(client, name="later", version="2")
    steps.assign(client, ds2, "new1")
    assert _get(client, ds2, "/actions") == {"actions": {"RUNNING": 1, "total": 1}}
