"""Device Configuration Service v3: `/api/deviceconfiguration/v3/...` (described by chalicelib/openapi/dcs.json).

Operators use HTTP Basic with READ_/UPDATE_DEVICE_CONFIGURATION; devices use their target token on
the content downloads, on their own tasks and on their own actual configuration.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.common import empty, route
from chalicelib.api.dcs_wire import (
    caller,
    configured_json,
    could_be_file,
    device_param,
    file_json,
    file_param,
    filter_param,
    json_request,
    page_json,
    page_request,
    raw,
    raw_body,
    required_param,
    respond,
    revision_json,
    revision_param,
    task_json,
    task_param,
)
from chalicelib.lazy import lazy_import

config_model = lazy_import("chalicelib.domain.config_model")
ids = lazy_import("chalicelib.domain.dcs_ids")
config_files = lazy_import("chalicelib.services.config_files")
device_configuration = lazy_import("chalicelib.services.device_configuration")
workflow = lazy_import("chalicelib.services.workflow")

bp = Blueprint(__name__)

BASE = "/api/deviceconfiguration/v3"
READ, UPDATE = "READ_DEVICE_CONFIGURATION", "UPDATE_DEVICE_CONFIGURATION"


# --- files --------------------------------------------------------------------------------------------
@route(bp, f"{BASE}/files")
def list_files():
    who = caller(bp, READ)
    page = page_request(bp, ("path",), "path")
    prefix = filter_param(bp, "pathPrefix", ids.is_path_prefix) or ""
    files, total = config_files.list_files(who, prefix, page)
    return respond(page_json([file_json(f) for f in files], page, total))


@route(bp, f"{BASE}/files", methods=["POST"])
def create_file():
    who = caller(bp, UPDATE)
    return respond(file_json(config_files.create_file(who, json_request(bp))), status=201)


@route(bp, f"{BASE}/files/{{file_id}}")
def get_file(file_id):
    who = caller(bp, READ)
    file_id = file_param(file_id)
    return respond(file_json(config_files.get_file(who, file_id)))


@route(bp, f"{BASE}/files/{{file_id}}", methods=["DELETE"])
def delete_file(file_id):
    who = caller(bp, UPDATE)
    if could_be_file(file_id):  # deleting what cannot exist is done already (idempotent)
        config_files.delete_file(who, file_id)
    return empty(204)


@route(bp, f"{BASE}/files/{{file_id}}/head")
def get_head(file_id):
    who = caller(bp, READ, devices=True)
    file_id = file_param(file_id)
    return raw(config_files.head_content(who, file_id, bp.current_request.headers.get("Accept")))


@route(bp, f"{BASE}/files/{{file_id}}/head", methods=["PATCH"])
def patch_head(file_id):
    who = caller(bp, UPDATE)
    file_id = file_param(file_id)
    headers = bp.current_request.headers  # chalice's CaseInsensitiveMapping
    view = config_files.update_head(who, file_id, raw_body(bp), headers.get("Content-Type"), headers.get("If-Match"))
    return respond(file_json(view), headers={"ETag": config_model.etag(view.head)})


# --- revisions ----------------------------------------------------------------------------------------
@route(bp, f"{BASE}/files/{{file_id}}/revisions")
def list_revisions(file_id):
    who = caller(bp, READ)
    file_id = file_param(file_id)
    page = page_request(bp, ("createdAt", "hash", "contentLength"), "createdAt", descending=True)
    revisions, total = config_files.list_revisions(who, file_id, page)
    return respond(page_json([revision_json(r) for r in revisions], page, total))


@route(bp, f"{BASE}/files/{{file_id}}/revisions", methods=["POST"])
def create_revision(file_id):
    who = caller(bp, UPDATE)
    file_id = file_param(file_id)
    content_type = bp.current_request.headers.get("Content-Type")
    revision, created = config_files.add_revision(who, file_id, raw_body(bp), content_type)
    return respond(
        revision_json(revision), status=201 if created else 200, headers={"ETag": config_model.etag(revision.hash)}
    )


@route(bp, f"{BASE}/files/{{file_id}}/revisions/{{sha}}")
def get_revision(file_id, sha):
    who = caller(bp, READ, devices=True)
    file_id = file_param(file_id)
    sha = revision_param(sha)
    return respond(revision_json(config_files.get_revision(who, file_id, sha)))


@route(bp, f"{BASE}/files/{{file_id}}/revisions/{{sha}}/content")
def get_revision_content(file_id, sha):
    who = caller(bp, READ, devices=True)
    file_id = file_param(file_id)
    sha = revision_param(sha)
    return raw(config_files.revision_content(who, file_id, sha, bp.current_request.headers.get("Accept")))


# --- configuration tasks ------------------------------------------------------------------------------
@route(bp, f"{BASE}/devices/{{device_id}}/configurationTasks")
def list_tasks(device_id):
    who = caller(bp, READ, devices=True)
    device_id = device_param(device_id)
    page = page_request(bp, ("createdAt",), "createdAt", descending=True)
    tasks, total = workflow.list_tasks(who, device_id, page)
    return respond(page_json([task_json(t) for t in tasks], page, total))


@route(bp, f"{BASE}/devices/{{device_id}}/configurationTasks", methods=["POST"], idempotent=True)
def create_task(device_id):
    who = caller(bp, UPDATE)
    device_id = device_param(device_id)
    return respond(task_json(workflow.create_task(who, device_id, json_request(bp))), status=201)


@route(bp, f"{BASE}/devices/{{device_id}}/configurationTasks/{{task_id}}")
def get_task(device_id, task_id):
    who = caller(bp, READ, devices=True)
    device_id = device_param(device_id)
    task_id = task_param(task_id)
    return respond(task_json(workflow.get_task(who, device_id, task_id)))


@route(bp, f"{BASE}/devices/{{device_id}}/configurationTasks/{{task_id}}", methods=["PATCH"])
def patch_task(device_id, task_id):
    who = caller(bp, UPDATE, devices=True)
    device_id = device_param(device_id)
    task_id = task_param(task_id)
    return respond(task_json(workflow.update_task(who, device_id, task_id, json_request(bp))))


# The copy of the device's actual configuration: what its CONFIGURED tasks recorded, per path.
@route(bp, f"{BASE}/devices/{{device_id}}/configuration")
def get_configuration(device_id):
    who = caller(bp, READ, devices=True)
    device_id = device_param(device_id)
    page = page_request(bp, ("path",), "path")
    entries, total = device_configuration.actual_configuration(who, device_id, page)
    return respond(page_json([configured_json(bp, device_id, e) for e in entries], page, total))


@route(bp, f"{BASE}/devices/{{device_id}}/configuration/content")
def get_configured_content(device_id):
    who = caller(bp, READ, devices=True)
    device_id = device_param(device_id)
    path = required_param(bp, "path", ids.is_path_prefix)
    accept = bp.current_request.headers.get("Accept")
    return raw(device_configuration.configured_content(who, device_id, path, accept))
