"""Data creation and inspection helpers for the software catalogue API tests."""
from __future__ import annotations

import json
from typing import Any

import urllib3

from tests.conftest import ADMIN, basic

JSON = {**ADMIN, "Content-Type": "application/json"}

SM = "/rest/v1/softwaremodules"
DS = "/rest/v1/distributionsets"
SM_TYPES = "/rest/v1/softwaremoduletypes"
DS_TYPES = "/rest/v1/distributionsettypes"


def post(client, path: str, body: Any, headers: dict | None = None):
    return client.http.post(path, headers=headers or JSON, body=json.dumps(body))


def put(client, path: str, body: Any, headers: dict | None = None):
    return client.http.put(path, headers=headers or JSON, body=json.dumps(body))


def get(client, path: str, headers: dict | None = None):
    return client.http.get(path, headers=headers or ADMIN)


def delete(client, path: str, headers: dict | None = None):
    return client.http.delete(path, headers=headers or ADMIN)


def body(resp) -> Any:
    return json.loads(resp.body) if resp.body else None


def error_code(resp) -> str:
    return body(resp)["errorCode"]


def create_sm(client, name: str = "firmware", version: str = "1.0", type_key: str = "os", **extra) -> dict:
    resp = post(client, SM, [{"name": name, "version": version, "type": type_key, **extra}])
    assert resp.status_code == 201, resp.body
    return body(resp)[0]


def create_ds(client, name: str = "set", version: str = "1.0", type_key: str | None = "os_app",
              modules: list[int] = (), **extra) -> dict:
    item = {"name": name, "version": version, "modules": [{"id": m} for m in modules], **extra}
    if type_key is not None:
        item["type"] = type_key
    resp = post(client, DS, [item])
    assert resp.status_code == 201, resp.body
    return body(resp)[0]


def multipart(fields: dict[str, Any]) -> tuple[bytes, str]:
    """Encode form fields; a (filename, bytes[, content type]) tuple is a file part."""
    data, content_type = urllib3.encode_multipart_formdata(fields)
    return data, content_type


def upload(client, sm_id: int, data: bytes, part_name: str | None = "firmware.bin", query: str = "",
           headers: dict | None = None, **fields):
    """POST one artifact; `part_name` is the file part's own filename, `fields` are further form fields."""
    form: dict[str, Any] = dict(fields)
    form["file"] = (part_name, data, "application/octet-stream") if part_name else data
    payload, content_type = multipart(form)
    return client.http.post(f"{SM}/{sm_id}/artifacts{query}",
                            headers={**(headers or ADMIN), "Content-Type": content_type}, body=payload)


def user_with(client_unused, name: str, *permissions: str) -> dict[str, str]:
    from chalicelib.services import tenants
    tenants.create_user("DEFAULT", name, "pw", list(permissions))
    return basic(name, "pw")


def usage(quota: str) -> int:
    from chalicelib.store import counters
    return counters.usage("DEFAULT", quota)


def bucket_keys() -> list[str]:
    from chalicelib import config
    from chalicelib.store import aws
    listed = aws.s3().list_objects_v2(Bucket=config.settings().bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def create_tag(client, base: str, name: str, **extra) -> dict:
    """One tag of the kind under `base` (/rest/v1/targettags, /rest/v1/distributionsettags)."""
    resp = post(client, base, [{"name": name, **extra}])
    assert resp.status_code == 201, resp.body
    return body(resp)[0]


def delete_json(client, path: str, payload: Any, headers: dict | None = None):
    """DELETE with a JSON body (hawkBit's unassignments by a list)."""
    return client.http.delete(path, headers={**(headers or JSON)}, body=json.dumps(payload))


def listed(client, path: str, field: str) -> list:
    """`field` of each entity on the page `path` answers."""
    resp = get(client, path)
    assert resp.status_code == 200, resp.body
    return [item[field] for item in body(resp)["content"]]


def assigned(client, base: str, tag_id: int, field: str, query: str = "") -> list:
    """`field` of each entity a tag under `base` is assigned to (its `.../assigned` page)."""
    return listed(client, f"{base}/{tag_id}/assigned{query}", field)
