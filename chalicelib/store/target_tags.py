"""Repository of target tags: `ttag#<padded id>` items in the catalog table, names guarded by
`uniq#ttag-name#...` items (chalicelib/store/catalog.py) written in the same transaction.

A tenant has at most TARGET_TAG (1000 by default) tags, so lists read them all with one paginated Query.
"""
from __future__ import annotations

from typing import Iterable

from chalicelib.domain.target_tags import TargetTag
from chalicelib.store import catalog, records, tables
from chalicelib.store.tables import pad
from chalicelib.store.tx import Tx

SEQUENCE = "targettag"
NAME_GUARD = "ttag-name"


def sort_key(tag_id: int) -> str:
    return f"{tables.TargetTag.PREFIX}{pad(int(tag_id))}"


def get(tenant: str, tag_id: int) -> TargetTag | None:
    try:
        return records.to_entity(TargetTag, tables.TargetTag.get(tenant, sort_key(tag_id), consistent_read=True))
    except tables.TargetTag.DoesNotExist:
        return None


def get_many(tenant: str, ids: Iterable[int]) -> dict[int, TargetTag]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    found = tables.TargetTag.batch_get([(tenant, sort_key(i)) for i in wanted])
    return {int(item.id): records.to_entity(TargetTag, item) for item in found}


def all_of(tenant: str) -> list[TargetTag]:
    """Every tag of the tenant, id order (one paginated Query)."""
    items = tables.TargetTag.query(tenant, tables.TargetTag.sk.startswith(tables.TargetTag.PREFIX),
                                   consistent_read=True)
    return [records.to_entity(TargetTag, item) for item in items]


def name_owner(tenant: str, name: str) -> int | None:
    return catalog.unique_owner(tenant, NAME_GUARD, name)


def names_taken(tenant: str, names: Iterable[str]) -> set[str]:
    return {parts[0] for _, parts in catalog.taken_unique(tenant, [(NAME_GUARD, (n,)) for n in names])}


def claim_name(tx: Tx, tenant: str, name: str, tag_id: int, on_fail) -> Tx:
    return catalog.claim_unique(tx, tenant, NAME_GUARD, (name,), tag_id, on_fail)


def release_name(tx: Tx, tenant: str, name: str) -> Tx:
    return catalog.release_unique(tx, tenant, NAME_GUARD, (name,))
