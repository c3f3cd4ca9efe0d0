"""Rollouts and their groups: the entities and the one home of their state machines (docs/rollouts-hawkbit.md).

Every operator operation and every step of the rollout's own progress is a pure function here: given the
current entity it returns a `Transition` (the `Change` the store applies and the `Condition` the write needs:
the status it was decided on, so two requests racing cannot both move the rollout), or raises hawkBit's error
for a transition the status does not allow (400 `hawkbit.server.error.rollout.illegalState`, whose messages
are hawkBit's). Which transition a step takes (a group's success, its error, the rollout's end) is decided in
chalicelib/domain/rollout_progress.py.

Rollout:  CREATING -> READY | WAITING_FOR_APPROVAL (approve -> READY, deny -> APPROVAL_DENIED);
          READY -> STARTING (start, or start_at reached) -> RUNNING <-> PAUSED -> FINISHED;
          stop: CREATING..PAUSED, APPROVAL_DENIED -> STOPPING -> STOPPED;
          delete: any -> DELETING -> (hard delete) | DELETED.
Group:    CREATING -> READY -> SCHEDULED -> RUNNING -> FINISHED | ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterable, Sequence

from chalicelib import errors
from chalicelib.domain import rollout_spec
from chalicelib.domain.changes import AnyOf, Change, Condition, eq
from chalicelib.domain.permissions import expand
from chalicelib.domain.rollout_spec import RolloutSpec


class RolloutStatus(str, Enum):
    CREATING = "CREATING"
    READY = "READY"
    WAITING_FOR_APPROVAL = "WAITING_FOR_APPROVAL"
    APPROVAL_DENIED = "APPROVAL_DENIED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    FINISHED = "FINISHED"
    DELETING = "DELETING"
    DELETED = "DELETED"


class GroupStatus(str, Enum):
    CREATING = "CREATING"
    READY = "READY"
    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    ERROR = "ERROR"


S = RolloutStatus
# JpaRolloutManagement.ROLLOUT_STATUS_STOPPABLE, in hawkBit's order (its refusal lists them)
STOPPABLE = (S.CREATING, S.READY, S.WAITING_FOR_APPROVAL, S.STARTING, S.RUNNING, S.PAUSED, S.APPROVAL_DENIED)
# The statuses the progress worker has work in (JpaRolloutManagement.ACTIVE_ROLLOUTS; READY for its start_at)
ACTIVE = (S.CREATING, S.READY, S.STARTING, S.RUNNING, S.STOPPING, S.DELETING)
READ_ONLY = (S.DELETING, S.DELETED)
# Not started yet: its actions wait SCHEDULED and hawkBit would not have created them (all targets "notstarted")
NOT_STARTED = (S.CREATING, S.READY, S.WAITING_FOR_APPROVAL, S.APPROVAL_DENIED, S.STARTING)
APPROVAL_REMARK_MAX = 255  # hawkBit Rollout.APPROVAL_REMARK_MAX_SIZE


# --- entities -----------------------------------------------------------------------------------------------
@dataclass
class Rollout:
    tenant: str
    sk: str
    id: int
    name: str
    target_filter_query: str
    ds_id: int
    status: str = S.CREATING.value
    description: str | None = None
    action_type: str = "forced"  # forced | soft | timeforced | downloadonly
    force_time: int | None = None
    start_at: int | None = None
    weight: int | None = None
    dynamic: bool = False
    dynamic_group_suffix: str | None = None
    dynamic_group_size: int | None = None
    dynamic_after: str | None = None  # a dynamic rollout has looked at the targets up to this by-created order key
    dynamic_checked_at: int | None = None  # when it last looked for new targets (at most once a minute)
    total_targets: int = 0
    total_groups: int = 0
    deleted: bool = False
    approval_remark: str | None = None
    approval_decided_by: str | None = None
    approval_needed: bool = False  # rollout.approval.enabled and a creator without APPROVE_ROLLOUT (decided at POST)
    status_message: str | None = None  # why its creation stopped it (a refusal found once its targets were counted)
    chain_status: str | None = None  # a chain of units creating, stopping or deleting it is at work in this status
    chain_until: int | None = None  # ... until then (ms), unless it hands on again: other units leave it alone
    # past hawkBit: rate control (rollout_rate.py) and the in-progress timeout of an action
    max_per_minute: int | None = None
    base_per_minute: int | None = None
    increment_factor: float | None = None
    increase_every: int | None = None
    increase_on: str | None = None  # "started" | "succeeded"
    action_timeout_ms: int | None = None
    running_since: int | None = None  # when it first ran: rate windows are counted from here
    rate_window: int | None = None  # the rate window the count below belongs to
    rate_window_started: int = 0
    created_at: int = 0
    created_by: str = ""
    last_modified_at: int = 0
    last_modified_by: str = ""
    version: int | None = None


@dataclass
class RolloutGroup:
    tenant: str
    sk: str
    id: int
    rollout_id: int
    position: int  # 0-based; the group before it is its parent (hawkBit chains groups by `parent`)
    name: str
    description: str | None = None
    status: str = GroupStatus.CREATING.value
    target_filter_query: str = ""  # hawkBit stores "" for a group without its own filter
    target_percentage: float = 100.0  # a dynamic group keeps its target count here (hawkBit)
    dynamic: bool = False
    confirmation_required: bool = False
    success_condition: str = "THRESHOLD"
    success_expression: str = "50"
    success_action: str = "NEXTGROUP"
    success_action_expression: str | None = ""
    error_condition: str | None = "THRESHOLD"
    error_expression: str | None = "50"
    error_action: str | None = "PAUSE"
    error_action_expression: str | None = ""
    total_targets: int = 0
    activated_through: str | None = None  # the last target (controllerId order) whose action its start created
    created_at: int = 0
    created_by: str = ""
    last_modified_at: int = 0
    last_modified_by: str = ""
    version: int | None = None


def rollout_sk(rollout_id: int) -> str:
    return f"rollout#{int(rollout_id):020d}"


def group_sk(rollout_id: int, position: int) -> str:
    """A rollout's groups sort together and in their order, apart from the rollouts (a list of rollouts reads no
    group); a rollout has at most 500 static groups, dynamic ones keep coming: 6 digits."""
    return f"{GROUP_PREFIX}{int(rollout_id):020d}#{int(position):06d}"


GROUP_PREFIX = "rgroup#"


def groups_prefix(rollout_id: int) -> str:
    return f"{GROUP_PREFIX}{int(rollout_id):020d}#"


@dataclass(frozen=True)
class Transition:
    change: Change
    condition: Condition


def _status_is(status: RolloutStatus | GroupStatus) -> Condition:
    return eq("status", status.value)


def _moved(
    to: RolloutStatus | GroupStatus, frm: RolloutStatus | GroupStatus, now: int, user: str, **fields: Any
) -> Transition:
    return Transition(
        {"status": to.value, "last_modified_at": now, "last_modified_by": user, **fields}, _status_is(frm)
    )


def _lower(status: str) -> str:
    return status.lower()


# --- creation -----------------------------------------------------------------------------------------------
def new_rollout(tenant: str, rollout_id: int, spec: RolloutSpec, now: int, user: str) -> Rollout:
    """The rollout as `POST` stores it: CREATING; groups and targets follow (rollout_groups.py)."""
    rate = spec.rate_control
    return Rollout(
        tenant=tenant,
        sk=rollout_sk(rollout_id),
        id=int(rollout_id),
        name=spec.name,
        description=spec.description,
        target_filter_query=spec.target_filter_query,
        ds_id=spec.ds_id,
        action_type=spec.action_type,
        force_time=spec.force_time,
        start_at=spec.start_at,
        # hawkBit stores repository.actionWeightIfAbsent (1000) when the body has none
        weight=rollout_spec.WEIGHT_MAX if spec.weight is None else spec.weight,
        dynamic=spec.dynamic,
        dynamic_group_suffix=spec.dynamic_group_suffix,
        dynamic_group_size=spec.dynamic_group_size,
        max_per_minute=rate.maximum_per_minute if rate else None,
        base_per_minute=rate.base_per_minute if rate else None,
        increment_factor=rate.increment_factor if rate else None,
        increase_every=rate.increase_every if rate else None,
        increase_on=rate.increase_on if rate else None,
        action_timeout_ms=spec.action_timeout_minutes * 60_000 if spec.action_timeout_minutes else None,
        created_at=now,
        created_by=user,
        last_modified_at=now,
        last_modified_by=user,
    )


def has_started(rollout: Rollout) -> bool:
    """Whether its actions count as what they are (else every target renders as `notstarted`). A rollout
    stopped or deleted before it ran has no other actions either."""
    return rollout.status not in NOT_STARTED and rollout.running_since is not None


def check_may_schedule(spec: RolloutSpec, permissions: Iterable[str]) -> None:
    """A rollout with `startAt` starts itself: its creator must be allowed to start rollouts (hawkBit)."""
    if spec.start_at is not None and "HANDLE_ROLLOUT" not in expand(permissions):
        raise errors.InsufficientPermission("You need permission to start rollouts to create a scheduled rollout")


def check_weight(spec: RolloutSpec, multi_assignments: bool) -> None:
    """With multi-assignments on (classic hawkBit, tenant key `multi.assignments.enabled`) a rollout names the
    weight of its actions, as an assignment does (WeightValidationHelper: 400 noWeightProvidedInMultiAssignmentMode)."""
    if multi_assignments and spec.weight is None:
        raise errors.NoWeightProvided()


def approval_needed(approval_enabled: bool, creator_permissions: Iterable[str]) -> bool:
    """Tenant key `rollout.approval.enabled`, unless the creator may approve (DefaultRolloutApprovalStrategy)."""
    return approval_enabled and "APPROVE_ROLLOUT" not in expand(creator_permissions)


def created(rollout: Rollout, total_targets: int, total_groups: int, needs_approval: bool, now: int) -> Transition:
    """CREATING -> READY, or WAITING_FOR_APPROVAL: every group is filled."""
    to = S.WAITING_FOR_APPROVAL if needs_approval else S.READY
    return _moved(
        to, S.CREATING, now, rollout.created_by, total_targets=int(total_targets), total_groups=int(total_groups)
    )


# --- operator operations ------------------------------------------------------------------------------------
def start(rollout: Rollout, now: int, user: str) -> Transition:
    if rollout.status != S.READY:
        raise errors.RolloutIllegalState(
            f"Rollout can only be started in state ready but current state is {_lower(rollout.status)}"
        )
    return _moved(S.STARTING, S.READY, now, user)


def due_to_start(rollout: Rollout, now: int) -> bool:
    """A READY rollout whose `startAt` has come starts itself (JpaRolloutExecutor.handleReadyRollout)."""
    return rollout.status == S.READY and rollout.start_at is not None and rollout.start_at <= now


def pause(rollout: Rollout, now: int, user: str) -> Transition:
    """Running groups go on (their devices are not stopped); no further group starts until resumed."""
    if rollout.status != S.RUNNING:
        raise errors.RolloutIllegalState(
            f"Rollout can only be paused in state running but current state is {_lower(rollout.status)}"
        )
    return _moved(S.PAUSED, S.RUNNING, now, user)


def resume(rollout: Rollout, now: int, user: str) -> Transition:
    if rollout.status != S.PAUSED:
        raise errors.RolloutIllegalState(
            f"Rollout can only be resumed in state paused but current state is {_lower(rollout.status)}"
        )
    return _moved(S.RUNNING, S.PAUSED, now, user)


def approve(rollout: Rollout, approved: bool, remark: str | None, now: int, user: str) -> Transition:
    if rollout.status != S.WAITING_FOR_APPROVAL:
        raise errors.RolloutIllegalState("Rollout is not in status WAITING_FOR_APPROVAL")
    if remark is not None and len(remark) > APPROVAL_REMARK_MAX:
        raise errors.ConstraintViolation(
            f"The remark must be at most {APPROVAL_REMARK_MAX} characters long.", ["remark"]
        )
    fields: dict[str, Any] = {"approval_decided_by": user}
    if remark is not None:
        fields["approval_remark"] = remark
    return _moved(S.READY if approved else S.APPROVAL_DENIED, S.WAITING_FOR_APPROVAL, now, user, **fields)


def stop(rollout: Rollout, now: int, user: str) -> Transition:
    if rollout.status not in STOPPABLE:
        raise errors.RolloutIllegalState(
            f"Rollout can only be stopped into the following statuses [{', '.join(s.value for s in STOPPABLE)}]"
        )
    return _moved(S.STOPPING, S(rollout.status), now, user)


def delete(rollout: Rollout, now: int, user: str) -> Transition | None:
    """Any status -> DELETING (the worker then deletes it, softly once any of its actions ran); None: it is
    being deleted or is deleted already (a repeated DELETE changes nothing)."""
    if rollout.status in READ_ONLY:
        return None
    return _moved(S.DELETING, S(rollout.status), now, user)


def update(
    rollout: Rollout, name: str | None, description: str | None, has_description: bool, now: int, user: str
) -> Change:
    """PUT: name and description only; a deleted rollout is read-only (403 entityReadOnly)."""
    if rollout.status in READ_ONLY:
        raise errors.EntityReadOnly(f"Rollout {rollout.id} is soft deleted and cannot be changed")
    change: dict[str, Any] = {"last_modified_at": now, "last_modified_by": user}
    if name is not None:
        change["name"] = name
    if has_description:
        change["description"] = description
    return change


def next_group(rollout: Rollout, groups: Sequence[RolloutGroup]) -> RolloutGroup:
    """triggerNextGroup: the group after the newest started one (any group not SCHEDULED) starts now, whatever
    its success condition (JpaRolloutManagement.triggerNextGroup)."""
    if rollout.status != S.RUNNING:
        raise errors.RolloutIllegalState("Rollout is not in running state")
    if not any(g.status == GroupStatus.SCHEDULED for g in groups):
        raise errors.RolloutIllegalState("Rollout does not have any groups left to be triggered")
    started = [g for g in groups if g.status != GroupStatus.SCHEDULED]
    if not started:
        raise errors.RolloutIllegalState("Cannot find any started rollout group to trigger next from")
    latest = max(started, key=lambda g: g.position)
    child = next((g for g in groups if g.position == latest.position + 1), None)
    if child is None or child.status != GroupStatus.SCHEDULED:
        raise errors.RolloutIllegalState("Rollout does not have any groups left to be triggered")
    return child


def check_retry(rollout: Rollout) -> None:
    """POST /{id}/retry: a deleted rollout is not found; only a FINISHED one is retried (400 constraintViolation)."""
    if rollout.deleted:
        raise errors.EntityNotFound.of("Rollout", rollout.id)
    if rollout.status != S.FINISHED:
        raise errors.ConstraintViolation("Rollout must be finished in order to be retried!")


RETRY_FILTER_PREFIX = "failedrollout=="


def retry_spec(rollout: Rollout) -> RolloutSpec:
    """The retry: a new rollout `<name>_retry` for the targets whose action of this one ended in ERROR, one group,
    the default conditions, no weight of its own, `startAt` kept (MgmtRolloutMapper.fromRetriedRollout)."""
    check_retry(rollout)
    return RolloutSpec(
        name=rollout.name + "_retry",
        description=rollout.description,
        target_filter_query=f"{RETRY_FILTER_PREFIX}{rollout.id}",
        ds_id=rollout.ds_id,
        action_type=rollout.action_type,
        force_time=rollout.force_time,
        start_at=rollout.start_at,
        amount_groups=1,
        confirmation_required=False,
    )


def retried_rollout_id(target_filter_query: str) -> int | None:
    """The rollout a retry's filter names (hawkBit RolloutHelper.isRolloutRetried), else None."""
    if target_filter_query.startswith(RETRY_FILTER_PREFIX):
        rest = target_filter_query[len(RETRY_FILTER_PREFIX) :]
        return int(rest) if rest.isdigit() else None
    return None


