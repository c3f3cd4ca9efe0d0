"""Target types (hawkBit TargetTypeManagement) and a target's type.

Types live in the catalog table beside the distribution set types, and are created, listed and guarded
(unique key and name) the way those are (chalicelib/services/catalog_types.py). A type in use by targets
cannot be deleted (hawkBit TargetTypeInUseException, 409): the check reads the type's key in the targets'
sparse by-type index (one Query, whatever the tenant's size). A target given the type while its delete runs keeps the id of a
type that is gone: it is shown without a type name and, like a target without a type, accepts any set. Assigning a set checks each target's type with one
BatchGet of the types involved (`check_compatible`); targets without a type accept any set.
"""

from __future__ import annotations

from itertools import islice
from typing import Iterable

from chalicelib import clock, errors
from chalicelib.domain import catalog as catalog_rules
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain import tags as tag_rules
from chalicelib.domain import target_types as rules
from chalicelib.domain.catalog_entities import DistributionSetType, TargetType
from chalicelib.domain.changes import REMOVE, Missing
from chalicelib.domain.listing import Paging
from chalicelib.domain.targets import Target
from chalicelib.lazy import lazy_import
from chalicelib.services import catalog_lists, quotas
from chalicelib.services import catalog_types as types
from chalicelib.store import catalog, counters
from chalicelib.store import targets as target_store
from chalicelib.store.tx import ATTEMPTS, Tx, retrying

auto_assignment = lazy_import("chalicelib.services.auto_assignment")

QUOTA = "TARGET_TYPE"
KIND = "TargetType"
GUARD = "ttype"
FIELDS = types.DS_TYPE_FIELDS
SORTABLE = types.DS_TYPE_SORTABLE


# --- types -------------------------------------------------------------------------------------------
def list_types(tenant: str, q: str | None, paging: Paging) -> tuple[list[TargetType], int]:
    return catalog_lists.list_kind(TargetType, tenant, q, paging, FIELDS, types.keyed_type_record, QUOTA)


def get_type(tenant: str, type_id: int) -> TargetType:
    return types.by_id(TargetType, tenant, type_id, live=True)


def _live_ds_types(tenant: str, ids: Iterable[int]) -> dict[int, DistributionSetType]:
    """The distribution set types by id; 404 for the first one that does not exist (or is deleted)."""
    found = catalog.get_many(DistributionSetType, tenant, ids)
    for ds_type_id in sorted({int(i) for i in ids}):
        if ds_type_id not in found or found[ds_type_id].deleted:
            raise errors.EntityNotFound.of("DistributionSetType", ds_type_id)
    return found


def _add_puts(tx: Tx, tenant: str, item: TargetType) -> Tx:
    tx.put(item, condition=Missing("sk"))
    catalog.claim_unique(
        tx, tenant, f"{GUARD}-key", (item.key,), item.id, lambda key=item.key: types.duplicate(KIND, key)
    )
    return catalog.claim_unique(
        tx, tenant, f"{GUARD}-name", (item.name,), item.id, lambda name=item.name: types.duplicate(KIND, name)
    )


def create_types(tenant: str, specs: list[rules.TargetTypeSpec], user: str) -> list[TargetType]:
    types.refuse_repeats([s.key for s in specs], KIND)
    types.refuse_repeats([s.name for s in specs], KIND)
    limit = quotas.limit(QUOTA)
    quota_rules.check_create(len(specs), limit, "target types", counters.usage(tenant, QUOTA))
    if not specs:
        return []
    _live_ds_types(tenant, {i for s in specs for i in s.compatible})
    types.refuse_taken(tenant, KIND, GUARD, specs)
    ids = counters.allocate_ids(tenant, catalog.SEQUENCE[TargetType], len(specs))
    now = clock.now_ms()
    items = [
        TargetType(
            tenant=tenant,
            sk=catalog.sort_key(TargetType, type_id),
            id=type_id,
            key=spec.key,
            name=spec.name,
            description=spec.description,
            colour=spec.colour,
            compatible=list(spec.compatible),
            created_at=now,
            created_by=user,
            last_modified_at=now,
            last_modified_by=user,
        )
        for type_id, spec in zip(ids, specs)
    ]
    types.write_all(tenant, QUOTA, items, GUARD, _add_puts)
    return items


def update_type(tenant: str, type_id: int, change: tag_rules.TagChange, user: str) -> TargetType:
    """Name, description and colour; a new name takes its guard in the same transaction (409 when taken)."""

    def attempt() -> TargetType:
        item = get_type(tenant, type_id)
        tx = Tx().update(item, tag_rules.tag_update(change, user, clock.now_ms()))  # on the version read
        if change.name is not None and change.name != item.name:
            catalog.release_unique(tx, tenant, f"{GUARD}-name", (item.name,))
            catalog.claim_unique(
                tx, tenant, f"{GUARD}-name", (change.name,), item.id, lambda: types.duplicate(KIND, str(change.name))
            )
        tx.commit()
        return get_type(tenant, type_id)

    return retrying(ATTEMPTS, attempt)


