"""Target filter queries (hawkBit TargetFilterQuery) and their auto-assignment: plain data and request rules.

A filter is a saved RSQL query over targets. With an auto-assign distribution set it assigns that set to every
matching target that never had it (hawkBit: "not in its action history"), with the filter's action type,
weight and confirmation flag. Auto-assigning filters are also kept as small `AutoAssignment` items of their
own (chalicelib/store/target_filters.py), so what evaluates a target reads those only, never every filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from chalicelib import errors
from chalicelib.domain.changes import REMOVE, Change
from chalicelib.domain.numbers import is_int64
from chalicelib.lazy import lazy_import

catalog = lazy_import("chalicelib.domain.catalog")  # its text rules

NAME_MAX = 128  # hawkBit NamedEntity.NAME_MAX_SIZE
QUERY_MAX = 1024  # hawkBit TargetFilterQuery.QUERY_MAX_SIZE
AUTO_ASSIGN_TYPES = ("forced", "soft", "downloadonly")  # hawkBit TargetFilterQuery.ALLOWED_AUTO_ASSIGN_ACTION_TYPES
ALL_ACTION_TYPES = AUTO_ASSIGN_TYPES + ("timeforced",)
WEIGHT_IF_ABSENT = 1000  # hawkBit RepositoryProperties.actionWeightIfAbsent
WEIGHT_MAX = 1000
ACTION_MESSAGE = "Auto assignment by target filter: {}"  # hawkBit AbstractAutoAssignExecutor.ACTION_MESSAGE

# RSQL / sort fields of a filter list (hawkBit TargetFilterQueryFields), records keyed by the lower-case name.
FIELDS = {"id", "name", "createdat", "createdby", "lastmodifiedat", "lastmodifiedby", "autoassigndistributionset.*"}
SORTABLE = {
    "id": "id",
    "name": "name",
    "createdat": "createdat",
    "createdby": "createdby",
    "lastmodifiedat": "lastmodifiedat",
    "lastmodifiedby": "lastmodifiedby",
}


@dataclass(frozen=True)
class TargetFilter:
    tenant: str
    sk: str
    id: int
    name: str
    query_text: str
    created_at: int
    created_by: str
    last_modified_at: int
    last_modified_by: str
    auto_assign_ds: int | None = None
    auto_assign_type: str | None = None
    auto_assign_weight: int | None = None
    confirmation_required: bool | None = None
    auto_assign_initiated_by: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class AutoAssignment:
    """What evaluating a target needs of an auto-assigning filter, kept beside the filter (`id` is its id)."""

    tenant: str
    sk: str
    id: int
    name: str
    query_text: str
    ds_id: int
    action_type: str
    weight: int
    confirmation_required: bool
    initiated_by: str


class FilterSpec(NamedTuple):
    name: str
    query: str


class FilterChange(NamedTuple):
    """A PUT: only the fields given change."""

    name: str | None
    query: str | None


class AutoAssignRequest(NamedTuple):
    ds_id: int
    action_type: str
    weight: int
    confirmation_required: bool | None  # None: the tenant's confirmation flow decides


def filter_spec(body: Any) -> FilterSpec:
    body = catalog._object(body, "target filter")
    return FilterSpec(
        name=catalog._text(body, "name", NAME_MAX, required=True),
        query=catalog._text(body, "query", QUERY_MAX, required=True),
    )


def filter_change(body: Any) -> FilterChange:
    body = catalog._object(body, "target filter")
    change = FilterChange(name=catalog._text(body, "name", NAME_MAX), query=catalog._text(body, "query", QUERY_MAX))
    for field, value in change._asdict().items():
        if value is not None and not value.strip():
            raise errors.ConstraintViolation(f"'{field}' must not be empty.", [field])
    return change


def auto_assign_request(body: Any) -> AutoAssignRequest:
    """MgmtDistributionSetAutoAssignment: `id` required; `type` forced (default), soft or downloadonly
    (timeforced: hawkBit's InvalidAutoAssignActionTypeException); `weight` 0..1000, 1000 when absent."""
    body = catalog._object(body, "auto assignment")
    ds_id = body.get("id")
    if ds_id is None:
        raise errors.ConstraintViolation("'id' of the distribution set must be given.", ["id"])
    if not is_int64(ds_id):
        raise errors.BodyNotReadable("'id' must be a number.", ["id"])
    action_type = body.get("type") or "forced"
    if action_type not in ALL_ACTION_TYPES:
        raise errors.BodyNotReadable(f"'type' must be one of {', '.join(ALL_ACTION_TYPES)}.", ["type"])
    if action_type not in AUTO_ASSIGN_TYPES:
        raise errors.InvalidAutoAssignActionType(
            f"The action type {action_type} is not allowed for auto assignments (only {', '.join(AUTO_ASSIGN_TYPES)}).",
            [action_type],
        )
    weight = body.get("weight")
    if weight is not None and (not is_int64(weight) or not 0 <= weight <= WEIGHT_MAX):
        raise errors.ConstraintViolation(f"weight must be a number between 0 and {WEIGHT_MAX}.", ["weight"])
    confirmation_required = body.get("confirmationRequired")
    if confirmation_required is not None and not isinstance(confirmation_required, bool):
        raise errors.BodyNotReadable("confirmationRequired must be true or false.", ["confirmationRequired"])
    return AutoAssignRequest(
        int(ds_id), action_type, WEIGHT_IF_ABSENT if weight is None else int(weight), confirmation_required
    )


def filter_update(change: FilterChange, user: str, now: int) -> dict[str, Any]:
    fields: dict[str, Any] = {"last_modified_at": now, "last_modified_by": user}
    if change.name is not None:
        fields["name"] = change.name
    if change.query is not None:
        fields["query_text"] = change.query
    return fields


def auto_assign_set(request: AutoAssignRequest, confirmation_required: bool, user: str, now: int) -> dict[str, Any]:
    return {
        "auto_assign_ds": request.ds_id,
        "auto_assign_type": request.action_type,
        "auto_assign_weight": request.weight,
        "confirmation_required": confirmation_required,
        "auto_assign_initiated_by": user,
        "last_modified_at": now,
        "last_modified_by": user,
    }


def auto_assign_cleared(user: str | None, now: int) -> Change:
    change: dict[str, Any] = {
        "auto_assign_ds": REMOVE,
        "auto_assign_type": REMOVE,
        "auto_assign_weight": REMOVE,
        "confirmation_required": REMOVE,
        "auto_assign_initiated_by": REMOVE,
        "last_modified_at": now,
    }
    if user is not None:
        change["last_modified_by"] = user
    return change


def auto_assignment_of(item: TargetFilter, sk: str) -> AutoAssignment:
    """The evaluation copy of an auto-assigning filter (its stored fields as they will be)."""
    assert item.auto_assign_ds is not None
    return AutoAssignment(
        item.tenant,
        sk,
        int(item.id),
        item.name,
        item.query_text,
        int(item.auto_assign_ds),
        item.auto_assign_type or "forced",
        WEIGHT_IF_ABSENT if item.auto_assign_weight is None else int(item.auto_assign_weight),
        bool(item.confirmation_required),
        item.auto_assign_initiated_by or item.created_by,
    )


def has_set(active_actions: list[dict] | None, assigned_ds: int | None, installed_ds: int | None, ds_id: int) -> bool:
    """The target has the set already: assigned, installed, or in one of its open actions."""
    if ds_id in {
        int(assigned_ds) if assigned_ds is not None else None,
        int(installed_ds) if installed_ds is not None else None,
    }:
        return True
    return any(int(a["dsId"]) == ds_id for a in active_actions or [] if a.get("dsId") is not None)
