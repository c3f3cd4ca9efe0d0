"""hawkBit Direct Device Integration API: `/{tenant}/controller/v1/{controllerId}/...`.

Wire rules the DDI clients rely on (rauc-hawkbit-updater, SWUpdate's suricatta; tests/e2e runs rauc-hawkbit):
exactly 200 on success, `id`/`stopId` as strings, `?c=` on the deploymentBase link, artifacts with md5/sha1/sha256
and download/md5sum links, and downloads answered with a 302 to a freshly signed URL (clients drop Authorization on
that redirect). Bodies are JSON or CBOR both ways (ddi_wire); the one exception to "exactly 200" is hawkBit's own:
PUT installedBase answers 201 when it recorded a new installation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from chalice import Blueprint, Response

from chalicelib import errors
from chalicelib.api import ddi_wire
from chalicelib.api.common import base_url, empty, headers, int_param, query, route, source_ip
from chalicelib.domain.confirmation import DDI_FALLBACK_REMARK
from chalicelib.services import confirmation, controller

bp = Blueprint(__name__)
BASE = "/{tenant}/controller/v1/{controller_id}"
# hawkBit's classic DDI names for the default module types.
_LEGACY_PART = {"application": "bApp", "runtime": "jvm"}


def _root(tenant: str, controller_id: str) -> str:
    return f"{base_url(bp)}/{tenant}/controller/v1/{controller_id}"


def _device(tenant: str, controller_id: str, anonymous_ok: bool = False) -> controller.Device:
    """Authenticate before looking at ids or bodies: an unauthenticated caller learns nothing but 401."""
    return controller.authenticate(tenant, controller_id, headers(bp), anonymous_ok=anonymous_ok)


def _representation(tenant: str, controller_id: str) -> str:
    """The media type the device accepts; otherwise 406, after authentication as Spring would (a wrong
    credential stays a 401), and before any side effect of the request."""
    media = ddi_wire.negotiate(headers(bp).get("accept"))
    if media is None:
        try:
            _device(tenant, controller_id)
        except errors.EntityNotFound:
            pass  # an unknown device a gateway token vouches for
        raise errors.DeviceNotAcceptable()
    return media


def _body(optional: bool = False):
    return ddi_wire.body(bp, dict, optional)


def _history_count() -> int:
    raw = query(bp).get("actionHistory")
    return int_param(raw, "actionHistory") if raw not in (None, "") else 0


@route(bp, BASE)
def poll(tenant, controller_id):
    media = _representation(tenant, controller_id)
    view = controller.poll(tenant, controller_id, headers(bp), source_ip(bp.current_request))
    root = _root(tenant, controller_id)
    links = {}
    if view.confirmation is not None:
        action_id, c = view.confirmation
        links["confirmationBase"] = {"href": f"{root}/confirmationBase/{action_id}?c={c}"}
    elif view.cancel is not None:
        links["cancelAction"] = {"href": f"{root}/cancelAction/{view.cancel}"}
    elif view.deployment is not None:
        action_id, c = view.deployment
        links["deploymentBase"] = {"href": f"{root}/deploymentBase/{action_id}?c={c}"}
    if view.installed is not None:
        links["installedBase"] = {"href": f"{root}/installedBase/{view.installed}"}
    if view.config_data:
        links["configData"] = {"href": f"{root}/configData"}
    return ddi_wire.respond({"config": {"polling": {"sleep": view.sleep}}, "_links": links}, media)


def _artifact_json(root: str, sm_id: int, artifact: dict) -> dict:
    href = f"{root}/softwaremodules/{sm_id}/artifacts/{quote(artifact['filename'])}"
    return {
        "filename": artifact["filename"],
        "hashes": dict(artifact["hashes"]),
        "size": artifact["size"],
        "_links": {
            "download": {"href": href},
            "download-http": {"href": href},
            "md5sum": {"href": href + ".MD5SUM"},
            "md5sum-http": {"href": href + ".MD5SUM"},
        },
    }


def _deployment_json(tenant: str, controller_id: str, view: controller.DeploymentView, field: str) -> dict:
    root = _root(tenant, controller_id)
    chunks = []
    for chunk in view.chunks:
        rendered = {
            "part": _LEGACY_PART.get(chunk["part"], chunk["part"]),
            "version": chunk["version"],
            "name": chunk["name"],
            "artifacts": [_artifact_json(root, chunk["smId"], a) for a in chunk["artifacts"]],
        }
        if chunk.get("encrypted"):
            rendered["encrypted"] = True
        if chunk.get("metadata"):
            rendered["metadata"] = chunk["metadata"]
        chunks.append(rendered)
    body: dict[str, Any] = {
        "id": str(int(view.action.action_id)),
        field: {"download": view.download, "update": view.update, "chunks": chunks},
    }
    if view.maintenance_window is not None:
        body[field]["maintenanceWindow"] = view.maintenance_window
    if view.history is not None:
        body["actionHistory"] = {"status": view.history[0], "messages": view.history[1]}
    return body


def _action_resource(tenant: str, controller_id: str, action_id: str, read, field: str):
    """deploymentBase, installedBase and confirmationBase/{id}: one action in deploymentBase's shape."""
    media = _representation(tenant, controller_id)
    device = _device(tenant, controller_id)
    view = read(device, int_param(action_id, "actionId"), _history_count())
    return ddi_wire.respond(_deployment_json(tenant, controller_id, view, field), media)


