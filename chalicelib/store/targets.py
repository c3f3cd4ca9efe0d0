"""Target repository: one function per access pattern of the targets table.

A target being deleted (`deletion` set, its tombstone) is gone for every read here; only the deletion
itself, and creates that finish a crashed deletion first, see it (`find_any`, `find_many_any`).
"""
from __future__ import annotations

from typing import Iterator

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.domain import changes
from chalicelib.domain import targets as domain
from chalicelib.store import paging, records
from chalicelib.store.tables import Target, TargetPresence


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
    return ({t.controller_id: _entity(t) for t in Target.batch_get(keys, consistent_read=consistent)}
            if keys else {})


def query_all(tenant: str, start_after: str | None = None) -> Iterator[domain.Target]:
    """All targets of the tenant in controllerId order (a Query; its cost grows with the tenant's targets)."""
    condition = Target.controller_id > start_after if start_after else None
    for item in Target.query(tenant, condition, filter_condition=Target.deletion.does_not_exist()):
        yield _entity(item)


def page_of_tenant(tenant: str, after=None, limit: int = 100) -> paging.Page[domain.Target]:
    """One page of the tenant's targets in controllerId order and where the next starts (bounded work: a job)."""
    return paging.page(Target.query(tenant, filter_condition=Target.deletion.does_not_exist(), limit=limit,
                                    page_size=limit, last_evaluated_key=after), _entity)


def live_condition() -> changes.Condition:
    """Condition on the target item: it exists and is not being deleted (for writes of data it owns)."""
    return changes.Exists("controller_id") & changes.Missing("deletion")


def key_only(tenant: str, controller_id: str) -> domain.Target:
    """The target named by its key alone (deletes and writes that need no version)."""
    return domain.Target(tenant, controller_id)


def by_assigned_ds(tenant: str, ds_id: int) -> Iterator[domain.Target]:
    return _full_items(tenant, Target.assigned_ds_index.query(f"{tenant}#{ds_id}"))


def by_installed_ds(tenant: str, ds_id: int) -> Iterator[domain.Target]:
    return _full_items(tenant, Target.installed_ds_index.query(f"{tenant}#{ds_id}"))


def _full_items(tenant: str, keys: Iterator[Target], batch: int = 100) -> Iterator[domain.Target]:
    """Keys-only index entries, completed with BatchGetItem, in the index's (controllerId) order."""
    pending: list[str] = []

    def flush() -> Iterator[domain.Target]:
        found = find_many(tenant, pending)
        for cid in pending:
            if cid in found:
                yield found[cid]

    for key in keys:
        pending.append(key.controller_id)
        if len(pending) == batch:
            yield from flush()
            pending = []
    if pending:
        yield from flush()


def overdue_page(tenant: str, shard: int, now_ms: int, after=None, limit: int = 100) -> paging.Page[str]:
    """One page of the controllerIds due by now in one shard of the overdue index (keys only)."""
    return paging.page(Target.overdue_index.query(f"{tenant}#{shard}", Target.overdue_at <= now_ms, limit=limit,
                                                  page_size=limit, last_evaluated_key=after),
                       lambda key: key.controller_id)


def touch_last_seen(tenant: str, controller_id: str, now_ms: int, overdue_at: int, ip_address: str | None,
                    older_than_ms: int) -> bool:
    """Write the coarse last-seen time only if the stored one is older than `older_than_ms` (or absent)."""
    view = TargetPresence(tenant, controller_id)
    actions: list[Action] = [TargetPresence.last_request_at.set(now_ms), TargetPresence.overdue_at.set(overdue_at),
               TargetPresence.overdue_shard.set(domain.overdue_shard(tenant, controller_id))]
    if ip_address:
        actions.append(TargetPresence.ip_address.set(ip_address))
    condition = (TargetPresence.controller_id.exists()
                 & (TargetPresence.last_request_at.does_not_exist()
                    | (TargetPresence.last_request_at < older_than_ms)))
    try:
        view.update(actions=actions, condition=condition)
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False  # someone else wrote a fresher time
        raise


def clear_overdue(tenant: str, controller_id: str, due_before: int) -> bool:
    """Drop the target from the overdue index unless a newer poll moved its due time."""
    view = TargetPresence(tenant, controller_id)
    try:
        view.update(actions=[TargetPresence.overdue_at.remove()],
                    condition=TargetPresence.overdue_at <= due_before)
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
