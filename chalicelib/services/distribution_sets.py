"""Distribution sets: composition of software modules, locking, metadata, and the deployment snapshot
handed to assignments (hawkBit `DistributionSetManagement`).

- name + version are unique per tenant (guard item in the same transaction -> 409).
- Modules must be of a type the set's type allows (400 ModuleUnsupported); a type's
  `maxAssignments` is kept by replacing the present module of that type (hawkBit `addModule`).
- `complete` = every mandatory module type present; stored on the set and kept in the transaction
  that changes its modules (the set type's module types are read-only while sets use it).
- A locked set (explicitly, or implicitly by its first assignment) refuses module changes (423) and
  locks its modules. Deleting a locked set soft-deletes it; otherwise it is removed.
- Each set counts in its modules' `in_sets` and its type's `used_by` (soft vs. hard deletes there).
- Creating several sets validates them all first (natural keys with one BatchGet), then writes them
  in one transaction per (up to) 30 sets, all or nothing: if a later transaction fails, the earlier ones
  are undone, and the reaper takes back a create that died half-way (services.bulk_creates). Modules
  of sets created locked are locked last, once every set is written.
"""

from __future__ import annotations

import functools
from collections import Counter as Tally
from typing import Any, Callable, NamedTuple

from chalicelib import clock, errors
from chalicelib.domain import catalog as rules
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain import rsql
from chalicelib.domain.catalog_entities import (
    DistributionSet,
    DistributionSetType,
    DistributionSetWithModules,
    SoftwareModule,
    SoftwareModuleType,
    set_with_modules,
)
from chalicelib.domain.changes import REMOVE, Add, Change, Condition, Exists, Missing, eq
from chalicelib.domain.deployment_snapshot import DeploymentSnapshot
from chalicelib.domain.listing import Paging
from chalicelib.lazy import lazy_import
from chalicelib.services import (
    bulk_creates,
    catalog_defaults,
    catalog_lists,
    catalog_metadata,
    catalog_types,
    quotas,
    software_modules,
)
from chalicelib.store import all_or_nothing, catalog, counters
from chalicelib.store.all_or_nothing import AllOrNothing
from chalicelib.store.tags import DISTRIBUTION_SET_TAGS
from chalicelib.store.tx import ATTEMPTS, MAX_ITEMS, Tx, retrying

target_filters = lazy_import("chalicelib.services.target_filters")  # only a delete drops auto-assignments

KIND = "DistributionSet"
CREATE_CHUNK = 30  # sets per transaction: 2 items each + types + usage counter stay below 100
FIELDS = catalog_lists.BASE_FIELDS | {
    "version",
    "type",
    "type.key",
    "type.name",
    "complete",
    "valid",
    "locked",
    "requiredmigrationstep",
    "module.id",
    "module.name",
    "module.version",
    "module.type",
    "tag",
    "metadata.*",
}
SORTABLE = catalog_lists.sortable(FIELDS - {"module.id", "module.name", "module.version", "module.type", "tag"})
MODULE_SORTABLE = software_modules.SORTABLE


def record(ds: DistributionSetWithModules, tag_names: dict[int, str] | None = None) -> dict:
    """The set as queries see it; `tag` is the names of its tags (`tag_names`: id -> name, given when the
    query filters on tags)."""
    modules = ds.loaded_modules
    metadata = ds.metadata or {}
    return {
        **catalog_lists.base_record(ds),
        "version": ds.version_name,
        "type": ds.type_key,
        "type.key": ds.type_key,
        "type.name": ds.type_name,
        "complete": bool(ds.complete),
        "valid": bool(ds.valid),
        "locked": bool(ds.locked),
        "requiredmigrationstep": bool(ds.required_migration_step),
        "module.id": [int(m.id) for m in modules],
        "module.name": [m.name for m in modules],
        "module.version": [m.version_name for m in modules],
        "module.type": [m.type_key for m in modules],
        "tag": [tag_names[int(i)] for i in ds.tags or [] if int(i) in tag_names] if tag_names else [],
        "metadata": {k: v.get("value") for k, v in metadata.items()},
    }


def attach_modules(tenant: str, sets: list[DistributionSet]) -> list[DistributionSetWithModules]:
    """`sets` with their modules (`loaded_modules`, set order), loaded with one BatchGet."""
    found = catalog.get_many(SoftwareModule, tenant, {i for ds in sets for i in ds.module_ids})
    return [set_with_modules(ds, found) for ds in sets]


