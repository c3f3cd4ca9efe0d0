"""Repository of rollouts (docs/rollouts-hawkbit.md §9): the rollout and its groups in the catalog table
(`rollout#<id:020>`, its groups `rgroup#<id:020>#<position:06>`: one Query reads a rollout's groups in
order, a list of rollouts reads none), a marker per rollout with work in progress (`rolloutrun#<id:020>`, what the scheduled check reads),
the name guard (`uniq#rollout-name#...`), and the groups' targets (`<tenant>#rollout#<id>#<position:06>` /
controllerId in the targets table).

Every transition goes through `move`: the status it was decided on is the write's condition (two requests
racing cannot both move the rollout), and the in-progress marker follows the status in the same transaction.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from chalicelib import errors
from chalicelib.domain import rollouts as domain
from chalicelib.domain.changes import Missing, eq
from chalicelib.domain.rollouts import Rollout, RolloutGroup, Transition
from chalicelib.store import catalog, paging, records
from chalicelib.store.tables import DistributionSetRolloutCounts as SetCounts
from chalicelib.store.tables import Rollout as RolloutModel
from chalicelib.store.tables import RolloutGroup as GroupModel
from chalicelib.store.tables import RolloutInProgress, RolloutMember, pad
from chalicelib.store.tx import Tx

SEQUENCE = "rollout"
GROUP_SEQUENCE = "rolloutgroup"
NAME_GUARD = "rollout-name"
MEMBER_WRITE_BATCH = 25  # BatchWriteItem's limit


# --- rollouts and groups ---------------------------------------------------------------------------------------
def get(tenant: str, rollout_id: int, consistent: bool = True) -> Rollout | None:
    try:
        return records.to_entity(
            Rollout, RolloutModel.get(tenant, domain.rollout_sk(rollout_id), consistent_read=consistent)
        )
    except RolloutModel.DoesNotExist:
        return None


def with_groups(tenant: str, rollout_id: int, consistent: bool = True) -> tuple[Rollout | None, list[RolloutGroup]]:
    """The rollout and its groups in order: a GetItem and one Query of its groups' key range."""
    rollout = get(tenant, rollout_id, consistent)
    return rollout, (groups_of(tenant, rollout_id, consistent) if rollout is not None else [])


def groups_of(tenant: str, rollout_id: int, consistent: bool = True) -> list[RolloutGroup]:
    return [
        records.to_entity(RolloutGroup, item)
        for item in GroupModel.query(
            tenant, GroupModel.sk.startswith(domain.groups_prefix(rollout_id)), consistent_read=consistent
        )
    ]


def all_of(tenant: str) -> Iterator[Rollout]:
    """The tenant's rollouts in id order (one paginated Query of their key range)."""
    for item in RolloutModel.query(tenant, RolloutModel.sk.startswith(RolloutModel.PREFIX)):
        yield records.to_entity(Rollout, item)


def page(tenant: str, offset: int, limit: int, descending: bool = False) -> list[Rollout]:
    """One page of the rollouts not deleted, id order, reading the first `offset + limit` of them."""
    wanted = offset + limit
    found: list[Rollout] = []
    for item in RolloutModel.query(
        tenant,
        RolloutModel.sk.startswith(RolloutModel.PREFIX),
        filter_condition=RolloutModel.deleted == False,  # noqa: E712 - an expression
        scan_index_forward=not descending,
        page_size=min(max(wanted, 1), 1000),
    ):
        found.append(records.to_entity(Rollout, item))
        if len(found) >= wanted:
            break
    return found[offset:]


def in_progress(tenant: str) -> list[int]:
    """The ids of the rollouts with work in progress (one Query of their markers)."""
    return [
        int(item.rollout_id)
        for item in RolloutInProgress.query(tenant, RolloutInProgress.sk.startswith(RolloutInProgress.PREFIX))
    ]


def _marker(tenant: str, rollout_id: int) -> RolloutInProgress:
    return RolloutInProgress(tenant, f"{RolloutInProgress.PREFIX}{pad(int(rollout_id))}", rollout_id=int(rollout_id))


def _has_work(status: str, start_at: int | None) -> bool:
    return status in domain.ACTIVE and (status != domain.RolloutStatus.READY or start_at is not None)


def _count(tx: Tx, rollout: Rollout, moves: dict[str, int]) -> Tx:
    """Move the rollout's set's counts by status (one small item per set)."""
    item = SetCounts(rollout.tenant, f"{SetCounts.PREFIX}{int(rollout.ds_id)}")
    return tx.update(
        item,
        [getattr(SetCounts, status).add(delta) for status, delta in sorted(moves.items())],
        add_version_condition=False,
    )


def counts_of_set(tenant: str, ds_id: int) -> dict[str, int]:
    """The set's rollouts by status, statuses without any left out (one GetItem)."""
    try:
        item = SetCounts.get(tenant, f"{SetCounts.PREFIX}{int(ds_id)}")
    except SetCounts.DoesNotExist:
        return {}
    return {
        name: int(value) for name, value in item.attribute_values.items() if name not in ("tenant", "key") and value
    }


def create(tx: Tx, rollout: Rollout, groups: list[RolloutGroup]) -> Tx:
    tx.put(rollout, condition=Missing("sk"))
    _count(tx, rollout, {rollout.status: 1})
    for group in groups:
        tx.put(group)
    if _has_work(rollout.status, rollout.start_at):
        tx.put(_marker(rollout.tenant, rollout.id))
    return tx


