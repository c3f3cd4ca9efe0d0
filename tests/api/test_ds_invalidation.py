"""POST /rest/v1/distributionsets/{id}/invalidate (hawkBit DistributionSetInvalidationManagement): the set turns
invalid for good, no path assigns it any more, and its open actions are canceled (soft), force-quit (force) or
left alone (none); past the first batch the jobs worker goes on."""
import json

import pytest

from tests.api import jobs_queue, steps
from tests.api.catalog_helpers import user_with
from tests.conftest import ADMIN

JSON = {**ADMIN, "Content-Type": "application/json"}


def _invalidate(client, ds_id, cancelation="none", status=200, headers=JSON, **extra):
    resp = client.http.post(f"/rest/v1/distributionsets/{ds_id}/invalidate", headers=headers,
                            body=json.dumps({"actionCancelationType": cancelation, **extra}))
    assert resp.status_code == status, resp.body
    return json.loads(resp.body) if resp.body else None


def _ds(client, ds_id):
    resp = client.http.get(f"/rest/v1/distributionsets/{ds_id}", headers=ADMIN)
    assert resp.status_code == 200, resp.body
    return json.loads(resp.body)


def _fleet(client, *cids):
    steps.enable_target_tokens(client)
    for cid in cids:
        steps.create_target(client, cid, f"tok-{cid}")
    ds_id, _ = steps.release(client)
    assigned = steps.assign(client, ds_id, *cids)["assignedActions"]
    actions = {a["_links"]["self"]["href"].split("/targets/")[1].split("/")[0]: a["id"] for a in assigned}
    return ds_id, actions


def _status(client, cid, action_id):
    return steps.action(client, cid, action_id)["status"]


def test_none_marks_the_set_invalid_and_leaves_its_actions_running(client):
    ds_id, actions = _fleet(client, "n1")
    assert _ds(client, ds_id)["valid"] is True
    assert _invalidate(client, ds_id, "none", cancelRollouts=True) is None
    assert _ds(client, ds_id)["valid"] is False
    listed = json.loads(client.http.get(f"/rest/v1/distributionsets?q=id=={ds_id}", headers=ADMIN).body)
    assert listed["content"][0]["valid"] is False
    assert _status(client, "n1", actions["n1"]) == "running"
    assert "deploymentBase" in steps.poll(client, "n1", "tok-n1")["_links"]


def test_an_invalid_set_stays_invalid(client):
    ds_id, _ = steps.release(client)
    _invalidate(client, ds_id)
    resp = client.http.put(f"/rest/v1/distributionsets/{ds_id}", headers=JSON,
                           body=json.dumps({"valid": True, "description": "try to revive"}))
    assert resp.status_code == 200, resp.body
    assert _ds(client, ds_id)["valid"] is False
    _invalidate(client, ds_id, "soft")  # again: allowed, as in hawkBit (a retry finishes what died part-way)
    assert _ds(client, ds_id)["valid"] is False


def test_an_invalid_set_is_refused_by_every_assignment_path(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, "r1", "tok-r1")
    ds_id, _ = steps.release(client)
    _invalidate(client, ds_id)
    # the device reporting the set as installed is an offline assignment too
    resp = client.http.put("/DEFAULT/controller/v1/r1/installedBase",
                           headers={**steps.device("tok-r1"), "Content-Type": "application/json"},
                           body=json.dumps({"name": "myOs-DS", "version": "1.0"}))
    assert resp.status_code == 400, resp.body
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.distributionset.invalid"
    paths = [
        (f"/rest/v1/distributionsets/{ds_id}/assignedTargets", [{"id": "r1"}]),
        (f"/rest/v1/distributionsets/{ds_id}/assignedTargets?offline=true", [{"id": "r1"}]),
        ("/rest/v1/targets/r1/assignedDS", {"id": ds_id}),
        ("/rest/v1/targets/r1/assignedDS", [{"id": ds_id}]),
        ("/rest/v1/targets/r1/assignedDS?offline=true", {"id": ds_id}),
    ]
    for path, body in paths:
        resp = client.http.post(path, headers=JSON, body=json.dumps(body))
        assert resp.status_code == 400, (path, resp.body)
        assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.distributionset.invalid", path
    assert client.http.get("/rest/v1/targets/r1/assignedDS", headers=ADMIN).status_code == 204
    assert json.loads(client.http.get("/rest/v1/targets/r1/actions", headers=ADMIN).body)["total"] == 0


