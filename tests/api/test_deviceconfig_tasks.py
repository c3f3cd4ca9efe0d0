"""DCS configuration tasks: create, release, device progress, history, visibility, actual configuration, errors."""
from __future__ import annotations

import json

from tests.api.dcs_steps import (
    DCS,
    DWS,
    JSON_HEADERS,
    bearer,
    body,
    content_uri,
    create_task,
    error_code,
    file_with_head,
    head_uri,
    make_device,
    patch_head,
    patch_task,
    poll,
    release,
)
from tests.conftest import ADMIN, basic

EXAMPLE_CUSTOM = {"name": "TEST_DEVICE_CONFIGURATION", "sampleKey1": "sampleValue1", "created": 1624000000000}


def test_create_task_is_created_and_shaped_like_the_reference(client):
    # Given a device and a file with a head
    make_device("dev-1")
    f = file_with_head(client, "/dev-1/cfg.json", b'{"a":1}')
    # When the operator creates a task (published example shape)
    task = create_task(client, "dev-1", [{"name": "/dev-1/cfg.json", "uri": content_uri(f["id"], f["head"])}],
                       customData=EXAMPLE_CUSTOM, target={"address": "XTOOLS"})
    # Then it is CREATED, with the reference's fields; checksum filled in as sha256
    assert set(task) == {"id", "deviceId", "files", "customData", "createdAt", "currentState", "target", "history",
                         "transitions"}
    assert task["deviceId"] == "dev-1" and task["customData"]["name"] == "TEST_DEVICE_CONFIGURATION"
    assert task["target"] == {"address": "XTOOLS"}
    assert task["files"][0]["checksum"] == f"sha256:{f['head']}"
    state = task["currentState"]
    assert state["state"] == "CREATED" and state["progress"] == 0.0
    assert state["entered"].endswith("Z") and state["entered"] == state["updated"]
    assert [h["state"] for h in task["history"]] == ["CREATED"]
    assert {"from": "CREATED", "to": "CONFIGURE"} in task["transitions"]
    # and the same instance is visible through the Deployment Workflow API
    inst = body(client.http.get(f"{DWS}/instances/{task['id']}?model=true", headers=ADMIN))
    assert inst["model"]["key"] == "mdsp-core-configurationDeployment"
    assert inst["data"]["files"] == task["files"] and inst["currentState"]["state"] == "CREATED"


def test_whole_workflow_with_history_and_actual_configuration(client, aws_env):
    from chalicelib import clock
    clock.set_now(1_700_000_000_000)
    token = make_device("dev-1")
    a = file_with_head(client, "/dev-1/a.json", b'{"a":1}')
    b = file_with_head(client, "/dev-1/b.json", b'{"b":1}')
    task = create_task(client, "dev-1", [{"name": "a", "uri": content_uri(a["id"], a["head"])},
                                         {"name": "b", "uri": head_uri(b["id"])}])
    # CREATED is invisible to the device's poll
    assert poll(client, token)["content"] == []
    clock.advance(1000)
    released = release(client, "dev-1", task["id"])
    assert released["currentState"]["state"] == "CONFIGURE"
    # the device polls, sees the task with its data, reports CONFIGURING with progress
    polled = poll(client, token)
    assert [i["id"] for i in polled["content"]] == [task["id"]]
    assert polled["content"][0]["data"]["files"][0]["name"] == "a"
    clock.advance(1000)
    resp = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURING", "progress": 0.3,
                                                    "message": "Applying file 1 of 2"}, headers=bearer(token))
    assert resp.status_code == 200
    clock.advance(1000)
    resp = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURING", "progress": 0.6}, headers=bearer(token))
    current = body(resp)["currentState"]
    assert current["progress"] == 0.6 and current["message"] == "Applying file 1 of 2"
    assert current["entered"] != current["updated"]
    clock.advance(1000)
    done = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURED", "progress": 1, "details": {"ok": True}},
                      headers=bearer(token))
    assert done.status_code == 200
    final = body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks/{task['id']}", headers=ADMIN))
    assert [h["state"] for h in final["history"]] == ["CREATED", "CONFIGURE", "CONFIGURING", "CONFIGURED"]
    assert final["history"][2]["progress"] == 0.6
    assert final["currentState"]["details"] == {"ok": True}
    # the task left the OPEN group
    assert poll(client, token)["content"] == []
    # the actual configuration records each file with path, file id, revision, task and time
    config = body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))
    assert config["page"]["totalElements"] == 2
    by_path = {e["path"]: e for e in config["content"]}
    assert by_path["/dev-1/a.json"]["fileId"] == a["id"] and by_path["/dev-1/a.json"]["hash"] == a["head"]
    assert by_path["/dev-1/b.json"]["hash"] == b["head"] and by_path["/dev-1/b.json"]["taskId"] == task["id"]
    assert by_path["/dev-1/a.json"]["configuredAt"] == "2023-11-14T22:13:24.000Z"
    # the device may read its own actual configuration
    own = client.http.get(f"{DCS}/devices/dev-1/configuration", headers=bearer(token))
    assert own.status_code == 200