def move(tx: Tx, rollout: Rollout, transition: Transition) -> Tx:
    """Apply `transition` inside `tx`, with the marker put or deleted as the new status needs."""
    tx.update(
        rollout,
        transition.change,
        condition=transition.condition,
        on_fail=lambda: errors.ConcurrentModification("The rollout changed meanwhile; retry."),
    )
    status = str(transition.change.get("status", rollout.status))
    if status != rollout.status:
        _count(tx, rollout, {rollout.status: -1, status: 1})
    before, after = _has_work(rollout.status, rollout.start_at), _has_work(status, rollout.start_at)
    if after and not before:
        tx.put(_marker(rollout.tenant, rollout.id))
    elif before and not after:
        tx.delete(_marker(rollout.tenant, rollout.id), add_version_condition=False)
    return tx


def move_group(tx: Tx, group: RolloutGroup, transition: Transition) -> Tx:
    return tx.update(
        group,
        transition.change,
        condition=transition.condition,
        on_fail=lambda: errors.ConcurrentModification("The rollout group changed meanwhile; retry."),
    )


def delete_rest(tenant: str, rollout: Rollout, groups: list[RolloutGroup]) -> None:
    """The end of a hard delete (its groups' targets gone already): the groups, then the rollout with its marker
    (last: until then a retry finds it and goes on)."""
    with GroupModel.batch_write() as batch:
        for group in groups:
            batch.delete(records.to_model(group))
    tx = Tx().delete(rollout, condition=eq("status", rollout.status), add_version_condition=False)
    tx.delete(_marker(tenant, rollout.id), add_version_condition=False)
    _count(tx, rollout, {rollout.status: -1})
    tx.commit()


def claim_name(tx: Tx, tenant: str, name: str, rollout_id: int, on_fail) -> Tx:
    return catalog.claim_unique(tx, tenant, NAME_GUARD, (name,), rollout_id, on_fail)


def release_name(tx: Tx, tenant: str, name: str) -> Tx:
    return catalog.release_unique(tx, tenant, NAME_GUARD, (name,))


def name_taken(tenant: str, name: str) -> bool:
    return bool(catalog.taken_unique(tenant, [(NAME_GUARD, (name,))]))


# --- the targets of a group ------------------------------------------------------------------------------------
def member_partition(tenant: str, rollout_id: int, position: int) -> str:
    return f"{tenant}#rollout#{int(rollout_id)}#{int(position):06d}"


def add_members(tenant: str, rollout_id: int, placed: Iterable[tuple[int, str]]) -> int:
    """Write (position, controllerId) members, 25 a BatchWriteItem; writing one again changes nothing it had."""
    count = 0
    with RolloutMember.batch_write() as batch:
        for position, controller_id in placed:
            batch.save(RolloutMember(member_partition(tenant, rollout_id, position), controller_id))
            count += 1
    return count


def members_page(
    tenant: str, rollout_id: int, position: int, after: str | None, limit: int, consistent: bool = True
) -> list[tuple[str, int | None]]:
    """(controllerId, actionId or None) of a group's targets after `after`, controllerId order."""
    condition = RolloutMember.controller_id > after if after else None
    return [
        (item.controller_id, None if item.action_id is None else int(item.action_id))
        for item in RolloutMember.query(
            member_partition(tenant, rollout_id, position),
            condition,
            consistent_read=consistent,
            limit=limit,
            page_size=limit,
        )
    ]


def member_ids(tenant: str, rollout_id: int, position: int) -> Iterator[str]:
    """The controllerIds of a group's targets in order, read lazily (keys only)."""
    return (
        item.controller_id
        for item in RolloutMember.query(
            member_partition(tenant, rollout_id, position), attributes_to_get=["controller_id"], page_size=500
        )
    )


def members_with_actions(
    tenant: str, rollout_id: int, position: int, after=None, limit: int = 100
) -> paging.Page[tuple[str, int]]:
    """A page of (controllerId, actionId) of the group's targets whose action its start created."""
    return paging.page(
        RolloutMember.query(
            member_partition(tenant, rollout_id, position),
            limit=limit,
            page_size=limit,
            last_evaluated_key=after,
            filter_condition=RolloutMember.action_id.exists(),
        ),
        lambda item: (item.controller_id, int(item.action_id)),
    )


def activated(tx: Tx, tenant: str, rollout_id: int, position: int, controller_id: str, action_id: int) -> Tx:
    """Note the member's action in `tx`, which fails if another start got there first."""
    member = RolloutMember(member_partition(tenant, rollout_id, position), controller_id)
    return tx.update(
        member,
        [RolloutMember.action_id.set(int(action_id))],
        condition=RolloutMember.action_id.does_not_exist(),
        add_version_condition=False,
        on_fail=lambda: errors.ConcurrentModification("The rollout group's target was started already."),
    )


def forget_members(tenant: str, rollout_id: int, position: int, after=None, limit: int = 500) -> Any:
    """Delete a page of a group's targets (25 a BatchWriteItem); where the next page starts, or None when done."""
    page = paging.page(
        RolloutMember.query(
            member_partition(tenant, rollout_id, position),
            limit=limit,
            page_size=limit,
            last_evaluated_key=after,
            attributes_to_get=["tenant", "controller_id"],
        ),
        lambda item: item,
    )
    with RolloutMember.batch_write() as batch:
        for item in page.items:
            batch.delete(item)
    return page.after
