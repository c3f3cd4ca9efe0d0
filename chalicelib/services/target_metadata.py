"""Target metadata (hawkBit TargetManagement's metadata): the catalogue's metadata rules on the target's own
metadata item. Every write also checks, in its transaction, that the target is there and not being deleted,
so no entry outlives its target (the target's deletion removes the item with the target item)."""

from __future__ import annotations

from dataclasses import replace

from chalicelib import errors
from chalicelib.domain import catalog as rules
from chalicelib.domain.changes import Change
from chalicelib.domain.listing import Paging
from chalicelib.domain.targets import Target, TargetMetadata
from chalicelib.services import auto_assignment, catalog_metadata
from chalicelib.services import targets as target_service
from chalicelib.store import target_metadata as store
from chalicelib.store import targets as target_store
from chalicelib.store.tx import Tx

KIND = "Target"


def _load(tenant: str, controller_id: str) -> TargetMetadata:
    target_service.get(tenant, controller_id)  # 404 for an unknown (or deleted) target
    return store.find(tenant, controller_id)


def _writer(tenant: str, controller_id: str) -> catalog_metadata.Write:
    def write(entity: TargetMetadata, change: Change) -> None:
        gone = lambda: errors.EntityNotFound.of("Target", controller_id)
        (
            Tx()
            .check(Target, tenant, controller_id, target_store.live_condition(), on_fail=gone)
            .put(replace(entity, **change))
            .commit()
        )  # on the loaded version: a concurrent change is retried
        auto_assignment.changed(tenant, [controller_id])

    return write


def page(tenant: str, controller_id: str, q: str | None, paging: Paging) -> tuple[list[rules.MetadataEntry], int]:
    return catalog_metadata.page(_load(tenant, controller_id), q, paging, with_visibility=False)


def get(tenant: str, controller_id: str, key: str) -> rules.MetadataEntry:
    return catalog_metadata.entry_of(_load(tenant, controller_id), key, KIND)


def create(tenant: str, controller_id: str, entries: list[rules.MetadataEntry], user: str) -> list[rules.MetadataEntry]:
    return catalog_metadata.create(
        lambda: _load(tenant, controller_id),
        entries,
        user,
        KIND,
        with_visibility=False,
        write=_writer(tenant, controller_id),
    )


def update(tenant: str, controller_id: str, key: str, body: dict, user: str) -> rules.MetadataEntry:
    return catalog_metadata.update(
        lambda: _load(tenant, controller_id),
        key,
        body,
        user,
        KIND,
        with_visibility=False,
        write=_writer(tenant, controller_id),
    )


def delete(tenant: str, controller_id: str, key: str, user: str) -> None:
    catalog_metadata.delete(lambda: _load(tenant, controller_id), key, user, KIND, write=_writer(tenant, controller_id))
