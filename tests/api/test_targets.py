"""/rest/v1/targets: create, read, update, delete, list with q/offset/limit/sort, quota, pollStatus."""
import json

from tests.api import steps
from tests.conftest import ADMIN, basic


def _post(client, items, status=201):
    resp = client.http.post("/rest/v1/targets", headers=ADMIN, body=json.dumps(items))
    assert resp.status_code == status, resp.body
    return json.loads(resp.body)


def test_create_returns_array_with_generated_token(client):
    created = _post(client, [{"controllerId": "dev-1", "name": "Device 1", "description": "first"}])
    assert len(created) == 1
    target = created[0]
    assert target["controllerId"] == "dev-1" and target["name"] == "Device 1"
    assert target["updateStatus"] == "unknown" and target["requestAttributes"] is True
    assert len(target["securityToken"]) == 32
    assert target["_links"]["self"]["href"].endswith("/rest/v1/targets/dev-1")
    assert "pollStatus" not in target


def test_duplicates_are_409_and_nothing_is_written(client):
    _post(client, [{"controllerId": "dup", "name": "dup"}])
    body = _post(client, [{"controllerId": "fresh", "name": "f"}, {"controllerId": "dup", "name": "d"}], status=409)
    assert body["errorCode"] == "hawkbit.server.error.repo.entityAlreadyExists"
    assert client.http.get("/rest/v1/targets/fresh", headers=ADMIN).status_code == 404
    _post(client, [{"controllerId": "twice", "name": "a"}, {"controllerId": "twice", "name": "b"}], status=409)
    assert json.loads(client.http.get("/rest/v1/system/quota/TARGET", headers=ADMIN).body)["used"] == 1


def test_invalid_bodies_are_400(client):
    for body in ("[{", json.dumps({"controllerId": "x"}), json.dumps([{"name": "no id"}]),
                 json.dumps([{"controllerId": "has space", "name": "x"}]),
                 json.dumps([{"controllerId": "x" * 257, "name": "x"}])):
        resp = client.http.post("/rest/v1/targets", headers=ADMIN, body=body)
        assert resp.status_code == 400, body
    assert json.loads(client.http.get("/rest/v1/targets", headers=ADMIN).body)["total"] == 0