def delete_type(tenant: str, type_id: int) -> None:
    def attempt() -> None:
        item = get_type(tenant, type_id)
        if _in_use(tenant, type_id):
            raise errors.TargetTypeInUse(
                f"Target type {item.name} is in use by targets and cannot be deleted.", [item.name]
            )
        tx = Tx().delete(item)
        catalog.release_unique(tx, tenant, f"{GUARD}-key", (item.key,))
        catalog.release_unique(tx, tenant, f"{GUARD}-name", (item.name,))
        quotas.release(tx, tenant, QUOTA, 1)
        tx.commit()

    retrying(ATTEMPTS, attempt)


def _in_use(tenant: str, type_id: int) -> bool:
    """A live target holds the type: the by-type index's keys, 25 at a time, checked against the targets (one
    being deleted does not count); the first batch decides unless the targets in it are all being deleted."""
    held = target_store.holding_type(tenant, type_id)
    while batch := list(islice(held, 25)):
        if target_store.find_many(tenant, batch):
            return True
    return False


def delete_if_exists(tenant: str, type_id: int) -> None:
    """The reaper's rollback of a create that never completed."""
    if catalog.get(TargetType, tenant, type_id) is not None:
        delete_type(tenant, type_id)


# --- compatible distribution set types ----------------------------------------------------------------
def compatible_of(tenant: str, type_id: int) -> list[DistributionSetType]:
    item = get_type(tenant, type_id)
    found = catalog.get_many(DistributionSetType, tenant, item.compatible)
    return [found[int(i)] for i in item.compatible if int(i) in found]


def add_compatible(tenant: str, type_id: int, ds_type_ids: tuple[int, ...], user: str) -> None:
    def attempt() -> None:
        item = get_type(tenant, type_id)
        _live_ds_types(tenant, ds_type_ids)
        compatible = rules.with_compatible(item.compatible, ds_type_ids)
        rules.check_compatible_count(len(compatible))
        catalog.update(item, {"compatible": compatible, **catalog_rules.modified(user, clock.now_ms())})

    retrying(ATTEMPTS, attempt)


def remove_compatible(tenant: str, type_id: int, ds_type_id: int, user: str) -> None:
    def attempt() -> None:
        item = get_type(tenant, type_id)
        _live_ds_types(tenant, [ds_type_id])
        compatible = [int(i) for i in item.compatible if int(i) != int(ds_type_id)]
        catalog.update(item, {"compatible": compatible, **catalog_rules.modified(user, clock.now_ms())})

    retrying(ATTEMPTS, attempt)


# --- a target's type ---------------------------------------------------------------------------------
def id_by_name(tenant: str, name: str) -> int | None:
    """The id of the type named `name` (its unique-name guard, one GetItem), None when there is none."""
    return catalog.unique_owner(tenant, f"{GUARD}-name", name)


def check_exists(tenant: str, type_ids: Iterable[int]) -> None:
    """404 for the first named type that does not exist (one BatchGet; none when no type is named)."""
    found = catalog.get_many(TargetType, tenant, type_ids)
    for type_id in sorted({int(i) for i in type_ids}):
        if type_id not in found:
            raise errors.EntityNotFound.of(KIND, type_id)


def assign_to_target(tenant: str, controller_id: str, type_id: int | None, user: str) -> None:
    """POST (a type id) / DELETE (None) /targets/{id}/targettype."""
    if type_id is not None:
        get_type(tenant, type_id)

    def attempt() -> None:
        target = target_store.find(tenant, controller_id)
        if target is None:
            raise errors.EntityNotFound.of("Target", controller_id)
        change = {
            "target_type": REMOVE if type_id is None else int(type_id),
            "last_modified_at": clock.now_ms(),
            "last_modified_by": user,
        }
        Tx().update(target, change, condition=target_store.live_condition()).commit()

    retrying(ATTEMPTS, attempt)
    auto_assignment.changed(tenant, [controller_id])


def names_of(tenant: str, targets: Iterable[Target]) -> dict[int, str]:
    """The names of the targets' types (one BatchGet, none when no target has a type)."""
    found = catalog.get_many(TargetType, tenant, {int(t.target_type) for t in targets if t.target_type is not None})
    return {type_id: item.name for type_id, item in found.items()}


def check_compatible(tenant: str, targets: Iterable[Target], ds_type_id: int, ds_type_name: str) -> None:
    """hawkBit's IncompatibleTargetTypeException (400) when any target's type does not list the set's type:
    the whole assignment is refused (one BatchGet of the types named, none when no target has a type)."""
    found = catalog.get_many(TargetType, tenant, {int(t.target_type) for t in targets if t.target_type is not None})
    refused = rules.incompatible(found.values(), ds_type_id)
    if refused:
        names = [t.name for t in refused]
        raise errors.TargetTypeIncompatible(
            f"Targets of types {names} are not compatible with distribution set of type {ds_type_name}",
            [*names, ds_type_name],
        )