# --- reads ------------------------------------------------------------------------------------------
def _record_for(tenant: str, q: str | None) -> Callable[[DistributionSetWithModules], dict]:
    """`record`, with the names of the tenant's tags (one Query, at most DISTRIBUTION_SET_TAG) when `q` names
    `tag`: sets keep their tags by id."""
    node = rsql.parse(q, FIELDS) if q else None
    if node is None or "tag" not in {f.lower() for f in node.fields()}:
        return record
    return functools.partial(record, tag_names={int(t.id): t.name for t in DISTRIBUTION_SET_TAGS.all_of(tenant)})


def list_distribution_sets(tenant: str, q: str | None, paging: Paging) -> tuple[list[DistributionSetWithModules], int]:
    sets, total = catalog_lists.list_kind(
        DistributionSet,
        tenant,
        q,
        paging,
        FIELDS,
        _record_for(tenant, q),
        "DISTRIBUTION_SET",
        prepare=lambda items: attach_modules(tenant, items),
    )
    if not all(isinstance(ds, DistributionSetWithModules) for ds in sets):  # a page read without `prepare`
        sets = attach_modules(tenant, sets)
    return sets, total


def page_of(
    tenant: str, sets: list[DistributionSet], q: str | None, paging: Paging
) -> tuple[list[DistributionSetWithModules], int]:
    """A page of `sets` (e.g. a tag's) matching `q`, with their modules."""
    node = rsql.parse(q, FIELDS) if q else None
    to_record = _record_for(tenant, q)
    return catalog_lists.filter_and_page([to_record(ds) for ds in attach_modules(tenant, sets)], node, paging)


def live_sets(tenant: str, ids: list[int]) -> dict[int, DistributionSet]:
    """The sets of `ids` that exist and are not deleted (one BatchGet, no modules)."""
    return {i: ds for i, ds in catalog.get_many(DistributionSet, tenant, ids).items() if not ds.deleted}


def all_live_sets(tenant: str) -> list[DistributionSet]:
    return catalog.all_visible(DistributionSet, tenant)


def get_distribution_set(tenant: str, ds_id: int) -> DistributionSetWithModules:
    """By id with its modules; a soft-deleted set is still answered (with `deleted=true`)."""
    ds = catalog.get(DistributionSet, tenant, ds_id)
    if ds is None:
        raise errors.EntityNotFound.of(KIND, ds_id)
    return attach_modules(tenant, [ds])[0]


def _live(tenant: str, ds_id: int) -> DistributionSet:
    ds = catalog.get(DistributionSet, tenant, ds_id)
    if ds is None or ds.deleted:
        raise errors.EntityNotFound.of(KIND, ds_id)
    return ds


def get_distribution_sets(tenant: str, ids: list[int], with_modules: bool = True) -> dict[int, DistributionSet]:
    """BatchGet by id (soft-deleted sets included: check `.deleted`); unknown ids are absent.
    With `with_modules`, each set carries `loaded_modules` (one more BatchGet) so `ds_json` can render it."""
    found = catalog.get_many(DistributionSet, tenant, ids)
    if not with_modules:
        return found
    return {int(ds.id): ds for ds in attach_modules(tenant, list(found.values()))}


def assigned_modules(tenant: str, ds_id: int, paging: Paging) -> tuple[list[SoftwareModule], int]:
    ds = get_distribution_set(tenant, ds_id)
    return catalog_lists.filter_and_page([software_modules.record(m) for m in ds.loaded_modules], None, paging)


# --- composition ----------------------------------------------------------------------------------
class _Composition:
    """Validated modules of one set: the new list, what was added and dropped, completeness."""

    def __init__(self, module_ids: list[int], added: list[int], dropped: list[int], complete: bool) -> None:
        self.module_ids, self.added, self.dropped, self.complete = module_ids, added, dropped, complete


