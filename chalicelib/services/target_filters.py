"""Target filter queries (hawkBit TargetFilterQueryManagement): CRUD, the auto-assign distribution set of a
filter, and the filters of a set.

A filter's query is checked with the targets' RSQL engine and fields (services.targets.SEARCH_FIELDS) when it
is written. Setting an auto-assign set checks the set as an assignment does (404 unknown or deleted, 400
invalidated or incomplete), locks it (hawkBit locks a set implicitly when it is auto-assigned), writes the
filter and its evaluation copy in one transaction, and queues a unit of the auto-assignment job for the
targets that exist already (chalicelib/jobs/auto_assignment.py); targets that register or change later are
evaluated as they do (chalicelib/services/auto_assignment.py).

hawkBit's maxTargetsPerAutoAssignment is not enforced: it counts every matching target on each write (a
whole-tenant read in a request), while here the assignment itself runs in bounded pages (README).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib import clock, errors
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain import target_filters as rules
from chalicelib.domain.catalog_entities import DistributionSet, DistributionSetWithModules
from chalicelib.domain.changes import Missing
from chalicelib.domain.listing import Paging
from chalicelib.domain.target_filters import TargetFilter
from chalicelib.lazy import lazy_import
from chalicelib.services import catalog_lists, quotas, tenant_config
from chalicelib.store import catalog, counters
from chalicelib.store import target_filters as store
from chalicelib.store.tx import ATTEMPTS, Tx, retrying

rsql = lazy_import("chalicelib.domain.rsql")
targets = lazy_import("chalicelib.services.targets")
distribution_sets = lazy_import("chalicelib.services.distribution_sets")
auto_assignment = lazy_import("chalicelib.services.auto_assignment")
auto_assignment_job = lazy_import("chalicelib.jobs.auto_assignment")

QUOTA = "TARGET_FILTER_QUERY"
KIND = "TargetFilterQuery"


def confirmation_flow(tenant: str) -> bool:
    """Whether filters show `confirmationRequired` (hawkBit shows it while the confirmation flow is on)."""
    return bool(tenant_config.value(tenant, "user.confirmation.flow.enabled"))


# --- lists ---------------------------------------------------------------------------------------------
def _records(tenant: str, filters: list[TargetFilter], with_sets: bool) -> list[dict[str, Any]]:
    sets = (
        catalog.get_many(
            DistributionSet, tenant, {int(f.auto_assign_ds) for f in filters if f.auto_assign_ds is not None}
        )
        if with_sets
        else {}
    )
    records = []
    for item in filters:
        record = {
            "id": int(item.id),
            "name": item.name,
            "createdat": int(item.created_at),
            "createdby": item.created_by,
            "lastmodifiedat": int(item.last_modified_at),
            "lastmodifiedby": item.last_modified_by,
            catalog_lists.ENTITY: item,
        }
        ds = sets.get(int(item.auto_assign_ds)) if item.auto_assign_ds is not None else None
        record["autoassigndistributionset"] = {"name": ds.name, "version": ds.version_name} if ds else {}
        records.append(record)
    return records


def _filtered(tenant: str, filters: list[TargetFilter], q: str | None, paging: Paging) -> tuple[list, int]:
    node = rsql.parse(q, rules.FIELDS) if q else None
    fields = {f.lower() for f in node.fields()} if node is not None else set()
    with_sets = any(f.startswith("autoassigndistributionset") for f in fields)
    return catalog_lists.filter_and_page(_records(tenant, filters, with_sets), node, paging)


def list_filters(tenant: str, q: str | None, paging: Paging) -> tuple[list[TargetFilter], int]:
    """Unfiltered in id order: one page of the key-ordered Query, total from the quota counter."""
    descending = paging.sorted_by("id")
    if not q and descending is not None:
        return store.page(tenant, paging.offset, paging.limit, descending), counters.usage(tenant, QUOTA)
    return _filtered(tenant, store.all_of(tenant), q, paging)


def filters_of_set(tenant: str, ds_id: int, q: str | None, paging: Paging) -> tuple[list[TargetFilter], int]:
    """The filters auto-assigning the set (404 for an unknown set): read from the auto-assigning filters'
    copies, then those filters (one BatchGet)."""
    if catalog.get(DistributionSet, tenant, ds_id) is None:
        raise errors.EntityNotFound.of("DistributionSet", ds_id)
    ids = [a.id for a in store.auto_assignments(tenant, consistent=True) if int(a.ds_id) == int(ds_id)]
    found = [f for f in store.get_many(tenant, ids) if f.auto_assign_ds == int(ds_id)]
    return _filtered(tenant, found, q, paging)


def auto_assignment_statistics(tenant: str, ds_id: int) -> int:
    """GET /distributionsets/{id}/statistics/autoassignments: 404 for an unknown set, else the count."""
    if catalog.get(DistributionSet, tenant, ds_id) is None:
        raise errors.EntityNotFound.of("DistributionSet", ds_id)
    return auto_assignment_count(tenant, ds_id)


def auto_assignment_count(tenant: str, ds_id: int) -> int:
    """How many filters auto-assign the set (DistributionSetStatistics.totalAutoAssignments)."""
    return sum(1 for a in store.auto_assignments(tenant, consistent=True) if int(a.ds_id) == int(ds_id))


# --- one filter --------------------------------------------------------------------------------------------
def get_filter(tenant: str, filter_id: int) -> TargetFilter:
    item = store.get(tenant, filter_id)
    if item is None:
        raise errors.EntityNotFound.of(KIND, filter_id)
    return item


def _check_query(query: str) -> None:
    rsql.parse(query, targets.SEARCH_FIELDS)  # 400 rsqlParamSyntax / rsqlInvalidField


def _duplicate(name: str) -> errors.SkyhawkError:
    return errors.EntityAlreadyExists(f"A target filter query with name '{name}' already exists.", [name])


def create_filter(tenant: str, spec: rules.FilterSpec, user: str) -> TargetFilter:
    _check_query(spec.query)
    quota_rules.check_create(1, quotas.limit(QUOTA), "target filter queries", counters.usage(tenant, QUOTA))
    if store.names_taken(tenant, [spec.name]):
        raise _duplicate(spec.name)
    (filter_id,) = counters.allocate_ids(tenant, store.SEQUENCE, 1)
    now = clock.now_ms()
    item = TargetFilter(
        tenant,
        store.sort_key(filter_id),
        filter_id,
        spec.name,
        spec.query,
        created_at=now,
        created_by=user,
        last_modified_at=now,
        last_modified_by=user,
    )
    tx = Tx().put(item, condition=Missing("sk"))
    store.claim_name(tx, tenant, spec.name, filter_id, lambda: _duplicate(spec.name))
    quotas.charge(tx, tenant, QUOTA, 1)
    tx.commit()
    return get_filter(tenant, filter_id)


def _with_copy(tx: Tx, item: TargetFilter) -> Tx:
    """The auto-assigning filter's evaluation copy, as the filter will be after `tx`."""
    return tx.put(rules.auto_assignment_of(item, store.auto_sort_key(item.id)))


