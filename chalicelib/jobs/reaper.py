"""The reaper: finishes or takes back the multi-step changes a crash left half done (issue 6), one queued unit
per tenant (jobs/fanout.py).

Every such change keeps a work item (store.pending) from its first step to its last. A unit reads the tenant's
items that are due (written more than the grace period ago, so their request is dead), a page at a time; each
is handed to the service that owns the change, which finishes it (a target deletion, a module purge, an orphan
S3 object) or takes it back (a bulk create), idempotently, and removes the item. A unit costs what it finds. It
stops taking new work when its budget runs low and goes on in a continuation from the last item it handled;
a repair that ran out of time part-way noted its progress in its item, which the next schedule finds again.

Counters a repaired change touched are then recounted from their items (services.usage_recount), and
only those: a crash between the steps of a change is what can leave a counter off.
"""

from __future__ import annotations

import logging
from typing import Callable

from chalicelib.domain.pending import PendingItem
from chalicelib.jobs.budget import Budget
from chalicelib.lazy import lazy_import
from chalicelib.store import pending

log = logging.getLogger("skyhawk.jobs")

targets = lazy_import("chalicelib.services.targets")
software_modules = lazy_import("chalicelib.services.software_modules")
bulk_creates = lazy_import("chalicelib.services.bulk_creates")
usage_recount = lazy_import("chalicelib.services.usage_recount")

SHARDS = None
EMPTY = {"repaired": 0, "failed": 0}

# A work item as store.pending reads it: handed on to the service that owns the change.
Work = PendingItem
# A repair finishes (or takes back) one change; False when it ran out of time part-way (it notes its progress).
Handler = Callable[[str, Work, int, Callable[[], bool]], bool | None]


def _handlers() -> dict[str, tuple[Handler, Callable[[Work], list[str]]]]:
    """work kind -> (its repair, the usage counters a repair of it may have to correct)."""

    def none(work: Work) -> list[str]:
        return []

    return {
        targets.DELETION: (
            lambda tenant, work, now, has_time: targets.finish_deletion(tenant, work.ref, has_time),
            lambda work: ["TARGET"],
        ),
        software_modules.PURGE: (
            lambda tenant, work, now, has_time: software_modules.finish_purge(tenant, int(work.ref)),
            lambda work: ["SOFTWARE_MODULE", "ARTIFACT_STORAGE"],
        ),
        software_modules.ORPHAN_OBJECT: (
            lambda tenant, work, now, has_time: software_modules.reap_object(tenant, work, now),
            none,
        ),
        software_modules.UPLOAD: (
            lambda tenant, work, now, has_time: software_modules.reap_upload(tenant, work, now),
            none,
        ),
        bulk_creates.KIND: (bulk_creates.roll_back, bulk_creates.counted_by),
        bulk_creates.PART: (lambda tenant, work, now, has_time: bulk_creates.drop_part(tenant, work, now), none),
        usage_recount.KIND: (
            lambda tenant, work, now, has_time: usage_recount.recount(tenant, work, now, has_time),
            none,
        ),
    }


def work(
    tenant: str, shard: None, now: int, position: dict | None, budget: Budget
) -> tuple[dict[str, int], dict | None]:
    """Position: {"after": the key of the last item handled, None before the first}."""
    handlers = _handlers()
    after = position["after"] if position else None
    done = failed = 0
    while budget.next_page():
        page = pending.due_page(tenant, now, after, budget.page_size)
        budget.read_page()
        for item in page.items:
            if not budget.has_time():
                return _counts(tenant, done, failed), {"after": after}
            if item.kind not in handlers:
                log.error("reaper: unknown work kind %s", item.kind, extra={"tenant": tenant, "key": item.key})
                failed += 1
                after = item.key
                continue
            repair, counted = handlers[item.kind]
            try:
                if repair(tenant, item, now, budget.has_time) is False:
                    if not budget.has_time():  # it ran out of time and noted its progress: the continuation goes on
                        return _counts(tenant, done, failed), {"after": after}
                    after = item.key  # it must start again (a counter moved): the next schedule does
                    continue
                usage_recount.mark(tenant, counted(item), now)
                done += 1
            except Exception:
                log.exception("reaper: %s %s failed", item.kind, item.ref, extra={"tenant": tenant})
                failed += 1
            after = item.key
        if page.after is None:
            return _counts(tenant, done, failed), None
    return _counts(tenant, done, failed), {"after": after}


def _counts(tenant: str, done: int, failed: int) -> dict[str, int]:
    if done or failed:
        log.info("reaper: %d repaired, %d failed", done, failed, extra={"tenant": tenant})
    return {"repaired": done, "failed": failed}
