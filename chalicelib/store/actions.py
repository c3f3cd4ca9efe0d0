"""Action and action-history repository: one function per access pattern, domain entities in and out."""

from __future__ import annotations

import heapq
from typing import Iterable, Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib import errors
from chalicelib.domain import actions as domain
from chalicelib.domain.actions import INDEX_SHARDS, action_key, target_key
from chalicelib.store import action_counts, paging, records
from chalicelib.store.tables import Action, ActionStatusEntry, TargetPresence
from chalicelib.store.tx import ATTEMPTS, Tx, retrying

__all__ = ["target_key", "action_key"]  # the key rules live in the domain; re-exported for the store's callers


def _action(item: Action) -> domain.Action:
    return records.to_entity(domain.Action, item)


def _entry(item: ActionStatusEntry) -> domain.ActionStatusEntry:
    return records.to_entity(domain.ActionStatusEntry, item)


def find(tenant: str, controller_id: str, action_id: int) -> domain.Action | None:
    try:
        return _action(Action.get(target_key(tenant, controller_id), int(action_id)))
    except DoesNotExist:
        return None


def find_many(tenant: str, keys: Iterable[tuple[str, int]]) -> list[domain.Action]:
    """Actions by (controllerId, actionId), in no particular order (BatchGetItem); missing ones are left out."""
    wanted = [(target_key(tenant, cid), int(action_id)) for cid, action_id in dict.fromkeys(keys)]
    return [_action(item) for item in Action.batch_get(wanted)] if wanted else []


def find_by_id(tenant: str, action_id: int) -> domain.Action | None:
    """One Query of the action's shard of the tenant index (keys), then its item."""
    for key in Action.by_tenant.query(
        domain.tenant_shard(tenant, action_id), Action.action_id == int(action_id), limit=1
    ):
        return find(tenant, key.target_key.split("#", 1)[1], action_id)
    return None


def of_target(tenant: str, controller_id: str, newest_first: bool = True) -> Iterator[domain.Action]:
    for item in Action.query(target_key(tenant, controller_id), scan_index_forward=not newest_first):
        yield _action(item)


def of_tenant(tenant: str, newest_first: bool = True, batch: int = 100) -> Iterator[domain.Action]:
    """Every action of the tenant in id order: the shards' key ranges merged, completed a batch at a time."""
    shards = [
        Action.by_tenant.query(f"{tenant}#{shard}", scan_index_forward=not newest_first)
        for shard in range(INDEX_SHARDS)
    ]
    merged = heapq.merge(*shards, key=lambda k: int(k.action_id), reverse=newest_first)
    pending: list[tuple[str, int]] = []

    def flush() -> Iterator[domain.Action]:
        found = {(a.target_key, int(a.action_id)): a for a in (_action(item) for item in Action.batch_get(pending))}
        for key in pending:
            if key in found:
                yield found[key]

    for key in merged:
        pending.append((key.target_key, int(key.action_id)))
        if len(pending) == batch:
            yield from flush()
            pending = []
    if pending:
        yield from flush()


def keys_of_tenant(tenant: str, newest_first: bool = True, page: int = 100) -> Iterator[tuple[str, int]]:
    """(controllerId, actionId) of the tenant's actions in id order: the shards' key ranges merged, each read
    lazily `page` keys at a time (a caller that stops after n keys has read about n + INDEX_SHARDS * page)."""
    shards = [
        Action.by_tenant.query(f"{tenant}#{shard}", scan_index_forward=not newest_first, page_size=page)
        for shard in range(INDEX_SHARDS)
    ]
    merged = heapq.merge(*shards, key=lambda k: int(k.action_id), reverse=newest_first)
    return ((key.target_key.split("#", 1)[1], int(key.action_id)) for key in merged)


def count_of_tenant(tenant: str) -> int:
    """How many actions the tenant has: a Select=COUNT Query of each shard of the keys-only by-tenant index
    (it reads the keys, about 60 bytes each, and returns none)."""
    return sum(Action.by_tenant.count(f"{tenant}#{shard}") for shard in range(INDEX_SHARDS))


