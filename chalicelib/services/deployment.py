"""Assigning distribution sets to targets and cancelling actions (hawkBit DeploymentManagement).

An assignment of one distribution set to N targets reads the targets in batches (BatchGetItem),
reserves N action ids in one counter update, and writes each target's changes (target summary,
new action, its first history entry, and the supersession of older actions) in TransactWriteItems
packed up to 100 items. Every target update is conditional on the version read, so a concurrent
feedback or assignment is never overwritten: the affected batch is read again and retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from chalicelib import clock, errors, metrics
from chalicelib.domain import actions as rules
from chalicelib.domain import confirmation
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain.actions import ACTION_TYPES, SERVER_MESSAGE_PREFIX, Action, Status, UpdateStatus
from chalicelib.domain.numbers import is_int64
from chalicelib.domain.targets import Target
from chalicelib.lazy import lazy_import
from chalicelib.services import snapshots, tenant_config
from chalicelib.store import action_counts, counters
from chalicelib.store import actions as action_store
from chalicelib.store import targets as target_store
from chalicelib.store.tx import ATTEMPTS, MAX_BYTES, MAX_ITEMS, Tx, backoff, retrying

COUNT_BYTES = 300  # about what one set's count update adds to a transaction request

# The catalogue is needed when assigning, not on the device path that shares this module's helpers.
distribution_sets = lazy_import("chalicelib.services.distribution_sets")
maintenance = lazy_import("chalicelib.domain.maintenance")
target_types = lazy_import("chalicelib.services.target_types")


class AssignmentRequest(NamedTuple):
    controller_id: str
    action_type: str = "forced"
    force_time: int | None = None
    weight: int | None = None
    maintenance_window: dict | None = None
    confirmation_required: bool | None = None  # None: required while the tenant's confirmation flow is on


class RolloutOrigin(NamedTuple):
    """The rollout group an action is created for (its start): the action carries it and counts in the group."""

    rollout_id: int
    rollout_name: str
    position: int
    group_name: str
    timeout_ms: int | None = None  # the rollout's actionTimeout

    def message(self) -> str:
        return f"Initiated by Rollout Group '{self.group_name}' [Rollout {self.rollout_name}:{self.rollout_id}]"

    def mark(self, action: Action) -> Action:
        """The action as one of this group's (counted in it, rendered with the rollout's id and name)."""
        action.rollout_id, action.rollout_name, action.rollout_group = self.rollout_id, self.rollout_name, self.position
        return action


@dataclass
class AssignmentResult:
    assigned: int = 0
    already_assigned: int = 0
    total: int = 0
    action_ids: list[tuple[str, int]] = field(default_factory=list)  # (controllerId, actionId)


def parse_request(body: dict, id_key: str = "id") -> dict[str, Any]:
    """Validate the shared fields of MgmtTargetAssignmentRequestBody / MgmtDistributionSetAssignment."""
    action_type = body.get("type", "forced")
    if action_type is None:
        action_type = "forced"
    if action_type not in ACTION_TYPES:
        raise errors.ConstraintViolation(f"type must be one of {', '.join(ACTION_TYPES)}.", ["type"])
    force_time = body.get("forcetime")
    if force_time is not None and not is_int64(force_time):
        raise errors.ConstraintViolation("forcetime must be a timestamp in milliseconds.", ["forcetime"])
    if action_type == "timeforced" and force_time is None:
        raise errors.ConstraintViolation("forcetime is required for type timeforced.", ["forcetime"])
    weight = body.get("weight")
    if weight is not None and (not is_int64(weight) or not 0 <= weight <= 1000):
        raise errors.ConstraintViolation("weight must be a number between 0 and 1000.", ["weight"])
    confirmation_required = body.get("confirmationRequired")
    if confirmation_required is not None and not isinstance(confirmation_required, bool):
        raise errors.ConstraintViolation("confirmationRequired must be true or false.", ["confirmationRequired"])
    return {
        "action_type": action_type,
        "force_time": force_time if action_type == "timeforced" else None,
        "weight": weight,
        "maintenance_window": parse_window(body.get("maintenanceWindow")),
        "confirmation_required": confirmation_required,
    }


def parse_window(raw: Any) -> dict | None:
    """{schedule, duration, timezone}: all three or none, and a window must lie ahead (else 400)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise errors.MaintenanceScheduleInvalid("maintenanceWindow must be an object.", ["maintenanceWindow"])
    fields = {key: raw.get(key) for key in ("schedule", "duration", "timezone")}
    try:
        window = maintenance.Window.parse(**fields)
    except maintenance.InvalidSchedule as exc:
        raise errors.MaintenanceScheduleInvalid(f"Invalid maintenance window: {exc}", ["maintenanceWindow"]) from exc
    if window is None:
        return None
    if not window.has_future(clock.now_ms()):
        raise errors.MaintenanceScheduleInvalid(
            "The maintenance schedule has no window in the future.", ["maintenanceWindow"]
        )
    return fields


