"""Software module types and distribution set types (hawkBit `SoftwareModuleTypeManagement`,
`DistributionSetTypeManagement`).

Keys and names are unique per tenant (guard items in the creating transaction). Creating several
types is all or nothing: taken keys and names are refused before the first write, and if a later
transaction still fails, the earlier ones are undone. A type still used by modules / sets (or, for
module types, named by a set type) is soft-deleted (`deleted=true`, hidden from lists, its key free
again); an unused one is removed. A set type's module types are
read-only once a distribution set uses it (hawkBit `EntityReadOnlyException`).
"""

from __future__ import annotations

from typing import Literal

from chalicelib import clock, errors
from chalicelib.domain import catalog as rules
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain.catalog_entities import DistributionSetType, SoftwareModuleType
from chalicelib.domain.changes import Missing, applied, eq
from chalicelib.domain.listing import Paging
from chalicelib.services import bulk_creates, catalog_lists, quotas
from chalicelib.store import catalog, counters
from chalicelib.store.all_or_nothing import AllOrNothing
from chalicelib.store.tx import ATTEMPTS, Tx, retrying

Which = Literal["mandatory", "optional"]

SM_TYPE_FIELDS = catalog_lists.BASE_FIELDS | {"key", "maxassignments", "colour"}
DS_TYPE_FIELDS = catalog_lists.BASE_FIELDS | {"key", "colour"}  # target types' too
SM_TYPE_SORTABLE = catalog_lists.sortable(SM_TYPE_FIELDS)
DS_TYPE_SORTABLE = catalog_lists.sortable(DS_TYPE_FIELDS)


def duplicate(kind: str, value: str) -> errors.EntityAlreadyExists:
    return errors.EntityAlreadyExists(f"{kind} with given key or name {{{value}}} already exists.", [kind, value])


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


CREATE_CHUNK = 32  # types per transaction: 3 items each + the usage counter + the journal's room


def refuse_taken(tenant: str, kind: str, guard: str, specs: list) -> None:
    """409 for the first key or name (in request order) that another type holds already: one BatchGet."""
    wanted = [(f"{guard}-{field}", (getattr(spec, field),)) for spec in specs for field in ("key", "name")]
    taken = catalog.taken_unique(tenant, wanted)
    for natural in wanted:
        if natural in taken:
            raise duplicate(kind, natural[1][0])


def write_all(tenant: str, quota: str, items: list, guard: str, add_puts) -> None:
    """Items with their key and name guards (`add_puts`), per transaction, all or none (store.all_or_nothing)."""
    entity = {
        "smtype": bulk_creates.SOFTWARE_MODULE_TYPES,
        "dstype": bulk_creates.DISTRIBUTION_SET_TYPES,
        "ttype": bulk_creates.TARGET_TYPES,
    }[guard]
    with AllOrNothing(tenant, entity) as steps:
        for chunk in _chunks(items, CREATE_CHUNK):
            tx, undo = Tx(), Tx()
            for item in chunk:
                add_puts(tx, tenant, item)
                undo.delete(item, add_version_condition=False)
                catalog.release_unique(undo, tenant, f"{guard}-key", (item.key,))
                catalog.release_unique(undo, tenant, f"{guard}-name", (item.name,))
            quotas.charge(tx, tenant, quota, len(chunk))
            quotas.release(undo, tenant, quota, len(chunk))
            steps.commit(tx, undo, created=[int(item.id) for item in chunk])


# --- software module types ---------------------------------------------------------------------
def _sm_type_record(item: SoftwareModuleType) -> dict:
    return {
        **catalog_lists.base_record(item),
        "key": item.key,
        "colour": item.colour,
        "maxassignments": int(item.max_assignments),
    }


def list_software_module_types(tenant: str, q: str | None, paging: Paging) -> tuple[list[SoftwareModuleType], int]:
    return catalog_lists.list_kind(
        SoftwareModuleType, tenant, q, paging, SM_TYPE_FIELDS, _sm_type_record, "SOFTWARE_MODULE_TYPE"
    )


