"""Overdue detection (`pollingOverdueTime`), one queued unit per tenant and index shard (jobs/fanout.py).

Every poll that writes the last-seen time also writes `overdue_at = lastRequest + pollingTime +
pollingOverdueTime`, which puts the target into the sparse `overdue` index (keyed `tenant#shard`). A unit
queries its shard for the entries whose time has passed, reports each target once (log line + metric), and
drops it from the index until its next poll: the cost grows with the overdue targets found. The drop is
conditional on the entry still being due, so a redelivered unit reports nobody twice.
"""
from __future__ import annotations

import logging
from typing import Any

from chalicelib.domain.targets import OVERDUE_SHARDS
from chalicelib.jobs.budget import Budget
from chalicelib.store import targets as target_store

log = logging.getLogger("skyhawk.jobs")

SHARDS = OVERDUE_SHARDS
EMPTY = {"overdue": 0}


def work(tenant: str, shard: int, now: int, after: Any, budget: Budget) -> tuple[dict[str, int], Any]:
    found = 0
    while budget.next_page():
        page = target_store.overdue_page(tenant, shard, now, after, budget.page_size)
        budget.read_page()
        for controller_id in page.items:
            if target_store.clear_overdue(tenant, controller_id, now):
                found += 1
                log.warning("target overdue", extra={"tenant": tenant, "controllerId": controller_id})
        after = page.after
        if after is None:
            return {"overdue": found}, None
    return {"overdue": found}, after
