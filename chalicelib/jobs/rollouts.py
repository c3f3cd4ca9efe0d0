"""The rollouts job: every unit moves one rollout on (services/rollout_runner.py), or, from the schedule, finds
the tenant's rollouts with work in progress and queues a unit for each.

Units come from three places: an operator's operation (start, resume, stop, delete, trigger, the POST that
creates it), device feedback that changes the counts of a rollout's group (the check that starts the next group
within a second, chalicelib/services/controller.py), and the schedule (every minute: a lost message, a
`startAt` come, the next minute of rate control). An event's unit carries `now: 0`, so the feedback of many
devices of one rollout in one batch of messages runs one check (fanout.run_batch runs identical bodies once).
A long step (a large group's start, the creation passes) hands on its position in a continuation.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib import clock, errors, faults
from chalicelib.domain.actions import Action
from chalicelib.domain.changes import Change
from chalicelib.jobs import fanout
from chalicelib.jobs.budget import Budget
from chalicelib.services import rollout_runner
from chalicelib.store import job_queue
from chalicelib.store import rollouts as store

log = logging.getLogger("skyhawk.rollouts")

NAME = "rollouts"
SHARDS = None
EMPTY = {"rollouts": 0}


def enqueue(tenant: str, rollout_id: int, position: dict[str, Any] | None = None) -> None:
    job_queue.send([_unit(tenant, rollout_id, position)])


def nudge(tenant: str, rollout_id: int, position: dict[str, Any] | None = None) -> None:
    """Queue a unit after a committed change (an operation, a device's feedback). A queue that refuses is logged,
    not raised: the change is stored, and the scheduled check (every minute) finds every rollout at work."""
    try:
        enqueue(tenant, rollout_id, position)
    except Exception as exc:  # a queue that refuses: see above
        if not (isinstance(exc, errors.ServiceUnavailable) or faults.unavailable(exc)):
            raise
        log.warning("rollout unit not queued: %s", faults.describe(exc))


def action_changed(tenant: str, action: Action, change: Change) -> None:
    """After a committed change of a rollout's action that moves its status: queue the rollout's check."""
    status = change.get("status")
    if action.rollout_id is None or not isinstance(status, str) or status == action.status:
        return
    nudge(action.tenant or tenant, int(action.rollout_id))


def _unit(tenant: str, rollout_id: int, position: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"job": NAME, "now": 0, "tenant": tenant, "shard": int(rollout_id), "after": fanout.encode(position)}


def work(tenant: str, shard: int | None, now: int, after: Any, budget: Budget) -> tuple[dict[str, int], Any]:
    if shard is None:  # the schedule's unit for the tenant: actions past their timeout, then every rollout at work
        timed_out = rollout_runner.time_out_actions(tenant, now or clock.now_ms(), budget.has_time)
        ids = sorted(set(store.in_progress(tenant)) | timed_out)
        job_queue.send(_unit(tenant, rollout_id) for rollout_id in ids)
        return {"rollouts": len(ids)}, None
    position = rollout_runner.advance(tenant, int(shard), after, budget.has_time, creation_pages=budget.pages)
    return {"rollouts": 1}, position
