"""Scheduled overdue detection (`pollingOverdueTime`).

Every poll that writes the last-seen time also writes `overdue_at = lastRequest + pollingTime +
pollingOverdueTime`, which puts the target into the sparse `overdue` index (keyed `tenant#shard`). A run
queries, per tenant and shard, only the entries whose time has passed, reports each target once (log line + metric), and
drops it from the index until its next poll: the cost grows with the overdue targets found.
"""
from __future__ import annotations

import logging

from chalicelib import clock
from chalicelib.services import tenants
from chalicelib.store import targets as target_store

log = logging.getLogger("skyhawk.jobs")


def run(now_ms: int | None = None) -> dict[str, int]:
    now = clock.now_ms() if now_ms is None else now_ms
    found = 0
    for tenant in tenants.registered_tenants():
        for controller_id, _ in target_store.overdue_due(tenant, now):
            if target_store.clear_overdue(tenant, controller_id, now):
                found += 1
                log.warning("target overdue", extra={"tenant": tenant, "controllerId": controller_id})
    return {"overdue": found}