def update_filter(tenant: str, filter_id: int, change: rules.FilterChange, user: str) -> TargetFilter:
    if change.query is not None:
        _check_query(change.query)

    def attempt() -> None:
        item = get_filter(tenant, filter_id)
        update = rules.filter_update(change, user, clock.now_ms())
        tx = Tx().update(item, update)  # on the version read
        if change.name is not None and change.name != item.name:
            store.release_name(tx, tenant, item.name)
            store.claim_name(tx, tenant, change.name, item.id, lambda: _duplicate(str(change.name)))
        if item.auto_assign_ds is not None:
            _with_copy(tx, _updated(item, update))
        tx.commit()

    retrying(ATTEMPTS, attempt)
    _changed(tenant)
    item = get_filter(tenant, filter_id)
    if change.query is not None and item.auto_assign_ds is not None:
        auto_assignment_job.enqueue(tenant, filter_id)  # a new query may match targets that exist already
    return item


def delete_filter(tenant: str, filter_id: int) -> None:
    def attempt() -> None:
        item = get_filter(tenant, filter_id)
        tx = Tx().delete(item)
        store.release_name(tx, tenant, item.name)
        if item.auto_assign_ds is not None:
            tx.delete(store.auto_assignment_key(tenant, item.id))
        quotas.release(tx, tenant, QUOTA, 1)
        tx.commit()

    retrying(ATTEMPTS, attempt)
    _changed(tenant)


# --- the auto-assign distribution set ------------------------------------------------------------------------
def auto_assign_set(tenant: str, filter_id: int) -> DistributionSetWithModules | None:
    """The set the filter auto-assigns, with its modules; None when it assigns none."""
    item = get_filter(tenant, filter_id)
    if item.auto_assign_ds is None:
        return None
    return distribution_sets.get_distribution_set(tenant, int(item.auto_assign_ds))


def set_auto_assign(tenant: str, filter_id: int, request: rules.AutoAssignRequest, user: str) -> TargetFilter:
    get_filter(tenant, filter_id)  # 404 for the filter before the set is looked at
    distribution_sets.lock_for_assignment(tenant, request.ds_id)  # 404 / 400; hawkBit locks it implicitly
    required = confirmation_flow(tenant) if request.confirmation_required is None else request.confirmation_required

    def attempt() -> None:
        item = get_filter(tenant, filter_id)
        update = rules.auto_assign_set(request, required, user, clock.now_ms())
        tx = Tx().update(item, update)
        _with_copy(tx, _updated(item, update))
        tx.commit()

    retrying(ATTEMPTS, attempt)
    _changed(tenant)
    auto_assignment_job.enqueue(tenant, filter_id)  # the targets that exist already, in bounded units
    return get_filter(tenant, filter_id)


def clear_auto_assign(tenant: str, filter_id: int, user: str) -> None:
    def attempt() -> None:
        item = get_filter(tenant, filter_id)
        tx = Tx().update(item, rules.auto_assign_cleared(user, clock.now_ms()))
        tx.delete(store.auto_assignment_key(tenant, item.id))
        tx.commit()

    retrying(ATTEMPTS, attempt)
    _changed(tenant)


def drop_auto_assignments(tenant: str, ds_id: int) -> int:
    """hawkBit's cancelAutoAssignmentForDistributionSet: the filters auto-assigning a set that is deleted or
    invalidated stop doing so. Returns how many did. Idempotent (a retry finds none left)."""
    dropped = 0
    for copy in store.auto_assignments(tenant, consistent=True):
        if int(copy.ds_id) != int(ds_id):
            continue

        def attempt(filter_id: int = copy.id) -> bool:
            item = store.get(tenant, filter_id)
            if item is None or item.auto_assign_ds is None or int(item.auto_assign_ds) != int(ds_id):
                return False  # changed meanwhile: its copy is the new assignment's (same transactions)
            (
                Tx()
                .update(item, rules.auto_assign_cleared(None, clock.now_ms()))  # on the version read
                .delete(store.auto_assignment_key(tenant, filter_id))
                .commit()
            )
            return True

        dropped += int(retrying(ATTEMPTS, attempt))
    _changed(tenant)
    return dropped


def _updated(item: TargetFilter, update: dict[str, Any]) -> TargetFilter:
    return replace(item, **update)


def _changed(tenant: str) -> None:
    auto_assignment.forget(tenant)  # this container sees the change at once; others within their cache's life
