"""Which targets an RSQL target filter matches, in memory, for work that already holds the targets (a page of a
job's walk): auto-assignment and rollout creation. What a query names is read and nothing else: the targets'
metadata items only for a query naming `metadata.*`, their tags' names only for one naming `tag`; and the
compatibility of the targets' types with a distribution set's type.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from chalicelib.domain.catalog_entities import TargetType
from chalicelib.domain.targets import Target
from chalicelib.lazy import lazy_import
from chalicelib.store import catalog, target_metadata
from chalicelib.store.tags import TARGET_TAGS

rsql = lazy_import("chalicelib.domain.rsql")
target_type_rules = lazy_import("chalicelib.domain.target_types")
targets = lazy_import("chalicelib.services.targets")

Lookup = Callable[[str], Any]


def views(tenant: str, items: list[Target], nodes: Iterable[Any]) -> list[tuple[Target, Lookup]]:
    """Each target with the lookup its filters match against (`node.matches(lookup)`), for the fields `nodes`
    name."""
    fields = {f.lower() for node in nodes if node is not None for f in node.fields()}
    metadata = (
        target_metadata.maps_of(tenant, [t.controller_id for t in items])
        if any(f.startswith("metadata.") for f in fields)
        else {}
    )
    tag_ids = {int(i) for t in items for i in t.tags or []} if "tag" in fields else set()
    tag_names = {int(i): tag.name for i, tag in TARGET_TAGS.get_many(tenant, tag_ids).items()} if tag_ids else None
    return [(t, rsql.dict_lookup(targets.search_view(t, metadata.get(t.controller_id), tag_names))) for t in items]


def compatible(tenant: str, candidates: list[Target], ds_type_id: int) -> list[Target]:
    """Leave out targets whose type does not list the set's type (the types read only when a candidate has one)."""
    typed = {int(t.target_type) for t in candidates if t.target_type is not None}
    if not typed:
        return candidates
    refused = {
        int(t.id)
        for t in target_type_rules.incompatible(catalog.get_many(TargetType, tenant, typed).values(), int(ds_type_id))
    }
    return [t for t in candidates if t.target_type is None or int(t.target_type) not in refused]