def assign(
    tenant: str,
    ds_id: int,
    requests: list[AssignmentRequest],
    user: str,
    offline: bool = False,
    message: str | None = None,
) -> AssignmentResult:
    """`message`: a further line of the actions' first history entry (an auto-assignment names its filter)."""
    quota_rules.check_assign(
        len(requests), 0, quota_rules.MAX_TARGETS_PER_MANUAL_ASSIGNMENT, "targets", f"distribution set '{ds_id}'"
    )
    seen: set[str] = set()
    for req in requests:
        if req.controller_id in seen:
            raise errors.ConstraintViolation(
                f"Target '{req.controller_id}' is given twice in one assignment.", [req.controller_id]
            )
        seen.add(req.controller_id)
    cfg = tenant_config.values(tenant)
    multi = bool(cfg["multi.assignments.enabled"])
    if multi and any(r.weight is None for r in requests):
        raise errors.NoWeightProvided()
    # Lock first, then read what the devices get: a locked set's modules and artifacts cannot change
    # any more, so the snapshot stored once for the set is what the set says.
    ds = distribution_sets.lock_for_assignment(tenant, ds_id)  # 404 / 400 for a set that cannot be assigned
    snapshot = snapshots.for_assignment(tenant, ds_id)
    result = AssignmentResult(total=len(requests))
    pending = {r.controller_id: r for r in requests}
    targets = target_store.find_many(tenant, list(pending))
    # Non-existing targets are ignored (hawkBit), and count in `total` only.
    work = [(targets[cid], req) for cid, req in pending.items() if cid in targets]
    # One target whose type does not list the set's type refuses the whole request (hawkBit).
    target_types.check_compatible(tenant, [t for t, _ in work], int(ds.type_id), ds.type_name or ds.type_key)
    _check_action_quota([t for t, _ in work])
    todo = []
    for target, req in work:
        if _already_assigned(target, ds_id, multi, offline):
            result.already_assigned += 1
        else:
            todo.append(req)
    if not todo:
        return result
    ids = counters.allocate_ids(tenant, "action", len(todo))
    id_of = {req.controller_id: action_id for req, action_id in zip(todo, ids)}
    autoclose = bool(cfg["repository.actions.autoclose.enabled"])
    flow = bool(cfg["user.confirmation.flow.enabled"])
    remaining = [req.controller_id for req in todo]
    for attempt in range(ATTEMPTS):
        if attempt:
            backoff(attempt - 1)
        fresh = targets if attempt == 0 else target_store.find_many(tenant, remaining)
        open_actions = open_actions_of(tenant, [fresh[cid] for cid in remaining if cid in fresh])
        plans = []
        for cid in remaining:
            current = fresh.get(cid)
            if current is None:
                continue  # deleted meanwhile
            if attempt and _already_assigned(current, ds_id, multi, offline):
                result.already_assigned += 1
                continue
            plans.append(
                (
                    cid,
                    *plan(
                        tenant,
                        current,
                        pending[cid],
                        id_of[cid],
                        snapshot,
                        user,
                        open_actions.get(cid, []),
                        multi,
                        autoclose,
                        offline,
                        flow,
                        message,
                    ),
                )
            )
        failed = []
        for batch in pack(plans):
            tx = Tx()
            for _, writes, _ in batch:
                tx.extend(writes)
            action_counts.add(
                tx, tenant, rules.merged_counts(*(counts for _, _, counts in batch)), spread_by=id_of[batch[0][0]]
            )
            distribution_sets.still_assignable(tx, tenant, ds_id)
            try:
                tx.commit()
                for cid, _, _ in batch:
                    result.assigned += 1
                    result.action_ids.append((cid, id_of[cid]))
            except errors.ConcurrentModification:
                failed += [cid for cid, _, _ in batch]
        if not failed:
            break
        remaining = failed
    else:
        raise errors.ConcurrentModification(
            f"{len(remaining)} target(s) changed concurrently during the assignment; retry.", remaining
        )
    metrics.count("TargetsAssigned", result.assigned)
    return result


