"""Deployment Workflow Service v3: `/api/deploymentworkflow/v3/...` (described by chalicelib/openapi/dws.json).

Models and instance creation are Northbound (operators); instance list, get, PATCH and cancel are
also Southbound (a device with its target token, limited to its own released instances).
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.common import empty, query, route
from chalicelib.api.dcs_wire import (
    caller,
    filter_param,
    flag,
    instance_json,
    instance_param,
    json_request,
    model_param,
    page_json,
    page_request,
    respond,
)
from chalicelib.lazy import lazy_import

ids = lazy_import("chalicelib.domain.dcs_ids")
workflow = lazy_import("chalicelib.services.workflow")

bp = Blueprint(__name__)

BASE = "/api/deploymentworkflow/v3"
READ, UPDATE = "READ_DEVICE_CONFIGURATION", "UPDATE_DEVICE_CONFIGURATION"


def _instance(view):
    return instance_json(view, flag(bp, "model"), flag(bp, "history"))


# --- models -------------------------------------------------------------------------------------------
@route(bp, f"{BASE}/models", methods=["POST"])
def create_model():
    who = caller(bp, UPDATE)
    return respond(workflow.create_model(who, json_request(bp)).to_json(), status=201)


@route(bp, f"{BASE}/models/{{model_key}}")
def get_model(model_key):
    who = caller(bp, READ)
    model_key = model_param(model_key)
    return respond(workflow.get_model(who, model_key).to_json())


@route(bp, f"{BASE}/models/{{model_key}}", methods=["DELETE"])
def delete_model(model_key):
    who = caller(bp, UPDATE)
    model_key = model_param(model_key)
    workflow.delete_model(who, model_key)
    return empty(204)


# --- instances ----------------------------------------------------------------------------------------
@route(bp, f"{BASE}/instances", methods=["POST"], idempotent=True)
def create_instance():
    who = caller(bp, UPDATE)
    return respond(_instance(workflow.create_instance(who, json_request(bp))), status=201)


@route(bp, f"{BASE}/instances")
def list_instances():
    who = caller(bp, READ, devices=True)
    page = page_request(bp, ("createdAt",), "createdAt")
    where = workflow.InstanceFilter(
        device_id=filter_param(bp, "deviceId", ids.is_device_id),
        model_key=filter_param(bp, "modelKey", ids.is_model_key),
        group=filter_param(bp, "group", ids.is_group),
        current_state=query(bp).get("currentState") or None,
    )
    views, total = workflow.list_instances(who, where, page)
    return respond(page_json([_instance(v) for v in views], page, total))


@route(bp, f"{BASE}/instances/{{instance_id}}")
def get_instance(instance_id):
    who = caller(bp, READ, devices=True)
    instance_id = instance_param(instance_id)
    return respond(_instance(workflow.get_instance(who, instance_id)))


@route(bp, f"{BASE}/instances/{{instance_id}}", methods=["PATCH"])
def patch_instance(instance_id):
    who = caller(bp, UPDATE, devices=True)
    instance_id = instance_param(instance_id)
    return respond(_instance(workflow.update_instance(who, instance_id, json_request(bp))))


@route(bp, f"{BASE}/instances/{{instance_id}}/cancel", methods=["POST"])
def cancel_instance(instance_id):
    who = caller(bp, UPDATE, devices=True)
    instance_id = instance_param(instance_id)
    return respond(_instance(workflow.cancel_instance(who, instance_id)))
