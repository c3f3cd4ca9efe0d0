"""Scheduled jobs as queued units of work: every invocation bounded, the cost following the work found (issue 7).

A schedule only enqueues. Its function reads one page of the tenant registry and sends one message per
(job, tenant[, shard]) to the jobs queue, plus a fan-out continuation for the next page of tenants if there is
one. The worker function (SQS-triggered, a small batch) runs a unit: the job's `work` reads at most its budget
of pages (jobs/budget.py) and, when work remains, sends a continuation carrying its position (DynamoDB's last
evaluated key, or the job's own, base64-JSON) to the same queue.

Messages (JSON bodies):
    {"job": "overdue", "now": 1700000000000, "fanout": true, "after": null}          tenants to fan out
    {"job": "overdue", "now": 1700000000000, "tenant": "DEFAULT", "shard": 3,
     "after": "eyJ...", "part": 2}                                                   a unit (shard or null)

`now` is the schedule's time and travels with every message: a unit and its continuations work on what was
due when the schedule fired, so a chain ends even while new work keeps arriving (the next schedule takes it).

SQS delivers at least once: every job's writes are conditional (clear an index entry only if still due,
delete an action only if it still exists, remove a work item with its repair), so a unit run again, or by two
workers at once, counts and changes each item once. A unit that fails is reported as a batch item failure and
redelivered; after `store.job_queue.MAX_RECEIVES` receives SQS moves it to the dead-letter queue.

A job is a module with `SHARDS` (the shards of the index it reads, or None for one unit per tenant), `EMPTY`
(its counts when it found nothing), `work(tenant, shard, now, after, budget) -> (counts, after | None)`, and
optionally `wanted(tenant)`: False leaves the tenant out of the fan-out (a job the tenant has turned off).
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
from typing import Any, Iterable

from chalicelib import clock, config
from chalicelib.jobs.budget import Budget
from chalicelib.store import job_queue
from chalicelib.store import tenants as tenant_registry

log = logging.getLogger("skyhawk.jobs")

JOBS = {
    "action_cleanup": "chalicelib.jobs.action_cleanup",
    "overdue": "chalicelib.jobs.overdue",
    "config_task_expiry": "chalicelib.jobs.config_task_expiry",
    "reaper": "chalicelib.jobs.reaper",
    "auto_assignment": "chalicelib.jobs.auto_assignment",
    "ds_invalidation": "chalicelib.jobs.ds_invalidation",  # enqueued by an invalidation, never scheduled
    "rollouts": "chalicelib.jobs.rollouts",
}


def job(name: str) -> Any:
    return importlib.import_module(JOBS[name])


def encode(position: Any) -> str | None:
    if position is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def decode(token: str | None) -> Any:
    return None if token is None else json.loads(base64.urlsafe_b64decode(token.encode()))


def schedule(name: str, now_ms: int | None = None) -> dict[str, Any]:
    """What a job's schedule does: enqueue the units of its first page of tenants (and a fan-out continuation)."""
    now = clock.now_ms() if now_ms is None else now_ms
    return {"job": name, "enqueued": fan_out({"job": name, "now": now, "fanout": True, "after": None})}


def fan_out(message: dict[str, Any]) -> int:
    name, now = message["job"], message["now"]
    the_job = job(name)
    shards = the_job.SHARDS
    wanted = getattr(the_job, "wanted", lambda tenant: True)
    page = tenant_registry.page(message.get("after"), config.settings().jobs_tenants_per_message)
    bodies: list[dict[str, Any]] = [
        {"job": name, "now": now, "tenant": tenant, "shard": shard, "after": None}
        for tenant in page.items
        if wanted(tenant)
        for shard in (range(shards) if shards else [None])
    ]
    if page.after is not None:
        bodies.append({"job": name, "now": now, "fanout": True, "after": page.after})
    return job_queue.send(bodies)


def run_unit(message: dict[str, Any], budget: Budget) -> dict[str, int]:
    """Run one message's unit within the budget; send its continuation if work remains. Returns its counts."""
    if message.get("fanout"):
        return {"enqueued": fan_out(message)}
    counts, position = job(message["job"]).work(
        message["tenant"], message.get("shard"), message["now"], decode(message.get("after")), budget
    )
    if position is not None:
        job_queue.send([{**message, "after": encode(position), "part": message.get("part", 0) + 1}])
        log.info("job %s continues", message["job"], extra={"tenant": message["tenant"], "shard": message.get("shard")})
    return counts


def run_batch(records: Iterable[tuple[str, str]], context: Any = None) -> dict[str, Any]:
    """The worker: run each (messageId, body) in turn. Answers Lambda's partial batch response (the failed
    messages only are redelivered) with the summed counts per job.

    A message whose turn comes when the invocation's time is running low is sent again as it is (it has not
    started), instead of failing and using up one of its receives. A body the batch ran already is the same unit
    of work (a rollout's check queued by several devices' feedback) and runs once.
    """
    failures: list[dict[str, str]] = []
    totals: dict[str, dict[str, int]] = {}
    units = deferred = 0
    seen: set[str] = set()
    for message_id, body in records:
        if body in seen:
            continue
        seen.add(body)
        budget = Budget.of(context)
        if units and not budget.has_time():
            job_queue.send_raw([body])
            deferred += 1
            continue
        units += 1
        message: dict[str, Any] = {}
        try:
            message = json.loads(body)
            counts = run_unit(message, budget)
        except Exception:
            log.exception("job %s failed", message.get("job"), extra={"tenant": message.get("tenant")})
            failures.append({"itemIdentifier": message_id})
            continue
        summed = totals.setdefault(message["job"], {})
        for key, value in counts.items():
            summed[key] = summed.get(key, 0) + value
    # Top-level numbers become the invocation's metrics (telemetry.observe_jobs): "<job>.<count>" for each job.
    found = {f"{name}.{key}": value for name, counts in totals.items() for key, value in counts.items()}
    return {
        "batchItemFailures": failures,
        "units": units,
        "deferred": deferred,
        "failed": len(failures),
        **found,
        "jobs": totals,
    }