def assign_to_target(
    tenant: str, controller_id: str, assignments: list[tuple[int, dict[str, Any]]], user: str, offline: bool = False
) -> AssignmentResult:
    """POST /targets/{id}/assignedDS: one or (with multi-assignments) several sets for one target.

    Every set is checked before anything is written, so a bad entry refuses the whole request.
    """
    if target_store.find(tenant, controller_id) is None:
        raise errors.EntityNotFound.of("Target", controller_id)
    if len(assignments) > 1 and not tenant_config.value(tenant, "multi.assignments.enabled"):
        raise errors.MultiAssignmentNotEnabled()
    for ds_id, _ in assignments:
        distribution_sets.check_assignable(tenant, ds_id)
    total = AssignmentResult()
    for ds_id, fields in assignments:
        result = assign(tenant, ds_id, [AssignmentRequest(controller_id, **fields)], user, offline=offline)
        total.assigned += result.assigned
        total.already_assigned += result.already_assigned
        total.total += result.total
        total.action_ids += result.action_ids
    return total


def _already_assigned(target: Target, ds_id: int, multi: bool, offline: bool) -> bool:
    if multi and not offline:
        return any(int(a["dsId"]) == ds_id and not a.get("canceling") for a in target.active_actions or [])
    if offline and not multi and target.update_status == UpdateStatus.PENDING.value:
        return True  # hawkBit's offline assignment leaves a target with a pending update alone
    return target.assigned_ds is not None and int(target.assigned_ds) == ds_id


def _check_action_quota(targets: list[Target]) -> None:
    for target in targets:
        quota_rules.check_assign(
            1,
            int(target.action_count or 0),
            quota_rules.MAX_ACTIONS_PER_TARGET,
            "Action entities",
            f"Target '{target.controller_id}'",
            args=[target.controller_id],
        )


def open_actions_of(tenant: str, targets: list[Target]) -> dict[str, list[Action]]:
    found: dict[str, list[Action]] = {}
    for action in action_store.find_many(
        tenant, [(t.controller_id, int(a["id"])) for t in targets for a in (t.active_actions or [])]
    ):
        found.setdefault(action.controller_id, []).append(action)
    return found


Plan = tuple[str, Tx, rules.StatusCounts]  # a target's writes and what they do to the sets' action counts


def pack(plans: list[Plan], guards: int = 1) -> list[list[Plan]]:
    """Whole targets' plans into transactions, each within DynamoDB's 100 items and 4 MB (a target with many
    open actions carries a long summary list), with room for the counts of the subjects they move (one item each)
    and `guards` condition checks (the set's validity; a rollout's status)."""
    room = MAX_ITEMS - guards
    batches: list[list[Plan]] = []
    current: list[Plan] = []
    items = size = 0
    moved: set[rules.Subject] = set()  # the counted subjects (sets, rollout groups) the batch moves
    for cid, writes, counts in plans:
        plan_bytes = writes.request_bytes() + COUNT_BYTES * len(counts)
        sets = moved | set(counts)
        if current and (items + len(writes) + len(sets) > room or size + plan_bytes > MAX_BYTES):
            batches.append(current)
            current, items, size, sets = [], 0, 0, set(counts)
        current.append((cid, writes, counts))
        items += len(writes)
        size += plan_bytes
        moved = sets
    if current:
        batches.append(current)
    return batches


