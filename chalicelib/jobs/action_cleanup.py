"""Scheduled action cleanup (`action.cleanup.*`): delete closed actions of the configured statuses once expired.

Per tenant, status and shard it queries the sparse `cleanup` index (`tenant#STATUS#shard`, `closed_at`), so a run reads
only actions that are due: its cost grows with what it deletes, not with the table.
"""
from __future__ import annotations

import logging

from chalicelib import clock
from chalicelib.services import tenant_config, tenants
from chalicelib.store import actions as action_store
from chalicelib.store import targets as target_store

log = logging.getLogger("skyhawk.jobs")


def run(now_ms: int | None = None) -> dict[str, int]:
    now = clock.now_ms() if now_ms is None else now_ms
    deleted = 0
    for tenant in tenants.registered_tenants():
        deleted += cleanup_tenant(tenant, now)
    log.info("action cleanup deleted %d action(s)", deleted)
    return {"deleted": deleted}


def _is_installed(tenant: str, controller_id: str, action_id: int) -> bool:
    target = target_store.find(tenant, controller_id)
    installed = target.installed_action_id if target is not None else None
    return installed is not None and int(installed) == action_id


def cleanup_tenant(tenant: str, now: int) -> int:
    cfg = tenant_config.values(tenant)
    if not cfg["action.cleanup.enabled"]:
        return 0
    expiry = int(cfg["action.cleanup.actionExpiry"])
    statuses = [s.strip().upper() for s in str(cfg["action.cleanup.actionStatus"]).split(",") if s.strip()]
    deleted = 0
    for status in statuses:
        for controller_id, action_id in action_store.cleanup_due(tenant, status, now - expiry):
            if status == "FINISHED" and _is_installed(tenant, controller_id, action_id):
                continue  # it anchors the target's installedBase; hawkBit never deletes it either
            action_store.delete_with_history(tenant, controller_id, action_id)
            target_store.add_action_count(tenant, controller_id, -1)
            deleted += 1
    return deleted