def _compose(
    tenant: str,
    ds_type: DistributionSetType,
    current: list[int],
    added_ids: list[int],
    modules: dict[int, SoftwareModule],
    sm_types: dict[int, SoftwareModuleType],
) -> _Composition:
    for sm_id in added_ids:
        sm = modules.get(int(sm_id))
        if sm is None or sm.deleted:
            raise errors.EntityNotFound.of("SoftwareModule", sm_id)
        if not rules.module_type_allowed(int(sm.type_id), ds_type.mandatory, ds_type.optional):
            raise errors.ModuleUnsupported(
                f"SoftwareModule {sm_id} of type '{sm.type_key}' is not supported by distribution set type "
                f"'{ds_type.key}'.",
                [sm_id, sm.type_key, ds_type.key],
            )
    refs = lambda ids: [rules.ModuleRef(int(i), int(modules[int(i)].type_id)) for i in ids if int(i) in modules]
    limits = {int(t.id): int(t.max_assignments) for t in sm_types.values()}
    composed, dropped = rules.add_modules(refs(current), refs(added_ids), limits)
    quota_rules.check_assign(
        len(composed),
        0,
        quota_rules.MAX_SOFTWARE_MODULES_PER_DS,
        "SoftwareModule entities",
        "DistributionSet",
        more=False,
    )
    ids = [m.id for m in composed]
    new = [i for i in ids if i not in {int(c) for c in current}]
    return _Composition(ids, new, dropped, rules.is_complete([m.type_id for m in composed], ds_type.mandatory))


def _load_for_composition(
    tenant: str, ids: set[int]
) -> tuple[dict[int, SoftwareModule], dict[int, SoftwareModuleType]]:
    modules = catalog.get_many(SoftwareModule, tenant, ids)
    sm_types = catalog.get_many(SoftwareModuleType, tenant, {int(m.type_id) for m in modules.values()})
    return modules, sm_types


class _ModuleUpdate(NamedTuple):
    sm: SoftwareModule
    change: Change
    condition: Condition
    on_fail: Any
    undo: Change  # what reverses `change` (in-set counts; a lock is never taken back)


def _module_updates(
    tx: Tx, modules: dict[int, SoftwareModule], delta: dict[int, int], lock: set[int]
) -> list[_ModuleUpdate]:
    """In-set counts (+1 added, -1 dropped) and locks of modules; returned as deferred tx additions."""
    pending = []
    for sm_id in sorted(set(delta) | lock):
        sm = modules[sm_id]
        change: dict = {}
        if delta.get(sm_id):
            change["in_sets"] = Add(delta[sm_id])
        if sm_id in lock and not sm.locked:
            change["locked"] = True
        if not change:
            continue
        # Counts are commutative: no version condition, only "still there" for modules being added.
        condition = eq("deleted", False) if delta.get(sm_id, 0) > 0 else Exists("sk")
        undo = {"in_sets": Add(-delta[sm_id])} if delta.get(sm_id) else {}
        pending.append(
            _ModuleUpdate(
                sm, change, condition, lambda sm_id=sm_id: errors.EntityNotFound.of("SoftwareModule", sm_id), undo
            )
        )
    return pending


def _commit_with_modules(
    tx: Tx,
    pending: list[_ModuleUpdate],
    steps: AllOrNothing | None = None,
    undo: Tx | None = None,
    created: list[int] | None = None,
) -> None:
    """Commit `tx` plus module updates; updates beyond one transaction's 100 items follow in their own
    transactions (they only move `in_sets` counts, where a stale count merely turns a delete soft).

    With `steps`, every transaction is committed there with its inverse (`undo` reverses `tx`), so a
    failing one takes back the earlier ones; `created` names the sets `tx` creates."""
    size = MAX_ITEMS - (all_or_nothing.ROOM if steps is not None else 0)
    room = max(size - len(tx), 0)
    rest = pending[room:]
    batches = [pending[:room]] + [rest[start : start + size] for start in range(0, len(rest), size)]
    for index, batch in enumerate(batches):
        forward = tx if index == 0 else Tx()
        backward = (undo or Tx()) if index == 0 else Tx()
        for update in batch:
            forward.update(
                update.sm,
                update.change,
                condition=update.condition,
                on_fail=update.on_fail,
                add_version_condition=False,
            )
            if update.undo:
                backward.update(update.sm, update.undo, condition=Exists("sk"), add_version_condition=False)
        if steps is None:
            forward.commit()
        else:
            steps.commit(forward, backward, created=(created or []) if index == 0 else [])


def _duplicate(name: str, version: str) -> errors.EntityAlreadyExists:
    return errors.EntityAlreadyExists(
        f"DistributionSet with name {{{name}}} and version {{{version}}} already exists.", [KIND, name, version]
    )