def check_status_quota(action: Action, message_count: int, intermediate: bool) -> None:
    """maxMessagesPerActionStatus for any new history entry, maxStatusEntriesPerAction for intermediate ones."""
    quota_rules.check_messages(message_count)
    if intermediate:
        quota_rules.check_assign(
            1,
            int(action.intermediate_count or 0),
            quota_rules.MAX_STATUS_ENTRIES_PER_ACTION,
            "ActionStatus entities",
            f"Action '{action.action_id}'",
        )


def plan(
    tenant: str,
    target: Target,
    req: AssignmentRequest,
    action_id: int,
    snapshot,
    user: str,
    open_actions: list[Action],
    multi: bool,
    autoclose: bool,
    offline: bool,
    flow: bool,
    message: str | None = None,
    rollout: RolloutOrigin | None = None,
) -> tuple[Tx, rules.StatusCounts]:
    """The writes of one target's assignment (superseded actions, the new action, the target) and what they do to
    the sets' action counts (added once per transaction by the caller). `rollout`: the action starts a rollout
    group's target, which the group counted SCHEDULED until now."""
    now = clock.now_ms()
    tx = Tx()
    counts: list[rules.StatusCounts] = []
    summaries = {int(a["id"]): a for a in (target.active_actions or [])}
    if not multi and not offline:
        for old in open_actions:
            if old.status == Status.CANCELING.value:
                continue
            seq = int(old.status_seq or 0) + 1
            if autoclose:
                change = rules.close(old, Status.CANCELED, now, user, seq)
                tx.update(old, change)
                counts.append(rules.moved_counts(old, change))
                tx.put(
                    rules.history_entry(
                        tenant, old.action_id, seq, Status.CANCELED, ["close obsolete action due to new update"], now
                    )
                )
                summaries.pop(int(old.action_id), None)
            else:
                change = rules.request_cancel(now, user, seq)
                tx.update(old, change)
                counts.append(rules.moved_counts(old, change))
                tx.put(
                    rules.history_entry(
                        tenant, old.action_id, seq, Status.CANCELING, ["cancel obsolete action due to new update"], now
                    )
                )
                summaries[int(old.action_id)] = rules.canceling(summaries.get(int(old.action_id), {}))
    if offline:
        begin = confirmation.Start(
            Status.FINISHED, Status.FINISHED, (SERVER_MESSAGE_PREFIX + "Action reported as offline deployment",)
        )
    else:
        required = flow if req.confirmation_required is None else req.confirmation_required
        begin = confirmation.start(flow, required, target.auto_confirm, user)
    action = rules.new_action(
        tenant,
        target.controller_id,
        action_id,
        snapshot.ds_id,
        snapshot.name,
        snapshot.version,
        req.action_type,
        req.force_time,
        req.weight,
        req.maintenance_window,
        begin.status,
        begin.history,
        now,
        user,
        closed=offline,
    )
    first = f"Assignment initiated by user '{user}'"
    if rollout is not None:
        rollout.mark(action)
        if rollout.timeout_ms:
            action.timeout_at, action.timeout_key = now + int(rollout.timeout_ms), rules.timeout_key(tenant, action_id)
        first = rollout.message()
    tx.put(action)
    tx.put(
        rules.history_entry(
            tenant, action_id, 1, begin.history, [first, *([message] if message else []), *begin.messages], now
        )
    )
    tx.update(target, rules.target_after_assignment(target, action, summaries, now, user, offline))
    return tx, rules.merged_counts(*counts, rules.created_counts(action, scheduled_before=rollout is not None))