# --- the worker's steps -------------------------------------------------------------------------------------
def started(rollout: Rollout, now: int) -> Transition:
    """STARTING -> RUNNING: every group is SCHEDULED and the first one RUNNING."""
    return _moved(S.RUNNING, S.STARTING, now, rollout.last_modified_by, running_since=now)


def finished(rollout: Rollout, now: int) -> Transition:
    """RUNNING -> FINISHED: no group is RUNNING or SCHEDULED any more."""
    return _moved(S.FINISHED, S.RUNNING, now, rollout.last_modified_by)


def paused_by_group(rollout: Rollout, now: int) -> Transition:
    """An error action (or a success action PAUSE) pauses the rollout; the worker acts as the system."""
    return _moved(S.PAUSED, S.RUNNING, now, "system")


def stopped(rollout: Rollout, now: int) -> Transition:
    """STOPPING -> STOPPED: its scheduled actions are gone and no active one is left but canceling ones."""
    return _moved(S.STOPPED, S.STOPPING, now, rollout.last_modified_by)


def soft_deleted(rollout: Rollout, now: int) -> Transition:
    """DELETING -> DELETED (kept for the actions that ran; hidden from lists, read-only)."""
    return _moved(S.DELETED, S.DELETING, now, rollout.last_modified_by, deleted=True)


