"""DWS models and instances: built-in model, user models, filters and paging, flags, PATCH, cancel, errors."""
from __future__ import annotations

import json

from tests.api.dcs_steps import (
    CONFIG_MODEL,
    DWS,
    bearer,
    body,
    create_task,
    error_code,
    make_device,
    patch_instance,
    release,
)
from tests.conftest import ADMIN, basic

FW_MODEL = {
    "key": "DEFAULT_fwupdate",
    "states": [{"name": "STOPPED", "description": "stopped", "initial": True, "final": False, "cancel": False},
               {"name": "RUN", "description": "run", "initial": False, "final": False, "cancel": False},
               {"name": "FINAL", "description": "done", "initial": False, "final": True, "cancel": False},
               {"name": "CANCEL", "description": "canceled", "initial": False, "final": False, "cancel": True}],
    "transitions": [{"from": "STOPPED", "to": "RUN", "type": "BACKEND_TRIGGER", "allowedTypes": ["BACKEND_TRIGGER"]},
                    {"from": "STOPPED", "to": "CANCEL", "type": "BACKEND_TRIGGER", "allowedTypes": ["BACKEND_TRIGGER"]},
                    {"from": "RUN", "to": "CANCEL", "type": "BACKEND_TRIGGER", "allowedTypes": ["BACKEND_TRIGGER"]},
                    {"from": "RUN", "to": "FINAL", "type": "BACKEND_TRIGGER", "allowedTypes": ["BACKEND_TRIGGER"]}],
    "groups": [{"name": "Machine", "states": ["STOPPED", "RUN", "CANCEL", "FINAL"]}],
}


def post(client, path, payload, headers=None):
    return client.http.post(f"{DWS}{path}", headers={**(headers or ADMIN), "Content-Type": "application/json"},
                            body=json.dumps(payload))


def new_instance(client, device_id, key=CONFIG_MODEL, data=None, custom=None, query="?model=true&history=true"):
    model = {"key": key} if custom is None else {"key": key, "customTransitions": custom}
    resp = post(client, f"/instances{query}", {"deviceId": device_id, "model": model,
                                               "data": data if data is not None else {"files": []}})
    assert resp.status_code == 201, resp.body
    return body(resp)


def test_built_in_model_is_served_and_protected(client):
    resp = client.http.get(f"{DWS}/models/{CONFIG_MODEL}", headers=ADMIN)
    model = body(resp)
    assert resp.status_code == 200 and model["key"] == CONFIG_MODEL
    assert [g["name"] for g in model["groups"]] == ["OPEN", "CLOSED"]
    assert {"from": "CREATED", "to": "CONFIGURE", "type": "BACKEND_TRIGGER",
            "allowedTypes": ["BACKEND_TRIGGER", "INSTANTANEOUS"]} in model["transitions"]
    assert client.http.delete(f"{DWS}/models/{CONFIG_MODEL}", headers=ADMIN).status_code == 403
    assert post(client, "/models", {**FW_MODEL, "key": CONFIG_MODEL}).status_code == 409


def test_user_model_create_get_delete(client):
    resp = post(client, "/models", FW_MODEL)
    assert resp.status_code == 201 and body(resp)["key"] == FW_MODEL["key"]
    got = body(client.http.get(f"{DWS}/models/{FW_MODEL['key']}", headers=ADMIN))
    assert got == FW_MODEL
    duplicate = post(client, "/models", FW_MODEL)
    assert duplicate.status_code == 409 and error_code(duplicate) == "mdsp.core.deploymentworkflow.conflict"
    invalid = post(client, "/models", {**FW_MODEL, "key": "broken", "groups": [{"name": "G", "states": ["NOPE"]}]})
    assert invalid.status_code == 400 and error_code(invalid) == "mdsp.core.deploymentworkflow.invalidRequest"
    assert client.http.delete(f"{DWS}/models/{FW_MODEL['key']}", headers=ADMIN).status_code == 204
    missing = client.http.get(f"{DWS}/models/{FW_MODEL['key']}", headers=ADMIN)
    assert missing.status_code == 404 and error_code(missing) == "mdsp.core.deploymentworkflow.notFound"
    assert client.http.delete(f"{DWS}/models/{FW_MODEL['key']}", headers=ADMIN).status_code == 404