# --- create / update / delete -------------------------------------------------------------------
def _create_chunks(entries: list[tuple[int, Any, _Composition]]) -> list[list[tuple[int, Any, _Composition]]]:
    """Sets per transaction: at most CREATE_CHUNK, and few enough that their items (set and name guard each,
    the types, the usage counter, the journal's room) and their modules' in-set counts fit in one, so a
    set never exists without its modules counting it (a count left behind merely turns a delete soft)."""
    chunks: list[list] = []
    current: list = []
    modules: set[int] = set()
    types: set[str] = set()
    for entry in entries:
        _, spec, composition = entry
        type_key = spec.type_key or catalog_defaults.DEFAULT_DS_TYPE_KEY
        more_modules, more_types = modules | set(composition.module_ids), types | {type_key}
        size = 2 * (len(current) + 1) + len(more_types) + len(more_modules) + 1 + all_or_nothing.ROOM
        if current and (len(current) == CREATE_CHUNK or size > MAX_ITEMS):
            chunks.append(current)
            current, more_modules, more_types = [], set(composition.module_ids), {type_key}
        current.append(entry)
        modules, types = more_modules, more_types
    if current:
        chunks.append(current)
    return chunks


def create_distribution_sets(
    tenant: str, specs: list[rules.DistributionSetSpec], user: str
) -> list[DistributionSetWithModules]:
    seen: set[tuple[str, str]] = set()
    for spec in specs:
        if (spec.name, spec.version) in seen:
            raise _duplicate(spec.name, spec.version)
        seen.add((spec.name, spec.version))
    limit = quotas.limit("DISTRIBUTION_SET")
    quota_rules.check_create(len(specs), limit, "more distribution sets", counters.usage(tenant, "DISTRIBUTION_SET"))
    if not specs:
        return []
    ds_types = {
        key: catalog_types.distribution_set_type_by_key(tenant, key)
        for key in dict.fromkeys(s.type_key or catalog_defaults.DEFAULT_DS_TYPE_KEY for s in specs)
    }
    modules, sm_types = _load_for_composition(tenant, {i for s in specs for i in s.module_ids})
    compositions = [
        _compose(
            tenant,
            ds_types[s.type_key or catalog_defaults.DEFAULT_DS_TYPE_KEY],
            [],
            list(s.module_ids),
            modules,
            sm_types,
        )
        for s in specs
    ]
    keys = [("ds", (s.name, s.version)) for s in specs]
    taken = catalog.taken_unique(tenant, keys)
    for spec, natural in zip(specs, keys):
        if natural in taken:
            raise _duplicate(spec.name, spec.version)
    ids = counters.allocate_ids(tenant, catalog.SEQUENCE[DistributionSet], len(specs))
    now = clock.now_ms()
    created: list[DistributionSet] = []
    locks: set[int] = set()
    with AllOrNothing(tenant, bulk_creates.DISTRIBUTION_SETS) as steps:
        for chunk in _create_chunks(list(zip(ids, specs, compositions))):
            tx, undo = Tx(), Tx()
            in_sets: Tally = Tally()
            for ds_id, spec, composition in chunk:
                ds_type = ds_types[spec.type_key or catalog_defaults.DEFAULT_DS_TYPE_KEY]
                ds = DistributionSet(
                    tenant=tenant,
                    sk=catalog.sort_key(DistributionSet, ds_id),
                    id=ds_id,
                    name=spec.name,
                    version_name=spec.version,
                    type_key=ds_type.key,
                    type_id=int(ds_type.id),
                    type_name=ds_type.name,
                    description=spec.description,
                    modules=composition.module_ids,
                    complete=composition.complete,
                    required_migration_step=spec.required_migration_step,
                    locked=spec.locked,
                    deleted=False,
                    valid=True,
                    metadata={},
                    created_at=now,
                    created_by=user,
                    last_modified_at=now,
                    last_modified_by=user,
                )
                tx.put(ds, condition=Missing("sk"))
                catalog.claim_unique(
                    tx,
                    tenant,
                    "ds",
                    ds.natural_key,
                    ds_id,
                    lambda name=ds.name, version=ds.version_name: _duplicate(name, version),
                )
                undo.delete(ds, add_version_condition=False)
                catalog.release_unique(undo, tenant, "ds", ds.natural_key)
                in_sets.update(composition.module_ids)
                if spec.locked:
                    locks.update(composition.module_ids)
                created.append(ds)
            for type_key, count in Tally(
                spec.type_key or catalog_defaults.DEFAULT_DS_TYPE_KEY for _, spec, _ in chunk
            ).items():
                ds_type = ds_types[type_key]
                tx.update(
                    ds_type,
                    {"used_by": Add(count)},
                    add_version_condition=False,
                    condition=eq("deleted", False),
                    on_fail=functools.partial(errors.EntityNotFound.of, "DistributionSetType", type_key),
                )
                undo.update(ds_type, {"used_by": Add(-count)}, add_version_condition=False, condition=Exists("sk"))
            quotas.charge(tx, tenant, "DISTRIBUTION_SET", len(chunk))
            quotas.release(undo, tenant, "DISTRIBUTION_SET", len(chunk))
            _commit_with_modules(
                tx,
                _module_updates(tx, modules, dict(in_sets), set()),
                steps,
                undo,
                created=[ds_id for ds_id, _, _ in chunk],
            )
        # Locks last: unlike counts they cannot be taken back (another set may lock the same module).
        if locks:
            _commit_with_modules(Tx(), _module_updates(Tx(), modules, {}, locks), steps)
    return attach_modules(tenant, created)


