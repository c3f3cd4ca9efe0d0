"""Operator and device steps shared by the API tests, written as the flows read (hawkBit's DDI test style)."""
from __future__ import annotations

import json
import uuid

from tests.conftest import ADMIN

TENANT = "DEFAULT"


def body_of(resp):
    return json.loads(resp.body) if resp.body else None


def put_config(client, key: str, value) -> None:
    resp = client.http.put(f"/rest/v1/system/configs/{key}", headers={**ADMIN, "Content-Type": "application/json"},
                           body=json.dumps({"value": value}))
    assert resp.status_code == 200, resp.body


def enable_target_tokens(client) -> None:
    put_config(client, "authentication.targettoken.enabled", True)


def enable_gateway_token(client, key: str = "gw-secret") -> None:
    put_config(client, "authentication.gatewaytoken.enabled", True)
    put_config(client, "authentication.gatewaytoken.key", key)


def create_target(client, controller_id: str, token: str | None = None, **extra) -> dict:
    item = {"controllerId": controller_id, "name": controller_id, **extra}
    if token:
        item["securityToken"] = token
    resp = client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "application/json"},
                            body=json.dumps([item]))
    assert resp.status_code == 201, resp.body
    return body_of(resp)[0]


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def create_module(client, name: str = "myOs", version: str = "1.0", type_key: str = "os") -> int:
    resp = client.http.post("/rest/v1/softwaremodules", headers={**ADMIN, "Content-Type": "application/json"},
                            body=json.dumps([{"name": name, "version": version, "type": type_key}]))
    assert resp.status_code == 201, resp.body
    return body_of(resp)[0]["id"]


def upload_artifact(client, sm_id: int, filename: str = "example.file",
                    data: bytes = b"This is a test update file.\n") -> dict:
    payload, content_type = multipart({}, filename, data)
    resp = client.http.post(f"/rest/v1/softwaremodules/{sm_id}/artifacts",
                            headers={**ADMIN, "Content-Type": content_type}, body=payload)
    assert resp.status_code == 201, resp.body
    return body_of(resp)


def create_ds(client, module_ids: list[int], name: str = "myOs-DS", version: str = "1.0",
              type_key: str = "os") -> int:
    resp = client.http.post("/rest/v1/distributionsets", headers={**ADMIN, "Content-Type": "application/json"},
                            body=json.dumps([{"name": name, "version": version, "type": type_key,
                                              "modules": [{"id": m} for m in module_ids]}]))
    assert resp.status_code == 201, resp.body
    return body_of(resp)[0]["id"]


def release(client, name: str = "myOs", version: str = "1.0", data: bytes = b"This is a test update file.\n",
            filename: str = "example.file") -> tuple[int, int]:
    """A software module with one artifact in an `os` distribution set: (dsId, smId)."""
    sm_id = create_module(client, name, version)
    upload_artifact(client, sm_id, filename, data)
    return create_ds(client, [sm_id], f"{name}-DS", version), sm_id


def assign(client, ds_id: int, *controller_ids: str, action_type: str = "forced", status: int = 200,
           **extra) -> dict:
    body = [{"id": cid, "type": action_type, **extra} for cid in controller_ids]
    resp = client.http.post(f"/rest/v1/distributionsets/{ds_id}/assignedTargets",
                            headers={**ADMIN, "Content-Type": "application/json;charset=UTF-8"},
                            body=json.dumps(body))
    assert resp.status_code == status, resp.body
    return body_of(resp)


def device(token: str) -> dict[str, str]:
    return {"Authorization": f"TargetToken {token}", "Accept": "application/hal+json"}


def poll(client, controller_id: str, token: str, status: int = 200) -> dict | None:
    resp = client.http.get(f"/{TENANT}/controller/v1/{controller_id}", headers=device(token))
    assert resp.status_code == status, resp.body
    return body_of(resp)


def ddi_path(href: str) -> str:
    """The path (and query) of an absolute DDI link."""
    return "/" + href.split("://", 1)[1].split("/", 1)[1]


def feedback(client, controller_id: str, token: str, action_id: int | str, execution: str, finished: str,
             status: int = 200, kind: str = "deploymentBase", **extra) -> None:
    body = {"id": str(action_id), "status": {"execution": execution, "result": {"finished": finished},
                                            "details": extra.pop("details", [])}, **extra}
    resp = client.http.post(f"/{TENANT}/controller/v1/{controller_id}/{kind}/{action_id}/feedback",
                            headers={**device(token), "Content-Type": "application/json"}, body=json.dumps(body))
    assert resp.status_code == status, resp.body


def target(client, controller_id: str) -> dict:
    resp = client.http.get(f"/rest/v1/targets/{controller_id}", headers=ADMIN)
    assert resp.status_code == 200, resp.body
    return body_of(resp)


def action(client, controller_id: str, action_id: int) -> dict:
    resp = client.http.get(f"/rest/v1/targets/{controller_id}/actions/{action_id}", headers=ADMIN)
    assert resp.status_code == 200, resp.body
    return body_of(resp)


def history(client, controller_id: str, action_id: int) -> list[dict]:
    resp = client.http.get(f"/rest/v1/targets/{controller_id}/actions/{action_id}/status", headers=ADMIN)
    assert resp.status_code == 200, resp.body
    return body_of(resp)["content"]


def enable_confirmation_flow(client, enabled: bool = True) -> None:
    put_config(client, "user.confirmation.flow.enabled", enabled)


def confirm(client, controller_id: str, token: str, action_id: int | str, confirmation: str = "confirmed",
            status: int = 200, **extra):
    """POST confirmationBase/{id}/feedback: `confirmed` or `denied`, with optional code and details."""
    resp = client.http.post(f"/{TENANT}/controller/v1/{controller_id}/confirmationBase/{action_id}/feedback",
                            headers={**device(token), "Content-Type": "application/json"},
                            body=json.dumps({"confirmation": confirmation, **extra}))
    assert resp.status_code == status, resp.body
    return resp


def ddi_get(client, controller_id: str, token: str, path: str, status: int = 200, **hdrs):
    resp = client.http.get(f"/{TENANT}/controller/v1/{controller_id}{path}", headers={**device(token), **hdrs})
    assert resp.status_code == status, resp.body
    return resp


def closed_actions(client, count: int, finish_with: str = "failure") -> list[tuple[str, int]]:
    """`count` targets c0, c1, ..., each with one action the device closed (ERROR by default)."""
    enable_target_tokens(client)
    ds_id, _ = release(client)
    ids = []
    for i in range(count):
        cid = f"c{i}"
        create_target(client, cid, f"tok-{cid}")
        action_id = assign(client, ds_id, cid)["assignedActions"][0]["id"]
        feedback(client, cid, f"tok-{cid}", action_id, "closed", finish_with)
        ids.append((cid, action_id))
    return ids