# --- operator cancel / force ---------------------------------------------------------------------------
def _target_and_action(tenant: str, controller_id: str, action_id: int) -> tuple[Target, Action]:
    target = target_store.find(tenant, controller_id)
    if target is None:
        raise errors.EntityNotFound.of("Target", controller_id)
    action = action_store.find(tenant, controller_id, action_id)
    if action is None:
        raise errors.EntityNotFound.of("Action", action_id)
    return target, action


def cancel(tenant: str, controller_id: str, action_id: int, user: str, force: bool = False) -> None:
    """DELETE /targets/{id}/actions/{actionId}: ask the device to cancel; `force` closes a canceling action."""

    def attempt() -> None:
        target, action = _target_and_action(tenant, controller_id, action_id)
        if force:
            if not action.active or action.status != Status.CANCELING.value:
                raise errors.ActionNotForceQuitable(
                    f"Action {action_id} is not canceling and cannot be force quit.", [action_id]
                )
            tx = _cancel_writes(tenant, target, action, True, "A force quit has been performed.", user)
        else:
            if not action.active or action.status == Status.CANCELING.value:
                raise errors.ActionNotCancelable(f"Action {action_id} is not active or already canceling.", [action_id])
            tx = _cancel_writes(tenant, target, action, False, "manual cancelation requested", user)
        tx.commit()

    retrying(ATTEMPTS, attempt)


def _cancel_writes(tenant: str, target: Target, action: Action, close: bool, note: str, user: str) -> Tx:
    """The writes of a cancel: the open action closed CANCELED at once (`close`, the target as after a close) or
    asked to cancel (CANCELING, the device sees cancelAction), its counts moved and a history entry with `note`."""
    now = clock.now_ms()
    action_id = int(action.action_id)
    seq = int(action.status_seq or 0) + 1
    tx = Tx()
    if close:
        change = rules.close(action, Status.CANCELED, now, user, seq)
        tx.update(target, rules.target_after_close(target, action_id, now, user))
    else:
        change = rules.request_cancel(now, user, seq)
        tx.update(
            target,
            {
                "active_actions": [
                    rules.canceling(a) if int(a["id"]) == action_id else a for a in target.active_actions or []
                ],
                **rules.touched(now, user),
            },
        )
    tx.update(action, change)
    action_counts.add(tx, tenant, rules.moved_counts(action, change), spread_by=action_id)
    return tx.put(rules.history_entry(tenant, action_id, seq, Status(change["status"]), [note], now))


def force(tenant: str, controller_id: str, action_id: int, user: str) -> None:
    """PUT /targets/{id}/actions/{actionId} {"forceType":"forced"}: only the switch to forced is allowed."""

    def attempt() -> None:
        target, action = _target_and_action(tenant, controller_id, action_id)
        if action.action_type == "forced":
            return
        now = clock.now_ms()
        tx = Tx().update(action, {"action_type": "forced", **rules.touched(now, user)})
        tx.update(
            target, {"active_actions": rules.with_summary(target, action_id, type="forced"), "last_modified_at": now}
        )
        tx.commit()

    retrying(ATTEMPTS, attempt)


def cancel_for_rollout(tenant: str, controller_id: str, action_id: int, user: str, force: bool) -> bool:
    """A stopped rollout asks its open action to cancel (CANCELING); a deleted one closes it CANCELED at once
    (hawkBit's force cancel: the target's assigned set falls back). False: the action is closed already (or
    canceling, for a soft cancel), or gone."""

    def attempt() -> bool:
        target = target_store.find(tenant, controller_id)
        action = action_store.find(tenant, controller_id, action_id)
        if target is None or action is None or not action.active:
            return False
        if not force and action.status == Status.CANCELING.value:
            return False
        note = (
            "The rollout was deleted: the action is canceled."
            if force
            else "The rollout was stopped: cancelation requested."
        )
        tx = _cancel_writes(tenant, target, action, force, note, user)
        tx.commit()
        return True

    return retrying(ATTEMPTS, attempt)