def test_user_model_instance_runs_and_survives_model_deletion(client):
    make_device("dev-1")
    post(client, "/models", FW_MODEL)
    inst = new_instance(client, "dev-1", FW_MODEL["key"], data={"userDefined": {}})
    assert inst["currentState"]["state"] == "STOPPED"
    assert inst["model"]["stateGroups"][0]["name"] == "Machine" and inst["data"] == {"userDefined": {}}
    client.http.delete(f"{DWS}/models/{FW_MODEL['key']}", headers=ADMIN)
    # the published PATCH example, with progress in range
    resp = patch_instance(client, inst["id"], {"progress": 1, "message": "string", "details": {"userDefined": {}},
                                               "state": "RUN"}, query="?model=true&history=true")
    assert resp.status_code == 200
    run = body(resp)
    assert run["currentState"]["state"] == "RUN" and [h["state"] for h in run["history"]] == ["STOPPED", "RUN"]
    canceled = client.http.post(f"{DWS}/instances/{inst['id']}/cancel?history=true", headers=ADMIN)
    assert canceled.status_code == 200 and body(canceled)["currentState"]["state"] == "CANCEL"
    again = client.http.post(f"{DWS}/instances/{inst['id']}/cancel", headers=ADMIN)
    assert again.status_code == 409 and error_code(again) == "mdsp.core.deploymentworkflow.invalidTransition"


def test_flags_shape_the_response(client):
    make_device("dev-1")
    inst = new_instance(client, "dev-1", query="")
    assert set(inst) == {"id", "deviceId", "createdAt", "currentState", "data"}
    full = body(client.http.get(f"{DWS}/instances/{inst['id']}?model=true&history=true", headers=ADMIN))
    assert set(full) == {"id", "deviceId", "createdAt", "currentState", "history", "model", "data"}
    assert set(full["currentState"]) == {"entered", "updated", "progress", "message", "details", "state"}
    assert full["model"]["key"] == CONFIG_MODEL
    assert set(full["model"]) == {"key", "states", "transitions", "stateGroups"}
    assert client.http.get(f"{DWS}/instances/{inst['id']}?model=maybe", headers=ADMIN).status_code == 400


def test_list_filters_and_paging(client, aws_env):
    from chalicelib import clock
    clock.set_now(1_700_000_000_000)
    make_device("dev-1")
    make_device("dev-2")
    post(client, "/models", FW_MODEL)
    ids = []
    for device in ("dev-1", "dev-1", "dev-2"):
        clock.advance(1000)
        ids.append(new_instance(client, device)["id"])
    clock.advance(1000)
    fw = new_instance(client, "dev-1", FW_MODEL["key"], data={})["id"]
    release(client, "dev-1", ids[0])
    release(client, "dev-2", ids[2])

    def listed(query):
        resp = client.http.get(f"{DWS}/instances{query}", headers=ADMIN)
        assert resp.status_code == 200, resp.body
        return body(resp)

    everything = listed("")
    assert [i["id"] for i in everything["content"]] == ids + [fw]  # ascending createdAt by default
    assert everything["page"] == {"size": 10, "totalElements": 4, "totalPages": 1, "number": 0}
    assert [i["id"] for i in listed("?sort=createdAt,desc&size=1&page=1")["content"]] == [ids[2]]
    assert [i["id"] for i in listed("?deviceId=dev-1")["content"]] == [ids[0], ids[1], fw]
    assert [i["id"] for i in listed(f"?modelKey={CONFIG_MODEL}")["content"]] == ids
    assert [i["id"] for i in listed("?group=OPEN")["content"]] == [ids[0], ids[2]]
    assert [i["id"] for i in listed("?group=OPEN&deviceId=dev-1")["content"]] == [ids[0]]
    assert [i["id"] for i in listed("?currentState=CREATED")["content"]] == [ids[1]]
    assert [i["id"] for i in listed(f"?currentState=STOPPED&modelKey={FW_MODEL['key']}")["content"]] == [fw]
    assert [i["id"] for i in listed("?group=Machine&deviceId=dev-1")["content"]] == [fw]
    paged = listed("?size=2&page=1")
    assert [i["id"] for i in paged["content"]] == [ids[2], fw] and paged["page"]["totalPages"] == 2
    assert listed("?size=2&page=5")["content"] == []
    assert client.http.get(f"{DWS}/instances?size=0", headers=ADMIN).status_code == 400
    assert client.http.get(f"{DWS}/instances?sort=deviceId", headers=ADMIN).status_code == 400


