"""hawkBit Direct Device Integration API: `/{tenant}/controller/v1/{controllerId}/...`.

Wire rules (reference/ddi-client-interop.md): exactly 200 on success, `id`/`stopId` as strings,
`?c=` on the deploymentBase link, artifacts with md5/sha1/sha256 and download/md5sum links, and
downloads answered with a 302 to a freshly signed URL (clients drop Authorization on that redirect).
"""
from __future__ import annotations

from chalice import Blueprint, Response

from urllib.parse import quote, unquote

from chalicelib.api.common import (base_url, empty, headers, int_param, json_body, json_response, query, route,
                                   source_ip)
from chalicelib.services import controller

bp = Blueprint(__name__)
BASE = "/{tenant}/controller/v1/{controller_id}"
# hawkBit's classic DDI names for the default module types.
_LEGACY_PART = {"application": "bApp", "runtime": "jvm"}


def _root(tenant: str, controller_id: str) -> str:
    return f"{base_url(bp)}/{tenant}/controller/v1/{controller_id}"


def _device(tenant: str, controller_id: str, anonymous_ok: bool = False) -> controller.Device:
    """Authenticate before looking at ids or bodies: an unauthenticated caller learns nothing but 401."""
    return controller.authenticate(tenant, controller_id, headers(bp), anonymous_ok=anonymous_ok)


def _history_count() -> int:
    raw = query(bp).get("actionHistory")
    return int_param(raw, "actionHistory") if raw not in (None, "") else 0


@route(bp, BASE)
def poll(tenant, controller_id):
    view = controller.poll(tenant, controller_id, headers(bp), source_ip(bp.current_request))
    root = _root(tenant, controller_id)
    links = {}
    if view.cancel is not None:
        links["cancelAction"] = {"href": f"{root}/cancelAction/{view.cancel}"}
    elif view.deployment is not None:
        action_id, c = view.deployment
        links["deploymentBase"] = {"href": f"{root}/deploymentBase/{action_id}?c={c}"}
    if view.installed is not None:
        links["installedBase"] = {"href": f"{root}/installedBase/{view.installed}"}
    if view.config_data:
        links["configData"] = {"href": f"{root}/configData"}
    return json_response({"config": {"polling": {"sleep": view.sleep}}, "_links": links})


def _artifact_json(root: str, sm_id: int, artifact: dict) -> dict:
    href = f"{root}/softwaremodules/{sm_id}/artifacts/{quote(artifact['filename'])}"
    return {"filename": artifact["filename"], "hashes": dict(artifact["hashes"]), "size": artifact["size"],
            "_links": {"download": {"href": href}, "download-http": {"href": href},
                       "md5sum": {"href": href + ".MD5SUM"}, "md5sum-http": {"href": href + ".MD5SUM"}}}


def _deployment_json(tenant: str, controller_id: str, view: controller.DeploymentView, field: str) -> dict:
    root = _root(tenant, controller_id)
    chunks = []
    for chunk in view.chunks:
        rendered = {"part": _LEGACY_PART.get(chunk["part"], chunk["part"]), "version": chunk["version"],
                    "name": chunk["name"],
                    "artifacts": [_artifact_json(root, chunk["smId"], a) for a in chunk["artifacts"]]}
        if chunk.get("encrypted"):
            rendered["encrypted"] = True
        if chunk.get("metadata"):
            rendered["metadata"] = chunk["metadata"]
        chunks.append(rendered)
    body = {"id": str(int(view.action.action_id)),
            field: {"download": view.download, "update": view.update, "chunks": chunks}}
    if view.maintenance_window is not None:
        body[field]["maintenanceWindow"] = view.maintenance_window
    if view.history is not None:
        body["actionHistory"] = {"status": view.history[0], "messages": view.history[1]}
    return body