def by_id(kind, tenant: str, type_id: int, live: bool):
    """A type by id; soft-deleted types are still answered unless `live` (hawkBit shows them as deleted)."""
    item = catalog.get(kind, tenant, type_id)
    if item is None or (live and item.deleted):
        raise errors.EntityNotFound.of(kind.__name__, type_id)
    return item


def get_software_module_type(tenant: str, type_id: int) -> SoftwareModuleType:
    return by_id(SoftwareModuleType, tenant, type_id, live=False)


def _live_sm_type(tenant: str, type_id: int) -> SoftwareModuleType:
    return by_id(SoftwareModuleType, tenant, type_id, live=True)


def software_module_type_by_key(tenant: str, key: str) -> SoftwareModuleType:
    item = catalog.find_sm_type_by_key(tenant, key)
    if item is None or item.deleted:
        raise errors.EntityNotFound.of("SoftwareModuleType", key)
    return item


def new_sm_type_item(
    tenant: str, type_id: int, spec: rules.SoftwareModuleTypeSpec, user: str, now: int
) -> SoftwareModuleType:
    return SoftwareModuleType(
        tenant=tenant,
        sk=catalog.sort_key(SoftwareModuleType, type_id),
        id=type_id,
        key=spec.key,
        name=spec.name,
        description=spec.description,
        colour=spec.colour,
        max_assignments=spec.max_assignments,
        deleted=False,
        used_by=0,
        created_at=now,
        created_by=user,
        last_modified_at=now,
        last_modified_by=user,
    )


def add_sm_type_puts(tx: Tx, tenant: str, item: SoftwareModuleType) -> Tx:
    tx.put(item, condition=Missing("sk"))
    catalog.claim_unique(
        tx, tenant, "smtype-key", (item.key,), item.id, lambda key=item.key: duplicate("SoftwareModuleType", key)
    )
    return catalog.claim_unique(
        tx, tenant, "smtype-name", (item.name,), item.id, lambda name=item.name: duplicate("SoftwareModuleType", name)
    )


def create_software_module_types(
    tenant: str, specs: list[rules.SoftwareModuleTypeSpec], user: str
) -> list[SoftwareModuleType]:
    refuse_repeats([s.key for s in specs], "SoftwareModuleType")
    refuse_repeats([s.name for s in specs], "SoftwareModuleType")
    limit = quotas.limit("SOFTWARE_MODULE_TYPE")
    quota_rules.check_create(len(specs), limit, "software module types")
    if not specs:
        return []
    refuse_taken(tenant, "SoftwareModuleType", "smtype", specs)
    ids = counters.allocate_ids(tenant, catalog.SEQUENCE[SoftwareModuleType], len(specs))
    now = clock.now_ms()
    items = [new_sm_type_item(tenant, type_id, spec, user, now) for type_id, spec in zip(ids, specs)]
    write_all(tenant, "SOFTWARE_MODULE_TYPE", items, "smtype", add_sm_type_puts)
    return items


