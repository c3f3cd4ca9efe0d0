"""/rest/v1/targets: targets, their attributes, actions, action history and assigned/installed sets."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import errors
from chalicelib.api.catalog_views import metadata_json, paged, path_text, tag_json
from chalicelib.api.common import base_url, empty, int_param, json_body, json_response, principal, query, route
from chalicelib.api.mgmt_views import action_json, assignment_json, auto_confirm_json, status_json, targets_json
from chalicelib.domain import catalog as catalog_rules
from chalicelib.domain.listing import Paging
from chalicelib.domain.numbers import is_int64
from chalicelib.lazy import lazy_import
from chalicelib.services import actions as action_service
from chalicelib.services import catalog_metadata, confirmation, deployment, target_metadata
from chalicelib.services import targets as target_service

tag_service = lazy_import("chalicelib.services.target_tags")
target_lists = lazy_import("chalicelib.services.target_lists")

bp = Blueprint(__name__)
BASE = "/rest/v1/targets"


def _render(targets, who) -> list[dict]:
    return targets_json(targets, who, base_url(bp))


@route(bp, BASE)
def list_targets():
    who = principal(bp, "READ_TARGET")
    content, total = target_lists.list_targets(who.tenant, query(bp))
    return json_response(paged(_render(content, who), total))


@route(bp, BASE, methods=["POST"], idempotent=True)
def create_targets():
    who = principal(bp, "CREATE_TARGET")
    body = json_body(bp, list)
    specs = [target_service.parse_new(item if isinstance(item, dict) else {}) for item in body]
    return json_response(_render(target_service.create(who.tenant, specs, who.username), who), status=201)


@route(bp, BASE + "/{target_id}")
def get_target(target_id):
    who = principal(bp, "READ_TARGET")
    return json_response(_render([target_service.get(who.tenant, target_id)], who)[0])


@route(bp, BASE + "/{target_id}", methods=["PUT"])
def update_target(target_id):
    who = principal(bp, "UPDATE_TARGET")
    body = json_body(bp, dict)
    return json_response(_render([target_service.update(who.tenant, target_id, body, who.username)], who)[0])


@route(bp, BASE + "/{target_id}", methods=["DELETE"])
def delete_target(target_id):
    who = principal(bp, "DELETE_TARGET")
    target_service.delete(who.tenant, target_id)
    return empty(200)


@route(bp, BASE + "/{target_id}/attributes")
def target_attributes(target_id):
    who = principal(bp, "READ_TARGET")
    return json_response(dict(target_service.get(who.tenant, target_id).attributes or {}))


@route(bp, BASE + "/{target_id}/tags")
def target_tags(target_id):
    who = principal(bp, "READ_TARGET")
    root = base_url(bp)
    return json_response([tag_json(tag, root) for tag in tag_service.tags_of(who.tenant, target_id)])


@route(bp, BASE + "/{target_id}/actions")
def target_actions(target_id):
    who = principal(bp, "READ_TARGET")
    content, total = action_service.of_target(who.tenant, target_id, query(bp))
    root = base_url(bp)
    return json_response(paged([action_json(a, root) for a in content], total))


@route(bp, BASE + "/{target_id}/actions/{action_id}")
def target_action(target_id, action_id):
    who = principal(bp, "READ_TARGET")
    action = action_service.get(who.tenant, target_id, int_param(action_id, "actionId"))
    return json_response(action_json(action, base_url(bp)))


@route(bp, BASE + "/{target_id}/actions/{action_id}", methods=["PUT"])
def force_action(target_id, action_id):
    who = principal(bp, "UPDATE_TARGET")
    body = json_body(bp, dict)
    if body.get("forceType") != "forced":
        raise errors.ConstraintViolation("Only a switch to forceType 'forced' is allowed.", ["forceType"])
    action_id = int_param(action_id, "actionId")
    deployment.force(who.tenant, target_id, action_id, who.username)
    return json_response(action_json(action_service.get(who.tenant, target_id, action_id), base_url(bp)))


@route(bp, BASE + "/{target_id}/actions/{action_id}", methods=["DELETE"])
def cancel_action(target_id, action_id):
    who = principal(bp, "UPDATE_TARGET")
    force = (query(bp).get("force") or "false").lower() == "true"
    deployment.cancel(who.tenant, target_id, int_param(action_id, "actionId"), who.username, force=force)
    return empty(200)


@route(bp, BASE + "/{target_id}/actions/{action_id}/confirmation", methods=["PUT"])
def confirm_action(target_id, action_id):
    """An operator confirms or denies for the device: a bare 410 for a closed action, 404 when nothing waits."""
    who = principal(bp, "UPDATE_TARGET")
    action_id = int_param(action_id, "actionId")
    feedback = confirmation.parse_feedback(json_body(bp, dict))
    confirmation.give_feedback(
        who.tenant,
        target_id,
        action_id,
        feedback,
        who.username,
        missing=lambda: errors.EntityNotFound.of("Action", action_id),
    )
    return empty(200)


@route(bp, BASE + "/{target_id}/autoConfirm")
def auto_confirm_state(target_id):
    who = principal(bp, "READ_TARGET")
    state = confirmation.state_of(who.tenant, target_id)
    return json_response(auto_confirm_json(state, f"{base_url(bp)}{BASE}/{target_id}"))


@route(bp, BASE + "/{target_id}/autoConfirm/activate", methods=["POST"])
def activate_auto_confirm(target_id):
    """Body {initiator?, remark?} or none; 409 autoConfAlreadyActive when it is on already."""
    who = principal(bp, "UPDATE_TARGET")
    initiator, remark = confirmation.parse_activation(json_body(bp, dict, optional=True))
    confirmation.activate_auto_confirm(who.tenant, target_id, initiator, remark, who.username)
    return empty(200)


@route(bp, BASE + "/{target_id}/autoConfirm/deactivate", methods=["POST"])
def deactivate_auto_confirm(target_id):
    who = principal(bp, "UPDATE_TARGET")
    confirmation.deactivate_auto_confirm(who.tenant, target_id, who.username)
    return empty(200)


@route(bp, BASE + "/{target_id}/actions/{action_id}/status")
def action_history(target_id, action_id):
    who = principal(bp, "READ_TARGET")
    content, total = action_service.history(who.tenant, target_id, int_param(action_id, "actionId"), query(bp))
    return json_response(paged([status_json(e) for e in content], total))


def _distribution_set_json(who, ds_id):
    from chalicelib.api.distributionsets import ds_json
    from chalicelib.services import distribution_sets

    return json_response(ds_json(distribution_sets.get_distribution_set(who.tenant, int(ds_id)), base_url(bp)))


@route(bp, BASE + "/{target_id}/assignedDS")
def assigned_ds(target_id):
    who = principal(bp, "READ_TARGET", "READ_REPOSITORY")
    target = target_service.get(who.tenant, target_id)
    return empty(204) if target.assigned_ds is None else _distribution_set_json(who, target.assigned_ds)


@route(bp, BASE + "/{target_id}/installedDS")
def installed_ds(target_id):
    who = principal(bp, "READ_TARGET", "READ_REPOSITORY")
    target = target_service.get(who.tenant, target_id)
    return empty(204) if target.installed_ds is None else _distribution_set_json(who, target.installed_ds)


@route(bp, BASE + "/{target_id}/assignedDS", methods=["POST"], idempotent=True)
def assign_ds(target_id):
    """Body: one MgmtDistributionSetAssignment or an array of them (several only with multi-assignments)."""
    who = principal(bp, "READ_REPOSITORY", "UPDATE_TARGET")
    body = json_body(bp, (dict, list))
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(i, dict) for i in items):
        raise errors.BodyNotReadable("The body must be an assignment object or a non-empty array of them.")
    assignments = []
    for item in items:
        if not is_int64(item.get("id")):
            raise errors.ConstraintViolation("id (the distribution set id) is required.", ["id"])
        assignments.append((item["id"], deployment.parse_request(item)))
    offline = (query(bp).get("offline") or "false").lower() == "true"
    result = deployment.assign_to_target(who.tenant, target_id, assignments, who.username, offline=offline)
    return json_response(assignment_json(result, base_url(bp)))


# --- metadata: permissions as hawkBit's TargetManagement (READ_REPOSITORY / UPDATE_REPOSITORY) ----------
@route(bp, BASE + "/{target_id}/metadata")
def list_metadata(target_id):
    who = principal(bp, "READ_REPOSITORY")
    params = query(bp)
    paging = Paging.parse(params, catalog_metadata.SORTABLE, "key:ASC")
    entries, total = target_metadata.page(who.tenant, target_id, params.get("q"), paging)
    return json_response(paged([metadata_json(e, False) for e in entries], total))


@route(bp, BASE + "/{target_id}/metadata", methods=["POST"])
def create_metadata(target_id):
    who = principal(bp, "UPDATE_REPOSITORY")
    entries = catalog_rules.metadata_entries(json_body(bp, list), with_target_visible=False)
    created = target_metadata.create(who.tenant, target_id, entries, who.username)
    return json_response([metadata_json(e, False) for e in created], status=201)


@route(bp, BASE + "/{target_id}/metadata/{key}")
def get_metadata(target_id, key):
    who = principal(bp, "READ_REPOSITORY")
    entry = target_metadata.get(who.tenant, target_id, path_text(key))
    # hawkBit's getMetadataValue produces application/json only (as for distribution sets).
    return json_response(metadata_json(entry, False), content_type="application/json")


@route(bp, BASE + "/{target_id}/metadata/{key}", methods=["PUT"])
def update_metadata(target_id, key):
    who = principal(bp, "UPDATE_REPOSITORY")
    body = json_body(bp, dict)
    return json_response(
        metadata_json(target_metadata.update(who.tenant, target_id, path_text(key), body, who.username), False)
    )


@route(bp, BASE + "/{target_id}/metadata/{key}", methods=["DELETE"])
def delete_metadata(target_id, key):
    who = principal(bp, "UPDATE_REPOSITORY")
    target_metadata.delete(who.tenant, target_id, path_text(key), who.username)
    return empty(200)
