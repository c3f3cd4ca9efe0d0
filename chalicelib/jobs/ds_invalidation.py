"""The rest of a distribution set's invalidation (services.ds_invalidation): cancel its open actions beyond what
the request canceled itself. Never scheduled: the invalidating request enqueues the first unit with its
position ({ds, type, user, shard, key}), and each unit, within its budget, hands on a continuation
(jobs/fanout.py). A unit run twice cancels nothing twice: an action canceling already is only force-quit (force)
or left alone (soft), a closed one has left the index.
"""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.budget import Budget
from chalicelib.services import ds_invalidation

SHARDS = None
EMPTY = {"canceled": 0}


def work(
    tenant: str, shard: None, now: int, position: dict[str, Any] | None, budget: Budget
) -> tuple[dict[str, int], dict[str, Any] | None]:
    if position is None:  # only ever enqueued with a position
        return dict(EMPTY), None
    canceled, after = ds_invalidation.cancel_open_actions(
        tenant, position, budget.pages * budget.page_size, budget.page_size, budget.has_time
    )
    return {"canceled": canceled}, after
