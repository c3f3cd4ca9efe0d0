"""The reaper's work list: multi-step changes that a crash may leave half done (issue 6, "no orphans").

A change that cannot be one transaction writes a work item with (or before) its first step and removes it
with its last one. A crash in between leaves the item behind; the reaper (chalicelib.jobs.reaper) finds it
once it is due and finishes the change or takes it back. Items live in the tenant's partition of the
`tenants` table under `pending#<due ms, 19 digits>#<kind>#<ref>`: the reaper's Query reads only what is
due, so a run costs what it finds, never the table.

An item is due a grace period after it was written. The grace is far longer than any request runs (the
Lambda timeout is 30 s), so the reaper never races a request that is still busy with the same change;
a request that retries the change itself finishes it at once.
"""

from __future__ import annotations

from typing import Any, Iterator

from chalicelib.domain.pending import PendingItem
from chalicelib.store import paging
from chalicelib.store.tables import PendingWork, pad
from chalicelib.store.tx import Tx

PREFIX = "pending#"
GRACE_MS = 5 * 60 * 1000


def new(tenant: str, kind: str, ref: str, now: int, delay_ms: int = GRACE_MS, detail: Any = None) -> PendingWork:
    due = now + delay_ms
    return PendingWork(tenant, f"{PREFIX}{pad(due)}#{kind}#{ref}", kind=kind, ref=ref, detail=detail, created_at=now)


def part_of(key: str, tenant: str, index: int, kind: str, ref: str, now: int, detail: Any) -> PendingWork:
    """A part of the change of item `key`: due with it, and found with it by `with_prefix(key + "#")`."""
    return PendingWork(tenant, f"{key}#{index:05d}", kind=kind, ref=ref, detail=detail, created_at=now)


def add(tx: Tx, work: PendingWork) -> Tx:
    """Put the item inside the transaction of the change's first step."""
    return tx.put(work)


def remove(tx: Tx, tenant: str, key: str) -> Tx:
    """Delete the item inside the transaction of the change's last step."""
    return tx.delete(PendingWork(tenant, key))


def put(work: PendingWork) -> PendingWork:
    """Written on its own, before a first step that is not a transaction (an S3 write)."""
    work.save()
    return work


def note_progress(work: PendingItem, detail: Any) -> None:
    """Replace the item's detail with what is left to do, so a retry does not start over."""
    PendingWork(work.tenant, work.key).update(actions=[PendingWork.detail.set(detail)])
    work.detail = detail


def delete(tenant: str, key: str) -> None:
    """Idempotent."""
    PendingWork(tenant, key).delete()


def get(tenant: str, key: str) -> PendingWork | None:
    try:
        return PendingWork.get(tenant, key, consistent_read=True)
    except PendingWork.DoesNotExist:
        return None


def due(tenant: str, now: int) -> Iterator[PendingWork]:
    """The tenant's items due at `now`, oldest due first (a Query on the key range, paged by DynamoDB)."""
    return PendingWork.query(tenant, PendingWork.key.between(PREFIX, f"{PREFIX}{pad(now)}~"), consistent_read=True)


def due_page(tenant: str, now: int, after: str | None = None, limit: int = 100) -> paging.Page[PendingWork]:
    """One page of the tenant's items due at `now`, oldest due first, after the item keyed `after`; the page's
    `after` is the last item's key (None when nothing more is due), so a caller can also stop mid-page."""
    start = {"tenant": {"S": tenant}, "key": {"S": after}} if after is not None else None
    results = PendingWork.query(
        tenant,
        PendingWork.key.between(PREFIX, f"{PREFIX}{pad(now)}~"),
        consistent_read=True,
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    items = list(results)
    return paging.Page(items, items[-1].key if items and results.last_evaluated_key is not None else None)


def with_prefix(tenant: str, key_prefix: str) -> Iterator[PendingWork]:
    """Items whose key starts with `key_prefix` (the parts of one change, written under its item's key)."""
    return PendingWork.query(tenant, PendingWork.key.startswith(key_prefix), consistent_read=True)