def update_distribution_set(
    tenant: str, ds_id: int, change: rules.DistributionSetChange, user: str
) -> DistributionSetWithModules:
    def attempt() -> None:
        ds = _live(tenant, ds_id)
        if (
            change.required_migration_step is not None
            and ds.locked
            and bool(change.required_migration_step) != bool(ds.required_migration_step)
        ):
            raise errors.Locked(
                f"DistributionSet {ds_id} is locked: requiredMigrationStep cannot change.", [KIND, ds_id]
            )
        fields = rules.distribution_set_update(change, ds.name, ds.version_name, user, clock.now_ms())
        tx = Tx()
        if "name" in fields:
            name, version = fields["name"], fields["version_name"]
            catalog.release_unique(tx, tenant, "ds", ds.natural_key)
            catalog.claim_unique(tx, tenant, "ds", (name, version), ds_id, lambda: _duplicate(name, version))
        pending = []
        if change.locked:  # locking a set locks its modules (unlocking leaves them locked)
            modules = catalog.get_many(SoftwareModule, tenant, ds.module_ids)
            pending = _module_updates(tx, modules, {}, set(modules))
        tx.update(ds, fields)
        _commit_with_modules(tx, pending)

    retrying(ATTEMPTS, attempt)
    return get_distribution_set(tenant, ds_id)


def delete_distribution_set(tenant: str, ds_id: int) -> None:
    def attempt() -> None:
        ds = catalog.get(DistributionSet, tenant, ds_id)
        if ds is None:
            raise errors.EntityNotFound.of(KIND, ds_id)
        if ds.deleted:
            return  # hawkBit answers 200: a soft-deleted set stays as it is (locked sets are never purged)
        tx = Tx()
        pending = []
        if rules.soft_delete(bool(ds.locked), 0):
            # Still listed in actions and reports: keep the item (and its module references).
            # its tags go with it (hawkBit drops a deleted set's tag assignments)
            tx.update(ds, {**rules.marked_deleted(clock.now_ms()), "tags": REMOVE})
        else:
            tx.delete(ds)
            ds_type = catalog.get(DistributionSetType, tenant, int(ds.type_id))
            if ds_type is not None:
                tx.update(ds_type, {"used_by": Add(-1)}, add_version_condition=False, condition=Exists("sk"))
            modules = catalog.get_many(SoftwareModule, tenant, ds.module_ids)
            pending = _module_updates(tx, modules, {i: -1 for i in modules}, set())
        catalog.release_unique(tx, tenant, "ds", ds.natural_key)
        quotas.release(tx, tenant, "DISTRIBUTION_SET", 1)
        _commit_with_modules(tx, pending)

    retrying(ATTEMPTS, attempt)
    target_filters.drop_auto_assignments(tenant, ds_id)  # hawkBit: its filters stop auto-assigning it


