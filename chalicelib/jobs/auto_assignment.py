"""The safety net of auto-assignment (chalicelib/services/auto_assignment.py), one queued unit per tenant that
has auto-assigning filters (jobs/fanout.py): a unit walks the tenant's targets in controllerId order, a page
at a time under its budget, and hands on to a continuation that carries DynamoDB's position. No invocation
rescans a tenant (hawkBit issue #983): each reads at most its budget of pages.

Besides the schedule, setting a filter's auto-assign set queues a unit for that filter alone (`enqueue`),
which assigns the set to the targets that exist already. A unit run twice (SQS redelivery) or beside another
creates no second action: the assignment skips targets that have the set.
"""

from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.jobs import fanout
from chalicelib.jobs.budget import Budget
from chalicelib.services import auto_assignment
from chalicelib.store import job_queue
from chalicelib.store import targets as target_store

NAME = "auto_assignment"
SHARDS = None
EMPTY = {"targets": 0, "assigned": 0}


def wanted(tenant: str) -> bool:
    """Only tenants with auto-assigning filters get a unit (one Query of their filters' copies)."""
    return bool(auto_assignment.fresh(tenant))


def enqueue(tenant: str, filter_id: int) -> None:
    """A unit for one filter, over the tenant's targets from the first."""
    job_queue.send(
        [
            {
                "job": NAME,
                "now": clock.now_ms(),
                "tenant": tenant,
                "shard": None,
                "after": fanout.encode({"filter": int(filter_id), "key": None}),
            }
        ]
    )


def work(tenant: str, shard: None, now: int, after: Any, budget: Budget) -> tuple[dict[str, int], Any]:
    only = after.get("filter") if after else None
    key = after.get("key") if after else None
    filters = [f for f in auto_assignment.fresh(tenant) if only is None or int(f.id) == int(only)]
    counts = dict(EMPTY)
    if not filters:
        return counts, None
    while budget.next_page():
        page = target_store.page_of_tenant(tenant, key, budget.page_size)
        budget.read_page()
        counts["targets"] += len(page.items)
        counts["assigned"] += auto_assignment.evaluate(tenant, page.items, filters)
        key = page.after
        if key is None:
            return counts, None
    return counts, {"filter": only, "key": key}
