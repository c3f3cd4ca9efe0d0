"""Recounting a quota's usage from the items it counts: the reaper's repair of counter drift.

Every create and delete moves its usage counter in the transaction that writes the items, so a counter
can only drift when something went wrong around a change of several steps. The counters such a change
touched are marked (`mark`, by the reaper when it repairs the change), and only those are recounted:
the cost of a recount is one consistent Query over the kind's items of that tenant, paid after a crash,
never on a request.

Exact without a lock: the counter is read first, the items are counted, and the count is written only if
the counter still holds the value read. Every create and delete moves the counter in the same
transaction as its items, so an unchanged counter means no item came or went while counting; if one did,
the work item stays and the next run counts again. A count that does not fit one run keeps its place
(the last key read) in the work item and goes on from there.
"""

from __future__ import annotations

from typing import Callable, Iterable

from chalicelib.domain.pending import PendingItem
from chalicelib.store import counters, pending, usage_counts

KIND = "recount"


def mark(tenant: str, quotas: Iterable[str], now: int) -> None:
    """Have the reaper recount these counters (due at once)."""
    for quota in quotas:
        if quota in usage_counts.QUOTAS:
            pending.put(pending.new(tenant, KIND, quota, now, delay_ms=0))


def recount(tenant: str, work: PendingItem, now: int, has_time: Callable[[], bool] = lambda: True) -> bool:
    """Count and correct one counter (`work`: its store.pending item); False when it must go on or start again
    later (its work item stays)."""
    quota = work.ref
    state = work.detail or {}
    if "read" in state:
        read, total, after = state["read"], int(state["total"]), state.get("after")
    else:
        read, total, after = counters.stored_usage(tenant, quota), 0, None
    counting = usage_counts.count(tenant, quota, after)
    for weight in counting:
        total += weight
        if not has_time():
            pending.note_progress(work, {"read": read, "total": total, "after": counting.position})
            return False
    if not counters.correct_usage(tenant, quota, read, total):
        pending.note_progress(work, None)  # the counter moved while counting: count again next run
        return False
    pending.delete(tenant, work.key)
    return True