@route(bp, BASE + "/deploymentBase/{action_id}")
def deployment_base(tenant, controller_id, action_id):
    device = _device(tenant, controller_id)
    view = controller.deployment_base(device, int_param(action_id, "actionId"), _history_count())
    return json_response(_deployment_json(tenant, controller_id, view, "deployment"))


@route(bp, BASE + "/installedBase/{action_id}")
def installed_base(tenant, controller_id, action_id):
    device = _device(tenant, controller_id)
    view = controller.installed_base(device, int_param(action_id, "actionId"), _history_count())
    return json_response(_deployment_json(tenant, controller_id, view, "deployment"))


@route(bp, BASE + "/deploymentBase/{action_id}/feedback", methods=["POST"])
def deployment_feedback(tenant, controller_id, action_id):
    device = _device(tenant, controller_id)
    controller.deployment_feedback(device, int_param(action_id, "actionId"), json_body(bp))
    return empty(200)


@route(bp, BASE + "/cancelAction/{action_id}")
def cancel_action(tenant, controller_id, action_id):
    action = controller.cancel_command(_device(tenant, controller_id), int_param(action_id, "actionId"))
    stop_id = str(int(action.action_id))
    return json_response({"id": stop_id, "cancelAction": {"stopId": stop_id}})


@route(bp, BASE + "/cancelAction/{action_id}/feedback", methods=["POST"])
def cancel_feedback(tenant, controller_id, action_id):
    device = _device(tenant, controller_id)
    controller.cancel_feedback(device, int_param(action_id, "actionId"), json_body(bp))
    return empty(200)


@route(bp, BASE + "/configData", methods=["PUT"])
def config_data(tenant, controller_id):
    device = _device(tenant, controller_id)
    controller.config_data(device, json_body(bp))
    return empty(200)


@route(bp, BASE + "/softwaremodules/{sm_id}/artifacts")
def artifacts(tenant, controller_id, sm_id):
    device = _device(tenant, controller_id)
    sm_id = int_param(sm_id, "softwareModuleId")
    module = controller.module_of_target(device, sm_id)
    root = _root(tenant, controller_id)
    return json_response([_artifact_json(root, sm_id, a) for a in module.chunk["artifacts"]])


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
    found = controller.download(device, int_param(sm_id, "softwareModuleId"), unquote(file_name), hdrs.get("if-match"),
                                ranged=bool(hdrs.get("range")), uri=_request_path())
    if found.md5sum is not None:
        return Response(body=found.md5sum, status_code=200,
                        headers={"Content-Type": "text/plain", "Content-Disposition": _disposition(found.filename)})
    return Response(body="", status_code=302, headers={"Location": found.url, "ETag": f'"{found.sha1}"',
                                                       "Cache-Control": "no-store"})


@route(bp, BASE + "/softwaremodules/{sm_id}/artifacts/{file_name}", methods=["HEAD"])
def download_head(tenant, controller_id, sm_id, file_name):
    """200 with the size and no body, never a redirect: a HEAD sent on to a URL presigned for GET fails,
    and SWUpdate reads the size from it before every download."""
    device = _device(tenant, controller_id, anonymous_ok=True)
    found = controller.describe_download(device, int_param(sm_id, "softwareModuleId"), unquote(file_name),
                                         headers(bp).get("if-match"))
    head = {"Content-Length": str(found.size), "Accept-Ranges": "bytes", "ETag": f'"{found.sha1}"',
            "Content-Disposition": _disposition(found.filename)}
    if found.filename.endswith(controller.MD5SUM_SUFFIX):
        head["Content-Type"] = "text/plain"
    elif "*/*" in (accept := headers(bp).get("accept") or "") or "application/octet-stream" in accept:
        # chalice (like API Gateway) refuses a binary Content-Type the request did not accept, body or not,
        # and wants a binary type's body as bytes
        head["Content-Type"] = "application/octet-stream"
        return Response(body=b"", status_code=200, headers=head)
    return Response(body="", status_code=200, headers=head)
