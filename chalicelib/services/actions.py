"""Reading actions and their history for the Management API (hawkBit ActionFields for q= and sort)."""

from __future__ import annotations

from itertools import islice
from typing import Any, Iterable

from chalicelib import errors
from chalicelib.domain import listing
from chalicelib.domain.actions import Action, ActionStatusEntry
from chalicelib.lazy import lazy_import
from chalicelib.store import actions as store
from chalicelib.store import targets as target_store

rsql = lazy_import("chalicelib.domain.rsql")  # only lists with q= parse queries

SORT_FIELDS = {
    "id": "id",
    "active": "active",
    "status": "status",
    "detailstatus": "detailStatus",
    "weight": "weight",
    "createdat": "createdAt",
    "lastmodifiedat": "lastModifiedAt",
    "laststatuscode": "lastStatusCode",
}
SEARCH_FIELDS = {
    "id",
    "active",
    "status",
    "detailstatus",
    "weight",
    "laststatuscode",
    "createdat",
    "createdby",
    "lastmodifiedat",
    "lastmodifiedby",
    "externalref",
    "target.*",
    "distributionset.*",
}
STATUS_SORT_FIELDS = {"id": "id", "reportedat": "reportedAt", "timestamp": "timestamp"}


def view(action: Action) -> dict[str, Any]:
    """Fields q= and sort see, as rendered: status (and its older name detailStatus) is the action's status,
    active whether it is open."""
    return {
        "id": int(action.action_id),
        "active": bool(action.active),
        "status": action.status.lower(),
        "detailstatus": action.status.lower(),
        "detailStatus": action.status.lower(),
        "weight": action.weight,
        "laststatuscode": action.last_status_code,
        "lastStatusCode": action.last_status_code,
        "createdat": action.created_at,
        "createdAt": action.created_at,
        "createdby": action.created_by,
        "lastmodifiedat": action.last_modified_at,
        "lastModifiedAt": action.last_modified_at,
        "lastmodifiedby": action.last_modified_by,
        "externalref": action.external_ref,
        "target": {"controllerid": action.controller_id},
        "distributionset": {"id": int(action.ds_id), "name": action.ds_name, "version": action.ds_version},
    }


def _filtered(actions: Iterable[Action], params: dict[str, str]) -> tuple[list[Action], int]:
    paging = listing.Paging.parse(params, SORT_FIELDS, "id:DESC")
    node = rsql.parse(params["q"], SEARCH_FIELDS) if params.get("q") else None
    return listing.filter_and_page(((view(action), action) for action in actions), node, paging)


def _first_in_id_order(tenant: str, paging: listing.Paging, newest_first: bool) -> list[Action]:
    """The page's actions from the by-tenant index's keys (offset + limit of them), then only the page's items."""
    end = paging.offset + paging.limit
    keys = list(islice(store.keys_of_tenant(tenant, newest_first, page=min(end, 100)), paging.offset, end))
    found = {(a.controller_id, int(a.action_id)): a for a in store.find_many(tenant, keys)}
    return [found[key] for key in keys if key in found]


def of_target(tenant: str, controller_id: str, params: dict[str, str]) -> tuple[list[Action], int]:
    if target_store.find(tenant, controller_id) is None:
        raise errors.EntityNotFound.of("Target", controller_id)
    return _filtered(store.of_target(tenant, controller_id), params)


def of_tenant(tenant: str, params: dict[str, str]) -> tuple[list[Action], int]:
    """In id order without `q=`: only the page's keys and items, and the count of the index's keys. Any other
    list reads the tenant's actions, up to listing.SCAN_CAP (400 past it)."""
    paging = listing.Paging.parse(params, SORT_FIELDS, "id:DESC")
    descending = paging.sorted_by("id")
    if not params.get("q") and descending is not None:
        return _first_in_id_order(tenant, paging, descending), store.count_of_tenant(tenant)
    return _filtered(
        listing.capped(
            store.of_tenant(tenant),
            listing.SCAN_CAP,
            "actions",
            "list a target's actions (/targets/{id}/actions) instead.",
        ),
        params,
    )


def get(tenant: str, controller_id: str, action_id: int) -> Action:
    if target_store.find(tenant, controller_id) is None:
        raise errors.EntityNotFound.of("Target", controller_id)
    action = store.find(tenant, controller_id, action_id)
    if action is None:
        raise errors.EntityNotFound.of("Action", action_id)
    return action


def get_by_id(tenant: str, action_id: int) -> Action:
    action = store.find_by_id(tenant, action_id)
    if action is None:
        raise errors.EntityNotFound.of("Action", action_id)
    return action


def history(
    tenant: str, controller_id: str, action_id: int, params: dict[str, str]
) -> tuple[list[ActionStatusEntry], int]:
    get(tenant, controller_id, action_id)
    paging = listing.Paging.parse(params, STATUS_SORT_FIELDS, "id:DESC")
    entries = list(store.history(tenant, action_id))
    return listing.filter_and_page(
        (({"id": int(e.status_id), "reportedAt": e.reported_at, "timestamp": e.timestamp}, e) for e in entries),
        None,
        paging,
    )