def test_device_poll_is_cheap_and_scoped(client, dynamo_calls):
    token = make_device("dev-1")
    make_device("dev-2")
    task = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])
    release(client, "dev-1", task["id"])
    other = create_task(client, "dev-2", [{"name": "a", "uri": "https://x.example/a"}])
    release(client, "dev-2", other["id"])
    dynamo_calls.reset()
    resp = client.http.get(f"{DWS}/instances?group=OPEN&modelKey={CONFIG_MODEL}&model=true&history=true",
                           headers=bearer(token))
    assert resp.status_code == 200
    assert [i["id"] for i in body(resp)["content"]] == [task["id"]]
    # one GetItem for the token's guard, one Query on the device-poll index, one BatchGet for the page
    assert dynamo_calls.calls == {"GetItem": 1, "Query": 1, "BatchGetItem": 1}
    assert dynamo_calls.writes == 0


def test_device_patch_and_cancel_through_dws(client):
    token = make_device("dev-1")
    task = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])
    # the device sees nothing while CREATED
    assert client.http.get(f"{DWS}/instances/{task['id']}", headers=bearer(token)).status_code == 404
    assert body(client.http.get(f"{DWS}/instances", headers=bearer(token)))["content"] == []
    # an operator PATCH over DWS releases it (the same instance as the DCS task)
    resp = patch_instance(client, task["id"], {"state": "CONFIGURE", "progress": 0})
    assert resp.status_code == 200
    resp = patch_instance(client, task["id"], {"state": "CONFIGURING", "progress": 0.5}, headers=bearer(token))
    assert resp.status_code == 200
    # a transition the model lacks
    resp = patch_instance(client, task["id"], {"state": "CREATED", "progress": 0}, headers=bearer(token))
    assert resp.status_code == 409 and error_code(resp) == "mdsp.core.deploymentworkflow.invalidTransition"
    # the device cancels (its own timeout)
    resp = client.http.post(f"{DWS}/instances/{task['id']}/cancel?history=true", headers=bearer(token))
    assert resp.status_code == 200
    assert [h["state"] for h in body(resp)["history"]] == ["CREATED", "CONFIGURE", "CONFIGURING", "CANCELED"]
    got = body(client.http.get(f"/api/deviceconfiguration/v3/devices/dev-1/configurationTasks/{task['id']}",
                               headers=ADMIN))
    assert got["currentState"]["state"] == "CANCELED"


def test_operator_cancel_from_configure(client):
    make_device("dev-1")
    task = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])
    release(client, "dev-1", task["id"])
    resp = client.http.post(f"{DWS}/instances/{task['id']}/cancel", headers=ADMIN)
    assert resp.status_code == 200 and body(resp)["currentState"]["state"] == "CANCELED"


def test_custom_instantaneous_release(client):
    token = make_device("dev-1")
    inst = new_instance(client, "dev-1", custom=[{"from": "CREATED", "to": "CONFIGURE", "type": "INSTANTANEOUS"}])
    assert inst["currentState"]["state"] == "CONFIGURE"
    assert inst["currentState"]["message"] == "State machine is triggered instantaneously."
    polled = body(client.http.get(f"{DWS}/instances?group=OPEN&modelKey={CONFIG_MODEL}", headers=bearer(token)))
    assert [i["id"] for i in polled["content"]] == [inst["id"]]
    not_allowed = [{"from": "CONFIGURE", "to": "CONFIGURING", "type": "INSTANTANEOUS"}]
    bad = post(client, "/instances", {"deviceId": "dev-1",
                                      "model": {"key": CONFIG_MODEL, "customTransitions": not_allowed}})
    assert bad.status_code == 400


def test_instance_errors(client):
    token = make_device("dev-1")
    assert post(client, "/instances", {"deviceId": "ghost", "model": {"key": CONFIG_MODEL}}).status_code == 404
    assert post(client, "/instances", {"deviceId": "dev-1", "model": {"key": "no-such-model"}}).status_code == 404
    for bad in ({"model": {"key": CONFIG_MODEL}}, {"deviceId": "dev-1"}, {"deviceId": "dev-1", "model": "x"},
                {"deviceId": "dev-1", "model": {"key": CONFIG_MODEL}, "data": []},
                {"deviceId": "dev-1", "model": {"key": CONFIG_MODEL}, "data": {"files": "no"}}):
        resp = post(client, "/instances", bad)
        assert resp.status_code == 400, bad
    assert client.http.get(f"{DWS}/instances/nope", headers=ADMIN).status_code == 404
    assert patch_instance(client, "nope", {"state": "CONFIGURE"}).status_code == 404
    assert client.http.post(f"{DWS}/instances/nope/cancel", headers=ADMIN).status_code == 404
    # devices are Southbound only: no models, no instance creation
    assert post(client, "/instances", {"deviceId": "dev-1", "model": {"key": CONFIG_MODEL}},
                headers=bearer(token)).status_code == 403
    assert post(client, "/models", FW_MODEL, headers=bearer(token)).status_code == 403
    assert client.http.get(f"{DWS}/models/{CONFIG_MODEL}", headers=bearer(token)).status_code == 403
    # no or wrong credentials
    unauthorized = client.http.get(f"{DWS}/instances")
    assert unauthorized.status_code == 401 and error_code(unauthorized) == "mdsp.core.deploymentworkflow.unauthorized"
    assert client.http.get(f"{DWS}/instances", headers=bearer("nope")).status_code == 401
    assert client.http.get(f"{DWS}/instances", headers={"Authorization": "TargetToken nope"}).status_code == 401


