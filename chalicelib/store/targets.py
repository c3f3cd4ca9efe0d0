"""Target repository: one function per access pattern of the targets table.

A target being deleted (`deletion` set, its tombstone) is gone for every read here; only the deletion
itself, and creates that finish a crashed deletion first, see it (`find_any`, `find_many_any`).
"""

from __future__ import annotations

import heapq
from typing import Iterator

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.domain import changes
from chalicelib.domain import targets as domain
from chalicelib.store import paging, records
from chalicelib.store.tables import Counter, Target, TargetPresence


def _entity(item: Target) -> domain.Target:
    return records.to_entity(domain.Target, item)


def find(tenant: str, controller_id: str) -> domain.Target | None:
    target = find_any(tenant, controller_id, consistent=False)
    return None if target is None or target.deletion else target


def find_any(tenant: str, controller_id: str, consistent: bool = True) -> domain.Target | None:
    """The item, tombstone or not."""
    try:
        return _entity(Target.get(tenant, controller_id, consistent_read=consistent))
    except DoesNotExist:
        return None


def find_many(tenant: str, controller_ids: list[str], consistent: bool = False) -> dict[str, domain.Target]:
    """BatchGetItem (100 keys a call), duplicates removed; `consistent` sees a write just made."""
    return {cid: t for cid, t in find_many_any(tenant, controller_ids, consistent).items() if not t.deletion}


def find_many_any(tenant: str, controller_ids: list[str], consistent: bool = False) -> dict[str, domain.Target]:
    keys = [(tenant, cid) for cid in dict.fromkeys(controller_ids)]
    return {t.controller_id: _entity(t) for t in Target.batch_get(keys, consistent_read=consistent)} if keys else {}


def query_all(tenant: str, start_after: str | None = None) -> Iterator[domain.Target]:
    """All targets of the tenant in controllerId order (a Query; its cost grows with the tenant's targets)."""
    condition = Target.controller_id > start_after if start_after else None
    for item in Target.query(tenant, condition, filter_condition=Target.deletion.does_not_exist()):
        yield _entity(item)


def page_of_tenant(tenant: str, after=None, limit: int = 100) -> paging.Page[domain.Target]:
    """One page of the tenant's targets in controllerId order and where the next starts (bounded work: a job)."""
    return paging.page(
        Target.query(
            tenant,
            filter_condition=Target.deletion.does_not_exist(),
            limit=limit,
            page_size=limit,
            last_evaluated_key=after,
        ),
        _entity,
    )


def first_in_key_order(tenant: str, count: int, descending: bool = False) -> list[domain.Target]:
    """The first `count` targets in controllerId order: one Query page of at most `count` items."""
    if count <= 0:
        return []
    return [
        _entity(item)
        for item in Target.query(
            tenant,
            filter_condition=Target.deletion.does_not_exist(),
            scan_index_forward=not descending,
            limit=count,
            page_size=count,
        )
    ]


def scan_pages(tenant: str, page_size: int) -> Iterator[list[domain.Target]]:
    """The tenant's targets in controllerId order, one Query page (of at most `page_size` items read) at a
    time, so a caller can stop between pages."""
    after = None
    while True:
        results = Target.query(tenant, limit=page_size, page_size=page_size, last_evaluated_key=after)
        items = [_entity(item) for item in results]
        yield [t for t in items if not t.deletion]
        after = results.last_evaluated_key
        if after is None:
            return


_ORDER_INDEXES = {
    "id_order": Target.id_index,
    "name_order": Target.name_index,
    "created_order": Target.created_index,
    "seen_order": Target.seen_index,
    "status_order": Target.status_index,
}


def ids_in_order(tenant: str, order: str, descending: bool, prefix: str = "", page: int | None = 25) -> Iterator[str]:
    """controllerIds in one list order (domain.ORDERS attribute `order`), optionally only those whose order
    key starts with `prefix`: the shards' key ranges merged, each read lazily in pages of `page` entries (a
    caller that stops after n ids has read about n + LIST_SHARDS * page entries; None: 1 MB pages, for a
    caller that reads them all)."""
    index = _ORDER_INDEXES[order]
    attribute = getattr(Target, order)
    condition = attribute.startswith(prefix) if prefix else None

    def shard(number: int) -> Iterator[tuple[str, str]]:
        for entry in index.query(f"{tenant}#{number}", condition, scan_index_forward=not descending, page_size=page):
            yield getattr(entry, order), entry.controller_id

    merged = heapq.merge(*(shard(n) for n in range(domain.LIST_SHARDS)), reverse=descending)
    return (controller_id for _, controller_id in merged)


