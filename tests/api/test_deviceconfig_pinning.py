"""A configuration task pins what it sends, and the actual configuration keeps a copy of what was configured.

- A head URI is resolved when the task is created: the device downloads exactly that revision (the bytes
  served hash to the task's checksum and to the recorded hash), however the head moves afterwards.
- The recorded configuration stays readable, content included, after the file changes or is deleted.
- Deleting a file an open task references answers 204 and keeps what the task sends: the task took its
  own copy when it was created.
"""
from __future__ import annotations

import hashlib
import json
from urllib.parse import urlsplit

from tests.api.dcs_steps import (
    DCS,
    JSON_HEADERS,
    bearer,
    body,
    content_uri,
    create_task,
    error_code,
    file_with_head,
    make_device,
    patch_head,
    patch_task,
    poll,
    release,
)
from tests.conftest import ADMIN, TENANT

V1, V2 = b'{"sampleRate": 100}', b'{"sampleRate": 250}'


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def device_get(client, uri: str, token: str, **headers):
    """What a device does with a task's `uri`: GET it with its own token (here, host and gateway prefix are ours)."""
    parts = urlsplit(uri)
    path = parts.path[parts.path.index("/api/"):]
    return client.http.get(path + (f"?{parts.query}" if parts.query else ""), headers={**bearer(token), **headers})


def configure(client, token: str, device_id: str, task_id: str) -> None:
    for state, progress in (("CONFIGURING", 0.5), ("CONFIGURED", 1)):
        resp = patch_task(client, device_id, task_id, {"state": state, "progress": progress}, headers=bearer(token))
        assert resp.status_code == 200, resp.body


def copies(device_id: str) -> list[str]:
    from chalicelib.store import blobs
    from chalicelib.store import config_files as store
    return blobs.keys_under(store.copies_prefix(TENANT, device_id), limit=1000)


def test_a_head_uri_sends_the_revision_current_at_creation(client):
    # Given a file whose head is v1, and a task naming its head (an absolute URI, as operators send it)
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/app.json", V1)
    head = f"https://dcs.example:8443/gw{DCS}/files/{f['id']}/head?via=ui"
    task = create_task(client, "dev-1", [{"name": "/dev-1/app.json", "uri": head}])
    # Then the task names the revision of now, on the same host, with its checksum
    pinned = f"https://dcs.example:8443/gw{DCS}/files/{f['id']}/revisions/{sha(V1)}/content?via=ui"
    assert task["files"] == [{"name": "/dev-1/app.json", "uri": pinned, "checksum": f"sha256:{sha(V1)}"}]
    # When the head moves on before the device fetches
    assert patch_head(client, f["id"], V2).status_code == 200
    release(client, "dev-1", task["id"])
    sent = poll(client, token)["content"][0]["data"]["files"][0]
    assert sent == task["files"][0]
    # Then the device downloads exactly v1: its checksum agrees with the bytes
    got = device_get(client, sent["uri"], token)
    assert got.status_code == 200 and got.body == V1
    assert sent["checksum"] == f"sha256:{sha(got.body)}"
    # and the file's head URI gives the device the pinned revision too, not the head of now
    assert client.http.get(f"{DCS}/files/{f['id']}/head", headers=bearer(token)).body == V1
    assert client.http.get(f"{DCS}/files/{f['id']}/head", headers=ADMIN).body == V2
    # and the recorded configuration names the hash of the bytes served
    configure(client, token, "dev-1", task["id"])
    entry = body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))["content"][0]
    assert entry["hash"] == sha(got.body) and entry["uri"] == pinned and entry["checksum"] == sent["checksum"]


