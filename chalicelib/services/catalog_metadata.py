"""Key/value metadata kept as a map on a software module or distribution set item.

hawkBit allows 100 entries per entity (`maxMetaDataEntriesPer*`), so the map stays far below the
item size limit and one GetItem answers every metadata read. A write replaces the whole map, on
the condition of the item's version (a concurrent change is retried on fresh data): keys are map
keys inside a value, never parts of a DynamoDB document path, so any key works (`a.b`, `a[0]`).
Targets keep theirs the same way, on an item of their own (services/target_metadata.py gives `write`).
"""

from __future__ import annotations

from typing import Any, Callable

from chalicelib import clock, errors
from chalicelib.domain import catalog as rules
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain import rsql
from chalicelib.domain.changes import Change
from chalicelib.domain.listing import Paging
from chalicelib.services import catalog_lists
from chalicelib.store import catalog
from chalicelib.store.tx import ATTEMPTS, retrying

FIELDS = {"key", "value"}
FIELDS_WITH_VISIBILITY = FIELDS | {"targetvisible"}
SORTABLE = catalog_lists.sortable(FIELDS)
SORTABLE_WITH_VISIBILITY = catalog_lists.sortable(FIELDS_WITH_VISIBILITY)
# Writes the change of the loaded entity on the condition of its version (ConcurrentModification otherwise).
Write = Callable[[Any, Change], Any]


def entry_of(entity: Any, key: str, kind: str) -> rules.MetadataEntry:
    for entry in rules.stored_metadata(entity.metadata):
        if entry.key == key:
            return entry
    raise errors.EntityNotFound(f"{kind} metadata with given key {{{key}}} does not exist.", [f"{kind}Metadata", key])


def page(entity: Any, q: str | None, paging: Paging, with_visibility: bool) -> tuple[list[rules.MetadataEntry], int]:
    fields = FIELDS_WITH_VISIBILITY if with_visibility else FIELDS
    node = rsql.parse(q, fields) if q else None
    records = [
        {"key": e.key, "value": e.value, "targetvisible": e.target_visible, catalog_lists.ENTITY: e}
        for e in rules.stored_metadata(entity.metadata)
    ]
    return catalog_lists.filter_and_page(records, node, paging)


def _stored(entry: rules.MetadataEntry, with_visibility: bool) -> dict:
    value: dict = {"value": entry.value}
    if with_visibility:
        value["targetVisible"] = entry.target_visible
    return value


def create(
    load: Callable[[], Any],
    entries: list[rules.MetadataEntry],
    user: str,
    kind: str,
    with_visibility: bool,
    write: Write = catalog.update,
) -> list[rules.MetadataEntry]:
    """Add entries; an existing key is a 409, more than 100 entries a 403, nothing written then."""

    def attempt() -> list[rules.MetadataEntry]:
        entity = load()
        existing = {e.key for e in rules.stored_metadata(entity.metadata)}
        for entry in entries:
            if entry.key in existing:
                raise errors.EntityAlreadyExists(
                    f"{kind} metadata with given key {{{entry.key}}} already exists.", [f"{kind}Metadata", entry.key]
                )
        quota_rules.check_assign(
            len(entries), len(existing), quota_rules.MAX_METADATA_ENTRIES, "metadata entries", f"{kind} '{entity.id}'"
        )
        if entries:
            _save(entity, {**_stored_map(entity), **{e.key: _stored(e, with_visibility) for e in entries}}, user, write)
        return entries

    return retrying(ATTEMPTS, attempt)


def update(
    load: Callable[[], Any],
    key: str,
    body: dict,
    user: str,
    kind: str,
    with_visibility: bool,
    write: Write = catalog.update,
) -> rules.MetadataEntry:
    """PUT `{value[, targetVisible]}`: fields absent from the body keep their value."""

    def attempt() -> rules.MetadataEntry:
        entity = load()
        current = entry_of(entity, key, kind)
        value = rules.metadata_entry({"key": key, **body}, with_visibility, key=key, value_required="value" in body)
        changed = rules.MetadataEntry(
            key,
            value.value if "value" in body else current.value,
            value.target_visible if "targetVisible" in body else current.target_visible,
        )
        _save(entity, {**_stored_map(entity), key: _stored(changed, with_visibility)}, user, write)
        return changed

    return retrying(ATTEMPTS, attempt)


def delete(load: Callable[[], Any], key: str, user: str, kind: str, write: Write = catalog.update) -> None:
    def attempt() -> None:
        entity = load()
        entry_of(entity, key, kind)
        _save(entity, {k: v for k, v in _stored_map(entity).items() if k != key}, user, write)

    retrying(ATTEMPTS, attempt)


def _stored_map(entity: Any) -> dict[str, dict]:
    return dict(entity.metadata or {})


def _save(entity: Any, metadata: dict[str, dict], user: str, write: Write) -> None:
    quota_rules.check_metadata_bytes(metadata, _stored_map(entity), type(entity).__name__, entity.id)
    write(entity, {"metadata": metadata, **rules.modified(user, clock.now_ms())})  # on the loaded version
