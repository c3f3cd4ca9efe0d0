"""/rest/v1/targetfilters with their auto-assign distribution set, and the filters of a set
(/rest/v1/distributionsets/{id}/autoAssignTargetFilters, /statistics/autoassignments).

Permissions as hawkBit: target permissions for filters; setting an auto-assign set also takes READ_REPOSITORY,
and the set's views take READ_REPOSITORY (with READ_TARGET for the filters). Deletes answer 204 as hawkBit's
resource does, and GET autoAssignDS answers 204 when the filter assigns no set.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.catalog_views import audit, paged, without_none
from chalicelib.api.common import base_url, empty, int_param, json_body, json_response, principal, query, route
from chalicelib.api.distributionsets import ds_json
from chalicelib.domain.listing import Paging
from chalicelib.domain.target_filters import TargetFilter
from chalicelib.lazy import lazy_import

rules = lazy_import("chalicelib.domain.target_filters")
target_filters = lazy_import("chalicelib.services.target_filters")

bp = Blueprint(__name__)

BASE = "/rest/v1/targetfilters"
SETS = "/rest/v1/distributionsets"


def filter_json(item: TargetFilter, root: str, confirmation_flow: bool, full: bool = False) -> dict[str, Any]:
    """hawkBit MgmtTargetFilterQuery: the auto-assign fields while a set is auto-assigned, `confirmationRequired`
    only while the tenant's confirmation flow is on; a single filter links its autoAssignDS."""
    href = f"{root}{BASE}/{int(item.id)}"
    body: dict[str, Any] = {**audit(item), "id": int(item.id), "name": item.name, "query": item.query_text}
    if item.auto_assign_ds is not None:
        body["autoAssignDistributionSet"] = int(item.auto_assign_ds)
        body["autoAssignActionType"] = item.auto_assign_type
        body["autoAssignWeight"] = None if item.auto_assign_weight is None else int(item.auto_assign_weight)
        if confirmation_flow:
            body["confirmationRequired"] = bool(item.confirmation_required)
    links = {"self": {"href": href}}
    if full:
        links["autoAssignDS"] = {"href": f"{href}/autoAssignDS"}
    body["_links"] = links
    return without_none(body)


def _filter_id(value: str) -> int:
    return int_param(value, "filterId")


def _paged(who, items: list[TargetFilter], total: int):
    root, flow = base_url(bp), target_filters.confirmation_flow(who.tenant)
    return json_response(paged([filter_json(f, root, flow) for f in items], total))


def _one(who, item: TargetFilter):
    return json_response(filter_json(item, base_url(bp), target_filters.confirmation_flow(who.tenant), full=True))


@route(bp, BASE)
def list_filters():
    who = principal(bp, "READ_TARGET")
    params = query(bp)
    paging = Paging.parse(params, rules.SORTABLE, "id:ASC")
    return _paged(who, *target_filters.list_filters(who.tenant, params.get("q"), paging))


@route(bp, BASE, methods=["POST"])
def create_filter():
    who = principal(bp, "CREATE_TARGET")
    item = target_filters.create_filter(who.tenant, rules.filter_spec(json_body(bp, dict)), who.username)
    return json_response(
        filter_json(item, base_url(bp), target_filters.confirmation_flow(who.tenant), full=True), status=201
    )


@route(bp, BASE + "/{filter_id}")
def get_filter(filter_id):
    who = principal(bp, "READ_TARGET")
    return _one(who, target_filters.get_filter(who.tenant, _filter_id(filter_id)))


@route(bp, BASE + "/{filter_id}", methods=["PUT"])
def update_filter(filter_id):
    who = principal(bp, "UPDATE_TARGET")
    change = rules.filter_change(json_body(bp, dict))
    return _one(who, target_filters.update_filter(who.tenant, _filter_id(filter_id), change, who.username))


@route(bp, BASE + "/{filter_id}", methods=["DELETE"])
def delete_filter(filter_id):
    who = principal(bp, "DELETE_TARGET")
    target_filters.delete_filter(who.tenant, _filter_id(filter_id))
    return empty(204)


@route(bp, BASE + "/{filter_id}/autoAssignDS")
def get_auto_assign_ds(filter_id):
    who = principal(bp, "READ_TARGET")
    ds = target_filters.auto_assign_set(who.tenant, _filter_id(filter_id))
    return empty(204) if ds is None else json_response(ds_json(ds, base_url(bp)))


@route(bp, BASE + "/{filter_id}/autoAssignDS", methods=["POST"])
def set_auto_assign_ds(filter_id):
    who = principal(bp, "UPDATE_TARGET", "READ_REPOSITORY")
    request = rules.auto_assign_request(json_body(bp, dict))
    return _one(who, target_filters.set_auto_assign(who.tenant, _filter_id(filter_id), request, who.username))


@route(bp, BASE + "/{filter_id}/autoAssignDS", methods=["DELETE"])
def clear_auto_assign_ds(filter_id):
    who = principal(bp, "UPDATE_TARGET")
    target_filters.clear_auto_assign(who.tenant, _filter_id(filter_id), who.username)
    return empty(204)


@route(bp, SETS + "/{ds_id}/autoAssignTargetFilters")
def filters_of_set(ds_id):
    who = principal(bp, "READ_REPOSITORY", "READ_TARGET")
    params = query(bp)
    paging = Paging.parse(params, rules.SORTABLE, "id:ASC")
    return _paged(
        who, *target_filters.filters_of_set(who.tenant, int_param(ds_id, "distributionSetId"), params.get("q"), paging)
    )


@route(bp, SETS + "/{ds_id}/statistics/autoassignments")
def auto_assignment_statistics(ds_id):
    who = principal(bp, "READ_REPOSITORY")
    count = target_filters.auto_assignment_statistics(who.tenant, int_param(ds_id, "distributionSetId"))
    return json_response({"totalAutoAssignments": count})