def test_soft_asks_the_devices_to_cancel(client):
    ds_id, actions = _fleet(client, "s1", "s2")
    steps.feedback(client, "s2", "tok-s2", actions["s2"], "closed", "success")  # finished: left alone
    _invalidate(client, ds_id, "soft")
    assert _status(client, "s1", actions["s1"]) == "canceling"
    assert steps.history(client, "s1", actions["s1"])[0]["type"] == "canceling"
    assert steps.poll(client, "s1", "tok-s1")["_links"]["cancelAction"]["href"].endswith(f"/{actions['s1']}")
    assert _status(client, "s2", actions["s2"]) == "finished"
    steps.feedback(client, "s1", "tok-s1", actions["s1"], "closed", "success", kind="cancelAction")
    assert _status(client, "s1", actions["s1"]) == "canceled"


def test_force_closes_the_open_actions_at_once(client):
    ds_id, actions = _fleet(client, "f1", "f2")
    client.http.delete(f"/rest/v1/targets/f2/actions/{actions['f2']}", headers=ADMIN)  # canceling already
    _invalidate(client, ds_id, "force")
    for cid in ("f1", "f2"):
        action = steps.action(client, cid, actions[cid])
        assert (action["status"], action["active"]) == ("canceled", False)
        assert steps.history(client, cid, actions[cid])[0]["messages"] == ["A force quit has been performed."]
        # as after an operator's force quit: nothing installed, nothing assigned, in sync
        assert steps.target(client, cid)["updateStatus"] == "in_sync"
        links = steps.poll(client, cid, f"tok-{cid}")["_links"]
        assert "deploymentBase" not in links and "cancelAction" not in links


def test_open_actions_are_found_where_the_target_assigns_another_set(client):
    """A superseded action still canceling, and (multi-assignment) an older set's action: the target's
    assigned set is another one, the set's open actions are found all the same."""
    steps.enable_target_tokens(client)
    steps.create_target(client, "m1", "tok-m1")
    ds1, _ = steps.release(client, name="one", version="1")
    ds2, _ = steps.release(client, name="two", version="2")
    first = steps.assign(client, ds1, "m1")["assignedActions"][0]["id"]
    second = steps.assign(client, ds2, "m1")["assignedActions"][0]["id"]  # first: canceling
    _invalidate(client, ds1, "force")
    assert _status(client, "m1", first) == "canceled"
    assert _status(client, "m1", second) == "running"

    steps.put_config(client, "multi.assignments.enabled", True)
    steps.create_target(client, "m2", "tok-m2")
    ds3, _ = steps.release(client, name="three", version="3")
    ds4, _ = steps.release(client, name="four", version="4")
    third = steps.assign(client, ds3, "m2", weight=10)["assignedActions"][0]["id"]
    fourth = steps.assign(client, ds4, "m2", weight=20)["assignedActions"][0]["id"]
    _invalidate(client, ds3, "soft")
    assert _status(client, "m2", third) == "canceling"
    assert _status(client, "m2", fourth) == "running"