@route(bp, BASE + "/deploymentBase/{action_id}")
def deployment_base(tenant, controller_id, action_id):
    return _action_resource(tenant, controller_id, action_id, controller.deployment_base, "deployment")


@route(bp, BASE + "/installedBase/{action_id}")
def installed_base(tenant, controller_id, action_id):
    return _action_resource(tenant, controller_id, action_id, controller.installed_base, "deployment")


@route(bp, BASE + "/installedBase", methods=["PUT"])
def report_installed(tenant, controller_id):
    """EXPERIMENTAL in hawkBit: the device runs the set {name, version}; 201 when that is news, else 200."""
    device = _device(tenant, controller_id)
    return empty(201 if controller.report_installed(device, _body()) else 200)


@route(bp, BASE + "/deploymentBase/{action_id}/feedback", methods=["POST"])
def deployment_feedback(tenant, controller_id, action_id):
    device = _device(tenant, controller_id)
    controller.deployment_feedback(device, int_param(action_id, "actionId"), _body())
    return empty(200)


@route(bp, BASE + "/confirmationBase")
def confirmation_state(tenant, controller_id):
    media = _representation(tenant, controller_id)
    state = controller.confirmation_state(tenant, controller_id, headers(bp), source_ip(bp.current_request))
    root = _root(tenant, controller_id)
    if state.auto_confirm is None:
        body = {
            "autoConfirm": {"active": False},
            "_links": {"activateAutoConfirm": {"href": f"{root}/confirmationBase/activateAutoConfirm"}},
        }
    else:
        auto = {
            "active": True,
            "initiator": state.auto_confirm.initiator,
            "remark": state.auto_confirm.remark,
            "activatedAt": state.auto_confirm.activated_at,
        }
        body = {
            "autoConfirm": {k: v for k, v in auto.items() if v is not None},
            "_links": {"deactivateAutoConfirm": {"href": f"{root}/confirmationBase/deactivateAutoConfirm"}},
        }
    if state.waiting is not None:
        action_id, c = state.waiting
        body["_links"]["confirmationBase"] = {"href": f"{root}/confirmationBase/{action_id}?c={c}"}
    return ddi_wire.respond(body, media)


@route(bp, BASE + "/confirmationBase/{action_id}")
def confirmation_base(tenant, controller_id, action_id):
    return _action_resource(tenant, controller_id, action_id, controller.confirmation_base, "confirmation")


@route(bp, BASE + "/confirmationBase/{action_id}/feedback", methods=["POST"])
def confirmation_feedback(tenant, controller_id, action_id):
    device = _device(tenant, controller_id)
    action_id = int_param(action_id, "actionId")
    feedback = confirmation.parse_feedback(_body())
    confirmation.give_feedback(
        device.tenant,
        device.target.controller_id,
        action_id,
        feedback,
        "CONTROLLER",
        missing=lambda: controller.not_an_action_of(device, action_id),
        target=device.target,
    )
    return empty(200)