def history(
    tenant: str, action_id: int, newest_first: bool = True, page_size: int | None = None
) -> Iterator[domain.ActionStatusEntry]:
    """Newest first by default; `page_size` keeps a caller that stops early from reading everything."""
    for item in ActionStatusEntry.query(
        action_key(tenant, action_id), scan_index_forward=not newest_first, page_size=page_size
    ):
        yield _entry(item)


def cleanup_page(
    tenant: str, status: str, shard: int, closed_before: int, after=None, limit: int = 100
) -> paging.Page[tuple[str, int]]:
    """One page of (controllerId, actionId) of one shard of the cleanup index: closed in `status` before the time."""
    return paging.page(
        Action.cleanup_index.query(
            f"{tenant}#{status}#{shard}",
            Action.closed_at <= closed_before,
            limit=limit,
            page_size=limit,
            last_evaluated_key=after,
        ),
        lambda key: (key.target_key.split("#", 1)[1], int(key.action_id)),
    )


def open_of_set_page(tenant: str, ds_id: int, shard: int, after=None, limit: int = 100) -> paging.Page[tuple[str, int]]:
    """One page of (controllerId, actionId) of the set's open actions in one shard of the open-by-ds index."""
    key = domain.open_ds_key(tenant, ds_id, shard)  # the shard's key: `shard` is below INDEX_SHARDS
    return paging.page(
        Action.open_by_ds.query(key, limit=limit, page_size=limit, last_evaluated_key=after),
        lambda item: (item.target_key.split("#", 1)[1], int(item.action_id)),
    )


def due_timeouts(tenant: str, shard: int, now: int, limit: int = 100) -> list[tuple[str, int]]:
    """(controllerId, actionId) of open rollout actions past their timeout in one shard of the timeout index."""
    key = domain.timeout_key(tenant, shard)  # the shard's key: `shard` is below INDEX_SHARDS
    return [
        (item.target_key.split("#", 1)[1], int(item.action_id))
        for item in Action.timeout_index.query(key, Action.timeout_at <= now, limit=limit, page_size=limit)
    ]


def delete_closed(tenant: str, controller_id: str, action_id: int) -> bool:
    """Delete a closed action with its history and take it off its target's action count and its set's status
    count, once: True only for the call that deleted the action (a redelivered or concurrent cleanup of the same
    action gets False).

    The history goes first (no entry is added to a closed action), then the action and the counts move in one
    transaction conditional on the action, so a retry after a crash anywhere completes the change.
    """
    with ActionStatusEntry.batch_write() as batch:
        for entry in ActionStatusEntry.query(
            action_key(tenant, action_id), attributes_to_get=["action_key", "status_id"]
        ):
            batch.delete(entry)
    action = Action(target_key(tenant, controller_id), int(action_id))

    def attempt() -> bool:
        stored = _counted_fields(tenant, [(controller_id, int(action_id))])
        if not stored:
            return False  # deleted already (by an earlier delivery of the same work)
        ds_id, status, counted, rollout = stored[0][1:]
        tx = Tx().delete(
            action, condition=_as_read(status, rollout[2]), add_version_condition=False, on_fail=errors.EntityNotFound
        )
        if counted:
            action_counts.add(tx, tenant, domain.removed_counts(ds_id, status, *rollout), spread_by=action_id)
        try:
            (
                Tx()
                .extend(tx)
                .update(
                    TargetPresence(tenant, controller_id),
                    [TargetPresence.action_count.add(-1)],
                    condition=TargetPresence.controller_id.exists(),
                    add_version_condition=False,
                )
                .commit()
            )
            return True
        except errors.EntityNotFound:
            raise errors.ConcurrentModification() from None  # gone meanwhile: read it again
        except errors.ConcurrentModification:
            if _target_exists(tenant, controller_id):
                raise  # a write of the target met ours: try again
        try:  # no target counts it any more
            tx.commit()
            return True
        except errors.EntityNotFound:
            raise errors.ConcurrentModification() from None

    return retrying(ATTEMPTS, attempt)


