"""/rest/v1/targettypes with its compatible distribution set types, and /rest/v1/targets/{id}/targettype.

hawkBit (classic permissions) guards target types with the target permissions; changing a type's compatible
distribution set types takes READ_REPOSITORY too.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.catalog_views import ds_type_json, paged, target_type_json
from chalicelib.api.common import base_url, empty, int_param, json_body, json_response, principal, query, route
from chalicelib.domain.listing import Paging
from chalicelib.lazy import lazy_import

rules = lazy_import("chalicelib.domain.target_types")
catalog_rules = lazy_import("chalicelib.domain.catalog")
tag_rules = lazy_import("chalicelib.domain.tags")
target_types = lazy_import("chalicelib.services.target_types")

bp = Blueprint(__name__)

BASE = "/rest/v1/targettypes"


def _type_id(value: str) -> int:
    return int_param(value, "targetTypeId")


@route(bp, BASE)
def list_types():
    who = principal(bp, "READ_TARGET")
    params = query(bp)
    paging = Paging.parse(params, target_types.SORTABLE, "id:ASC")
    items, total = target_types.list_types(who.tenant, params.get("q"), paging)
    root = base_url(bp)
    return json_response(paged([target_type_json(t, root) for t in items], total))


@route(bp, BASE, methods=["POST"])
def create_types():
    who = principal(bp, "CREATE_TARGET")
    specs = [rules.target_type_spec(item) for item in json_body(bp, list)]
    created = target_types.create_types(who.tenant, specs, who.username)
    root = base_url(bp)
    return json_response([target_type_json(t, root) for t in created], status=201)


@route(bp, BASE + "/{type_id}")
def get_type(type_id):
    who = principal(bp, "READ_TARGET")
    return json_response(target_type_json(target_types.get_type(who.tenant, _type_id(type_id)), base_url(bp)))


@route(bp, BASE + "/{type_id}", methods=["PUT"])
def update_type(type_id):
    who = principal(bp, "UPDATE_TARGET")
    change = tag_rules.tag_change(json_body(bp, dict))
    item = target_types.update_type(who.tenant, _type_id(type_id), change, who.username)
    return json_response(target_type_json(item, base_url(bp)))


@route(bp, BASE + "/{type_id}", methods=["DELETE"])
def delete_type(type_id):
    who = principal(bp, "DELETE_TARGET")
    target_types.delete_type(who.tenant, _type_id(type_id))
    return empty(200)


@route(bp, BASE + "/{type_id}/compatibledistributionsettypes")
def list_compatible(type_id):
    who = principal(bp, "READ_TARGET")
    root = base_url(bp)
    return json_response([ds_type_json(t, root) for t in target_types.compatible_of(who.tenant, _type_id(type_id))])


@route(bp, BASE + "/{type_id}/compatibledistributionsettypes", methods=["POST"])
def add_compatible(type_id):
    who = principal(bp, "READ_REPOSITORY", "UPDATE_TARGET")
    ids = catalog_rules.ids_of(json_body(bp, list), "compatibledistributionsettypes")
    target_types.add_compatible(who.tenant, _type_id(type_id), ids, who.username)
    return empty(200)


@route(bp, BASE + "/{type_id}/compatibledistributionsettypes/{ds_type_id}", methods=["DELETE"])
def remove_compatible(type_id, ds_type_id):
    who = principal(bp, "READ_REPOSITORY", "UPDATE_TARGET")
    target_types.remove_compatible(
        who.tenant, _type_id(type_id), int_param(ds_type_id, "distributionSetTypeId"), who.username
    )
    return empty(200)


@route(bp, "/rest/v1/targets/{target_id}/targettype", methods=["POST"])
def assign_to_target(target_id):
    who = principal(bp, "UPDATE_TARGET")
    (type_id,) = catalog_rules.ids_of(json_body(bp, dict), "id")
    target_types.assign_to_target(who.tenant, target_id, type_id, who.username)
    return empty(200)


@route(bp, "/rest/v1/targets/{target_id}/targettype", methods=["DELETE"])
def unassign_from_target(target_id):
    who = principal(bp, "UPDATE_TARGET")
    target_types.assign_to_target(who.tenant, target_id, None, who.username)
    return empty(200)