def test_target_quota_is_403_and_exact(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_QUOTA_TARGET", "3")
    _post(client, [{"controllerId": "q1", "name": "q"}, {"controllerId": "q2", "name": "q"}])
    body = _post(client, [{"controllerId": "q3", "name": "q"}, {"controllerId": "q4", "name": "q"}], status=403)
    assert body["errorCode"] == "hawkbit.server.error.quota.tooManyEntries"
    assert client.http.get("/rest/v1/targets/q3", headers=ADMIN).status_code == 404
    quota = json.loads(client.http.get("/rest/v1/system/quota/TARGET", headers=ADMIN).body)
    assert quota == {"limit": 3, "used": 2, "_links": quota["_links"]}
    assert client.http.delete("/rest/v1/targets/q1", headers=ADMIN).status_code == 200
    assert json.loads(client.http.get("/rest/v1/system/quota/TARGET", headers=ADMIN).body)["used"] == 1


def test_list_paging_sort_and_query(client):
    _post(client, [{"controllerId": f"t{i}", "name": f"name-{9 - i}", "description": "even" if i % 2 == 0 else "odd"}
                   for i in range(6)])
    page = json.loads(client.http.get("/rest/v1/targets?offset=2&limit=2", headers=ADMIN).body)
    assert [t["controllerId"] for t in page["content"]] == ["t2", "t3"]
    assert page["total"] == 6 and page["size"] == 2
    by_name = json.loads(client.http.get("/rest/v1/targets?sort=name:ASC&limit=3", headers=ADMIN).body)
    assert [t["name"] for t in by_name["content"]] == ["name-4", "name-5", "name-6"]
    query = json.loads(client.http.get("/rest/v1/targets?q=description==even;name==name-9", headers=ADMIN).body)
    assert [t["controllerId"] for t in query["content"]] == ["t0"] and query["total"] == 1
    wild = json.loads(client.http.get("/rest/v1/targets?q=controllerId==t*&sort=controllerId:DESC&limit=1",
                                      headers=ADMIN).body)
    assert wild["content"][0]["controllerId"] == "t5" and wild["total"] == 6
    for bad, code in (("q=nofield==1", "rsqlInvalidField"), ("q=name==x;", "rsqlParamSyntax"),
                      ("sort=name:UP", "invalidDirection"), ("sort=bogus:ASC", "invalidField"),
                      ("limit=abc", "constraintViolation")):
        resp = client.http.get(f"/rest/v1/targets?{bad}", headers=ADMIN)
        assert resp.status_code == 400, bad
        assert json.loads(resp.body)["errorCode"].endswith(code), bad


def test_update_and_request_attributes_rule(client):
    _post(client, [{"controllerId": "u1", "name": "old"}])
    resp = client.http.put("/rest/v1/targets/u1", headers=ADMIN,
                           body=json.dumps({"name": "new", "description": "d", "securityToken": "tok"}))
    assert resp.status_code == 200
    body = json.loads(resp.body)
    assert (body["name"], body["description"], body["securityToken"]) == ("new", "d", "tok")
    resp = client.http.put("/rest/v1/targets/u1", headers=ADMIN, body=json.dumps({"requestAttributes": False}))
    assert resp.status_code == 400
    assert client.http.put("/rest/v1/targets/nope", headers=ADMIN, body=json.dumps({"name": "x"})).status_code == 404


def test_security_token_needs_its_permission(client):
    from chalicelib.services import tenants
    _post(client, [{"controllerId": "s1", "name": "s"}])
    tenants.create_user("DEFAULT", "viewer", "pw", ["READ_TARGET"])
    body = json.loads(client.http.get("/rest/v1/targets/s1", headers=basic("viewer", "pw")).body)
    assert "securityToken" not in body
    resp = client.http.post("/rest/v1/targets", headers=basic("viewer", "pw"),
                            body=json.dumps([{"controllerId": "s2", "name": "s"}]))
    assert resp.status_code == 403


def test_poll_status_and_overdue(client):
    from chalicelib import clock
    steps.enable_target_tokens(client)
    steps.create_target(client, "p1", "tok-p1")
    start = clock.now_ms()
    clock.set_now(start)
    steps.put_config(client, "pollingTime", "00:05:00")
    steps.put_config(client, "pollingOverdueTime", "00:10:00")
    steps.poll(client, "p1", "tok-p1")
    status = steps.target(client, "p1")["pollStatus"]
    assert status == {"lastRequestAt": start, "nextExpectedRequestAt": start + 300_000, "overdue": False}
    clock.set_now(start + 300_000 + 600_000 + 1)
    assert steps.target(client, "p1")["pollStatus"]["overdue"] is True


def test_delete_removes_target_and_actions(client):
    steps.create_target(client, "d1")
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, "d1")["assignedActions"][0]["id"]
    assert client.http.delete("/rest/v1/targets/d1", headers=ADMIN).status_code == 200
    assert client.http.get("/rest/v1/targets/d1", headers=ADMIN).status_code == 404
    assert client.http.get(f"/rest/v1/actions/{action_id}", headers=ADMIN).status_code == 404
    assert client.http.delete("/rest/v1/targets/d1", headers=ADMIN).status_code == 404