def test_two_open_tasks_each_send_their_own_revision(client):
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/app.json", V1)
    first = create_task(client, "dev-1", [{"name": "app", "uri": f"{DCS}/files/{f['id']}/head"}])
    patch_head(client, f["id"], V2)
    second = create_task(client, "dev-1", [{"name": "app", "uri": f"{DCS}/files/{f['id']}/head"}])
    for task in (first, second):
        release(client, "dev-1", task["id"])
    polled = {i["id"]: i["data"]["files"][0] for i in poll(client, token)["content"]}
    assert device_get(client, polled[first["id"]]["uri"], token).body == V1
    assert device_get(client, polled[second["id"]]["uri"], token).body == V2
    # the head URI answers with the newest open task's revision
    assert client.http.get(f"{DCS}/files/{f['id']}/head", headers=bearer(token)).body == V2
    # revision metadata is served to the device from what the task pinned
    meta = client.http.get(f"{DCS}/files/{f['id']}/revisions/{sha(V1)}", headers=bearer(token))
    assert body(meta) == {"hash": sha(V1), "fileId": f["id"], "contentLength": len(V1),
                          "contentType": "application/json"}


def test_the_actual_configuration_stays_readable_after_the_file_changes_and_is_deleted(client):
    # Given v1 configured on dev-1
    token, other = make_device("dev-1"), make_device("dev-2")
    f = file_with_head(client, "/dev-1/app.json", V1)
    task = create_task(client, "dev-1", [{"name": "app", "uri": content_uri(f["id"], f["head"])}])
    release(client, "dev-1", task["id"])
    configure(client, token, "dev-1", task["id"])
    # When the file gets a new head, then is deleted
    patch_head(client, f["id"], V2)
    assert client.http.delete(f"{DCS}/files/{f['id']}", headers=ADMIN).status_code == 204
    # Then the actual configuration still lists v1, with where to read its content
    entry = body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))["content"][0]
    assert (entry["path"], entry["hash"], entry["contentType"], entry["contentLength"]) == (
        "/dev-1/app.json", sha(V1), "application/json", len(V1))
    assert entry["contentUri"].endswith(f"{DCS}/devices/dev-1/configuration/content?path=/dev-1/app.json")
    # and its content is v1, for the operator and for the device itself
    for headers in (ADMIN, bearer(token)):
        got = client.http.get(f"{DCS}/devices/dev-1/configuration/content?path=/dev-1/app.json", headers=headers)
        assert got.status_code == 200 and got.body == V1
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["X-Content-Type-Options"] == "nosniff" and got.headers["ETag"] == f'"{sha(V1)}"'
    # but not for another device
    assert client.http.get(f"{DCS}/devices/dev-1/configuration/content?path=/dev-1/app.json",
                           headers=bearer(other)).status_code == 404


def test_deleting_a_file_an_open_task_references_keeps_what_the_task_sends(client):
    # Given a released task naming the file's head
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/app.json", V1)
    task = create_task(client, "dev-1", [{"name": "app", "uri": f"{DCS}/files/{f['id']}/head"}])
    release(client, "dev-1", task["id"])
    # When the file is deleted: 204, as the reference has it
    assert client.http.delete(f"{DCS}/files/{f['id']}", headers=ADMIN).status_code == 204
    assert client.http.get(f"{DCS}/files/{f['id']}", headers=ADMIN).status_code == 404
    # Then the device still downloads what the task sends, and finishes
    sent = poll(client, token)["content"][0]["data"]["files"][0]
    got = device_get(client, sent["uri"], token)
    assert got.status_code == 200 and got.body == V1 and sent["checksum"] == f"sha256:{sha(V1)}"
    assert client.http.get(f"{DCS}/files/{f['id']}/revisions/{sha(V1)}", headers=bearer(token)).status_code == 200
    configure(client, token, "dev-1", task["id"])
    assert client.http.get(f"{DCS}/devices/dev-1/configuration/content?path=/dev-1/app.json",
                           headers=ADMIN).body == V1
    # while the operator sees the file gone, and no new task can name it
    assert client.http.get(f"{DCS}/files/{f['id']}/revisions/{sha(V1)}/content", headers=ADMIN).status_code == 404
    resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=JSON_HEADERS,
                            body=json.dumps({"files": [{"name": "app", "uri": content_uri(f["id"], sha(V1))}]}))
    assert resp.status_code == 404 and error_code(resp) == "mdsp.core.deviceconfiguration.notFound"