def created_after(tenant: str, after: str, page: int = 100) -> Iterator[tuple[str, str]]:
    """(by-created order key, controllerId) of the targets after the order key `after`, oldest first (the
    by-created order's shards read from there, merged): an exact position, also among targets created in the
    same millisecond."""

    def shard(number: int) -> Iterator[tuple[str, str]]:
        for entry in Target.created_index.query(f"{tenant}#{number}", Target.created_order > after, page_size=page):
            yield entry.created_order, entry.controller_id

    return heapq.merge(*(shard(n) for n in range(domain.LIST_SHARDS)))


def created_order_start(created_at_ms: int) -> str:
    """The by-created order key after every target created up to `created_at_ms`."""
    return domain.order_value(int(created_at_ms)) + chr(ord(domain.ORDER_SEPARATOR) + 1)


def holding_type(tenant: str, type_id: int, page: int = 25) -> Iterator[str]:
    """controllerIds of the targets holding the type (keys of the by-type index, read `page` at a time; a
    target being deleted may be among them)."""
    return (key.controller_id for key in Target.type_index.query(domain.type_key(tenant, type_id), page_size=page))


def ids_by_ds(tenant: str, ds_id: int, installed: bool) -> Iterator[str]:
    """controllerIds (in order) a set is assigned to or installed on, from its keys-only index."""
    index = Target.installed_ds_index if installed else Target.assigned_ds_index
    return (key.controller_id for key in index.query(domain.ds_key(tenant, ds_id)))


def live_condition() -> changes.Condition:
    """Condition on the target item: it exists and is not being deleted (for writes of data it owns)."""
    return changes.Exists("controller_id") & changes.Missing("deletion")


def key_only(tenant: str, controller_id: str) -> domain.Target:
    """The target named by its key alone (deletes and writes that need no version)."""
    return domain.Target(tenant, controller_id)


def seen_page(
    tenant: str, shard: int, after_ms: int | None, through_ms: int, after=None, limit: int = 100
) -> paging.Page[str]:
    """One page of the controllerIds of one shard of the by-seen order last seen after `after_ms` (None: ever)
    and at or before `through_ms` (keys only)."""
    low, high = domain.seen_between(after_ms, through_ms)
    return paging.page(
        Target.seen_index.query(
            f"{tenant}#{shard}",
            Target.seen_order.between(low, high),
            limit=limit,
            page_size=limit,
            last_evaluated_key=after,
        ),
        lambda key: key.controller_id,
    )


def overdue_reported_through(tenant: str, shard: int) -> int | None:
    """The last-seen time up to which the overdue job has reported one shard's targets (None: never ran)."""
    try:
        return int(Counter.get(tenant, _overdue_key(shard), consistent_read=True).value)
    except DoesNotExist:
        return None


def note_overdue_reported(tenant: str, shard: int, through_ms: int) -> None:
    """Move the shard's overdue watermark forward (never back: a late or redelivered unit leaves it)."""
    counter = Counter(tenant, _overdue_key(shard))
    try:
        counter.update(
            actions=[Counter.value.set(int(through_ms))],
            condition=Counter.value.does_not_exist() | (Counter.value < int(through_ms)),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _overdue_key(shard: int) -> str:
    return f"overdue#{int(shard)}"


def touch_last_seen(tenant: str, controller_id: str, now_ms: int, ip_address: str | None, older_than_ms: int) -> bool:
    """Write the coarse last-seen time (and its by-seen order key) only if the stored one is older than
    `older_than_ms` (or absent)."""
    view = TargetPresence(tenant, controller_id)
    actions: list[Action] = [TargetPresence.last_request_at.set(now_ms)]
    actions += [
        getattr(TargetPresence, name).set(value)
        for name, value in domain.order_keys(tenant, controller_id, {"last_request_at": now_ms}).items()
    ]
    if ip_address:
        actions.append(TargetPresence.ip_address.set(ip_address))
    condition = TargetPresence.controller_id.exists() & (
        TargetPresence.last_request_at.does_not_exist() | (TargetPresence.last_request_at < older_than_ms)
    )
    try:
        view.update(actions=actions, condition=condition)
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False  # someone else wrote a fresher time
        raise