def test_permissions(client):
    from chalicelib.services import tenants
    tenants.create_user("DEFAULT", "reader", "pw", ["READ_DEVICE_CONFIGURATION"])
    make_device("dev-1")
    inst = new_instance(client, "dev-1")
    reader = basic("reader", "pw")
    assert client.http.get(f"{DWS}/instances", headers=reader).status_code == 200
    assert client.http.get(f"{DWS}/models/{CONFIG_MODEL}", headers=reader).status_code == 200
    assert post(client, "/models", FW_MODEL, headers=reader).status_code == 403
    assert patch_instance(client, inst["id"], {"state": "CONFIGURE"}, headers=reader).status_code == 403
    assert client.http.post(f"{DWS}/instances/{inst['id']}/cancel", headers=reader).status_code == 403


LOOP_MODEL = {"key": "loop", "states": [{"name": "A", "initial": True}, {"name": "B"}],
              "transitions": [{"from": "A", "to": "B", "type": "BACKEND_TRIGGER"},
                              {"from": "B", "to": "A", "type": "BACKEND_TRIGGER"}]}
EMOJI = "\U0001F600"  # 1 character, 4 bytes in UTF-8


def test_model_and_instance_sizes_are_bounded_in_bytes(client):
    make_device("dev-1")
    # A model with a 450 KB description, or with 20k emoji descriptions, is refused in the DCS shape
    for description in ("d" * 450_000, EMOJI * 20_000):
        states = [{"name": "A", "initial": True, "description": description}]
        resp = post(client, "/models", {"key": "huge", "states": states})
        assert resp.status_code == 400, resp.body[:200]
        assert error_code(resp) == "mdsp.core.deploymentworkflow.invalidRequest"
    assert client.http.get(f"{DWS}/models/huge", headers=ADMIN).status_code == 404
    assert post(client, "/models", LOOP_MODEL).status_code == 201
    # Instance data of 99k emoji (fewer than 100k characters, ~400 KB) or 30k emoji (120 KB) is too large
    for count in (99_000, 30_000):
        resp = post(client, "/instances", {"deviceId": "dev-1", "model": {"key": "loop"}, "data": {"x": EMOJI * count}})
        assert resp.status_code == 400, resp.body[:200]
        assert error_code(resp) == "mdsp.core.deploymentworkflow.invalidRequest"
    # 20k emoji (80 KB) fit, and survive the round trip unchanged
    data = {"x": EMOJI * 20_000}
    inst = new_instance(client, "dev-1", "loop", data=data)
    assert inst["data"] == data


def test_instance_with_large_data_and_details_keeps_taking_updates(client, aws_env):
    from chalicelib.store import workflow_instances
    make_device("dev-1")
    post(client, "/models", LOOP_MODEL)
    # Given an instance near the data budget, with details of 19k emoji (within 20k characters, ~76 KB)
    inst = new_instance(client, "dev-1", "loop", data={"x": EMOJI * 24_000})
    details = {"trace": EMOJI * 19_000}
    # When it moves back and forth many times, each time with such details and an in-place update as well
    state = "A"
    for _ in range(8):
        state = "B" if state == "A" else "A"
        for update in ({"state": state, "details": details}, {"state": state, "progress": 0.5, "details": details}):
            resp = patch_instance(client, inst["id"], update)
            assert resp.status_code == 200, resp.body[:200]
    # Then the item stays well below DynamoDB's 400 KB and the newest details are kept
    item = workflow_instances.find("DEFAULT", inst["id"])
    assert workflow_instances.item_bytes(item) < 360_000
    got = body(client.http.get(f"{DWS}/instances/{inst['id']}?history=true", headers=ADMIN))
    assert got["currentState"]["details"] == details and got["history"][-1]["details"] == details
