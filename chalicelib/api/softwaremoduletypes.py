"""/rest/v1/softwaremoduletypes."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.catalog_views import paged, sm_type_json
from chalicelib.api.common import base_url, empty, int_param, json_body, json_response, principal, query, route
from chalicelib.domain.listing import Paging
from chalicelib.lazy import lazy_import

rules = lazy_import("chalicelib.domain.catalog")
catalog_types = lazy_import("chalicelib.services.catalog_types")

bp = Blueprint(__name__)

BASE = "/rest/v1/softwaremoduletypes"


def _type_id(value: str) -> int:
    return int_param(value, "softwareModuleTypeId")


@route(bp, BASE)
def list_types():
    who = principal(bp, "READ_REPOSITORY")
    params = query(bp)
    paging = Paging.parse(params, catalog_types.SM_TYPE_SORTABLE, "id:ASC")
    items, total = catalog_types.list_software_module_types(who.tenant, params.get("q"), paging)
    root = base_url(bp)
    return json_response(paged([sm_type_json(t, root) for t in items], total))


@route(bp, BASE, methods=["POST"])
def create_types():
    who = principal(bp, "CREATE_REPOSITORY")
    specs = [rules.software_module_type_spec(item) for item in json_body(bp, list)]
    created = catalog_types.create_software_module_types(who.tenant, specs, who.username)
    root = base_url(bp)
    return json_response([sm_type_json(t, root) for t in created], status=201)


@route(bp, BASE + "/{type_id}")
def get_type(type_id):
    who = principal(bp, "READ_REPOSITORY")
    return json_response(
        sm_type_json(catalog_types.get_software_module_type(who.tenant, _type_id(type_id)), base_url(bp))
    )


@route(bp, BASE + "/{type_id}", methods=["PUT"])
def update_type(type_id):
    who = principal(bp, "UPDATE_REPOSITORY")
    change = rules.type_change(json_body(bp, dict))
    item = catalog_types.update_software_module_type(who.tenant, _type_id(type_id), change, who.username)
    return json_response(sm_type_json(item, base_url(bp)))


@route(bp, BASE + "/{type_id}", methods=["DELETE"])
def delete_type(type_id):
    who = principal(bp, "DELETE_REPOSITORY")
    catalog_types.delete_software_module_type(who.tenant, _type_id(type_id))
    return empty(200)
