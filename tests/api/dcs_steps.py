"""Steps shared by the Device Configuration / Deployment Workflow API tests (operator and device)."""
from __future__ import annotations

import json

from tests.conftest import ADMIN, TENANT

DCS = "/api/deviceconfiguration/v3"
DWS = "/api/deploymentworkflow/v3"
CONFIG_MODEL = "mdsp-core-configurationDeployment"
JSON_HEADERS = {**ADMIN, "Content-Type": "application/json"}


def make_device(controller_id: str, token: str | None = None, tenant: str = TENANT) -> str:
    """Save a target and its token guard directly (the devices of these APIs); returns its security token."""
    from chalicelib import clock
    from chalicelib.store import security_tokens
    from chalicelib.store.tables import Target
    from chalicelib.store.tx import Tx

    token = token or f"token-{controller_id}"
    now = clock.now_ms()
    tx = Tx().put(Target(tenant, controller_id, name=controller_id, security_token=token, created_at=now,
                         created_by="test", last_modified_at=now, last_modified_by="test"))
    security_tokens.claim(tx, tenant, token, controller_id).commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def target_token(token: str) -> dict[str, str]:
    return {"Authorization": f"TargetToken {token}"}


def body(resp) -> dict:
    return json.loads(resp.body)


def error_code(resp) -> str:
    errors = body(resp)["errors"]
    assert len(errors) == 1 and set(errors[0]) == {"code", "logref", "message"}
    return errors[0]["code"]


def create_file(client, path: str, description: str | None = None) -> dict:
    payload = {"path": path} if description is None else {"path": path, "description": description}
    resp = client.http.post(f"{DCS}/files", headers=JSON_HEADERS, body=json.dumps(payload))
    assert resp.status_code == 201, resp.body
    return body(resp)


def patch_head(client, file_id: str, content: bytes, content_type: str = "application/json",
               if_match: str | None = None):
    headers = {**ADMIN, "Content-Type": content_type}
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.http.patch(f"{DCS}/files/{file_id}/head", headers=headers, body=content)


def file_with_head(client, path: str, content: bytes, content_type: str = "application/json") -> dict:
    created = create_file(client, path)
    resp = patch_head(client, created["id"], content, content_type)
    assert resp.status_code == 200, resp.body
    return body(resp)


def content_uri(file_id: str, sha: str) -> str:
    return f"https://skyhawk.example{DCS}/files/{file_id}/revisions/{sha}/content"


def head_uri(file_id: str) -> str:
    return f"{DCS}/files/{file_id}/head"


def create_task(client, device_id: str, files: list[dict], **extra) -> dict:
    resp = client.http.post(f"{DCS}/devices/{device_id}/configurationTasks", headers=JSON_HEADERS,
                            body=json.dumps({"files": files, **extra}))
    assert resp.status_code == 201, resp.body
    return body(resp)


def patch_task(client, device_id: str, task_id: str, update: dict, headers: dict | None = None):
    return client.http.patch(f"{DCS}/devices/{device_id}/configurationTasks/{task_id}",
                             headers={**(headers or ADMIN), "Content-Type": "application/json"},
                             body=json.dumps(update))


def patch_instance(client, instance_id: str, update: dict, headers: dict | None = None, query: str = ""):
    return client.http.patch(f"{DWS}/instances/{instance_id}{query}",
                             headers={**(headers or ADMIN), "Content-Type": "application/json"},
                             body=json.dumps(update))


def release(client, device_id: str, task_id: str) -> dict:
    resp = patch_task(client, device_id, task_id, {"state": "CONFIGURE", "progress": 0})
    assert resp.status_code == 200, resp.body
    return body(resp)


def poll(client, token: str, extra: str = "") -> dict:
    resp = client.http.get(f"{DWS}/instances?group=OPEN&modelKey={CONFIG_MODEL}{extra}", headers=bearer(token))
    assert resp.status_code == 200, resp.body
    return body(resp)