def test_many_open_actions_are_canceled_by_the_job_past_the_first_batch(client, monkeypatch):
    from chalicelib import config
    from chalicelib.services import ds_invalidation
    monkeypatch.setattr(ds_invalidation, "INLINE_ACTIONS", 3)
    monkeypatch.setenv("SKYHAWK_JOBS_PAGE_SIZE", "2")
    monkeypatch.setenv("SKYHAWK_JOBS_PAGES_PER_MESSAGE", "1")
    config.reset()
    cids = [f"b{i}" for i in range(9)]
    ds_id, actions = _fleet(client, *cids)
    _invalidate(client, ds_id, "force")
    assert _ds(client, ds_id)["valid"] is False  # at once; the request canceled the first batch only
    assert sorted(_status(client, cid, actions[cid]) for cid in cids).count("canceled") == 3
    done = jobs_queue.drain()
    assert done["ds_invalidation"] == {"canceled": 6}
    assert {_status(client, cid, actions[cid]) for cid in cids} == {"canceled"}
    assert jobs_queue.drain() == {}
    statistics = client.http.get(f"/rest/v1/distributionsets/{ds_id}/statistics/actions", headers=ADMIN)
    assert json.loads(statistics.body) == {"actions": {"CANCELED": 9, "total": 9}}


@pytest.mark.parametrize("body, code", [
    ({}, "hawkbit.server.error.repo.constraintViolation"),
    ({"actionCancelationType": "later"}, "hawkbit.server.error.rest.body.notReadable"),
    ({"actionCancelationType": 1}, "hawkbit.server.error.rest.body.notReadable"),
    ({"actionCancelationType": "soft", "cancelRollouts": "yes"}, "hawkbit.server.error.rest.body.notReadable"),
])
def test_a_bad_body_is_400_and_changes_nothing(client, body, code):
    ds_id, _ = steps.release(client)
    resp = client.http.post(f"/rest/v1/distributionsets/{ds_id}/invalidate", headers=JSON, body=json.dumps(body))
    assert resp.status_code == 400, resp.body
    assert json.loads(resp.body)["errorCode"] == code
    assert _ds(client, ds_id)["valid"] is True


def test_unknown_deleted_and_incomplete_sets(client):
    assert _invalidate(client, 4242, status=404)["errorCode"] == "hawkbit.server.error.repo.entityNotFound"
    ds_id, _ = steps.release(client)
    assert client.http.delete(f"/rest/v1/distributionsets/{ds_id}", headers=ADMIN).status_code == 200
    _invalidate(client, ds_id, status=404)
    empty = steps.create_ds(client, [], name="empty", version="0")
    assert _invalidate(client, empty, status=400)["errorCode"] == "hawkbit.server.error.distributionset.incomplete"
    assert _ds(client, empty)["valid"] is True


def test_invalidating_takes_update_repository_and_update_target(client):
    ds_id, _ = steps.release(client)
    for name, permissions in (("repo", ["UPDATE_REPOSITORY"]), ("targets", ["UPDATE_TARGET"])):
        headers = {**user_with(client, name, *permissions), "Content-Type": "application/json"}
        _invalidate(client, ds_id, headers=headers, status=403)
    assert _ds(client, ds_id)["valid"] is True
    both = {**user_with(client, "both", "UPDATE_REPOSITORY", "UPDATE_TARGET"), "Content-Type": "application/json"}
    _invalidate(client, ds_id, headers=both)
    assert _ds(client, ds_id)["valid"] is False


def test_a_unit_delivered_twice_cancels_each_action_once(client, monkeypatch):
    """SQS delivers at least once: the same unit run again finds the actions canceling and leaves them."""
    from chalicelib.services import ds_invalidation
    from chalicelib.store import job_queue
    monkeypatch.setattr(ds_invalidation, "INLINE_ACTIONS", 1)
    cids = ["u1", "u2", "u3"]
    ds_id, actions = _fleet(client, *cids)
    _invalidate(client, ds_id, "soft")
    queued = job_queue.receive(10)
    assert len(queued) == 1
    job_queue.delete([queued[0]["ReceiptHandle"]])
    job_queue.send_raw([queued[0]["Body"], queued[0]["Body"]])
    assert jobs_queue.drain()["ds_invalidation"] == {"canceled": 2}
    assert {_status(client, cid, actions[cid]) for cid in cids} == {"canceling"}
    assert all(len([e for e in steps.history(client, cid, actions[cid]) if e["type"] == "canceling"]) == 1
               for cid in cids)