def running_or_paused() -> Condition:
    """What a group's start needs of its rollout in each of its transactions (a stopped one starts nothing)."""
    return AnyOf((_status_is(S.RUNNING), _status_is(S.PAUSED)))


DYNAMIC_FILL_EVERY_MS = 60_000  # hawkBit's dynamicRolloutsMinInvolvePeriodMS


def dynamic_fill_due(rollout: Rollout, now: int) -> bool:
    """A running dynamic rollout looks for new matching targets at most once a minute."""
    return (
        rollout.dynamic
        and rollout.status == S.RUNNING
        and (rollout.dynamic_checked_at is None or now - int(rollout.dynamic_checked_at) >= DYNAMIC_FILL_EVERY_MS)
    )


def kept(rollout: Rollout, change: Change) -> Transition:
    """A write to the rollout that keeps its status (rate control's count), refused if the status moved."""
    return Transition(change, _status_is(S(rollout.status)))


def hard_delete(has_actions_beyond_scheduled: bool) -> bool:
    """A rollout none of whose actions ever left SCHEDULED is deleted with its groups; else it is kept, DELETED."""
    return not has_actions_beyond_scheduled


# --- group steps --------------------------------------------------------------------------------------------
G = GroupStatus


def group_moved(group: RolloutGroup, to: GroupStatus, now: int, **fields: Any) -> Transition:
    """A group's step, allowed only along the group state machine."""
    allowed = {
        G.CREATING: (G.READY,),
        G.READY: (G.SCHEDULED, G.RUNNING, G.FINISHED),
        G.SCHEDULED: (G.RUNNING, G.FINISHED),
        G.RUNNING: (G.FINISHED, G.ERROR),
    }
    current = G(group.status)
    if to not in allowed.get(current, ()):
        raise errors.RolloutIllegalState(
            f"Rollout group {group.id} cannot move from {_lower(current.value)} to {_lower(to.value)}"
        )
    return Transition(
        {"status": to.value, "last_modified_at": now, "last_modified_by": "system", **fields}, _status_is(current)
    )


def group_filled(group: RolloutGroup, total_targets: int, now: int) -> Transition:
    return group_moved(group, G.READY, now, total_targets=int(total_targets))


def closed_groups(groups: Sequence[RolloutGroup], now: int) -> dict[int, Transition]:
    """Stop and delete finish every group not FINISHED or ERROR yet (JpaRolloutExecutor.finishRolloutGroups)."""
    return {
        g.position: Transition(
            {"status": G.FINISHED.value, "last_modified_at": now, "last_modified_by": "system"}, _status_is(G(g.status))
        )
        for g in groups
        if g.status not in (G.FINISHED, G.ERROR)
    }
