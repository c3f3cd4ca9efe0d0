"""Scheduled reaper: finishes or takes back the multi-step changes a crash left half done (issue 6).

Every such change keeps a work item (store.pending) from its first step to its last. Per registered
tenant, one Query reads the items that are due (written more than the grace period ago, so their request
is dead); each is handed to the service that owns the change, which finishes it (a target deletion, a
module purge, an orphan S3 object) or takes it back (a bulk create), idempotently, and removes the item.
A run costs what it finds: one Query per tenant plus the repairs. It stops starting new work when the
Lambda's remaining time runs low; what is left stays due for the next run.

Counters a repaired change touched are then recounted from their items (services.usage_recount), and
only those: a crash between the steps of a change is what can leave a counter off.
"""
from __future__ import annotations

import logging
from typing import Callable

from chalicelib import clock
from chalicelib.lazy import lazy_import
from chalicelib.services import tenants
from chalicelib.store import pending
from chalicelib.store.tables import PendingWork

log = logging.getLogger("skyhawk.jobs")

targets = lazy_import("chalicelib.services.targets")
software_modules = lazy_import("chalicelib.services.software_modules")
bulk_creates = lazy_import("chalicelib.services.bulk_creates")
usage_recount = lazy_import("chalicelib.services.usage_recount")

# Stop taking new work when less than this is left of the invocation (the launcher and Lambda give 30 s).
RESERVE_MS = 8_000

# A repair finishes (or takes back) one change; False when it ran out of time part-way (it notes its progress).
Handler = Callable[[str, PendingWork, int, Callable[[], bool]], bool | None]


def _handlers() -> dict[str, tuple[Handler, Callable[[PendingWork], list[str]]]]:
    """work kind -> (its repair, the usage counters a repair of it may have to correct)."""
    none = lambda work: []  # noqa: E731
    return {
        targets.DELETION: (lambda tenant, work, now, has_time: targets.finish_deletion(
            tenant, work.ref, has_time), lambda work: ["TARGET"]),
        software_modules.PURGE: (lambda tenant, work, now, has_time: software_modules.finish_purge(
            tenant, int(work.ref)), lambda work: ["SOFTWARE_MODULE", "ARTIFACT_STORAGE"]),
        software_modules.ORPHAN_OBJECT: (lambda tenant, work, now, has_time: software_modules.reap_object(
            tenant, work, now), none),
        software_modules.UPLOAD: (lambda tenant, work, now, has_time: software_modules.reap_upload(
            tenant, work, now), none),
        bulk_creates.KIND: (bulk_creates.roll_back, bulk_creates.counted_by),
        bulk_creates.PART: (lambda tenant, work, now, has_time: bulk_creates.drop_part(tenant, work, now), none),
        usage_recount.KIND: (lambda tenant, work, now, has_time: usage_recount.recount(tenant, work, now, has_time),
                             none),
    }


def run(now_ms: int | None = None, time_left_ms: Callable[[], int] | None = None) -> dict:
    now = clock.now_ms() if now_ms is None else now_ms

    def has_time() -> bool:
        return time_left_ms is None or time_left_ms() >= RESERVE_MS

    handlers = _handlers()
    done = failed = 0
    more = False
    for tenant in tenants.registered_tenants():
        for work in pending.due(tenant, now):
            if not has_time():
                more = True
                break
            repair, counted = handlers.get(work.kind, (None, None))
            if repair is None:
                log.error("reaper: unknown work kind %s", work.kind, extra={"tenant": tenant, "key": work.key})
                failed += 1
                continue
            try:
                if repair(tenant, work, now, has_time) is False:
                    more = True  # it ran out of time and noted its progress: the next run goes on
                    continue
                usage_recount.mark(tenant, counted(work), now)
                done += 1
            except Exception:  # noqa: BLE001 - one stuck item must not block the others; it stays due
                log.exception("reaper: %s %s failed", work.kind, work.ref, extra={"tenant": tenant})
                failed += 1
        if more:
            break
    if done or failed:
        log.info("reaper: %d repaired, %d failed%s", done, failed, ", more due" if more else "")
    return {"repaired": done, "failed": failed, "more": more}
