"""seeds/device-configuration-service.txt over real HTTP against the launcher: operator and device, end to end.

Operator: files, revisions and head (If-Match), a task released with CONFIGURE. Device (its target
token as Bearer / TargetToken): polls DWS for OPEN configuration instances, downloads the files named
in the task, reports CONFIGURING with progress and CONFIGURED. Then the history, the recorded actual
configuration, a task pinning a head that then moves and whose file is deleted, and the 90-day retention
job removing every task that is due, open ones included.
"""
from __future__ import annotations

import hashlib

import requests

DCS = "/api/deviceconfiguration/v3"
DWS = "/api/deploymentworkflow/v3"
MODEL = "mdsp-core-configurationDeployment"
DAY_MS = 86_400_000


def device_session(token: str, scheme: str = "Bearer") -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"{scheme} {token}"
    return session


def test_device_configuration_workflow(stack):
    host, admin = stack.url, stack.admin
    token1, token2 = "e2e-dcs-token-1", "e2e-dcs-token-2"
    resp = admin.post(f"{host}/rest/v1/targets", json=[
        {"controllerId": "dcs-dev-1", "name": "DCS device 1", "securityToken": token1},
        {"controllerId": "dcs-dev-2", "name": "DCS device 2", "securityToken": token2}])
    assert resp.status_code == 201, resp.text
    device1, device2 = device_session(token1), device_session(token2, "TargetToken")

    # --- operator: a file, revisions and head -------------------------------------------------------
    created = admin.post(f"{host}{DCS}/files", json={"path": "/dcs-dev-1/app.json", "description": "app config"})
    assert created.status_code == 201, created.text
    file_id = created.json()["id"]
    v1, v2 = b'{"sampleRate": 100}\n', b'{"sampleRate": 250}\n'
    first = admin.patch(f"{host}{DCS}/files/{file_id}/head", data=v1, headers={"Content-Type": "application/json"})
    assert first.status_code == 200 and first.json()["head"] == hashlib.sha256(v1).hexdigest()
    etag_v1 = first.headers["ETag"]
    rev = admin.post(f"{host}{DCS}/files/{file_id}/revisions", data=v2,
                     headers={"Content-Type": "application/json"})
    assert rev.status_code == 201
    v2_hash = rev.json()["hash"]
    assert rev.json() == {"hash": hashlib.sha256(v2).hexdigest(), "fileId": file_id, "contentLength": len(v2),
                          "contentType": "application/json"}
    same = admin.post(f"{host}{DCS}/files/{file_id}/revisions", data=v2, headers={"Content-Type": "application/json"})
    assert same.json()["hash"] == v2_hash  # content-addressed
    head = admin.get(f"{host}{DCS}/files/{file_id}/head")
    assert head.content == v1 and head.headers["ETag"] == etag_v1  # POST /revisions did not move head
    moved = admin.patch(f"{host}{DCS}/files/{file_id}/head", data=v2,
                        headers={"Content-Type": "application/json", "If-Match": etag_v1})
    assert moved.status_code == 200 and moved.json()["head"] == v2_hash
    stale = admin.patch(f"{host}{DCS}/files/{file_id}/head", data=b"{}",
                        headers={"Content-Type": "application/json", "If-Match": etag_v1})
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["code"] == "mdsp.core.deviceconfiguration.preconditionFailed"
    revisions = admin.get(f"{host}{DCS}/files/{file_id}/revisions").json()
    assert revisions["page"]["totalElements"] == 2
    listed = admin.get(f"{host}{DCS}/files", params={"pathPrefix": "/dcs-dev-1/"}).json()
    assert [f["id"] for f in listed["content"]] == [file_id]

    # --- operator: a task for device 1 (CREATED: invisible to the device) ----------------------------
    content_uri = f"{host}{DCS}/files/{file_id}/revisions/{v2_hash}/content"
    task = admin.post(f"{host}{DCS}/devices/dcs-dev-1/configurationTasks", json={
        "files": [{"name": "/dcs-dev-1/app.json", "uri": content_uri, "checksum": f"sha256:{v2_hash}"}],
        "customData": {"name": "APP_CONFIG"}, "target": {"address": "XTOOLS"}})
    assert task.status_code == 201, task.text
    task_id = task.json()["id"]
    assert task.json()["currentState"]["state"] == "CREATED"
    poll_params = {"group": "OPEN", "modelKey": MODEL, "model": "true", "history": "true"}
    assert device1.get(f"{host}{DWS}/instances", params=poll_params).json()["content"] == []
    assert device1.get(content_uri).status_code == 404  # nothing open references it yet
    assert admin.post(f"{host}{DCS}/devices/ghost-device/configurationTasks",
                      json={"files": []}).status_code == 404

    released = admin.patch(f"{host}{DCS}/devices/dcs-dev-1/configurationTasks/{task_id}",
                           json={"state": "CONFIGURE", "progress": 0})
    assert released.status_code == 200 and released.json()["currentState"]["state"] == "CONFIGURE"

    # --- device 1 polls and finds it; device 2 does not ------------------------------------------------
    polled = device1.get(f"{host}{DWS}/instances", params=poll_params)
    assert polled.status_code == 200
    instances = polled.json()["content"]
    assert [i["id"] for i in instances] == [task_id] and instances[0]["model"]["key"] == MODEL
    assert device2.get(f"{host}{DWS}/instances", params=poll_params).json()["content"] == []
    assert device2.get(f"{host}{DWS}/instances/{task_id}").status_code == 404

    # --- device 1 downloads with its own credentials --------------------------------------------------
    files = device1.get(f"{host}{DWS}/instances/{task_id}").json()["data"]["files"]
    for entry in files:
        got = device1.get(entry["uri"])
        assert got.status_code == 200 and got.content == v2
        assert entry["checksum"] == "sha256:" + hashlib.sha256(got.content).hexdigest()
    assert requests.get(content_uri).status_code == 401
    assert device2.get(content_uri).status_code == 404

    # --- device 1 reports progress, then the end; a transition the model lacks is 409 -----------------
    instance_url = f"{host}{DWS}/instances/{task_id}"
    step = device1.patch(instance_url, json={"state": "CONFIGURING", "progress": 0.25, "message": "applying",
                                             "details": {"userDefined": {}}})
    assert step.status_code == 200 and step.json()["currentState"]["progress"] == 0.25
    step = device1.patch(instance_url, json={"state": "CONFIGURING", "progress": 0.75})
    assert step.status_code == 200 and step.json()["currentState"]["progress"] == 0.75
    assert device1.patch(instance_url, json={"state": "CONFIGURING", "progress": 7}).status_code == 400
    lacking = device1.patch(instance_url, json={"state": "CONFIGURE", "progress": 0})
    assert lacking.status_code == 409
    assert lacking.json()["errors"][0]["code"] == "mdsp.core.deploymentworkflow.invalidTransition"
    assert device2.patch(instance_url, json={"state": "CONFIGURED", "progress": 1}).status_code == 404
    done = device1.patch(instance_url, params={"history": "true"}, json={"state": "CONFIGURED", "progress": 1.0})
    assert done.status_code == 200
    assert device1.get(f"{host}{DWS}/instances", params=poll_params).json()["content"] == []

    # --- history with every state, and the actual configuration ---------------------------------------
    final = admin.get(f"{host}{DCS}/devices/dcs-dev-1/configurationTasks/{task_id}").json()
    assert [h["state"] for h in final["history"]] == ["CREATED", "CONFIGURE", "CONFIGURING", "CONFIGURED"]
    assert final["currentState"]["state"] == "CONFIGURED"
    assert final["history"][2]["progress"] == 0.75
    actual = admin.get(f"{host}{DCS}/devices/dcs-dev-1/configuration").json()
    assert [(e["path"], e["fileId"], e["hash"], e["taskId"]) for e in actual["content"]] == [
        ("/dcs-dev-1/app.json", file_id, v2_hash, task_id)]
    assert actual["content"][0]["configuredAt"].endswith("Z")

    # --- a head URI is pinned at creation; deleting the file keeps what the open task sends -------------
    v3 = bytes(range(256))  # binary, downloaded without any Accept header
    binary = admin.post(f"{host}{DCS}/files", json={"path": "/dcs-dev-1/blob.bin"}).json()["id"]
    admin.patch(f"{host}{DCS}/files/{binary}/head", data=v3, headers={"Content-Type": "application/octet-stream"})
    pinned = admin.post(f"{host}{DCS}/devices/dcs-dev-1/configurationTasks", json={
        "files": [{"name": "/dcs-dev-1/blob.bin", "uri": f"{host}{DCS}/files/{binary}/head"}]}).json()
    admin.patch(f"{host}{DCS}/files/{binary}/head", data=b"moved on",
                headers={"Content-Type": "application/octet-stream"})
    assert admin.delete(f"{host}{DCS}/files/{binary}").status_code == 204
    admin.patch(f"{host}{DCS}/devices/dcs-dev-1/configurationTasks/{pinned['id']}",
                json={"state": "CONFIGURE", "progress": 0})
    sent = device1.get(f"{host}{DWS}/instances/{pinned['id']}").json()["data"]["files"][0]
    assert sent["uri"] == f"{host}{DCS}/files/{binary}/revisions/{hashlib.sha256(v3).hexdigest()}/content"
    got = device1.get(sent["uri"], headers={"Accept": None})
    assert got.status_code == 200 and got.content == v3
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert sent["checksum"] == "sha256:" + hashlib.sha256(got.content).hexdigest()
    for state in ("CONFIGURING", "CONFIGURED"):
        assert device1.patch(f"{host}{DWS}/instances/{pinned['id']}",
                             json={"state": state, "progress": 1}).status_code == 200
    configured = {e["path"]: e for e in admin.get(f"{host}{DCS}/devices/dcs-dev-1/configuration").json()["content"]}
    assert configured["/dcs-dev-1/blob.bin"]["hash"] == hashlib.sha256(v3).hexdigest()
    assert admin.get(configured["/dcs-dev-1/blob.bin"]["contentUri"], headers={"Accept": None}).content == v3

    # --- retention: every task goes 90 days after its creation, open ones closed first ----------------
    still_created = admin.post(f"{host}{DCS}/devices/dcs-dev-1/configurationTasks",
                               json={"files": [{"name": "x", "uri": content_uri}]}).json()["id"]
    still_open = admin.post(f"{host}{DCS}/devices/dcs-dev-1/configurationTasks",
                            json={"files": [{"name": "x", "uri": content_uri}]}).json()["id"]
    admin.patch(f"{host}{DCS}/devices/dcs-dev-1/configurationTasks/{still_open}",
                json={"state": "CONFIGURE", "progress": 0})
    assert [i["id"] for i in device1.get(f"{host}{DWS}/instances", params=poll_params).json()["content"]] == [
        still_open]

    from chalicelib import clock

    fired = stack.run_schedules()  # the registered schedule, now (its queued units drained): nothing is due yet
    assert fired["config_task_expiry"] == {"deleted": 0}
    assert stack.running.run_job("config_task_expiry", now_ms=clock.now_ms() + 89 * DAY_MS)["deleted"] == 0
    # this test's 4 tasks, and those other tests left in the shared stack (the operator CLI's e2e makes some)
    assert stack.running.run_job("config_task_expiry", now_ms=clock.now_ms() + 91 * DAY_MS)["deleted"] >= 4
    assert admin.get(f"{host}{DCS}/devices/dcs-dev-1/configurationTasks").json()["content"] == []
    assert device1.get(f"{host}{DWS}/instances", params=poll_params).json()["content"] == []
    for gone in (task_id, still_created, still_open):
        assert admin.get(f"{host}{DWS}/instances/{gone}").status_code == 404
    # files, revisions and the actual configuration stay, content included
    assert admin.get(f"{host}{DCS}/files/{file_id}/head").content == v2
    configured = {e["path"]: e for e in admin.get(f"{host}{DCS}/devices/dcs-dev-1/configuration").json()["content"]}
    assert configured["/dcs-dev-1/app.json"]["taskId"] == task_id
    assert admin.get(configured["/dcs-dev-1/app.json"]["contentUri"]).content == v2
