"""Repository of the software catalogue (`catalog` table): one function per access pattern.

Items live under the tenant's partition with a sort-key prefix per kind (`smtype#`, `sm#`,
`art#<smId>#`, `dstype#`, `ds#`) and zero-padded ids, so a Query on a prefix returns a kind in id
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
from typing import Iterable, Iterator, TypeVar

from chalicelib.store.tables import (
    Artifact,
    DistributionSet,
    DistributionSetType,
    SoftwareModule,
    SoftwareModuleType,
    UniqueKey,
    pad,
)
from chalicelib.store.tx import Tx

Item = TypeVar("Item", SoftwareModuleType, SoftwareModule, DistributionSetType, DistributionSet)

# Id sequences (counters.allocate_ids) per kind.
SEQUENCE = {SoftwareModuleType: "softwaremoduletype", SoftwareModule: "softwaremodule",
            DistributionSetType: "distributionsettype", DistributionSet: "distributionset", Artifact: "artifact"}

DEFAULTS_MARKER = UniqueKey.PREFIX + "default-types"
_QUERY_PAGE = 200


def sort_key(model: type, entity_id: int) -> str:
    return f"{model.PREFIX}{pad(int(entity_id))}"


def artifact_sort_key(sm_id: int, artifact_id: int) -> str:
    return f"{Artifact.PREFIX}{pad(int(sm_id))}#{pad(int(artifact_id))}"


def upload_prefix(tenant: str, sm_id: int, upload_id: str) -> str:
    """Where a direct upload lands before it is verified (the bucket expires `uploads/` after a day)."""
    return f"uploads/{tenant}/{int(sm_id)}/{upload_id}/"


def artifact_s3_key(tenant: str, sm_id: int, artifact_id: int) -> str:
    """One object per artifact: the key never changes while a deployment snapshot names it."""
    return f"artifacts/{tenant}/{int(sm_id)}/{int(artifact_id)}"


# --- one entity by id, several by id ---------------------------------------------------------------
def get(model: type[Item], tenant: str, entity_id: int) -> Item | None:
    """The item (soft-deleted ones too), or None."""
    try:
        return model.get(tenant, sort_key(model, entity_id), consistent_read=True)
    except model.DoesNotExist:
        return None


def get_many(model: type[Item], tenant: str, ids: Iterable[int]) -> dict[int, Item]:
    """BatchGetItem (100 keys a call, unprocessed keys retried by PynamoDB); missing ids are absent."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    return {int(item.id): item for item in model.batch_get([(tenant, sort_key(model, i)) for i in wanted])}


def unread_module(tenant: str, sm_id: int) -> SoftwareModule:
    """A module handle for an update without reading the item first (keys only).

    The placeholder version makes PynamoDB add 1 to the stored version (instead of setting it to 1);
    use it only with `add_version_condition=False` and a condition such as `sk.exists()`.
    """
    return SoftwareModule(tenant, sort_key(SoftwareModule, sm_id), version=0)


# --- lists of a kind ---------------------------------------------------------------------------
def _visible(model: type[Item], tenant: str, descending: bool = False, page_size: int = _QUERY_PAGE,
             include_deleted: bool = False) -> Iterator[Item]:
    return model.query(tenant, model.sk.startswith(model.PREFIX),
                       filter_condition=None if include_deleted else (model.deleted == False),  # noqa: E712
                       scan_index_forward=not descending, page_size=page_size)


def all_visible(model: type[Item], tenant: str) -> list[Item]:
    """Every not-deleted item of a kind, id order (one paginated Query)."""
    return list(_visible(model, tenant))


def page_visible(model: type[Item], tenant: str, offset: int, limit: int, descending: bool = False) -> list[Item]:
    """One page of not-deleted items in id order, reading only the first `offset + limit` of them."""
    wanted = offset + limit
    found: list[Item] = []
    for item in _visible(model, tenant, descending, page_size=min(max(wanted, 1), 1000)):
        found.append(item)
        if len(found) >= wanted:
            break
    return found[offset:]


# --- software module types / distribution set types by natural key ----------------------------------
def find_sm_type_by_key(tenant: str, key: str) -> SoftwareModuleType | None:
    owner = unique_owner(tenant, "smtype-key", key)
    return get(SoftwareModuleType, tenant, owner) if owner is not None else None


def find_ds_type_by_key(tenant: str, key: str) -> DistributionSetType | None:
    owner = unique_owner(tenant, "dstype-key", key)
    return get(DistributionSetType, tenant, owner) if owner is not None else None


# --- artifacts -------------------------------------------------------------------------------------
def get_artifact(tenant: str, sm_id: int, artifact_id: int) -> Artifact | None:
    try:
        return Artifact.get(tenant, artifact_sort_key(sm_id, artifact_id), consistent_read=True)
    except Artifact.DoesNotExist:
        return None


def artifacts_of(tenant: str, sm_id: int) -> list[Artifact]:
    """A module's artifacts in id order (one Query on `art#<smId>#`)."""
    prefix = f"{Artifact.PREFIX}{pad(int(sm_id))}#"
    return list(Artifact.query(tenant, Artifact.sk.startswith(prefix), consistent_read=True))


def artifact_of_s3_key(tenant: str, s3_key: str) -> Artifact | None:
    """The artifact whose bytes live at `s3_key` (`artifact_s3_key`), or None (also for a foreign key)."""
    parts = s3_key.split("/")
    if len(parts) != 4 or parts[:2] != ["artifacts", tenant] or not all(p.isdigit() for p in parts[2:]):
        return None
    return get_artifact(tenant, int(parts[2]), int(parts[3]))


def find_artifact_by_filename(tenant: str, sm_id: int, filename: str) -> Artifact | None:
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
    return tx.put(UniqueKey(tenant, DEFAULTS_MARKER, owner_id=0), condition=UniqueKey.sk.does_not_exist(),
                  on_fail=on_fail)
