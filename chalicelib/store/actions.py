"""Action and action-history repository."""
from __future__ import annotations

from typing import Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.tables import Action, ActionStatusEntry


def target_key(tenant: str, controller_id: str) -> str:
    return f"{tenant}#{controller_id}"


def action_key(tenant: str, action_id: int) -> str:
    return f"{tenant}#{action_id}"


def find(tenant: str, controller_id: str, action_id: int) -> Action | None:
    try:
        return Action.get(target_key(tenant, controller_id), int(action_id))
    except DoesNotExist:
        return None


def find_by_id(tenant: str, action_id: int) -> Action | None:
    for action in Action.by_tenant.query(tenant, Action.action_id == int(action_id), limit=1):
        return action
    return None


def of_target(tenant: str, controller_id: str, newest_first: bool = True) -> Iterator[Action]:
    return Action.query(target_key(tenant, controller_id), scan_index_forward=not newest_first)


def of_tenant(tenant: str, newest_first: bool = True) -> Iterator[Action]:
    return Action.by_tenant.query(tenant, scan_index_forward=not newest_first)


def history(tenant: str, action_id: int, newest_first: bool = True, page_size: int | None = None
            ) -> Iterator[ActionStatusEntry]:
    """Newest first by default; `page_size` keeps a caller that stops early from reading everything."""
    return ActionStatusEntry.query(action_key(tenant, action_id), scan_index_forward=not newest_first,
                                   page_size=page_size)


def cleanup_due(tenant: str, status: str, closed_before: int) -> Iterator[Action]:
    return Action.cleanup_index.query(f"{tenant}#{status}", Action.closed_at <= closed_before)


def ids_of_target(tenant: str, controller_id: str) -> list[int]:
    """Every action id of the target (a consistent Query of its partition, keys only)."""
    return [int(a.action_id) for a in Action.query(target_key(tenant, controller_id), consistent_read=True,
                                                   attributes_to_get=["target_key", "action_id"])]


def delete_many(tenant: str, controller_id: str, action_ids: list[int]) -> None:
    """Delete actions, then their history; idempotent.

    The action items go first: every history entry is written in a transaction conditional on its
    action's version, so once the action is gone no entry can be added, and the history deleted next
    is complete. (History first would miss an entry a device reports in between.)
    """
    with Action.batch_write() as batch:
        for action_id in action_ids:
            batch.delete(Action(target_key(tenant, controller_id), int(action_id)))
    with ActionStatusEntry.batch_write() as batch:
        for action_id in action_ids:
            for entry in ActionStatusEntry.query(action_key(tenant, action_id), consistent_read=True,
                                                 attributes_to_get=["action_key", "status_id"]):
                batch.delete(entry)


def delete_with_history(tenant: str, controller_id: str, action_id: int) -> int:
    """Delete one action and its history in batches; returns the number of items deleted."""
    deleted = 0
    with ActionStatusEntry.batch_write() as batch:
        for entry in history(tenant, action_id):
            batch.delete(entry)
            deleted += 1
    try:
        Action(target_key(tenant, controller_id), int(action_id)).delete(add_version_condition=False)
    except DoesNotExist:
        pass
    return deleted + 1
