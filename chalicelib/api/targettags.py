"""/rest/v1/targettags: target tags and the targets they are assigned to."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import errors
from chalicelib.api.catalog_views import paged, tag_json
from chalicelib.api.common import base_url, empty, int_param, json_body, json_response, principal, query, route
from chalicelib.api.mgmt_views import targets_json
from chalicelib.domain.listing import Paging
from chalicelib.lazy import lazy_import

rules = lazy_import("chalicelib.domain.target_tags")
target_tags = lazy_import("chalicelib.services.target_tags")

bp = Blueprint(__name__)
BASE = "/rest/v1/targettags"


def _tag_id(value: str) -> int:
    return int_param(value, "targetTagId")


def _controller_ids() -> list[str]:
    body = json_body(bp, list)
    if not all(isinstance(item, str) for item in body):
        raise errors.BodyNotReadable("The body must be a list of controller ids.", ["body"])
    return body


@route(bp, BASE)
def list_tags():
    who = principal(bp, "READ_TARGET")
    params = query(bp)
    paging = Paging.parse(params, target_tags.TAG_SORTABLE, "id:ASC")
    tags, total = target_tags.list_tags(who.tenant, params.get("q"), paging)
    root = base_url(bp)
    return json_response(paged([tag_json(t, root) for t in tags], total))


@route(bp, BASE, methods=["POST"])
def create_tags():
    who = principal(bp, "CREATE_TARGET")
    specs = [rules.tag_spec(item) for item in json_body(bp, list)]
    created = target_tags.create_tags(who.tenant, specs, who.username)
    root = base_url(bp)
    return json_response([tag_json(t, root) for t in created], status=201)


@route(bp, BASE + "/{tag_id}")
def get_tag(tag_id):
    who = principal(bp, "READ_TARGET")
    return json_response(tag_json(target_tags.get_tag(who.tenant, _tag_id(tag_id)), base_url(bp), detailed=True))


@route(bp, BASE + "/{tag_id}", methods=["PUT"])
def update_tag(tag_id):
    who = principal(bp, "UPDATE_TARGET")
    change = rules.tag_change(json_body(bp, dict))
    tag = target_tags.update_tag(who.tenant, _tag_id(tag_id), change, who.username)
    return json_response(tag_json(tag, base_url(bp), detailed=True))


@route(bp, BASE + "/{tag_id}", methods=["DELETE"])
def delete_tag(tag_id):
    who = principal(bp, "DELETE_TARGET")
    target_tags.delete_tag(who.tenant, _tag_id(tag_id))
    return empty(200)


@route(bp, BASE + "/{tag_id}/assigned")
def assigned_targets(tag_id):
    who = principal(bp, "READ_TARGET")
    content, total = target_tags.assigned_targets(who.tenant, _tag_id(tag_id), query(bp))
    return json_response(paged(targets_json(content, who, base_url(bp)), total))


# PUT as the documented API; POST as hawkBit's newest release takes it.
@route(bp, BASE + "/{tag_id}/assigned", methods=["PUT", "POST"])
def assign_targets(tag_id):
    who = principal(bp, "UPDATE_TARGET")
    policy = query(bp).get("onNotFoundPolicy") or "FAIL"
    target_tags.assign(who.tenant, _tag_id(tag_id), _controller_ids(), policy)
    return empty(200)


@route(bp, BASE + "/{tag_id}/assigned", methods=["DELETE"])
def unassign_targets(tag_id):
    who = principal(bp, "UPDATE_TARGET")
    policy = query(bp).get("onNotFoundPolicy") or "FAIL"
    target_tags.unassign(who.tenant, _tag_id(tag_id), _controller_ids(), policy)
    return empty(200)


@route(bp, BASE + "/{tag_id}/assigned/{controller_id}", methods=["POST"])
def assign_target(tag_id, controller_id):
    who = principal(bp, "UPDATE_TARGET")
    target_tags.assign(who.tenant, _tag_id(tag_id), [controller_id])
    return empty(200)


@route(bp, BASE + "/{tag_id}/assigned/{controller_id}", methods=["DELETE"])
def unassign_target(tag_id, controller_id):
    who = principal(bp, "UPDATE_TARGET")
    target_tags.unassign(who.tenant, _tag_id(tag_id), [controller_id])
    return empty(200)