def mark_invalid(tenant: str, ds_id: int, user: str) -> None:
    """`valid=false` for good (nothing sets it back); 404 unknown or deleted, 400 incomplete (hawkBit checks that
    first). An invalid set may be marked again: hawkBit allows it, and it lets a retry finish an invalidation."""

    def attempt() -> None:
        ds = _live(tenant, ds_id)
        if not ds.complete:
            raise errors.DistributionSetIncomplete(
                f"DistributionSet {ds_id} is incomplete: a mandatory software module type is missing.", [KIND, ds_id]
            )
        if ds.valid:
            Tx().update(ds, {"valid": False, **rules.modified(user, clock.now_ms())}).commit()

    retrying(ATTEMPTS, attempt)


def assign_modules(tenant: str, ds_id: int, module_ids: list[int], user: str) -> DistributionSetWithModules:
    def attempt() -> None:
        ds = _editable(tenant, ds_id)
        ds_type = catalog_types.get_distribution_set_type(tenant, int(ds.type_id))
        modules, sm_types = _load_for_composition(tenant, set(ds.module_ids) | set(module_ids))
        composition = _compose(tenant, ds_type, ds.module_ids, list(module_ids), modules, sm_types)
        _save_composition(ds, composition, modules, user)

    retrying(ATTEMPTS, attempt)
    return get_distribution_set(tenant, ds_id)


def unassign_module(tenant: str, ds_id: int, sm_id: int, user: str) -> DistributionSetWithModules:
    def attempt() -> None:
        ds = _editable(tenant, ds_id)
        current = ds.module_ids
        if int(sm_id) not in current:
            raise errors.EntityNotFound(
                f"SoftwareModule {sm_id} is not assigned to DistributionSet {ds_id}.", ["SoftwareModule", sm_id]
            )
        ds_type = catalog_types.get_distribution_set_type(tenant, int(ds.type_id))
        modules = catalog.get_many(SoftwareModule, tenant, current)
        remaining = [i for i in current if i != int(sm_id)]
        complete = rules.is_complete([modules[i].type_id for i in remaining if i in modules], ds_type.mandatory)
        _save_composition(ds, _Composition(remaining, [], [int(sm_id)], complete), modules, user)

    retrying(ATTEMPTS, attempt)
    return get_distribution_set(tenant, ds_id)


def _editable(tenant: str, ds_id: int) -> DistributionSet:
    ds = _live(tenant, ds_id)
    if ds.locked:
        raise errors.Locked(f"DistributionSet {ds_id} is locked: its software modules cannot change.", [KIND, ds_id])
    return ds


def _save_composition(
    ds: DistributionSet, composition: _Composition, modules: dict[int, SoftwareModule], user: str
) -> None:
    tx = Tx()
    tx.update(
        ds,
        {"modules": composition.module_ids, "complete": composition.complete, **rules.modified(user, clock.now_ms())},
    )
    delta = Tally({i: 1 for i in composition.added})
    delta.subtract({i: 1 for i in composition.dropped})
    _commit_with_modules(tx, _module_updates(tx, modules, {i: d for i, d in delta.items() if d}, set()))


# --- metadata -------------------------------------------------------------------------------------
def list_metadata(tenant: str, ds_id: int, q: str | None, paging: Paging) -> tuple[list[rules.MetadataEntry], int]:
    ds = catalog.get(DistributionSet, tenant, ds_id)
    if ds is None:
        raise errors.EntityNotFound.of(KIND, ds_id)
    return catalog_metadata.page(ds, q, paging, with_visibility=False)


def get_metadata(tenant: str, ds_id: int, key: str) -> rules.MetadataEntry:
    ds = catalog.get(DistributionSet, tenant, ds_id)
    if ds is None:
        raise errors.EntityNotFound.of(KIND, ds_id)
    return catalog_metadata.entry_of(ds, key, KIND)


def create_metadata(
    tenant: str, ds_id: int, entries: list[rules.MetadataEntry], user: str
) -> list[rules.MetadataEntry]:
    return catalog_metadata.create(lambda: _live(tenant, ds_id), entries, user, KIND, with_visibility=False)


def update_metadata(tenant: str, ds_id: int, key: str, body: dict, user: str) -> rules.MetadataEntry:
    return catalog_metadata.update(lambda: _live(tenant, ds_id), key, body, user, KIND, with_visibility=False)


def delete_metadata(tenant: str, ds_id: int, key: str, user: str) -> None:
    catalog_metadata.delete(lambda: _live(tenant, ds_id), key, user, KIND)


