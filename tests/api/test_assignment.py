"""Assignments: response counts, types, weights and multi-assignment, quotas, budgets in DynamoDB calls."""
import json

from tests.api import steps
from tests.api.steps import ddi_path, device
from tests.conftest import ADMIN


def test_already_assigned_and_unknown_targets(client):
    steps.create_target(client, "a1")
    ds_id, _ = steps.release(client)
    assert steps.assign(client, ds_id, "a1", "ghost") | {"assignedActions": None} == {
        "assigned": 1, "alreadyAssigned": 0, "total": 2, "assignedActions": None}
    again = steps.assign(client, ds_id, "a1")
    assert (again["assigned"], again["alreadyAssigned"], again["assignedActions"]) == (0, 1, [])


def test_unknown_or_incomplete_distribution_set(client):
    steps.create_target(client, "a1")
    resp = client.http.post("/rest/v1/distributionsets/9999/assignedTargets", headers=ADMIN,
                            body=json.dumps([{"id": "a1"}]))
    assert resp.status_code == 404
    empty_ds = steps.create_ds(client, [], name="empty")
    resp = client.http.post(f"/rest/v1/distributionsets/{empty_ds}/assignedTargets", headers=ADMIN,
                            body=json.dumps([{"id": "a1"}]))
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.distributionset.incomplete"
    assert json.loads(client.http.get("/rest/v1/targets/a1", headers=ADMIN).body)["updateStatus"] == "unknown"


def test_bad_assignment_bodies(client):
    steps.create_target(client, "a1")
    ds_id, _ = steps.release(client)
    url = f"/rest/v1/distributionsets/{ds_id}/assignedTargets"
    for body in ("[{", json.dumps({"id": "a1"}), json.dumps([{"id": "a1", "type": "sometimes"}]),
                 json.dumps([{"id": "a1", "type": "timeforced"}]), json.dumps([{"id": "a1", "weight": 5000}]),
                 json.dumps([{"id": "a1"}, {"id": "a1"}]), json.dumps([{}])):
        resp = client.http.post(url, headers=ADMIN, body=body)
        assert resp.status_code == 400, body
    assert client.http.get("/rest/v1/targets/a1/assignedDS", headers=ADMIN).status_code == 204


def test_soft_and_timeforced_and_downloadonly_handling(client, ):
    from chalicelib import clock
    steps.enable_target_tokens(client)
    ds_id, _ = steps.release(client)
    for cid in ("soft", "timed", "dlonly"):
        steps.create_target(client, cid, f"tok-{cid}")
    steps.assign(client, ds_id, "soft", action_type="soft")
    now = clock.now_ms()
    steps.assign(client, ds_id, "timed", action_type="timeforced", forcetime=now + 60_000)
    steps.assign(client, ds_id, "dlonly", action_type="downloadonly")

    def handling(cid):
        href = steps.poll(client, cid, f"tok-{cid}")["_links"]["deploymentBase"]["href"]
        body = json.loads(client.http.get(ddi_path(href), headers=device(f"tok-{cid}")).body)
        return body["deployment"]["download"], body["deployment"]["update"], href

    assert handling("soft")[:2] == ("attempt", "attempt")
    before = handling("timed")
    assert before[:2] == ("attempt", "attempt")
    clock.set_now(now + 120_000)
    after = handling("timed")
    assert after[:2] == ("forced", "forced")
    assert before[2] != after[2]  # the ?c= value changes so clients fetch again
    assert handling("dlonly")[:2] == ("forced", "skip")
    action_id = steps.poll(client, "dlonly", "tok-dlonly")["_links"]["deploymentBase"]["href"].split(
        "/deploymentBase/")[1].split("?")[0]
    steps.feedback(client, "dlonly", "tok-dlonly", action_id, "downloaded", "success")
    assert steps.target(client, "dlonly")["updateStatus"] == "in_sync"
    assert steps.action(client, "dlonly", int(action_id))["detailStatus"] == "downloaded"
    steps.feedback(client, "dlonly", "tok-dlonly", action_id, "closed", "success", status=410)


def test_multi_assignment_needs_weight_and_serves_heaviest_first(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, "m1", "tok-m1")
    ds1, _ = steps.release(client, name="one", version="1")
    ds2, _ = steps.release(client, name="two", version="2")
    steps.put_config(client, "multi.assignments.enabled", True)
    resp = client.http.post(f"/rest/v1/distributionsets/{ds1}/assignedTargets", headers=ADMIN,
                            body=json.dumps([{"id": "m1"}]))
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.noWeightProvidedInMultiAssignmentMode"
    light = steps.assign(client, ds1, "m1", weight=10)["assignedActions"][0]["id"]
    heavy = steps.assign(client, ds2, "m1", weight=900)["assignedActions"][0]["id"]
    assert steps.action(client, "m1", light)["detailStatus"] == "running"  # not cancelled
    href = steps.poll(client, "m1", "tok-m1")["_links"]["deploymentBase"]["href"]
    assert f"/deploymentBase/{heavy}?" in href
    steps.feedback(client, "m1", "tok-m1", heavy, "closed", "success")
    assert f"/deploymentBase/{light}?" in steps.poll(client, "m1", "tok-m1")["_links"]["deploymentBase"]["href"]
    assert steps.target(client, "m1")["updateStatus"] == "pending"


