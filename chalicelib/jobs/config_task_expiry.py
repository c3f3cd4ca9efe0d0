"""Retention of configuration tasks, one queued unit per tenant (jobs/fanout.py): every task is deleted 90 days
after its creation (tenant key `deviceconfiguration.task.retentionDays`), an open one closed first. A unit is
one Query on the sparse retention index plus batched reads and deletes: the cost follows what is deleted, not
what is kept (services.workflow.expire_tasks, whose steps are each idempotent, so a redelivered unit completes
what an earlier delivery left and counts only what it deleted itself).

Not yet paged: the service deletes everything due of the tenant in one go (a tenant with very many expired
tasks needs more than one delivery; each one makes progress).
"""
from __future__ import annotations

from typing import Any

from chalicelib.jobs.budget import Budget
from chalicelib.services import workflow

SHARDS = None
EMPTY = {"deleted": 0}


def work(tenant: str, shard: None, now: int, after: Any, budget: Budget) -> tuple[dict[str, int], Any]:
    return {"deleted": workflow.expire_tasks(tenant, now)}, None