def test_newest_configuration_per_path_wins(client):
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/a.json", b"v1")
    first_hash = f["head"]
    for _ in range(2):
        task = create_task(client, "dev-1", [{"name": "a", "uri": head_uri(f["id"])}])
        release(client, "dev-1", task["id"])
        patch_task(client, "dev-1", task["id"], {"state": "CONFIGURING", "progress": 0}, headers=bearer(token))
        assert patch_task(client, "dev-1", task["id"], {"state": "CONFIGURED", "progress": 1},
                          headers=bearer(token)).status_code == 200
        patch_head(client, f["id"], b"v2")
    config = body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))
    assert len(config["content"]) == 1
    entry = config["content"][0]
    assert entry["taskId"] == task["id"] and entry["hash"] != first_hash


def test_failed_and_canceled_record_no_configuration(client):
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/a.json", b"v1")
    failed = create_task(client, "dev-1", [{"name": "a", "uri": head_uri(f["id"])}])
    release(client, "dev-1", failed["id"])
    resp = patch_task(client, "dev-1", failed["id"], {"state": "FAILED", "progress": 0, "message": "decrypt failed"},
                      headers=bearer(token))
    assert body(resp)["currentState"]["state"] == "FAILED"
    canceled = create_task(client, "dev-1", [{"name": "a", "uri": head_uri(f["id"])}])
    # the operator cancels straight from CREATED (the SDK's test flow, progress within 0..1)
    resp = patch_task(client, "dev-1", canceled["id"], {"state": "CANCELED", "progress": 1, "message": "Configuring.",
                                                        "details": {}})
    assert resp.status_code == 200 and body(resp)["currentState"]["state"] == "CANCELED"
    assert body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))["content"] == []


def test_task_list_newest_first_with_paging(client, aws_env):
    from chalicelib import clock
    clock.set_now(1_700_000_000_000)
    make_device("dev-1")
    make_device("dev-2")
    ids = []
    for i in range(3):
        clock.advance(1000)
        ids.append(create_task(client, "dev-1", [{"name": f"f{i}", "uri": f"https://x.example/{i}"}])["id"])
    create_task(client, "dev-2", [{"name": "other", "uri": "https://x.example/o"}])
    first = body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks?size=2", headers=ADMIN))
    assert [t["id"] for t in first["content"]] == [ids[2], ids[1]]
    assert first["page"] == {"size": 2, "totalElements": 3, "totalPages": 2, "number": 0}
    second = body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks?size=2&page=1", headers=ADMIN))
    assert [t["id"] for t in second["content"]] == [ids[0]]
    oldest = body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks?sort=createdAt,asc", headers=ADMIN))
    assert [t["id"] for t in oldest["content"]] == ids


def test_transition_errors_are_409_in_the_dcs_shape(client):
    token = make_device("dev-1")
    task = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])
    # device cannot release (operator's transition) - and does not even see the CREATED task
    resp = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURE", "progress": 0}, headers=bearer(token))
    assert resp.status_code == 404
    # a transition the model lacks
    resp = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURED", "progress": 1})
    assert resp.status_code == 409 and error_code(resp) == "mdsp.core.deviceconfiguration.invalidTransition"
    release(client, "dev-1", task["id"])
    # the operator cannot take the device's transition
    resp = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURING", "progress": 0.1})
    assert resp.status_code == 409
    # skipping CONFIGURING is not in the model
    resp = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURED", "progress": 1}, headers=bearer(token))
    assert resp.status_code == 409
    # after a final state nothing moves
    patch_task(client, "dev-1", task["id"], {"state": "FAILED", "progress": 0}, headers=bearer(token))
    resp = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURING", "progress": 0}, headers=bearer(token))
    assert resp.status_code == 409
    # nothing was half-written: history ends in FAILED
    got = body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks/{task['id']}", headers=ADMIN))
    assert [h["state"] for h in got["history"]] == ["CREATED", "CONFIGURE", "FAILED"]