def test_target_assigned_ds_post_single_or_array(client):
    steps.create_target(client, "t1")
    ds1, _ = steps.release(client, name="one", version="1")
    ds2, _ = steps.release(client, name="two", version="2")
    resp = client.http.post("/rest/v1/targets/t1/assignedDS", headers=ADMIN, body=json.dumps({"id": ds1}))
    assert resp.status_code == 200 and json.loads(resp.body)["assigned"] == 1
    assert json.loads(client.http.get("/rest/v1/targets/t1/assignedDS", headers=ADMIN).body)["id"] == ds1
    resp = client.http.post("/rest/v1/targets/t1/assignedDS", headers=ADMIN,
                            body=json.dumps([{"id": ds1, "weight": 1}, {"id": ds2, "weight": 2}]))
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.multiAssignmentNotEnabled"


def test_offline_assignment_is_in_sync_at_once(client):
    steps.create_target(client, "off1")
    ds_id, _ = steps.release(client)
    resp = client.http.post(f"/rest/v1/distributionsets/{ds_id}/assignedTargets?offline=true", headers=ADMIN,
                            body=json.dumps([{"id": "off1"}]))
    assert json.loads(resp.body)["assigned"] == 1
    assert steps.target(client, "off1")["updateStatus"] == "in_sync"
    installed = client.http.get(f"/rest/v1/distributionsets/{ds_id}/installedTargets", headers=ADMIN)
    assert [t["controllerId"] for t in json.loads(installed.body)["content"]] == ["off1"]


def test_assigned_targets_list(client):
    for cid in ("x1", "x2", "x3"):
        steps.create_target(client, cid)
    ds_id, _ = steps.release(client)
    steps.assign(client, ds_id, "x1", "x3")
    body = json.loads(client.http.get(f"/rest/v1/distributionsets/{ds_id}/assignedTargets", headers=ADMIN).body)
    assert [t["controllerId"] for t in body["content"]] == ["x1", "x3"] and body["total"] == 2
    body = json.loads(client.http.get(f"/rest/v1/distributionsets/{ds_id}/assignedTargets?q=id==x3",
                                      headers=ADMIN).body)
    assert [t["controllerId"] for t in body["content"]] == ["x3"]


def test_assigning_1000_targets_writes_in_transactions(client, dynamo_calls):
    steps.create_target(client, "warm")
    ds_id, _ = steps.release(client)
    ids = [f"bulk-{i:04d}" for i in range(1000)]
    for start in range(0, 1000, 250):
        resp = client.http.post("/rest/v1/targets", headers=ADMIN, body=json.dumps(
            [{"controllerId": cid, "name": cid} for cid in ids[start:start + 250]]))
        assert resp.status_code == 201
    dynamo_calls.reset()
    result = steps.assign(client, ds_id, *ids)
    assert result["assigned"] == 1000
    calls = dynamo_calls.calls
    # 3 items a target (target, action, first history entry): 32 targets a transaction (32) with the set's action
    # counts and its guard (valid, not deleted), plus the implicit lock of the set and its module, once.
    assert calls["TransactWriteItems"] == 33
    assert calls["BatchGetItem"] <= 10 + 1
    assert calls["UpdateItem"] <= 3  # action id block (+ implicit lock of set and module)
    assert calls["PutItem"] == 1  # the set's deployment snapshot, once (one page)
    assert dynamo_calls.writes <= 41
    listed = json.loads(client.http.get(f"/rest/v1/distributionsets/{ds_id}/assignedTargets?limit=500",
                                        headers=ADMIN).body)
    assert listed["total"] == 1000


def test_actions_per_target_quota(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_ACTIONS_PER_TARGET", 1)
    steps.create_target(client, "q1")
    ds1, _ = steps.release(client, name="one", version="1")
    ds2, _ = steps.release(client, name="two", version="2")
    steps.assign(client, ds1, "q1")
    resp = client.http.post(f"/rest/v1/distributionsets/{ds2}/assignedTargets", headers=ADMIN,
                            body=json.dumps([{"id": "q1"}]))
    assert resp.status_code == 403
    assert json.loads(client.http.get("/rest/v1/targets/q1/assignedDS", headers=ADMIN).body)["id"] == ds1


def test_several_sets_for_one_target_are_checked_before_any_is_assigned(client):
    steps.create_target(client, "m2")
    ds1, _ = steps.release(client, name="one", version="1")
    steps.put_config(client, "multi.assignments.enabled", True)
    resp = client.http.post("/rest/v1/targets/m2/assignedDS", headers=ADMIN,
                            body=json.dumps([{"id": ds1, "weight": 10}, {"id": 9999, "weight": 20}]))
    assert resp.status_code == 404
    assert json.loads(client.http.get("/rest/v1/targets/m2/actions", headers=ADMIN).body)["total"] == 0


def test_weight_zero_is_served_last(client):
    from chalicelib.domain.actions import pick_active
    assert pick_active([{"id": 1, "weight": 0}, {"id": 2, "weight": 500}])["id"] == 2
    assert pick_active([{"id": 1, "weight": None}, {"id": 2, "weight": 500}])["id"] == 1