@route(bp, BASE + "/confirmationBase/activateAutoConfirm", methods=["POST"])
def activate_auto_confirm(tenant, controller_id):
    device = _device(tenant, controller_id)
    body = _body(optional=True)
    initiator, remark = confirmation.parse_activation(body)
    if body is None:
        remark = DDI_FALLBACK_REMARK  # hawkBit's remark for an activation without a body
    confirmation.activate_auto_confirm(device.tenant, device.target.controller_id, initiator, remark, "CONTROLLER")
    return empty(200)


@route(bp, BASE + "/confirmationBase/deactivateAutoConfirm", methods=["POST"])
def deactivate_auto_confirm(tenant, controller_id):
    device = _device(tenant, controller_id)
    confirmation.deactivate_auto_confirm(device.tenant, device.target.controller_id, "CONTROLLER")
    return empty(200)


@route(bp, BASE + "/cancelAction/{action_id}")
def cancel_action(tenant, controller_id, action_id):
    media = _representation(tenant, controller_id)
    action = controller.cancel_command(_device(tenant, controller_id), int_param(action_id, "actionId"))
    stop_id = str(int(action.action_id))
    return ddi_wire.respond({"id": stop_id, "cancelAction": {"stopId": stop_id}}, media)


@route(bp, BASE + "/cancelAction/{action_id}/feedback", methods=["POST"])
def cancel_feedback(tenant, controller_id, action_id):
    device = _device(tenant, controller_id)
    controller.cancel_feedback(device, int_param(action_id, "actionId"), _body())
    return empty(200)


@route(bp, BASE + "/configData", methods=["PUT"])
def config_data(tenant, controller_id):
    device = _device(tenant, controller_id)
    controller.config_data(device, _body())
    return empty(200)


@route(bp, BASE + "/softwaremodules/{sm_id}/artifacts")
def artifacts(tenant, controller_id, sm_id):
    media = _representation(tenant, controller_id)
    device = _device(tenant, controller_id)
    sm_id = int_param(sm_id, "softwareModuleId")
    module = controller.module_of_target(device, sm_id)
    root = _root(tenant, controller_id)
    return ddi_wire.respond([_artifact_json(root, sm_id, a) for a in module.chunk["artifacts"]], media)


def _request_path() -> str:
    """The path as requested (hawkBit's request URI): `current_request.path` is the route template."""
    return (bp.current_request.context or {}).get("path") or bp.current_request.path


def _disposition(filename: str) -> str:
    return f"attachment;filename={quote(filename)}"


@route(bp, BASE + "/softwaremodules/{sm_id}/artifacts/{file_name}")
def download(tenant, controller_id, sm_id, file_name):
    """302 to a signed URL (S3 serves Range/206/416); `<name>.MD5SUM` is answered here as text."""
    device = _device(tenant, controller_id, anonymous_ok=True)
    hdrs = headers(bp)
    # Path parameters arrive percent-encoded; artifact names cannot contain '%', so decoding is unambiguous.
    found = controller.download(
        device,
        int_param(sm_id, "softwareModuleId"),
        unquote(file_name),
        hdrs.get("if-match"),
        ranged=bool(hdrs.get("range")),
        uri=_request_path(),
    )
    if found.md5sum is not None:
        return Response(
            body=found.md5sum,
            status_code=200,
            headers={"Content-Type": "text/plain", "Content-Disposition": _disposition(found.filename)},
        )
    return Response(
        body="",
        status_code=302,
        headers={"Location": found.url, "ETag": f'"{found.sha1}"', "Cache-Control": "no-store"},
    )


@route(bp, BASE + "/softwaremodules/{sm_id}/artifacts/{file_name}", methods=["HEAD"])
def download_head(tenant, controller_id, sm_id, file_name):
    """200 with the size and no body, never a redirect: a HEAD sent on to a URL presigned for GET fails,
    and SWUpdate reads the size from it before every download."""
    device = _device(tenant, controller_id, anonymous_ok=True)
    found = controller.describe_download(
        device, int_param(sm_id, "softwareModuleId"), unquote(file_name), headers(bp).get("if-match")
    )
    head = {
        "Content-Length": str(found.size),
        "Accept-Ranges": "bytes",
        "ETag": f'"{found.sha1}"',
        "Content-Disposition": _disposition(found.filename),
    }
    md5sum = found.filename.endswith(controller.MD5SUM_SUFFIX)
    head["Content-Type"] = "text/plain" if md5sum else "application/octet-stream"
    return Response(body=b"", status_code=200, headers=head)