def test_limits_are_400(client):
    token = make_device("dev-1")
    task = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])
    release(client, "dev-1", task["id"])
    for update in ({"state": "CONFIGURING", "progress": 100}, {"state": "CONFIGURING", "progress": -0.5},
                   {"state": "CONFIGURING", "progress": 0.5, "message": "m" * 201},
                   {"state": "CONFIGURING", "progress": 0.5, "details": {"trace": "t" * 20_000}},
                   {"state": "CREATED", "progress": 0}, {"state": "BOGUS", "progress": 0}, {"progress": 0.5}):
        resp = patch_task(client, "dev-1", task["id"], update, headers=bearer(token))
        assert resp.status_code == 400, update
        assert error_code(resp) == "mdsp.core.deviceconfiguration.invalidRequest"
    resp = client.http.patch(f"{DCS}/devices/dev-1/configurationTasks/{task['id']}",
                             headers={**bearer(token), "Content-Type": "application/json"}, body="{broken")
    assert resp.status_code == 400
    # still untouched
    got = body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks/{task['id']}", headers=ADMIN))
    assert got["currentState"]["state"] == "CONFIGURE" and len(got["history"]) == 2
    # at the limits it is fine
    resp = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURING", "progress": 1, "message": "m" * 200},
                      headers=bearer(token))
    assert resp.status_code == 200


def test_task_size_is_bounded_in_bytes(client):
    make_device("dev-1")
    emoji = "\U0001F600"  # 4 bytes in UTF-8
    # customData of 30k emoji: 30k characters but 120 KB
    resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=JSON_HEADERS,
                            body=json.dumps({"files": [], "customData": {"x": emoji * 30_000}}))
    assert resp.status_code == 400 and error_code(resp) == "mdsp.core.deviceconfiguration.invalidRequest"
    # 50 files with long URIs (~80 KB) count twice: they are stored as data and as resolved files
    files = [{"name": f"f{i}", "uri": f"https://x.example/{i}/" + "u" * 1_500} for i in range(50)]
    resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=JSON_HEADERS,
                            body=json.dumps({"files": files}))
    assert resp.status_code == 400 and error_code(resp) == "mdsp.core.deviceconfiguration.invalidRequest"
    ok = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}], customData={"x": emoji * 10_000})
    assert ok["customData"] == {"x": emoji * 10_000}


def test_unknown_device_file_and_task_are_404(client):
    make_device("dev-1")
    f = file_with_head(client, "/a", b"x")
    for path, payload in ((f"{DCS}/devices/ghost/configurationTasks", {"files": []}),
                          (f"{DCS}/devices/dev-1/configurationTasks",
                           {"files": [{"name": "a", "uri": content_uri("no-such-file", "0" * 64)}]}),
                          (f"{DCS}/devices/dev-1/configurationTasks",
                           {"files": [{"name": "a", "uri": content_uri(f["id"], "0" * 64)}]})):
        resp = client.http.post(path, headers=JSON_HEADERS, body=json.dumps(payload))
        assert resp.status_code == 404, payload
        assert error_code(resp) == "mdsp.core.deviceconfiguration.notFound"
    assert client.http.get(f"{DCS}/devices/ghost/configurationTasks", headers=ADMIN).status_code == 404
    assert client.http.get(f"{DCS}/devices/ghost/configuration", headers=ADMIN).status_code == 404
    assert client.http.get(f"{DCS}/devices/dev-1/configurationTasks/nope", headers=ADMIN).status_code == 404
    assert patch_task(client, "dev-1", "nope", {"state": "CONFIGURE", "progress": 0}).status_code == 404
    assert patch_task(client, "ghost", "nope", {"state": "CONFIGURE", "progress": 0}).status_code == 404