def test_a_replaced_configuration_releases_its_copy(client):
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/app.json", V1)
    old = create_task(client, "dev-1", [{"name": "app", "uri": f"{DCS}/files/{f['id']}/head"}])
    release(client, "dev-1", old["id"])
    configure(client, token, "dev-1", old["id"])
    assert [k.split("/")[-3] for k in copies("dev-1")] == [old["id"]]
    patch_head(client, f["id"], V2)
    new = create_task(client, "dev-1", [{"name": "app", "uri": f"{DCS}/files/{f['id']}/head"}])
    release(client, "dev-1", new["id"])
    configure(client, token, "dev-1", new["id"])
    # only the copy the configuration now names is kept
    assert [k.split("/")[-3:] for k in copies("dev-1")] == [[new["id"], f["id"], sha(V2)]]
    assert client.http.get(f"{DCS}/devices/dev-1/configuration/content?path=/dev-1/app.json",
                           headers=ADMIN).body == V2


def test_a_refused_task_leaves_no_copy(client, aws_env, monkeypatch):
    from chalicelib.services import workflow
    from chalicelib.store import blobs
    from chalicelib.store import config_files as store
    from chalicelib.store.tables import Target

    make_device("dev-1")
    f = file_with_head(client, "/dev-1/app.json", V1)
    files = json.dumps({"files": [{"name": "app", "uri": f"{DCS}/files/{f['id']}/head"}]})
    # the target is deleted between its read and the task's write
    stale = Target.get(TENANT, "dev-1")
    stale.delete()
    monkeypatch.setattr(workflow.target_store, "find", lambda tenant, controller_id: stale)
    resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=JSON_HEADERS, body=files)
    assert resp.status_code == 404 and copies("dev-1") == []
    monkeypatch.undo()
    # the file's bytes vanish between the revision's read and the copy (its file was deleted meanwhile)
    make_device("dev-1", token="token-dev-1-again")  # the first one's guard outlived its target (deleted above)
    blobs.delete(store.blob_key(TENANT, sha(V1)))
    resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=JSON_HEADERS, body=files)
    assert resp.status_code == 404 and error_code(resp) == "mdsp.core.deviceconfiguration.notFound"
    assert copies("dev-1") == []
    assert body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks", headers=ADMIN))["content"] == []


def test_configured_content_errors(client):
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/app.json", V1)
    task = create_task(client, "dev-1", [{"name": "app", "uri": content_uri(f["id"], f["head"])},
                                         {"name": "ext.json", "uri": "https://x.example/ext.json"}])
    release(client, "dev-1", task["id"])
    configure(client, token, "dev-1", task["id"])
    url = f"{DCS}/devices/dev-1/configuration/content"
    foreign = body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))["content"]
    assert [(e["path"], e["contentUri"]) for e in foreign if e["fileId"] is None] == [("ext.json", None)]
    for query, status in (("?path=ext.json", 404), ("?path=/nowhere", 404), ("", 400), ("?path=" + "p" * 1001, 400)):
        resp = client.http.get(url + query, headers=ADMIN)
        assert resp.status_code == status, query
        assert error_code(resp).startswith("mdsp.core.deviceconfiguration.")
    assert client.http.get(f"{DCS}/devices/ghost/configuration/content?path=/a", headers=ADMIN).status_code == 404
    refused = client.http.get(url + "?path=/dev-1/app.json", headers={**ADMIN, "Accept": "text/plain"})
    assert refused.status_code == 406


def test_forgetting_a_device_deletes_its_copies_only(client):
    from chalicelib.services import device_configuration

    for device in ("dev-1", "dev-2"):
        token = make_device(device)
        f = file_with_head(client, f"/{device}/app.json", V1)
        task = create_task(client, device, [{"name": "app", "uri": f"{DCS}/files/{f['id']}/head"}])
        release(client, device, task["id"])
        configure(client, token, device, task["id"])
        create_task(client, device, [{"name": "app", "uri": f"{DCS}/files/{f['id']}/head"}])
    assert len(copies("dev-1")) == 2 and len(copies("dev-2")) == 2
    device_configuration.forget_device(TENANT, "dev-1")
    assert copies("dev-1") == [] and len(copies("dev-2")) == 2
