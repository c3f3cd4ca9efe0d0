"""Repository of target filter queries: `tfq#<padded id>` items in the catalog table, names guarded by
`uniq#tfq-name#...` items (chalicelib/store/catalog.py), and the auto-assigning filters' evaluation copies
(`autoassign#<padded id>`, chalicelib/domain/target_filters.py) written in the same transactions.

A tenant has at most TARGET_FILTER_QUERY (1000) filters, so filtered or sorted lists read them with one
paginated Query; the auto-assigning ones are read with one Query of their own prefix, whose cost follows the
filters that auto-assign, not all filters.
"""

from __future__ import annotations

from typing import Iterable

from chalicelib.domain.target_filters import AutoAssignment, TargetFilter
from chalicelib.store import catalog, records, tables
from chalicelib.store.tables import pad
from chalicelib.store.tx import Tx

SEQUENCE = "targetfilterquery"
NAME_GUARD = "tfq-name"
_Model = tables.TargetFilterQuery
_Auto = tables.AutoAssignment


def sort_key(filter_id: int) -> str:
    return f"{_Model.PREFIX}{pad(int(filter_id))}"


def auto_sort_key(filter_id: int) -> str:
    return f"{_Auto.PREFIX}{pad(int(filter_id))}"


def get(tenant: str, filter_id: int) -> TargetFilter | None:
    try:
        return records.to_entity(TargetFilter, _Model.get(tenant, sort_key(filter_id), consistent_read=True))
    except _Model.DoesNotExist:
        return None


def get_many(tenant: str, ids: Iterable[int]) -> list[TargetFilter]:
    """The filters of those ids that exist, id order (BatchGetItem, 100 keys a call)."""
    wanted = sorted({int(i) for i in ids})
    found = (
        {
            int(item.id): records.to_entity(TargetFilter, item)
            for item in _Model.batch_get([(tenant, sort_key(i)) for i in wanted])
        }
        if wanted
        else {}
    )
    return [found[i] for i in wanted if i in found]


def all_of(tenant: str) -> list[TargetFilter]:
    """Every filter of the tenant, id order (one paginated Query)."""
    return [
        records.to_entity(TargetFilter, item)
        for item in _Model.query(tenant, _Model.sk.startswith(_Model.PREFIX), consistent_read=True)
    ]


def page(tenant: str, offset: int, limit: int, descending: bool = False) -> list[TargetFilter]:
    """One page in id order, reading only the first `offset + limit` filters."""
    wanted = offset + limit
    found: list[TargetFilter] = []
    for item in _Model.query(
        tenant,
        _Model.sk.startswith(_Model.PREFIX),
        scan_index_forward=not descending,
        page_size=min(max(wanted, 1), 1000),
        consistent_read=True,
    ):
        found.append(records.to_entity(TargetFilter, item))
        if len(found) >= wanted:
            break
    return found[offset:]


def auto_assignments(tenant: str, consistent: bool = False) -> list[AutoAssignment]:
    """The tenant's auto-assigning filters, id order: one Query of their copies."""
    return [
        records.to_entity(AutoAssignment, item)
        for item in _Auto.query(tenant, _Auto.sk.startswith(_Auto.PREFIX), consistent_read=consistent)
    ]


def auto_assignment_key(tenant: str, filter_id: int) -> AutoAssignment:
    """The copy named by its key alone (to delete it)."""
    return AutoAssignment(tenant, auto_sort_key(filter_id), int(filter_id), "", "", 0, "", 0, False, "")


def claim_name(tx: Tx, tenant: str, name: str, filter_id: int, on_fail) -> Tx:
    return catalog.claim_unique(tx, tenant, NAME_GUARD, (name,), filter_id, on_fail)


def release_name(tx: Tx, tenant: str, name: str) -> Tx:
    return catalog.release_unique(tx, tenant, NAME_GUARD, (name,))


def names_taken(tenant: str, names: Iterable[str]) -> set[str]:
    return {parts[0] for _, parts in catalog.taken_unique(tenant, [(NAME_GUARD, (n,)) for n in names])}
