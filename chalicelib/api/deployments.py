"""/rest/v1/distributionsets/{id}/assignedTargets and /installedTargets; /rest/v1/actions."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import errors
from chalicelib.api.catalog_views import paged
from chalicelib.api.common import base_url, int_param, json_body, json_response, principal, query, route
from chalicelib.api.mgmt_views import action_json, assignment_json, targets_json
from chalicelib.lazy import lazy_import
from chalicelib.services import actions as action_service
from chalicelib.services import deployment

bp = Blueprint(__name__)
distribution_sets = lazy_import("chalicelib.services.distribution_sets")
target_lists = lazy_import("chalicelib.services.target_lists")
BASE = "/rest/v1/distributionsets/{ds_id}"


@route(bp, BASE + "/assignedTargets", methods=["POST"], idempotent=True)
def assign_targets(ds_id):
    who = principal(bp, "READ_REPOSITORY", "UPDATE_TARGET")
    body = json_body(bp, list)
    requests = []
    for item in body:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise errors.ConstraintViolation("Each entry needs the target's controllerId as 'id'.", ["id"])
        requests.append(deployment.AssignmentRequest(item["id"], **deployment.parse_request(item)))
    offline = (query(bp).get("offline") or "false").lower() == "true"
    result = deployment.assign(
        who.tenant, int_param(ds_id, "distributionSetId"), requests, who.username, offline=offline
    )
    return json_response(assignment_json(result, base_url(bp)))


def _targets_of(who, ds_id, installed: bool):
    ds_id = int_param(ds_id, "distributionSetId")
    distribution_sets.get_distribution_set(who.tenant, ds_id)  # 404 for an unknown set
    content, total = target_lists.list_by_set(who.tenant, ds_id, installed, query(bp))
    return json_response(paged(targets_json(content, who, base_url(bp)), total))


@route(bp, BASE + "/assignedTargets")
def assigned_targets(ds_id):
    who = principal(bp, "READ_REPOSITORY", "READ_TARGET")
    return _targets_of(who, ds_id, installed=False)


@route(bp, BASE + "/installedTargets")
def installed_targets(ds_id):
    who = principal(bp, "READ_REPOSITORY", "READ_TARGET")
    return _targets_of(who, ds_id, installed=True)


@route(bp, "/rest/v1/actions")
def all_actions():
    who = principal(bp, "READ_TARGET")
    content, total = action_service.of_tenant(who.tenant, query(bp))
    root = base_url(bp)
    return json_response(paged([action_json(a, root) for a in content], total))


@route(bp, "/rest/v1/actions/{action_id}")
def one_action(action_id):
    who = principal(bp, "READ_TARGET")
    return json_response(
        action_json(action_service.get_by_id(who.tenant, int_param(action_id, "actionId")), base_url(bp))
    )
