"""Retention of configuration tasks, one queued unit per tenant (jobs/fanout.py): every task is deleted 90 days
after its creation (tenant key `deviceconfiguration.task.retentionDays`), an open one closed first. A unit is
one Query on the sparse retention index plus batched reads and deletes: the cost follows what is deleted, not
what is kept (services.workflow.expire_tasks, whose steps are each idempotent, so a redelivered unit completes
what an earlier delivery left and counts only what it deleted itself).

A unit works in batches of 100 due tasks while its budget has time; with due tasks left it hands on to a
continuation, which needs no position (deleted tasks leave the index: what is still due comes first).
"""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.budget import Budget
from chalicelib.services import workflow

SHARDS = None
EMPTY = {"deleted": 0}


def work(tenant: str, shard: None, now: int, after: Any, budget: Budget) -> tuple[dict[str, int], Any]:
    def another_batch() -> bool:  # each batch counts as a page of the unit's budget
        budget.read_page()
        return budget.next_page()

    deleted, more = workflow.expire_tasks(tenant, now, another_batch)
    return {"deleted": deleted}, ({"more": True} if more else None)
