"""Listing catalogue kinds with hawkBit's `q` / `sort` / `offset` / `limit`.

Unfiltered lists in id order read one page from a key-ordered Query and take `total` from the kind's
usage counter (the quota counter is the number of not-deleted items). A `q=` filter or another sort
order reads the kind's not-deleted items (one paginated Query; the catalogue is small per tenant),
then filters and sorts in memory.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from chalicelib.domain import listing, rsql
from chalicelib.domain.listing import Paging
from chalicelib.store import catalog, counters

Record = dict[str, Any]
ENTITY = "_entity"

BASE_FIELDS = {"id", "name", "description", "createdat", "createdby", "lastmodifiedat", "lastmodifiedby"}


def base_record(entity: Any) -> Record:
    return {
        "id": int(entity.id),
        "name": entity.name,
        "description": entity.description,
        "createdat": int(entity.created_at),
        "createdby": entity.created_by,
        "lastmodifiedat": int(entity.last_modified_at),
        "lastmodifiedby": entity.last_modified_by,
        ENTITY: entity,
    }


def sortable(fields: Iterable[str]) -> dict[str, str]:
    """Sort keys are the plain (non-wildcard) query fields; records are keyed by the same names."""
    return {f: f for f in fields if not f.endswith(".*")}


def list_kind(
    kind: type,
    tenant: str,
    q: str | None,
    paging: Paging,
    fields: set[str],
    record: Callable[[Any], Record],
    total_quota: str,
    prepare: Callable[[list], list] | None = None,
) -> tuple[list, int]:
    """(entities of one page, total). `prepare` may return the batch with what `record` needs (e.g. modules)."""
    node = rsql.parse(q, fields) if q else None
    descending = paging.sorted_by("id")
    if node is None and descending is not None:
        items = catalog.page_visible(kind, tenant, paging.offset, paging.limit, descending)
        return items, counters.usage(tenant, total_quota)
    entities = catalog.all_visible(kind, tenant)
    if prepare is not None:
        entities = prepare(entities)
    return filter_and_page([record(e) for e in entities], node, paging)


def filter_and_page(records: list[Record], node: rsql.Node | None, paging: Paging) -> tuple[list, int]:
    """Records carry their entity under ENTITY (base_record): listing.filter_and_page over (record, entity)."""
    return listing.filter_and_page(((r, r[ENTITY]) for r in records), node, paging)