def refuse_repeats(values: list[str], kind: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise duplicate(kind, value)
        seen.add(value)


def update_software_module_type(tenant: str, type_id: int, change: rules.TypeChange, user: str) -> SoftwareModuleType:
    # version condition: a concurrent change -> retry on fresh data
    return retrying(
        ATTEMPTS,
        lambda: catalog.update(_live_sm_type(tenant, type_id), rules.type_update(change, user, clock.now_ms())),
    )


def delete_software_module_type(tenant: str, type_id: int) -> None:
    def attempt() -> None:
        item = _live_sm_type(tenant, type_id)
        named_by_set_types = any(
            int(type_id) in {int(i) for i in list(t.mandatory) + list(t.optional)}
            for t in catalog.all_visible(DistributionSetType, tenant)
        )
        tx = Tx()
        if rules.soft_delete(False, int(item.used_by or 0) + int(named_by_set_types)):
            tx.update(item, rules.marked_deleted(clock.now_ms()))
        else:
            tx.delete(item)
        catalog.release_unique(tx, tenant, "smtype-key", (item.key,))
        catalog.release_unique(tx, tenant, "smtype-name", (item.name,))
        quotas.release(tx, tenant, "SOFTWARE_MODULE_TYPE", 1)
        tx.commit()

    retrying(ATTEMPTS, attempt)


# --- distribution set types -------------------------------------------------------------------------
def keyed_type_record(item) -> dict:
    """A type with a key and a colour (distribution set types, target types) as a list's record."""
    return {**catalog_lists.base_record(item), "key": item.key, "colour": item.colour}


def list_distribution_set_types(tenant: str, q: str | None, paging: Paging) -> tuple[list[DistributionSetType], int]:
    return catalog_lists.list_kind(
        DistributionSetType, tenant, q, paging, DS_TYPE_FIELDS, keyed_type_record, "DISTRIBUTION_SET_TYPE"
    )


def get_distribution_set_type(tenant: str, type_id: int) -> DistributionSetType:
    return by_id(DistributionSetType, tenant, type_id, live=False)


def _live_ds_type(tenant: str, type_id: int) -> DistributionSetType:
    return by_id(DistributionSetType, tenant, type_id, live=True)


def distribution_set_type_by_key(tenant: str, key: str) -> DistributionSetType:
    item = catalog.find_ds_type_by_key(tenant, key)
    if item is None or item.deleted:
        raise errors.EntityNotFound.of("DistributionSetType", key)
    return item


def new_ds_type_item(
    tenant: str, type_id: int, spec: rules.DistributionSetTypeSpec, user: str, now: int
) -> DistributionSetType:
    return DistributionSetType(
        tenant=tenant,
        sk=catalog.sort_key(DistributionSetType, type_id),
        id=type_id,
        key=spec.key,
        name=spec.name,
        description=spec.description,
        colour=spec.colour,
        mandatory=list(spec.mandatory),
        optional=list(spec.optional),
        deleted=False,
        used_by=0,
        created_at=now,
        created_by=user,
        last_modified_at=now,
        last_modified_by=user,
    )


def add_ds_type_puts(tx: Tx, tenant: str, item: DistributionSetType) -> Tx:
    tx.put(item, condition=Missing("sk"))
    catalog.claim_unique(
        tx, tenant, "dstype-key", (item.key,), item.id, lambda key=item.key: duplicate("DistributionSetType", key)
    )
    return catalog.claim_unique(
        tx, tenant, "dstype-name", (item.name,), item.id, lambda name=item.name: duplicate("DistributionSetType", name)
    )


def create_distribution_set_types(
    tenant: str, specs: list[rules.DistributionSetTypeSpec], user: str
) -> list[DistributionSetType]:
    refuse_repeats([s.key for s in specs], "DistributionSetType")
    refuse_repeats([s.name for s in specs], "DistributionSetType")
    limit = quotas.limit("DISTRIBUTION_SET_TYPE")
    quota_rules.check_create(len(specs), limit, "distribution set types")
    if not specs:
        return []
    for spec in specs:
        _check_module_type_quota(len(spec.mandatory) + len(spec.optional))
    wanted = {i for s in specs for i in s.mandatory + s.optional}
    found = catalog.get_many(SoftwareModuleType, tenant, wanted)
    for type_id in sorted(wanted):
        if type_id not in found or found[type_id].deleted:
            raise errors.EntityNotFound.of("SoftwareModuleType", type_id)
    refuse_taken(tenant, "DistributionSetType", "dstype", specs)
    ids = counters.allocate_ids(tenant, catalog.SEQUENCE[DistributionSetType], len(specs))
    now = clock.now_ms()
    items = [new_ds_type_item(tenant, type_id, spec, user, now) for type_id, spec in zip(ids, specs)]
    write_all(tenant, "DISTRIBUTION_SET_TYPE", items, "dstype", add_ds_type_puts)
    return items


def _check_module_type_quota(count: int) -> None:
    quota_rules.check_assign(
        count,
        0,
        quota_rules.MAX_SOFTWARE_MODULE_TYPES_PER_DS_TYPE,
        "software module types",
        "a distribution set type",
        more=False,
    )


def update_distribution_set_type(tenant: str, type_id: int, change: rules.TypeChange, user: str) -> DistributionSetType:
    return retrying(
        ATTEMPTS,
        lambda: catalog.update(_live_ds_type(tenant, type_id), rules.type_update(change, user, clock.now_ms())),
    )


def delete_distribution_set_type(tenant: str, type_id: int) -> None:
    def attempt() -> None:
        item = _live_ds_type(tenant, type_id)
        tx = Tx()
        if rules.soft_delete(False, int(item.used_by or 0)):
            tx.update(item, rules.marked_deleted(clock.now_ms()))
        else:
            tx.delete(item)
        catalog.release_unique(tx, tenant, "dstype-key", (item.key,))
        catalog.release_unique(tx, tenant, "dstype-name", (item.name,))
        quotas.release(tx, tenant, "DISTRIBUTION_SET_TYPE", 1)
        tx.commit()

    retrying(ATTEMPTS, attempt)


def module_types_of(tenant: str, type_id: int, which: Which) -> list[SoftwareModuleType]:
    item = get_distribution_set_type(tenant, type_id)
    ids = item.module_types(which)
    found = catalog.get_many(SoftwareModuleType, tenant, ids)
    return [found[i] for i in ids if i in found]


def module_type_of(tenant: str, type_id: int, which: Which, sm_type_id: int) -> SoftwareModuleType:
    item = get_distribution_set_type(tenant, type_id)
    if int(sm_type_id) not in item.module_types(which):
        raise errors.EntityNotFound.of("SoftwareModuleType", sm_type_id)
    return get_software_module_type(tenant, sm_type_id)


def add_module_type(tenant: str, type_id: int, which: Which, sm_type_id: int, user: str) -> DistributionSetType:
    """Put a module type in the mandatory or optional list (moving it out of the other one)."""

    def attempt() -> DistributionSetType:
        item = _editable_ds_type(tenant, type_id)
        _live_sm_type(tenant, sm_type_id)
        mandatory = [int(i) for i in item.mandatory if int(i) != int(sm_type_id)]
        optional = [int(i) for i in item.optional if int(i) != int(sm_type_id)]
        (mandatory if which == "mandatory" else optional).append(int(sm_type_id))
        _check_module_type_quota(len(mandatory) + len(optional))
        return _save_module_types(item, mandatory, optional, user)

    return retrying(ATTEMPTS, attempt)


def remove_module_type(tenant: str, type_id: int, which: Which, sm_type_id: int, user: str) -> DistributionSetType:
    def attempt() -> DistributionSetType:
        item = _editable_ds_type(tenant, type_id)
        listed = item.module_types(which)
        if int(sm_type_id) not in listed:
            raise errors.EntityNotFound.of("SoftwareModuleType", sm_type_id)
        listed.remove(int(sm_type_id))
        if which == "mandatory":
            return _save_module_types(item, listed, [int(i) for i in item.optional], user)
        return _save_module_types(item, [int(i) for i in item.mandatory], listed, user)

    return retrying(ATTEMPTS, attempt)


def _editable_ds_type(tenant: str, type_id: int) -> DistributionSetType:
    item = _live_ds_type(tenant, type_id)
    if int(item.used_by or 0) > 0:
        raise errors.EntityReadOnly(
            f"Distribution set type {type_id} is already used by distribution sets; its module types cannot change.",
            ["DistributionSetType", type_id],
        )
    return item


def _save_module_types(
    item: DistributionSetType, mandatory: list[int], optional: list[int], user: str
) -> DistributionSetType:
    change = {"mandatory": mandatory, "optional": optional, **rules.modified(user, clock.now_ms())}
    # used_by == 0 in the same condition: a set created meanwhile makes the types read-only.
    Tx().update(item, change, condition=eq("used_by", 0)).commit()
    return applied(item, change)