def test_actions_lists_and_global_actions(client):
    steps.create_target(client, "l1")
    ds1, _ = steps.release(client, name="one", version="1")
    ds2, _ = steps.release(client, name="two", version="2")
    a1 = steps.assign(client, ds1, "l1")["assignedActions"][0]["id"]
    a2 = steps.assign(client, ds2, "l1")["assignedActions"][0]["id"]
    body = json.loads(client.http.get("/rest/v1/targets/l1/actions", headers=ADMIN).body)
    assert [a["id"] for a in body["content"]] == [a2, a1]
    first = body["content"][1]
    assert (first["status"], first["detailStatus"], first["active"]) == ("canceling", "canceling", True)
    only = json.loads(client.http.get("/rest/v1/targets/l1/actions?q=detailStatus==running", headers=ADMIN).body)
    assert [a["id"] for a in only["content"]] == [a2]
    only = json.loads(client.http.get("/rest/v1/targets/l1/actions?q=status==canceling", headers=ADMIN).body)
    assert [a["id"] for a in only["content"]] == [a1]
    one = json.loads(client.http.get(f"/rest/v1/actions/{a1}", headers=ADMIN).body)
    assert one["id"] == a1 and one["forceType"] == "forced"
    assert client.http.get("/rest/v1/actions/987654", headers=ADMIN).status_code == 404
    everything = json.loads(client.http.get("/rest/v1/actions", headers=ADMIN).body)
    assert everything["total"] == 2
    history = steps.history(client, "l1", a1)
    assert [h["type"] for h in history] == ["canceling", "running"]
    assert history[1]["messages"] == ["Assignment initiated by user 'admin'"]


def test_switch_action_to_forced(client):
    steps.create_target(client, "f1")
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, "f1", action_type="soft")["assignedActions"][0]["id"]
    resp = client.http.put(f"/rest/v1/targets/f1/actions/{action_id}", headers=ADMIN,
                           body=json.dumps({"forceType": "soft"}))
    assert resp.status_code == 400
    resp = client.http.put(f"/rest/v1/targets/f1/actions/{action_id}", headers=ADMIN,
                           body=json.dumps({"forceType": "forced"}))
    assert resp.status_code == 200 and json.loads(resp.body)["forceType"] == "forced"


def test_security_tokens_are_unique_and_target_types_must_exist(client):
    _post(client, [{"controllerId": "k1", "name": "k", "securityToken": "same-token"}])
    body = _post(client, [{"controllerId": "k2", "name": "k", "securityToken": "same-token"}], status=409)
    assert body["errorCode"] == "hawkbit.server.error.repo.entityAlreadyExists"
    _post(client, [{"controllerId": "k3", "name": "k", "securityToken": "t3"},
                   {"controllerId": "k4", "name": "k", "securityToken": "t3"}], status=409)
    _post(client, [{"controllerId": "k5", "name": "k"}])
    resp = client.http.put("/rest/v1/targets/k5", headers=ADMIN, body=json.dumps({"securityToken": "same-token"}))
    assert resp.status_code == 409
    _post(client, [{"controllerId": "k6", "name": "k", "targetType": True}], status=400)
    _post(client, [{"controllerId": "k6", "name": "k", "targetType": 5}], status=404)  # no such type


def test_deleting_a_target_forgets_its_configuration_tasks(client):
    from tests.api import dcs_steps
    steps.create_target(client, "cfg-dev", "tok-cfg")
    file = dcs_steps.file_with_head(client, "cfg-dev/app.json", b'{"a": 1}')
    task = dcs_steps.create_task(client, "cfg-dev", [{"name": "app.json", "uri": dcs_steps.head_uri(file["id"])}])
    listed = client.http.get("/api/deviceconfiguration/v3/devices/cfg-dev/configurationTasks", headers=ADMIN)
    assert len(json.loads(listed.body)["content"]) == 1
    assert client.http.delete("/rest/v1/targets/cfg-dev", headers=ADMIN).status_code == 200
    steps.create_target(client, "cfg-dev", "tok-cfg-2")  # same id, a new device
    listed = client.http.get("/api/deviceconfiguration/v3/devices/cfg-dev/configurationTasks", headers=ADMIN)
    assert json.loads(listed.body)["content"] == []
    assert client.http.get(f"/api/deviceconfiguration/v3/devices/cfg-dev/configurationTasks/{task['id']}",
                           headers=ADMIN).status_code == 404
