"""Target metadata repository: the one metadata item of a target (domain/targets.py TargetMetadata)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import targets as domain
from chalicelib.store import records
from chalicelib.store.tables import TargetMetadata


def find(tenant: str, controller_id: str) -> domain.TargetMetadata:
    """The target's metadata item; an empty, unsaved one (version None) when it has none."""
    try:
        item = TargetMetadata.get(domain.metadata_owner(tenant), controller_id, consistent_read=True)
    except DoesNotExist:
        return domain.TargetMetadata(domain.metadata_owner(tenant), controller_id)
    return records.to_entity(domain.TargetMetadata, item)


def key_only(tenant: str, controller_id: str) -> domain.TargetMetadata:
    """The item named by its key alone (the target's deletion removes it without a version)."""
    return domain.TargetMetadata(domain.metadata_owner(tenant), controller_id)


def maps_of_tenant(tenant: str) -> dict[str, dict[str, dict]]:
    """controllerId -> metadata map of every target of the tenant that has metadata: one Query of the
    metadata partition (its cost grows with the targets that have metadata, not with all targets)."""
    return {
        item.controller_id: dict(item.metadata.as_dict() if item.metadata else {})
        for item in TargetMetadata.query(domain.metadata_owner(tenant))
    }


def maps_of(tenant: str, controller_ids: list[str]) -> dict[str, dict[str, dict]]:
    """controllerId -> metadata map of those of the targets that have metadata (BatchGetItem, 100 keys a call)."""
    keys = [(domain.metadata_owner(tenant), cid) for cid in dict.fromkeys(controller_ids)]
    return (
        {
            item.controller_id: dict(item.metadata.as_dict() if item.metadata else {})
            for item in TargetMetadata.batch_get(keys)
        }
        if keys
        else {}
    )
