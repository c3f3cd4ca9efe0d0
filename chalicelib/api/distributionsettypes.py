"""/rest/v1/distributionsettypes, with the mandatory/optional module type sub-resources."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.catalog_views import ds_type_json, paged, sm_type_json
from chalicelib.api.common import base_url, empty, int_param, json_body, json_response, principal, query, route
from chalicelib.domain.listing import Paging
from chalicelib.lazy import lazy_import

rules = lazy_import("chalicelib.domain.catalog")
catalog_types = lazy_import("chalicelib.services.catalog_types")

bp = Blueprint(__name__)

BASE = "/rest/v1/distributionsettypes"
_WHICH = {"mandatorymoduletypes": "mandatory", "optionalmoduletypes": "optional"}


def _type_id(value: str) -> int:
    return int_param(value, "distributionSetTypeId")


@route(bp, BASE)
def list_types():
    who = principal(bp, "READ_REPOSITORY")
    params = query(bp)
    paging = Paging.parse(params, catalog_types.DS_TYPE_SORTABLE, "id:ASC")
    items, total = catalog_types.list_distribution_set_types(who.tenant, params.get("q"), paging)
    root = base_url(bp)
    return json_response(paged([ds_type_json(t, root) for t in items], total))


@route(bp, BASE, methods=["POST"])
def create_types():
    who = principal(bp, "CREATE_REPOSITORY")
    specs = [rules.distribution_set_type_spec(item) for item in json_body(bp, list)]
    created = catalog_types.create_distribution_set_types(who.tenant, specs, who.username)
    root = base_url(bp)
    return json_response([ds_type_json(t, root) for t in created], status=201)


@route(bp, BASE + "/{type_id}")
def get_type(type_id):
    who = principal(bp, "READ_REPOSITORY")
    return json_response(
        ds_type_json(catalog_types.get_distribution_set_type(who.tenant, _type_id(type_id)), base_url(bp))
    )


@route(bp, BASE + "/{type_id}", methods=["PUT"])
def update_type(type_id):
    who = principal(bp, "UPDATE_REPOSITORY")
    change = rules.type_change(json_body(bp, dict))
    item = catalog_types.update_distribution_set_type(who.tenant, _type_id(type_id), change, who.username)
    return json_response(ds_type_json(item, base_url(bp)))


@route(bp, BASE + "/{type_id}", methods=["DELETE"])
def delete_type(type_id):
    who = principal(bp, "DELETE_REPOSITORY")
    catalog_types.delete_distribution_set_type(who.tenant, _type_id(type_id))
    return empty(200)


def _module_type_routes(segment: str) -> None:
    which = _WHICH[segment]

    @route(bp, f"{BASE}/{{type_id}}/{segment}", name=f"list_{which}_module_types")
    def list_module_types(type_id):
        who = principal(bp, "READ_REPOSITORY")
        root = base_url(bp)
        items = catalog_types.module_types_of(who.tenant, _type_id(type_id), which)
        return json_response([sm_type_json(t, root) for t in items])

    @route(bp, f"{BASE}/{{type_id}}/{segment}", methods=["POST"], name=f"add_{which}_module_type")
    def add_module_type(type_id):
        who = principal(bp, "UPDATE_REPOSITORY")
        # MgmtId `{"id": n}`; an array of them is accepted too (older clients).
        ids = rules.ids_of(json_body(bp, (dict, list)), segment)
        for sm_type_id in ids:
            catalog_types.add_module_type(who.tenant, _type_id(type_id), which, sm_type_id, who.username)
        return empty(200)

    @route(bp, f"{BASE}/{{type_id}}/{segment}/{{sm_type_id}}", name=f"get_{which}_module_type")
    def get_module_type(type_id, sm_type_id):
        who = principal(bp, "READ_REPOSITORY")
        item = catalog_types.module_type_of(
            who.tenant, _type_id(type_id), which, int_param(sm_type_id, "softwareModuleTypeId")
        )
        return json_response(sm_type_json(item, base_url(bp)))

    @route(bp, f"{BASE}/{{type_id}}/{segment}/{{sm_type_id}}", methods=["DELETE"], name=f"remove_{which}_module_type")
    def remove_module_type(type_id, sm_type_id):
        who = principal(bp, "UPDATE_REPOSITORY")
        catalog_types.remove_module_type(
            who.tenant, _type_id(type_id), which, int_param(sm_type_id, "softwareModuleTypeId"), who.username
        )
        return empty(200)


for _segment in _WHICH:
    _module_type_routes(_segment)