def test_bad_task_definitions_are_400(client):
    make_device("dev-1")
    f = file_with_head(client, "/a", b"x")
    empty = file_with_head(client, "/b", b"y")
    headless = body(client.http.post(f"{DCS}/files", headers=JSON_HEADERS, body=json.dumps({"path": "/c"})))
    for payload in ({}, {"files": "x"}, {"files": [{"name": "a"}]}, {"files": [], "customData": "x"},
                    {"files": [{"name": "a", "uri": content_uri(f["id"], f["head"]), "checksum": "sha256:00"}]},
                    {"files": [{"name": "a", "uri": head_uri(headless["id"])}]}):
        resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=JSON_HEADERS,
                                body=json.dumps(payload))
        assert resp.status_code == 400, payload
    ok = create_task(client, "dev-1", [{"name": "b", "uri": head_uri(empty["id"]),
                                        "checksum": f"sha256:{empty['head']}"}])
    assert ok["files"][0]["checksum"] == f"sha256:{empty['head']}"


def test_another_device_cannot_see_or_patch(client):
    token1, token2 = make_device("dev-1"), make_device("dev-2")
    task = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])
    release(client, "dev-1", task["id"])
    assert poll(client, token2)["content"] == []
    assert poll(client, token2, "&deviceId=dev-1")["content"] == []
    assert client.http.get(f"{DWS}/instances/{task['id']}", headers=bearer(token2)).status_code == 404
    assert client.http.get(f"{DCS}/devices/dev-1/configurationTasks", headers=bearer(token2)).status_code == 404
    assert client.http.get(f"{DCS}/devices/dev-1/configuration", headers=bearer(token2)).status_code == 404
    resp = patch_task(client, "dev-1", task["id"], {"state": "CONFIGURING", "progress": 0}, headers=bearer(token2))
    assert resp.status_code == 404
    # dev-1 sees its own tasks through DCS too
    own = body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks", headers=bearer(token1)))
    assert [t["id"] for t in own["content"]] == [task["id"]]
    # devices cannot create tasks
    resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks",
                            headers={**bearer(token1), "Content-Type": "application/json"},
                            body=json.dumps({"files": []}))
    assert resp.status_code == 403


def test_permissions(client):
    from chalicelib.services import tenants
    tenants.create_user("DEFAULT", "reader", "pw", ["READ_DEVICE_CONFIGURATION"])
    make_device("dev-1")
    task = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])
    reader = basic("reader", "pw")
    assert client.http.get(f"{DCS}/devices/dev-1/configurationTasks", headers=reader).status_code == 200
    assert patch_task(client, "dev-1", task["id"], {"state": "CONFIGURE", "progress": 0},
                      headers=reader).status_code == 403
    assert client.http.get(f"{DCS}/devices/dev-1/configurationTasks").status_code == 401


def test_concurrent_progress_reports_lose_no_update(client, aws_env):
    # Given a task the device is configuring
    from chalicelib.services import workflow
    from chalicelib.services.callers import Caller
    make_device("dev-1")
    task = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])
    release(client, "dev-1", task["id"])
    device = Caller.device("DEFAULT", "dev-1")
    workflow.update_task(device, "dev-1", task["id"], {"state": "CONFIGURING", "progress": 0})
    # When two writers race on the same version: the second read the task before the first wrote.
    # (Sequenced, not threaded: moto's in-memory backend does not serialise concurrent conditional writes
    # the way DynamoDB does, so real threads made this test flaky without testing our code any better.)
    from chalicelib.store import workflow_instances
    real_find = workflow_instances.find
    stale = real_find("DEFAULT", task["id"])
    results = [workflow.update_task(device, "dev-1", task["id"],
                                    {"state": "CONFIGURING", "progress": 0.5, "message": "one"})]
    reads = []

    def find_stale_first(tenant, instance_id):
        reads.append(instance_id)
        return stale if len(reads) == 1 else real_find(tenant, instance_id)

    workflow_instances.find = find_stale_first
    try:
        results.append(workflow.update_task(device, "dev-1", task["id"],
                                            {"state": "CONFIGURING", "progress": 0.5, "message": "two"}))
    finally:
        workflow_instances.find = real_find
    assert len(reads) >= 2  # the stale write was refused and retried on a fresh read
    # Then both succeeded (one retried on the new version) and the item's version counted both writes
    assert len(results) == 2
    item = real_find("DEFAULT", task["id"])
    assert item.version == 5  # create, release, CONFIGURING, two progress updates
