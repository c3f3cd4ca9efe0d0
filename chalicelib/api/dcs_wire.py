"""Wire helpers of the Device Configuration and Deployment Workflow APIs: callers, paging, JSON shapes, raw content.

Siemens JSON (no HAL), `application/json`, times as ISO-8601 `...Z`, lists as
`{"content": [...], "page": {size, totalElements, totalPages, number}}`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Sequence
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib import auth, errors
from chalicelib.api.catalog_views import path_text
from chalicelib.api.common import base_url, json_body, json_response, principal, query
from chalicelib.domain.dcs_paging import PageRequest
from chalicelib.lazy import lazy_import

config_model = lazy_import("chalicelib.domain.config_model")
ids = lazy_import("chalicelib.domain.dcs_ids")
workflow_rules = lazy_import("chalicelib.domain.workflow")
callers = lazy_import("chalicelib.services.callers")

if TYPE_CHECKING:
    from chalicelib.domain.config_files import Content
    from chalicelib.domain.device_configuration import ConfiguredFile
    from chalicelib.domain.workflow import StateInfo
    from chalicelib.services.callers import Caller
    from chalicelib.services.config_files import FileView, RevisionView
    from chalicelib.services.workflow import InstanceView

JSON = "application/json"
DEVICE_SCHEMES = ("Bearer", "TargetToken")


# --- request side -------------------------------------------------------------------------------------
def caller(bp: Blueprint, permission: str, devices: bool = False) -> Caller:
    """The operator (HTTP Basic + `permission`) or, where `devices`, the device owning the bearer token."""
    credential = auth.device_credential(bp.current_request.headers)
    if credential and credential[0] in DEVICE_SCHEMES:
        device = callers.device_by_token(credential[1])
        if not devices:
            raise errors.InsufficientPermission("This endpoint is for operators; devices cannot use it.")
        return device
    who = principal(bp, permission)
    return callers.Caller.operator(who.tenant, who.username)


# Path ids are checked before any key lookup: one that cannot name an entity (DynamoDB would refuse it
# as a key) is answered as an unknown one. Free-text ids (device ids, model keys) arrive percent-encoded
# as the client sent them (path_text decodes them; neither may contain '%').
def _known(kind: str, value: str, valid: Callable[[Any], bool]) -> str:
    if not valid(value):
        raise errors.EntityNotFound.of(kind, ids.shortened(value))
    return value


def file_param(value: str) -> str:
    return _known("ConfigurationFile", value, ids.is_uuid)


def revision_param(value: str) -> str:
    return _known("Revision", value, ids.is_sha256)


def device_param(value: str) -> str:
    return _known("Device", path_text(value), ids.is_device_id)


def task_param(value: str) -> str:
    return _known("ConfigurationTask", value, ids.is_uuid)


def instance_param(value: str) -> str:
    return _known("Instance", value, ids.is_uuid)


def model_param(value: str) -> str:
    return _known("Model", path_text(value), ids.is_model_key)


def could_be_file(value: str) -> bool:
    return ids.is_uuid(value)


def filter_param(bp: Blueprint, name: str, valid: Callable[[Any], bool]) -> str | None:
    """An optional query filter that reaches a key condition; one no key could hold is a 400."""
    value = query(bp).get(name) or None
    if value is not None and not valid(value):
        raise errors.BadRequest(f"'{name}' is not a valid value: '{ids.shortened(value)}'.", [name])
    return value


def required_param(bp: Blueprint, name: str, valid: Callable[[Any], bool]) -> str:
    value = filter_param(bp, name, valid)
    if value is None:
        raise errors.BadRequest(f"The query parameter '{name}' is required.", [name])
    return value


def page_request(bp: Blueprint, sortable: Sequence[str], default_field: str, descending: bool = False) -> PageRequest:
    try:
        return PageRequest.parse(query(bp), sortable, default_field, descending)
    except workflow_rules.InvalidInput as exc:
        raise errors.BadRequest(str(exc)) from exc


def flag(bp: Blueprint, name: str) -> bool:
    value = query(bp).get(name)
    if value is None or value == "":
        return False
    if value.lower() not in ("true", "false"):
        raise errors.BadRequest(f"'{name}' must be true or false, got '{value}'.", [name])
    return value.lower() == "true"


def json_request(bp: Blueprint) -> Any:
    """The request's JSON body, refused with 400 when a string in it is not Unicode text.

    JSON can escape a lone UTF-16 surrogate ("x\\ud800"); Python's parser turns it into a str that has no
    UTF-8 form, so every later size check, key and DynamoDB write would fail on it (a 500, not a 400).
    """
    body = json_body(bp)
    try:
        workflow_rules.compact_json(body).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise errors.BodyNotReadable(
            "The request body holds a lone UTF-16 surrogate (such as \\ud800); JSON strings must be Unicode text."
        ) from exc
    return body


def raw_body(bp: Blueprint) -> bytes:
    """The exact request bytes: chalice base64-decodes binary types and UTF-8-encodes text bodies."""
    body = bp.current_request.raw_body
    if body is None:
        return b""
    return body if isinstance(body, bytes) else body.encode("utf-8")


# --- response side ------------------------------------------------------------------------------------
def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_response(body, status=status, content_type=JSON, extra_headers=headers)


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page_json(content: list[Any], page: PageRequest, total: int) -> dict[str, Any]:
    return {"content": content, "page": page.metadata(total)}


def state_info(info: StateInfo) -> dict[str, Any]:
    return {
        "entered": iso(info.entered),
        "updated": iso(info.updated),
        "progress": info.progress,
        "message": info.message,
        "details": info.details,
        "state": info.state,
    }


def instance_json(view: InstanceView, with_model: bool, with_history: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": view.id,
        "deviceId": view.device_id,
        "createdAt": iso(view.created_at),
        "currentState": state_info(view.current),
    }
    if with_history:
        body["history"] = [state_info(h) for h in view.history]
    if with_model:
        body["model"] = view.model.to_instance_json()
    body["data"] = view.data
    return body


def task_json(view: InstanceView) -> dict[str, Any]:
    data = view.data or {}
    return {
        "id": view.id,
        "deviceId": view.device_id,
        "files": data.get("files", []),
        "customData": data.get("customData", {}),
        "createdAt": iso(view.created_at),
        "currentState": state_info(view.current),
        "target": data.get("target", {}),
        "history": [state_info(h) for h in view.history],
        "transitions": [{"from": t.source, "to": t.target} for t in view.model.transitions],
    }


def file_json(view: FileView) -> dict[str, Any]:
    return {"id": view.id, "path": view.path, "description": view.description, "head": view.head}


def revision_json(view: RevisionView) -> dict[str, Any]:
    return {
        "hash": view.hash,
        "fileId": view.file_id,
        "contentLength": view.content_length,
        "contentType": view.content_type,
    }


def configured_json(bp: Blueprint, device_id: str, entry: ConfiguredFile) -> dict[str, Any]:
    """One file of the actual configuration; `contentUri` reads its stored copy (DCS files only)."""
    content = None
    if entry.file_id is not None:
        content = (
            f"{base_url(bp)}/api/deviceconfiguration/v3/devices/{quote(device_id, safe='')}"
            f"/configuration/content?path={quote(entry.path, safe='/')}"
        )
    return {
        "path": entry.path,
        "fileId": entry.file_id,
        "hash": entry.hash,
        "checksum": entry.checksum,
        "uri": entry.uri,
        "taskId": entry.task_id,
        "configuredAt": iso(entry.configured_at),
        "contentType": entry.content_type,
        "contentLength": entry.content_length,
        "contentUri": content,
    }


def raw(content: Content) -> Response:
    """The revision's bytes, as bytes whatever their type (app.py makes every type binary), with the
    content type stored with the revision and its ETag. `nosniff`: a browser must not run stored
    content as a script or page of ours."""
    return Response(
        body=content.data,
        status_code=200,
        headers={
            "Content-Type": content.content_type,
            "ETag": config_model.etag(content.hash),
            "X-Content-Type-Options": "nosniff",
        },
    )
