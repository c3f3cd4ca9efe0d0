"""What moves a rollout on without an operator (hawkBit's JpaRolloutExecutor), one bounded step at a time.

`advance` runs whatever the rollout's status asks for, within a unit's budget, and answers where to go on (a
position for the next unit) or None. Every write is conditioned on the status it was decided on, so two units
racing (an event-driven check beside the scheduled one, a redelivered message) move the rollout once:

- CREATING: the creation passes (services/rollout_creation.py); then groups READY with their totals and the
  rollout READY, or WAITING_FOR_APPROVAL. A refusal found only now (the targets counted in the background)
  stops the rollout, its reason in `statusMessage`.
- READY with `startAt` reached: STARTING.
- STARTING: every group SCHEDULED, its targets counted SCHEDULED; the first group RUNNING; the rollout RUNNING.
- RUNNING (and PAUSED, whose running groups go on): each RUNNING group's targets get their actions
  (`_activate`, as a manual assignment would: older open actions superseded, the set's snapshot, the
  confirmation flow; a target that has the set gets a closed FINISHED action, hawkBit's "already assigned"),
  at most what rate control allows this minute; then `rollout_progress.evaluate` decides the step (a group's
  error or success action, the next group, the end) and groups it starts are activated in the same unit.
- STOPPING / DELETING: the rollout's open actions are asked to cancel (stop) or closed CANCELED (delete),
  groups not ended are FINISHED, the rollout STOPPED or DELETED; a rollout that never ran is deleted outright.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from itertools import islice
from typing import Any, Callable

from chalicelib import clock, errors, metrics
from chalicelib.domain import actions as action_rules
from chalicelib.domain import rollout_groups, rollout_rate
from chalicelib.domain import rollout_progress as progress
from chalicelib.domain import rollouts as rules
from chalicelib.domain.actions import SERVER_MESSAGE_PREFIX, Status
from chalicelib.domain.changes import REMOVE, Add
from chalicelib.domain.rollouts import GroupStatus, Rollout, RolloutGroup, RolloutStatus
from chalicelib.lazy import lazy_import
from chalicelib.services import deployment, rollout_creation, snapshots, tenant_config
from chalicelib.store import action_counts, counters
from chalicelib.store import actions as action_store
from chalicelib.store import rollouts as store
from chalicelib.store import targets as target_store
from chalicelib.store.tx import Tx

distribution_sets = lazy_import("chalicelib.services.distribution_sets")
log = logging.getLogger("skyhawk.rollouts")

S = RolloutStatus
ACTIVATION_PAGE = 100  # targets a group's start reads and writes at once
FIRST_PAGE = 10  # a group's first page is small: its first devices see their action after one small transaction
CLOSE_PAGE = 100  # actions a stop or delete reads at once
GROUPS_PER_TX = 30  # group moves (and their counter items) per transaction
ALREADY_ASSIGNED = SERVER_MESSAGE_PREFIX + "Distribution Set is already assigned. Skipping this action."

Position = dict[str, Any]


CHAIN_LEASE_MS = 300_000  # a chain that has not handed on for this long is taken over by the scheduled check


def advance(
    tenant: str, rollout_id: int, position: Position | None, has_time: Callable[[], bool], creation_pages: int = 20
) -> Position | None:
    """Run the rollout's next steps while there is time; the position to go on from, or None when nothing is
    left for now (the next feedback or the scheduled check comes back). A unit without a position (an
    operation's, a feedback's, the schedule's) leaves a rollout alone whose chain of creating, stopping or
    deleting units is at work: two chains would do the same work twice."""
    position = dict(position or {})
    for _ in range(1000):  # each round changes something, or returns
        if not has_time():
            return position or {"resume": True}
        rollout, groups = store.with_groups(tenant, rollout_id)
        if rollout is None:
            return None
        status = S(rollout.status)
        if not position and _chain_at_work(rollout, clock.now_ms()):
            return None
        if status == S.CREATING:
            state = _create(
                tenant, rollout, groups, rollout_creation.Pass.of(position.get("creation")), creation_pages, has_time
            )
            if state is not None:
                return _handed_on(rollout, {"creation": state.to_json()})
            position = {}
        elif status == S.READY:
            if not rules.due_to_start(rollout, clock.now_ms()):
                return None
            _commit(store.move(Tx(), rollout, rules.start(rollout, clock.now_ms(), rollout.created_by)))
        elif status == S.STARTING:
            _begin(tenant, rollout, groups)
        elif status in (S.RUNNING, S.PAUSED):
            running = counts(tenant, rollout, _running(groups))  # read once for the start and the step
            if _activate_running(tenant, rollout, groups, running, has_time):
                continue
            if rules.dynamic_fill_due(rollout, clock.now_ms()) and _fill_dynamic(tenant, rollout, groups):
                continue
            if status == S.PAUSED or not _progress(rollout, groups, running):
                return None
        elif status in (S.STOPPING, S.DELETING):
            after = _close(tenant, rollout, groups, position.get("close"), has_time)
            if after is not None:
                return _handed_on(rollout, {"close": after})
            position = {}
        else:
            return None
    return position or {"resume": True}


def _chain_at_work(rollout: Rollout, now: int) -> bool:
    return rollout.chain_status == rollout.status and int(rollout.chain_until or 0) > now


def _handed_on(rollout: Rollout, position: Position) -> Position:
    """Note on the rollout that a chain goes on in its status (a lease), and hand on the position."""
    _commit(
        store.move(
            Tx(),
            rollout,
            rules.kept(rollout, {"chain_status": rollout.status, "chain_until": clock.now_ms() + CHAIN_LEASE_MS}),
        )
    )
    return position


def _commit(tx: Tx) -> bool:
    """Commit a step; False when another unit moved the rollout first (it reads again)."""
    try:
        tx.commit()
        return True
    except errors.ConcurrentModification:
        return False


# --- creation ------------------------------------------------------------------------------------------------
def _create(
    tenant: str,
    rollout: Rollout,
    groups: list[RolloutGroup],
    state: rollout_creation.Pass,
    pages: int,
    has_time: Callable[[], bool],
) -> rollout_creation.Pass | None:
    """Go on with the creation passes; the state to go on from, or None once the rollout left CREATING."""
    try:
        state = rollout_creation.step(tenant, rollout, groups, state, pages, has_time)
    except errors.SkyhawkError as exc:
        stop = rules.stop(rollout, clock.now_ms(), rollout.created_by)
        change = {**stop.change, "status": S.STOPPED.value, "status_message": exc.message}
        _commit(store.move(Tx(), rollout, rules.Transition(change, stop.condition)))
        log.info("rollout %s stopped while created: %s", rollout.id, exc.message)
        return None
    if state.phase != "done":
        return state
    finish_creation(tenant, rollout, groups, state)
    return None


def finish_creation(tenant: str, rollout: Rollout, groups: list[RolloutGroup], state: rollout_creation.Pass) -> None:
    now = clock.now_ms()
    placed = list(state.placed or [])
    static = [g for g in groups if not g.dynamic]
    moves = [
        (g, rules.group_filled(g, placed[i] if i < len(placed) else 0, now))
        for i, g in enumerate(static)
        if g.status == GroupStatus.CREATING
    ]
    for start in range(0, len(moves), GROUPS_PER_TX):
        tx = Tx()
        for group, transition in moves[start : start + GROUPS_PER_TX]:
            store.move_group(tx, group, transition)
        _commit(tx)
    total = sum(placed)
    done = rules.created(rollout, total, len(groups), bool(rollout.approval_needed), now)
    _commit(store.move(Tx(), rollout, done))


# --- start ---------------------------------------------------------------------------------------------------
def _begin(tenant: str, rollout: Rollout, groups: list[RolloutGroup]) -> None:
    """STARTING -> RUNNING: every READY group SCHEDULED with its targets counted SCHEDULED, the first RUNNING."""
    now = clock.now_ms()
    ready = [g for g in groups if g.status == GroupStatus.READY]
    for start in range(0, len(ready), GROUPS_PER_TX):
        tx = Tx()
        for group in ready[start : start + GROUPS_PER_TX]:
            to = GroupStatus.RUNNING if group.position == groups[0].position else GroupStatus.SCHEDULED
            store.move_group(tx, group, rules.group_moved(group, to, now))
            if group.total_targets:
                action_counts.add(
                    tx,
                    tenant,
                    {
                        action_rules.group_subject(rollout.id, group.position): {
                            Status.SCHEDULED.value: int(group.total_targets)
                        }
                    },
                    spread_by=0,
                )
        _commit(tx)
    _commit(store.move(Tx(), rollout, rules.started(rollout, now)))


# --- activation ----------------------------------------------------------------------------------------------
def counts(tenant: str, rollout: Rollout, positions: list[int] | None = None) -> dict[int, progress.Counts]:
    """Group position -> its actions by bucket: of the groups named (one Query each), or of all its groups (one
    Query of the rollout's counter items)."""
    by_group = (
        action_counts.of_rollout(tenant, rollout.id, consistent=True)
        if positions is None
        else action_counts.of_groups(tenant, rollout.id, positions, consistent=True)
    )
    return {
        position: progress.Counts.of_statuses(statuses, rollout.action_type) for position, statuses in by_group.items()
    }


def _running(groups: list[RolloutGroup]) -> list[int]:
    return [g.position for g in groups if g.status == GroupStatus.RUNNING]


def _activate_running(
    tenant: str,
    rollout: Rollout,
    groups: list[RolloutGroup],
    found: dict[int, progress.Counts],
    has_time: Callable[[], bool],
) -> bool:
    """Start one page of targets of the first RUNNING group that has targets waiting (`found`: the running groups'
    counts); True if it did, or if it has no time left for it (the caller hands on)."""
    for group in groups:
        if group.status == GroupStatus.RUNNING and found.get(group.position, progress.Counts()).scheduled > 0:
            if not has_time():
                return True  # work is left: the caller's loop hands on a continuation (False would drop it)
            return _activate_page(tenant, rollout, group)
    return False


def _activate_page(tenant: str, rollout: Rollout, group: RolloutGroup) -> bool:
    page = FIRST_PAGE if group.activated_through is None else ACTIVATION_PAGE
    members = store.members_page(tenant, rollout.id, group.position, group.activated_through, page)
    if not members:
        return False
    now = clock.now_ms()
    waiting = [cid for cid, action_id in members if action_id is None]
    total = (
        sum(counts(tenant, rollout).values(), progress.Counts()) if rollout_rate.limited(rollout) else progress.Counts()
    )
    allowance = rollout_rate.take(rollout, len(waiting), now, total.actions - total.scheduled, total.finished)
    if allowance.count == 0 and waiting:
        return False  # the rate is spent for this minute: the scheduled check goes on next minute
    todo = waiting[: allowance.count]
    last = todo[-1] if len(todo) < len(waiting) else members[-1][0]
    try:
        all_done = _start_targets(tenant, rollout, group, todo, now)
    except (errors.DistributionSetInvalid, errors.EntityNotFound) as exc:
        # the set was invalidated or deleted under the rollout: it cannot go on
        stop = rules.stop(rollout, now, "system")
        _commit(
            store.move(Tx(), rollout, rules.Transition({**stop.change, "status_message": exc.message}, stop.condition))
        )
        return True
    tx = Tx()
    if all_done:
        tx.update(group, {"activated_through": last}, condition=None)
    if allowance.change:
        store.move(tx, rollout, rules.kept(rollout, allowance.change))
    _commit(tx)
    metrics.count("RolloutActionsStarted", len(todo))
    return True


def _start_targets(tenant: str, rollout: Rollout, group: RolloutGroup, controller_ids: list[str], now: int) -> bool:
    """Create the targets' actions (one each, noted on its member item in the same transaction); False when a
    batch met a concurrent change (those targets wait for the next round)."""
    if not controller_ids:
        return True
    cfg = tenant_config.values(tenant)
    multi = bool(cfg["multi.assignments.enabled"])
    snapshot = snapshots.for_assignment(tenant, int(rollout.ds_id))
    found = target_store.find_many(tenant, controller_ids, consistent=True)
    ids = dict(zip(controller_ids, counters.allocate_ids(tenant, "action", len(controller_ids))))
    origin = deployment.RolloutOrigin(rollout.id, rollout.name, group.position, group.name, rollout.action_timeout_ms)
    request = deployment.AssignmentRequest(
        "", rollout.action_type, rollout.force_time, rollout.weight, None, bool(group.confirmation_required)
    )
    open_actions = deployment.open_actions_of(tenant, list(found.values()))
    plans: list[deployment.Plan] = []
    for cid in controller_ids:
        tx = store.activated(Tx(), tenant, rollout.id, group.position, cid, ids[cid] if cid in found else 0)
        target = found.get(cid)
        if target is None:  # deleted meanwhile: the group has one target less
            plans.append(
                (cid, tx, {action_rules.group_subject(rollout.id, group.position): {Status.SCHEDULED.value: -1}})
            )
        elif not multi and target.assigned_ds is not None and int(target.assigned_ds) == int(rollout.ds_id):
            plans.append((cid, *_already_assigned(tx, tenant, target, ids[cid], snapshot, origin, rollout, now)))
        else:
            writes, moved = deployment.plan(
                tenant,
                target,
                request._replace(controller_id=cid),
                ids[cid],
                snapshot,
                rollout.created_by,
                open_actions.get(cid, []),
                multi,
                bool(cfg["repository.actions.autoclose.enabled"]),
                False,
                bool(cfg["user.confirmation.flow.enabled"]),
                rollout=origin,
            )
            plans.append((cid, tx.extend(writes), moved))
    all_done = True
    for batch in deployment.pack(plans, guards=2):
        tx = Tx()
        for _, writes, _ in batch:
            tx.extend(writes)
        action_counts.add(
            tx, tenant, action_rules.merged_counts(*(moved for _, _, moved in batch)), spread_by=ids[batch[0][0]]
        )
        distribution_sets.still_assignable(tx, tenant, int(rollout.ds_id))
        # a stop or delete that moved the rollout meanwhile refuses the batch: its walk may have passed already
        tx.check(
            Rollout,
            rollout.tenant,
            rollout.sk,
            rules.running_or_paused(),
            on_fail=lambda: errors.ConcurrentModification("The rollout was stopped meanwhile."),
        )
        if not _commit(tx):
            all_done = False
    return all_done


def _already_assigned(
    tx: Tx, tenant: str, target, action_id: int, snapshot, origin: deployment.RolloutOrigin, rollout: Rollout, now: int
) -> tuple[Tx, action_rules.StatusCounts]:
    """hawkBit closes the action of a target that has the set already at once, FINISHED (issue #735)."""
    action = action_rules.new_action(
        tenant,
        target.controller_id,
        action_id,
        snapshot.ds_id,
        snapshot.name,
        snapshot.version,
        rollout.action_type,
        rollout.force_time,
        rollout.weight,
        None,
        Status.FINISHED,
        Status.FINISHED,
        now,
        rollout.created_by,
        closed=True,
    )
    tx.put(origin.mark(action))
    tx.put(action_rules.history_entry(tenant, action_id, 1, Status.FINISHED, [origin.message(), ALREADY_ASSIGNED], now))
    tx.update(target, {"action_count": Add(1)})
    return tx, action_rules.created_counts(action, scheduled_before=True)


# --- dynamic rollouts ---------------------------------------------------------------------------------------
DYNAMIC_PAGE = 500  # new targets a fill reads at most


def _fill_dynamic(tenant: str, rollout: Rollout, groups: list[RolloutGroup]) -> bool:
    """Hand matching targets created since the last fill to the newest dynamic group (hawkBit: at most once a
    minute); a group that is full gets a successor, SCHEDULED. Reads the targets' by-created order from the
    last fill's time on, never the tenant's targets. True once written (the caller reads again)."""
    now = clock.now_ms()
    newest = groups[-1] if groups and groups[-1].dynamic else None
    after = rollout.dynamic_after or target_store.created_order_start(int(rollout.created_at))
    change: dict[str, Any] = {"dynamic_checked_at": now}
    tx = Tx()
    try:
        filters = rollout_creation.filters_of(tenant, rollout, groups) if newest is not None else None
    except (errors.DistributionSetInvalid, errors.EntityNotFound):
        filters = None  # its set was invalidated or deleted: no new targets (the groups' progress goes on)
    if newest is not None and filters is not None:
        entries = list(islice(target_store.created_after(tenant, after), DYNAMIC_PAGE))
        found = target_store.find_many(tenant, [cid for _, cid in entries])
        key_of = {cid: key for key, cid in entries}
        read = [found[cid] for _, cid in entries if cid in found]
        matched = [t for t, _ in filters.matching(tenant, read)]
        taken = matched[: max(0, rollout_groups.dynamic_room(newest))]
        if len(taken) < len(matched):
            change["dynamic_after"] = key_of[taken[-1].controller_id] if taken else after  # the rest: next group
        elif entries:
            change["dynamic_after"] = entries[-1][0]
        if taken:
            store.add_members(tenant, rollout.id, [(newest.position, t.controller_id) for t in taken])
            tx.update(newest, {"total_targets": Add(len(taken)), "activated_through": REMOVE})
            change["total_targets"] = Add(len(taken))
            if newest.status in (GroupStatus.SCHEDULED, GroupStatus.RUNNING):
                action_counts.add(
                    tx,
                    tenant,
                    {action_rules.group_subject(rollout.id, newest.position): {Status.SCHEDULED.value: len(taken)}},
                    spread_by=0,
                )
        if rollout_groups.dynamic_room(newest) - len(taken) <= 0:
            (group_id,) = counters.allocate_ids(tenant, store.GROUP_SEQUENCE, 1)
            tx.put(
                rollout_groups.next_dynamic_group(
                    rollout,
                    replace(newest, total_targets=int(newest.total_targets) + len(taken)),
                    group_id,
                    GroupStatus.SCHEDULED,
                    now,
                )
            )
            change["total_groups"] = Add(1)
    store.move(tx, rollout, rules.kept(rollout, change))
    return _commit(tx)


# --- action timeouts ----------------------------------------------------------------------------------------
def time_out_actions(tenant: str, now: int, has_time: Callable[[], bool]) -> set[int]:
    """Mark the tenant's open rollout actions past their rollout's actionTimeout timed out (each counted once in
    its group, out of the timeout index); the rollouts whose counts moved (their checks are due)."""
    touched: set[int] = set()
    for shard in range(action_rules.INDEX_SHARDS):
        while has_time():
            due = action_store.due_timeouts(tenant, shard, now)
            for controller_id, action_id in due:
                rollout_id = _time_out(tenant, controller_id, action_id, now)
                if rollout_id is not None:
                    touched.add(rollout_id)
            if len(due) < 100:
                break
    return touched


def _time_out(tenant: str, controller_id: str, action_id: int, now: int) -> int | None:
    action = action_store.find(tenant, controller_id, action_id)
    if (
        action is None
        or not action.active
        or action.timed_out
        or action.rollout_id is None
        or action.rollout_group is None
        or action.timeout_at is None
        or int(action.timeout_at) > now
    ):
        if action is not None and action.timeout_key is not None and not action.active:
            _commit(Tx().update(action, {"timeout_key": REMOVE}))  # closed but still indexed: take it out
        return None
    tx = Tx().update(action, action_rules.timed_out(now))
    action_counts.add(
        tx,
        tenant,
        {action_rules.group_subject(action.rollout_id, action.rollout_group): {action_rules.TIMED_OUT: 1}},
        spread_by=action_id,
    )
    return int(action.rollout_id) if _commit(tx) else None


# --- progress ------------------------------------------------------------------------------------------------
def _progress(rollout: Rollout, groups: list[RolloutGroup], running: dict[int, progress.Counts]) -> bool:
    """Evaluate the running rollout (`running`: its running groups' counts) and write its step; True if it has a
    step to take (the caller reads again: a step that met a concurrent write of the rollout is decided again on
    what is there now)."""
    step = progress.evaluate(rollout, groups, running)
    if not step.changes_anything:
        return False
    write_step(rollout, groups, step)
    return True


def write_step(rollout: Rollout, groups: list[RolloutGroup], step: progress.Step) -> bool:
    now = clock.now_ms()
    by_position = {g.position: g for g in groups}
    tx = Tx()
    for position, to in sorted(step.groups.items()):
        group = by_position[position]
        if to == GroupStatus.RUNNING and group.status == GroupStatus.SCHEDULED:
            store.move_group(tx, group, rules.group_moved(group, GroupStatus.RUNNING, now))
        elif to != GroupStatus(group.status):
            store.move_group(tx, group, rules.group_moved(group, to, now))
    if step.rollout_status == S.PAUSED:
        store.move(tx, rollout, rules.paused_by_group(rollout, now))
    elif step.rollout_status == S.FINISHED:
        store.move(tx, rollout, rules.finished(rollout, now))
    else:
        store.move(tx, rollout, rules.kept(rollout, {"last_modified_at": now}))  # still RUNNING
    return _commit(tx)


# --- stop and delete -----------------------------------------------------------------------------------------
def _close(
    tenant: str, rollout: Rollout, groups: list[RolloutGroup], position: Any, has_time: Callable[[], bool]
) -> Any:
    """Cancel the rollout's open actions group by group (asked to cancel for a stop, closed CANCELED for a
    delete); then its groups and itself. The position to go on from ([group index, key, deleting]), or None."""
    deleting = rollout.status == S.DELETING
    index, key, walked_for_delete = position or [0, None, deleting]
    if walked_for_delete != deleting:  # a delete that came during a stop's walk: every action is closed again
        index, key = 0, None
    if deleting and rollout.running_since is None:
        return _hard_delete(tenant, rollout, groups, [index, key, deleting], has_time)
    started = [g for g in groups if g.status in (GroupStatus.RUNNING, GroupStatus.FINISHED, GroupStatus.ERROR)]
    while index < len(started):
        if not has_time():
            return [index, key, deleting]
        page = store.members_with_actions(tenant, rollout.id, started[index].position, key, CLOSE_PAGE)
        for cid, action_id in page.items:
            if action_id:
                deployment.cancel_for_rollout(tenant, cid, action_id, "system", force=deleting)
        index, key = (index, page.after) if page.after is not None else (index + 1, None)
    now = clock.now_ms()
    closing = rules.closed_groups(groups, now)
    waiting = {p: c.scheduled for p, c in counts(tenant, rollout).items() if c.scheduled > 0}
    to_close = [g for g in groups if g.position in closing or g.position in waiting]
    for start in range(0, len(to_close), GROUPS_PER_TX):
        tx = Tx()
        for group in to_close[start : start + GROUPS_PER_TX]:
            if group.position in closing:
                store.move_group(tx, group, closing[group.position])
            if group.position in waiting:  # targets that never got their action: not started, as in hawkBit
                action_counts.add(
                    tx,
                    tenant,
                    {
                        action_rules.group_subject(rollout.id, group.position): {
                            Status.SCHEDULED.value: -waiting[group.position]
                        }
                    },
                    spread_by=0,
                )
        _commit(tx)
    _commit(store.move(Tx(), rollout, rules.soft_deleted(rollout, now) if deleting else rules.stopped(rollout, now)))
    return None


def _hard_delete(
    tenant: str, rollout: Rollout, groups: list[RolloutGroup], position: list, has_time: Callable[[], bool]
) -> Any:
    """A rollout that never ran goes with its groups' targets (a page at a time), groups, counters and itself."""
    index, key, deleting = position
    while index < len(groups):
        if not has_time():
            return [index, key, deleting]
        key = store.forget_members(tenant, rollout.id, groups[index].position, key)
        if key is None:
            index += 1
    action_counts.forget_rollout(tenant, rollout.id)
    store.delete_rest(tenant, rollout, groups)
    return None