# (rolloutId, group position, timed out) of a rollout's action, else (None, None, False)
Rollout = tuple[int | None, int | None, bool]


def _counted_fields(tenant: str, keys: list[tuple[str, int]]) -> list[tuple[int, int, str, bool, Rollout]]:
    """(actionId, dsId, status, counted, rollout) of the actions of `keys` that exist (one consistent BatchGet, a
    few attributes)."""
    wanted = [(target_key(tenant, cid), int(action_id)) for cid, action_id in keys]
    return [
        (
            int(item.action_id),
            int(item.ds_id),
            item.status,
            bool(item.counted),
            (
                None if item.rollout_id is None else int(item.rollout_id),
                None if item.rollout_group is None else int(item.rollout_group),
                bool(item.timed_out),
            ),
        )
        for item in Action.batch_get(
            wanted,
            consistent_read=True,
            attributes_to_get=[
                "target_key",
                "action_id",
                "ds_id",
                "status",
                "counted",
                "rollout_id",
                "rollout_group",
                "timed_out",
            ],
        )
    ]


def _as_read(status: str, timed_out: bool):
    """The delete's condition: the action still counts as read (its status, and whether it timed out)."""
    condition = Action.status == status
    if timed_out:
        return condition & (Action.timed_out == True)  # noqa: E712 - a PynamoDB condition, not a truth test
    not_timed_out = Action.timed_out == False  # noqa: E712 - a PynamoDB condition, not a truth test
    return condition & (Action.timed_out.does_not_exist() | not_timed_out)


def _target_exists(tenant: str, controller_id: str) -> bool:
    try:
        TargetPresence.get(tenant, controller_id, consistent_read=True, attributes_to_get=["controller_id"])
        return True
    except DoesNotExist:
        return False


def ids_of_target(tenant: str, controller_id: str) -> list[int]:
    """Every action id of the target (a consistent Query of its partition, keys only)."""
    return [
        int(a.action_id)
        for a in Action.query(
            target_key(tenant, controller_id), consistent_read=True, attributes_to_get=["target_key", "action_id"]
        )
    ]


DELETE_BATCH = 32  # actions per transaction: with the counts of their sets and rollout groups, below 100 items


def delete_many(tenant: str, controller_id: str, action_ids: list[int]) -> None:
    """Delete actions, then their history; idempotent.

    The action items go first: every history entry is written in a transaction conditional on its
    action's version, so once the action is gone no entry can be added, and the history deleted next
    is complete. (History first would miss an entry a device reports in between.) Each transaction deletes
    actions as they were read (status unchanged) and takes them off their sets' status counts: a retry reads
    what is left and counts nothing twice.
    """
    for start in range(0, len(action_ids), DELETE_BATCH):
        chunk = [int(i) for i in action_ids[start : start + DELETE_BATCH]]

        def attempt(chunk: list[int] = chunk) -> None:
            tx = Tx()
            removed = []
            for action_id, ds_id, status, counted, rollout in _counted_fields(
                tenant, [(controller_id, i) for i in chunk]
            ):
                tx.delete(
                    Action(target_key(tenant, controller_id), action_id),
                    condition=_as_read(status, rollout[2]),
                    add_version_condition=False,
                )
                if counted:
                    removed.append(domain.removed_counts(ds_id, status, *rollout))
            action_counts.add(tx, tenant, domain.merged_counts(*removed), spread_by=chunk[0])
            tx.commit()

        retrying(ATTEMPTS, attempt)
    with ActionStatusEntry.batch_write() as batch:
        for action_id in action_ids:
            for entry in ActionStatusEntry.query(
                action_key(tenant, action_id), consistent_read=True, attributes_to_get=["action_key", "status_id"]
            ):
                batch.delete(entry)
