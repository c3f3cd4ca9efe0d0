"""Repository of the software catalogue (`catalog` table): one function per access pattern, taking and
returning the entities of chalicelib.domain.catalog_entities (a kind is named by its entity class).

Items live under the tenant's partition with a sort-key prefix per kind (`smtype#`, `sm#`,
`art#<smId>#`, `dstype#`, `ds#`, target types `ttype#`) and zero-padded ids, so a Query on a prefix returns a kind in id
order. Natural keys (type keys and names, module name+version+type, set name+version, artifact
filename within a module) are guarded by `uniq#<kind>#<json parts>` items written in the same
transaction as the entity: a duplicate fails that transaction's condition (409), never a Scan.

Catalogue data is low-volume per tenant (hundreds to a few thousand items), so filtered (`q=`)
and custom-sorted lists read the kind's items with one paginated Query and filter in memory; cost
grows with the tenant's catalogue, not with targets. Unfiltered lists in id order read only
`offset + limit` items.
"""

from __future__ import annotations

import json
from typing import Iterable, Iterator, TypeVar, Union

from pynamodb.exceptions import UpdateError

from chalicelib import errors
from chalicelib.domain import catalog_entities as entities
from chalicelib.domain.changes import Change, Condition
from chalicelib.store import records, tables
from chalicelib.store.tables import UniqueKey, pad
from chalicelib.store.tx import Tx

Kind = TypeVar(
    "Kind",
    entities.SoftwareModuleType,
    entities.SoftwareModule,
    entities.DistributionSetType,
    entities.DistributionSet,
    entities.TargetType,
)
Entity = TypeVar(
    "Entity",
    entities.SoftwareModuleType,
    entities.SoftwareModule,
    entities.DistributionSetType,
    entities.DistributionSet,
    entities.Artifact,
    entities.TargetType,
)

# Id sequences (counters.allocate_ids) per kind.
SEQUENCE = {
    entities.SoftwareModuleType: "softwaremoduletype",
    entities.SoftwareModule: "softwaremodule",
    entities.DistributionSetType: "distributionsettype",
    entities.DistributionSet: "distributionset",
    entities.Artifact: "artifact",
    entities.TargetType: "targettype",
}

# The models of the kinds: each names its sort-key prefix (PREFIX) and carries `id` and `deleted`.
_KindModel = Union[
    type[tables.SoftwareModuleType],
    type[tables.SoftwareModule],
    type[tables.DistributionSetType],
    type[tables.DistributionSet],
    type[tables.TargetType],
]

DEFAULTS_MARKER = UniqueKey.PREFIX + "default-types"
_QUERY_PAGE = 200


def _model(kind: type[Kind]) -> _KindModel:
    """The model of a kind, as precise as the kinds' models are (records keeps every model as a Model)."""
    model = records.model_of(kind)
    if not issubclass(
        model,
        (
            tables.SoftwareModuleType,
            tables.SoftwareModule,
            tables.DistributionSetType,
            tables.DistributionSet,
            tables.TargetType,
        ),
    ):
        raise TypeError(f"{kind.__name__} is not a kind of the catalogue.")
    return model


def sort_key(kind: type[Kind], entity_id: int) -> str:
    return f"{_model(kind).PREFIX}{pad(int(entity_id))}"


def artifact_sort_key(sm_id: int, artifact_id: int) -> str:
    return f"{tables.Artifact.PREFIX}{pad(int(sm_id))}#{pad(int(artifact_id))}"


def upload_prefix(tenant: str, sm_id: int, upload_id: str) -> str:
    """Where a direct upload lands before it is verified (the bucket expires `uploads/` after a day)."""
    return f"uploads/{tenant}/{int(sm_id)}/{upload_id}/"


def artifact_s3_key(tenant: str, sm_id: int, artifact_id: int) -> str:
    """One object per artifact: the key never changes while a deployment snapshot names it."""
    return f"artifacts/{tenant}/{int(sm_id)}/{int(artifact_id)}"


# --- one entity by id, several by id ---------------------------------------------------------------
def get(kind: type[Kind], tenant: str, entity_id: int) -> Kind | None:
    """The entity (soft-deleted ones too), or None."""
    model = _model(kind)
    try:
        return records.to_entity(kind, model.get(tenant, sort_key(kind, entity_id), consistent_read=True))
    except model.DoesNotExist:
        return None


