"""Deployment snapshots, written at a set's first assignment and kept per container (they never change).

The deploymentBase and download of every device assigned a set read the same snapshot; a container reads it
from DynamoDB once, then from memory. Actions hold only the set's id, name and version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from chalicelib.domain.deployment_snapshot import DeploymentSnapshot
from chalicelib.lazy import lazy_import
from chalicelib.store import snapshots as store

distribution_sets = lazy_import("chalicelib.services.distribution_sets")  # only a first assignment builds one

CACHED_SETS = 256
_cache: OrderedDict[tuple[str, int], DeploymentSnapshot] = OrderedDict()
_lock = threading.Lock()


def _cached(tenant: str, ds_id: int) -> DeploymentSnapshot | None:
    with _lock:
        found = _cache.get((tenant, int(ds_id)))
        if found is not None:
            _cache.move_to_end((tenant, int(ds_id)))
        return found


def _keep(tenant: str, snapshot: DeploymentSnapshot) -> DeploymentSnapshot:
    with _lock:
        _cache[(tenant, int(snapshot.ds_id))] = snapshot
        while len(_cache) > CACHED_SETS:
            _cache.popitem(last=False)
    return snapshot


def _from_document(document: dict) -> DeploymentSnapshot:
    return DeploymentSnapshot(
        ds_id=int(document["dsId"]),
        name=document["name"],
        version=document["version"],
        type_key=document["type"],
        required_migration_step=bool(document["migration"]),
        chunks=document["chunks"],
    )


def for_assignment(tenant: str, ds_id: int) -> DeploymentSnapshot:
    """The set's snapshot, built and stored at its first assignment (call after locking it)."""
    found = get(tenant, ds_id)
    if found is not None:
        return found
    built = distribution_sets.deployment_snapshot(tenant, ds_id)
    store.save(
        tenant,
        ds_id,
        {
            "dsId": built.ds_id,
            "name": built.name,
            "version": built.version,
            "type": built.type_key,
            "migration": built.required_migration_step,
            "chunks": built.chunks,
        },
    )
    return _keep(tenant, built)


def get(tenant: str, ds_id: int) -> DeploymentSnapshot | None:
    found = _cached(tenant, ds_id)
    if found is not None:
        return found
    document = store.load(tenant, ds_id)
    return _keep(tenant, _from_document(document)) if document is not None else None


def chunks(tenant: str, ds_id: int) -> list[dict]:
    """What devices get for the set (an assigned set always has its snapshot; one that lost it is built again)."""
    return for_assignment(tenant, ds_id).chunks


def forget() -> None:
    with _lock:
        _cache.clear()
