"""A deleted device leaves no workflow instances, configuration tasks, download grants or actual configuration
behind: a new target with the same controllerId starts empty (services.device_configuration.forget_device)."""
from __future__ import annotations

import json

from tests.api.dcs_steps import (
    CONFIG_MODEL,
    DCS,
    DWS,
    JSON_HEADERS,
    bearer,
    body,
    content_uri,
    create_task,
    file_with_head,
    head_uri,
    make_device,
    patch_task,
    poll,
    release,
)
from tests.conftest import ADMIN, TENANT

LOOP = {"key": "loop", "states": [{"name": "A", "initial": True}, {"name": "B"}],
        "transitions": [{"from": "A", "to": "B", "type": "DEVICE_TRIGGER"}]}


def _configured_task(client, token, device_id, files):
    task = create_task(client, device_id, files)
    release(client, device_id, task["id"])
    for state in ("CONFIGURING", "CONFIGURED"):
        assert patch_task(client, device_id, task["id"], {"state": state, "progress": 1},
                          headers=bearer(token)).status_code == 200
    return task


def _device_with_everything(client, device_id, a, b):
    """An open task (grants a's revision and b's head), a CONFIGURED one, a CREATED one, a DWS instance."""
    token = make_device(device_id)
    open_task = create_task(client, device_id, [{"name": "a", "uri": content_uri(a["id"], a["head"])},
                                                {"name": "b", "uri": head_uri(b["id"])}])
    release(client, device_id, open_task["id"])
    done = _configured_task(client, token, device_id, [{"name": "a", "uri": content_uri(a["id"], a["head"])},
                                                       {"name": "ext", "uri": "https://x.example/ext"}])
    waiting = create_task(client, device_id, [{"name": "a", "uri": content_uri(a["id"], a["head"])}])
    resp = client.http.post(f"{DWS}/instances", headers=JSON_HEADERS,
                            body=json.dumps({"deviceId": device_id, "model": {"key": "loop"}, "data": {"k": 1}}))
    assert resp.status_code == 201
    return token, [open_task["id"], done["id"], waiting["id"], body(resp)["id"]]


def test_forget_device_deletes_its_instances_grants_and_configuration_only(client, aws_env, dynamo_calls):
    from chalicelib.services import device_configuration
    from chalicelib.store.tables import Target

    # Given two devices, each with open, configured and waiting tasks, a DWS instance and a configuration
    assert client.http.post(f"{DWS}/models", headers=JSON_HEADERS, body=json.dumps(LOOP)).status_code == 201
    a = file_with_head(client, "/a.json", b'{"a":1}')
    b = file_with_head(client, "/b.json", b'{"b":1}')
    old_token, old_ids = _device_with_everything(client, "dev-1", a, b)
    other_token, other_ids = _device_with_everything(client, "dev-2", a, b)
    for _ in range(10):  # more of the other device's instances must not make forgetting dev-1 dearer
        create_task(client, "dev-2", [])
    a_content = f"{DCS}/files/{a['id']}/revisions/{a['head']}/content"
    assert client.http.get(a_content, headers={**bearer(old_token), "Accept": "*/*"}).status_code == 200

    # When dev-1's target is deleted (in the store: what targets.delete adds is not under test here)
    # and its configuration forgotten
    Target.get(TENANT, "dev-1").delete()
    dynamo_calls.reset()
    deleted = device_configuration.forget_device(TENANT, "dev-1")

    # Then its 4 instances and 2 configuration entries went: one Query and one batch of deletes per table
    assert deleted == 6
    assert dynamo_calls.calls == {"Query": 2, "BatchWriteItem": 2}
    assert device_configuration.forget_device(TENANT, "dev-1") == 0

    # and a new target with the same controllerId inherits nothing
    new_token = make_device("dev-1", token="a-new-token")
    assert body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks", headers=ADMIN))["content"] == []
    assert body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))["content"] == []
    assert body(client.http.get(f"{DWS}/instances?deviceId=dev-1", headers=ADMIN))["content"] == []
    assert poll(client, new_token)["content"] == []
    for instance_id in old_ids:
        assert client.http.get(f"{DWS}/instances/{instance_id}", headers=ADMIN).status_code == 404
        assert client.http.get(f"{DCS}/devices/dev-1/configurationTasks/{instance_id}",
                               headers=ADMIN).status_code == 404
    for url in (a_content, f"{DCS}/files/{b['id']}/head"):
        assert client.http.get(url, headers={**bearer(new_token), "Accept": "*/*"}).status_code == 404
    # the retention job has nothing of dev-1 left either
    from chalicelib.store import workflow_instances
    assert all(sk[len("inst#"):] not in old_ids for _, sk in workflow_instances.due_for_retention(TENANT, 2**62))

    # while dev-2 keeps everything, and the files stay
    listed = body(client.http.get(f"{DWS}/instances?deviceId=dev-2&size=100", headers=ADMIN))["content"]
    assert set(other_ids) <= {i["id"] for i in listed}
    assert [e["path"] for e in body(client.http.get(f"{DCS}/devices/dev-2/configuration",
                                                    headers=ADMIN))["content"]] == ["/a.json", "ext"]
    assert client.http.get(a_content, headers={**bearer(other_token), "Accept": "*/*"}).status_code == 200
    assert client.http.get(f"{DCS}/files/{a['id']}", headers=ADMIN).status_code == 200


def test_forget_device_costs_follow_what_it_deletes(client, aws_env, dynamo_calls):
    from chalicelib.services import device_configuration
    make_device("dev-1")
    for _ in range(30):
        create_task(client, "dev-1", [])
    dynamo_calls.reset()
    assert device_configuration.forget_device(TENANT, "dev-1") == 30
    assert dynamo_calls.calls == {"Query": 2, "BatchWriteItem": 2}  # 25 deletes a batch, no configuration
    assert "Scan" not in dynamo_calls.calls
    assert device_configuration.forget_device(TENANT, "x" * 5000) == 0  # no device can have that id


def test_no_instance_is_created_for_a_target_deleted_meanwhile(client, aws_env, monkeypatch):
    from chalicelib.services import workflow
    from chalicelib.store.tables import Target

    make_device("dev-1")
    stale = Target.get(TENANT, "dev-1")
    Target.get(TENANT, "dev-1").delete()
    # the target was read just before its deletion
    monkeypatch.setattr(workflow.target_store, "find", lambda tenant, controller_id: stale)
    resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=JSON_HEADERS,
                            body=json.dumps({"files": []}))
    assert resp.status_code == 404, resp.body
    instance = {"deviceId": "dev-1", "model": {"key": CONFIG_MODEL}, "data": {"files": []}}
    resp = client.http.post(f"{DWS}/instances", headers=JSON_HEADERS, body=json.dumps(instance))
    assert resp.status_code == 404, resp.body
    monkeypatch.undo()
    make_device("dev-1", token="token-of-the-new-dev-1")  # the store-level delete above kept the old token's guard
    assert body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks", headers=ADMIN))["content"] == []