def test_an_invalidation_between_an_assignments_check_and_its_writes_refuses_them(client, monkeypatch):
    """The set is checked when the assignment starts; an invalidation that commits before the assignment's
    transaction makes that transaction fail on the set's guard: no action of the invalid set is left behind the
    invalidation's walk."""
    import botocore.client

    from chalicelib.services import distribution_sets
    steps.create_target(client, "race")
    ds_id, _ = steps.release(client)
    original = botocore.client.BaseClient._make_api_call
    raced = []

    def concurrent_invalidation(self, operation, params):
        if operation == "TransactWriteItems" and not raced and any(
                "Put" in item and item["Put"]["TableName"].endswith("actions") for item in params["TransactItems"]):
            raced.append(True)
            distribution_sets.mark_invalid("DEFAULT", ds_id, "other-operator")
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", concurrent_invalidation)
    resp = client.http.post(f"/rest/v1/distributionsets/{ds_id}/assignedTargets", headers=JSON,
                            body=json.dumps([{"id": "race"}]))
    assert raced and resp.status_code == 400, resp.body
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.distributionset.invalid"
    assert json.loads(client.http.get("/rest/v1/targets/race/actions", headers=ADMIN).body)["total"] == 0


def test_invalidation_costs_follow_the_open_actions(client, capacity_units):
    """The walk reads the set's open actions from its index (one Query a shard, 16), never the tenant's: each
    open action then costs its cancel (the target and the action read, one transaction), whatever the fleet.
    One more Query reads the tenant's auto-assigning filters (none here), which stop assigning the set."""
    steps.create_target(client, "bystander")
    other, _ = steps.release(client, name="other", version="9")
    steps.assign(client, other, "bystander")  # another set's open action: not read
    ds_id, _ = _fleet(client, *[f"v{i}" for i in range(10)])
    capacity_units.reset()
    with capacity_units:
        _invalidate(client, ds_id, "soft")
    used = capacity_units.totals()
    assert used["calls"]["Query"] == 16 + 1 and used["calls"]["GetItem"] <= 2 + 2 * 10, used
    assert used["calls"]["TransactWriteItems"] == 1 + 10, used  # the set marked invalid, then a cancel each
    # the 16 Queries (0.5 each, keys only), the filters' (1, consistent), the set (1), then per action its two reads (0.5 each) and a
    # transaction of four small items (the action, its history entry, the target, the set's counts: 2 WRU each)
    assert used["rru"] <= 16 * 0.5 + 1 + 1 + 10 * 1 and used["wru"] <= 4 + 10 * 8, used
    print(f"\ninvalidating a set with 10 open actions (soft): {used}")


def test_invalidating_a_set_stops_the_filters_that_auto_assign_it(client):
    ds_id, _ = steps.release(client)
    filters = "/rest/v1/targetfilters"
    resp = client.http.post(filters, headers=JSON, body=json.dumps({"name": "all", "query": "name==*"}))
    assert resp.status_code == 201, resp.body
    filter_id = json.loads(resp.body)["id"]
    resp = client.http.post(f"{filters}/{filter_id}/autoAssignDS", headers=JSON, body=json.dumps({"id": ds_id}))
    assert resp.status_code == 200, resp.body
    statistics = json.loads(client.http.get(f"/rest/v1/distributionsets/{ds_id}/statistics", headers=ADMIN).body)
    assert statistics["totalAutoAssignments"] == 1

    _invalidate(client, ds_id, "none")
    found = json.loads(client.http.get(f"{filters}/{filter_id}", headers=ADMIN).body)
    assert found.get("autoAssignDistributionSet") is None
    statistics = json.loads(client.http.get(f"/rest/v1/distributionsets/{ds_id}/statistics", headers=ADMIN).body)
    assert statistics["totalAutoAssignments"] == 0
    steps.create_target(client, "after-invalidation")
    jobs_queue.drain()
    assert steps.body_of(client.http.get("/rest/v1/targets/after-invalidation/actions", headers=ADMIN))["total"] == 0
