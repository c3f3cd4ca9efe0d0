"""Overdue detection (`pollingOverdueTime`), one queued unit per tenant and index shard (jobs/fanout.py).

A target is overdue once it was last seen more than pollingTime + pollingOverdueTime ago. Every last-seen write
moves the target's entry in the by-seen list order (keyed `tenant#shard`, sorted by the time: the index the
target lists sort by, so no index of its own). Each shard keeps a watermark, the last-seen time up to which
its targets were reported: a unit reads the entries last seen after the watermark and at or before the due
time, reports each target (log line + metric), and moves the watermark to the due time once it has read them
all. A target reported is below the watermark until it polls again, so it is reported once per time it goes
overdue, and the cost grows with the targets found, not with those long offline. A redelivered unit of a run
that finished finds the watermark moved and reports nobody; one that died half-way reports its last page again.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.domain import polling
from chalicelib.domain.targets import OVERDUE_SHARDS
from chalicelib.jobs.budget import Budget
from chalicelib.services import tenant_config
from chalicelib.store import targets as target_store

log = logging.getLogger("skyhawk.jobs")

SHARDS = OVERDUE_SHARDS
EMPTY = {"overdue": 0}


def work(tenant: str, shard: int, now: int, after: Any, budget: Budget) -> tuple[dict[str, int], Any]:
    due = now - (polling.overdue_at(0, tenant_config.values(tenant)))  # last seen at or before: overdue
    reported = target_store.overdue_reported_through(tenant, shard)
    if reported is not None and reported >= due:
        return {"overdue": 0}, None
    found = 0
    while budget.next_page():
        page = target_store.seen_page(tenant, shard, reported, due, after, budget.page_size)
        budget.read_page()
        for controller_id in page.items:
            found += 1
            log.warning("target overdue", extra={"tenant": tenant, "controllerId": controller_id})
        after = page.after
        if after is None:
            if found:  # a range that held nobody holds nobody later either: the watermark may stay
                target_store.note_overdue_reported(tenant, shard, due)
            return {"overdue": found}, None
    return {"overdue": found}, after
