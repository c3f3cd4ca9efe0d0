"""Action cleanup (`action.cleanup.*`): delete closed actions of the configured statuses once expired, one
queued unit per tenant and index shard (jobs/fanout.py).

A unit queries, per configured status, its shard of the sparse `cleanup` index (`tenant#STATUS#shard`,
`closed_at`), so it reads only actions that are due: its cost grows with what it deletes, not with the table.
Its position is the status it is at and DynamoDB's last evaluated key in it. Each deletion takes the action off
its target's count in the same transaction, conditional on the action, so a redelivered unit counts none twice.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.actions import INDEX_SHARDS
from chalicelib.jobs.budget import Budget
from chalicelib.services import tenant_config
from chalicelib.store import actions as action_store
from chalicelib.store import targets as target_store

SHARDS = INDEX_SHARDS
EMPTY = {"deleted": 0}


def _is_installed(tenant: str, controller_id: str, action_id: int) -> bool:
    target = target_store.find(tenant, controller_id)
    installed = target.installed_action_id if target is not None else None
    return installed is not None and int(installed) == action_id


def wanted(tenant: str) -> bool:
    """Only tenants that turned the cleanup on get units (one configuration read, which their units repeat)."""
    return bool(tenant_config.values(tenant)["action.cleanup.enabled"])


def work(tenant: str, shard: int, now: int, after: Any, budget: Budget) -> tuple[dict[str, int], Any]:
    cfg = tenant_config.values(tenant)
    if not cfg["action.cleanup.enabled"]:
        return {"deleted": 0}, None
    closed_before = now - int(cfg["action.cleanup.actionExpiry"])
    statuses = [s.strip().upper() for s in str(cfg["action.cleanup.actionStatus"]).split(",") if s.strip()]
    # a continuation names its status: the configured list may have changed since (a status gone ends the unit)
    status_at, key = (
        (statuses.index(after["status"]) if after["status"] in statuses else len(statuses), after["key"])
        if after
        else (0, None)
    )
    deleted = 0
    while status_at < len(statuses):
        if not budget.next_page():
            return {"deleted": deleted}, {"status": statuses[status_at], "key": key}
        status = statuses[status_at]
        page = action_store.cleanup_page(tenant, status, shard, closed_before, key, budget.page_size)
        budget.read_page()
        for controller_id, action_id in page.items:
            if status == "FINISHED" and _is_installed(tenant, controller_id, action_id):
                continue  # it anchors the target's installedBase; hawkBit never deletes it either
            if action_store.delete_closed(tenant, controller_id, action_id):
                deleted += 1
        key = page.after
        if key is None:
            status_at += 1
    return {"deleted": deleted}, None