def get_many(kind: type[Kind], tenant: str, ids: Iterable[int]) -> dict[int, Kind]:
    """BatchGetItem (100 keys a call, unprocessed keys retried by PynamoDB); missing ids are absent."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    items = _model(kind).batch_get([(tenant, sort_key(kind, i)) for i in wanted])
    return {int(item.id): records.to_entity(kind, item) for item in items}


def unread_module(tenant: str, sm_id: int) -> entities.SoftwareModule:
    """A module handle for an update without reading the item first (keys only, other fields unknown).

    The placeholder version makes the store add 1 to the stored version (instead of setting it to 1);
    use it only with `add_version_condition=False` and a condition such as `Exists("sk")`.
    """
    return records.to_entity(
        entities.SoftwareModule, tables.SoftwareModule(tenant, sort_key(entities.SoftwareModule, sm_id), version=0)
    )


def update(entity: Entity, change: Change, condition: Condition | None = None) -> Entity:
    """One item's change on its own (UpdateItem), on the condition of the version it was read with (and
    `condition`): a concurrent change -> ConcurrentModification (409), which callers retry on fresh data.
    Returns the entity as stored afterwards."""
    model = records.to_model(entity)
    try:
        model.update(
            actions=records.update_actions(type(model), change),
            condition=records.condition(type(model), condition) if condition is not None else None,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise errors.ConcurrentModification() from exc
        raise
    return records.to_entity(type(entity), model)


# --- lists of a kind ---------------------------------------------------------------------------
def _visible(kind: type[Kind], tenant: str, descending: bool = False, page_size: int = _QUERY_PAGE) -> Iterator[Kind]:
    model = _model(kind)
    items = model.query(
        tenant,
        model.sk.startswith(model.PREFIX),
        filter_condition=model.deleted == False,  # noqa: E712
        scan_index_forward=not descending,
        page_size=page_size,
    )
    return (records.to_entity(kind, item) for item in items)


def all_visible(kind: type[Kind], tenant: str) -> list[Kind]:
    """Every not-deleted entity of a kind, id order (one paginated Query)."""
    return list(_visible(kind, tenant))


def page_visible(kind: type[Kind], tenant: str, offset: int, limit: int, descending: bool = False) -> list[Kind]:
    """One page of not-deleted entities in id order, reading only the first `offset + limit` of them."""
    wanted = offset + limit
    found: list[Kind] = []
    for item in _visible(kind, tenant, descending, page_size=min(max(wanted, 1), 1000)):
        found.append(item)
        if len(found) >= wanted:
            break
    return found[offset:]


# --- software module types / distribution set types by natural key ----------------------------------
def find_sm_type_by_key(tenant: str, key: str) -> entities.SoftwareModuleType | None:
    owner = unique_owner(tenant, "smtype-key", key)
    return get(entities.SoftwareModuleType, tenant, owner) if owner is not None else None


def find_ds_type_by_key(tenant: str, key: str) -> entities.DistributionSetType | None:
    owner = unique_owner(tenant, "dstype-key", key)
    return get(entities.DistributionSetType, tenant, owner) if owner is not None else None


# --- artifacts -------------------------------------------------------------------------------------
def get_artifact(tenant: str, sm_id: int, artifact_id: int) -> entities.Artifact | None:
    try:
        item = tables.Artifact.get(tenant, artifact_sort_key(sm_id, artifact_id), consistent_read=True)
    except tables.Artifact.DoesNotExist:
        return None
    return records.to_entity(entities.Artifact, item)


def artifacts_of(tenant: str, sm_id: int) -> list[entities.Artifact]:
    """A module's artifacts in id order (one Query on `art#<smId>#`)."""
    prefix = f"{tables.Artifact.PREFIX}{pad(int(sm_id))}#"
    return [
        records.to_entity(entities.Artifact, item)
        for item in tables.Artifact.query(tenant, tables.Artifact.sk.startswith(prefix), consistent_read=True)
    ]


def artifact_of_s3_key(tenant: str, s3_key: str) -> entities.Artifact | None:
    """The artifact whose bytes live at `s3_key` (`artifact_s3_key`), or None (also for a foreign key)."""
    parts = s3_key.split("/")
    if len(parts) != 4 or parts[:2] != ["artifacts", tenant] or not all(p.isdigit() for p in parts[2:]):
        return None
    return get_artifact(tenant, int(parts[2]), int(parts[3]))


def find_artifact_by_filename(tenant: str, sm_id: int, filename: str) -> entities.Artifact | None:
    owner = unique_owner(tenant, "art", int(sm_id), filename)
    return get_artifact(tenant, sm_id, owner) if owner is not None else None


# --- natural-key guards -------------------------------------------------------------------------
def unique_sort_key(kind: str, *parts: object) -> str:
    # JSON keeps parts unambiguous whatever characters names contain ("a#b"+"c" != "a"+"b#c").
    return f"{UniqueKey.PREFIX}{kind}#{json.dumps(list(parts), ensure_ascii=False, separators=(',', ':'))}"


def unique_owner(tenant: str, kind: str, *parts: object) -> int | None:
    try:
        return int(UniqueKey.get(tenant, unique_sort_key(kind, *parts), consistent_read=True).owner_id)
    except UniqueKey.DoesNotExist:
        return None


def taken_unique(tenant: str, keys: Iterable[tuple[str, tuple]]) -> set[tuple[str, tuple]]:
    """Which of the natural keys `(kind, parts)` are taken: BatchGetItem of their guards (100 a call).

    Lets a multi-transaction create refuse a duplicate before its first write; the guards written in
    the creating transactions still decide races."""
    wanted = {unique_sort_key(kind, *parts): (kind, tuple(parts)) for kind, parts in keys}
    if not wanted:
        return set()
    found = UniqueKey.batch_get([(tenant, sk) for sk in wanted], consistent_read=True)
    return {wanted[guard.sk] for guard in found}


def claim_unique(tx: Tx, tenant: str, kind: str, parts: tuple, owner_id: int, on_fail) -> Tx:
    """Add the guard item to `tx`; if it exists the transaction fails with `on_fail()` (409)."""
    guard = UniqueKey(tenant, unique_sort_key(kind, *parts), owner_id=int(owner_id))
    return tx.put(guard, condition=UniqueKey.sk.does_not_exist(), on_fail=on_fail)


def release_unique(tx: Tx, tenant: str, kind: str, parts: tuple) -> Tx:
    return tx.delete(UniqueKey(tenant, unique_sort_key(kind, *parts)), add_version_condition=False)


# --- default types marker ----------------------------------------------------------------------------
def defaults_created(tenant: str) -> bool:
    """One GetItem: the default types of a tenant are created once, with this marker in the same transaction."""
    try:
        UniqueKey.get(tenant, DEFAULTS_MARKER)
        return True
    except UniqueKey.DoesNotExist:
        return False


def mark_defaults(tx: Tx, tenant: str, on_fail) -> Tx:
    return tx.put(
        UniqueKey(tenant, DEFAULTS_MARKER, owner_id=0), condition=UniqueKey.sk.does_not_exist(), on_fail=on_fail
    )