# --- for deployments ------------------------------------------------------------------------------
def deployment_snapshot(tenant: str, ds_id: int) -> DeploymentSnapshot:
    """What devices get for this set (see domain.deployment_snapshot). 404 unknown/deleted set,
    400 invalid (hawkBit checks validity first), 400 incomplete."""
    ds = _assignable(tenant, ds_id)
    modules = attach_modules(tenant, [ds])[0].loaded_modules
    chunks = []
    for sm in sorted(modules, key=lambda m: int(m.id)):
        metadata = sm.metadata or {}
        chunks.append(
            {
                "part": sm.type_key,
                "version": sm.version_name,
                "name": sm.name,
                "smId": int(sm.id),
                "encrypted": bool(sm.encrypted),
                "metadata": [
                    {"key": key, "value": value.get("value")}
                    for key, value in sorted(metadata.items())
                    if value.get("targetVisible")
                ],
                "artifacts": [
                    {
                        "filename": a.filename,
                        "size": int(a.size),
                        "hashes": {"md5": a.md5, "sha1": a.sha1, "sha256": a.sha256},
                        "s3Key": a.s3_key,
                        "artifactId": int(a.id),
                    }
                    for a in catalog.artifacts_of(tenant, int(sm.id))
                ],
            }
        )
    return DeploymentSnapshot(
        ds_id=int(ds.id),
        name=ds.name,
        version=ds.version_name,
        type_key=ds.type_key,
        required_migration_step=bool(ds.required_migration_step),
        chunks=chunks,
    )


def id_by_name_and_version(tenant: str, name: str, version: str) -> int:
    """The set's id through its name+version guard (one GetItem); 404 when there is none (deleted sets have none)."""
    ds_id = catalog.unique_owner(tenant, "ds", name, version)
    if ds_id is None:
        raise errors.EntityNotFound(
            f"{KIND} with given identifier {{{name}={version}}} does not exist.", [KIND, f"{name}={version}"]
        )
    return ds_id


def check_assignable(tenant: str, ds_id: int) -> DistributionSet:
    """404 for an unknown or deleted set, 400 for an invalidated or incomplete one."""
    return _assignable(tenant, ds_id)


def _assignable(tenant: str, ds_id: int) -> DistributionSet:
    ds = _live(tenant, ds_id)
    if not ds.valid:
        raise errors.DistributionSetInvalid(
            f"DistributionSet {ds_id} is invalidated and cannot be assigned.", [KIND, ds_id]
        )
    if not ds.complete:
        raise errors.DistributionSetIncomplete(
            f"DistributionSet {ds_id} is incomplete: a mandatory software module type is missing.", [KIND, ds_id]
        )
    return ds


def still_assignable(tx: Tx, tenant: str, ds_id: int) -> Tx:
    """A condition in an assignment's transaction: the set is still valid and not deleted, so an invalidation
    (or a deletion) that lands between the assignment's check and its writes refuses them instead of leaving an
    action of an invalid set behind its walk. One item per transaction (a ConditionCheck, no write)."""

    def refusal() -> errors.SkyhawkError:
        try:
            _assignable(tenant, ds_id)
        except errors.SkyhawkError as exc:
            return exc
        return errors.ConcurrentModification()

    return tx.check(
        DistributionSet,
        tenant,
        catalog.sort_key(DistributionSet, ds_id),
        eq("valid", True) & eq("deleted", False),
        on_fail=refusal,
    )


def lock_for_assignment(tenant: str, ds_id: int) -> DistributionSet:
    """hawkBit's implicit lock on first assignment: the set and its modules become `locked=true`; the set as read.

    Idempotent; one GetItem when the set is locked already (its modules were locked with it).
    Otherwise one transaction locks the set and its modules without reading the modules first.
    """

    def attempt() -> DistributionSet:
        ds = _assignable(tenant, ds_id)
        if ds.locked:
            return ds
        tx = Tx()
        tx.update(ds, {"locked": True, "last_modified_at": clock.now_ms()})
        pending = [
            _ModuleUpdate(catalog.unread_module(tenant, sm_id), {"locked": True}, Exists("sk"), None, {})
            for sm_id in ds.module_ids
        ]
        _commit_with_modules(tx, pending)
        return ds

    return retrying(ATTEMPTS, attempt)


# Short name used by the target blueprint (assignedDS / installedDS).
get = get_distribution_set
