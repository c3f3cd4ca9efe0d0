"""Action lifecycle, the one home of the action/target state machine (docs/architecture.md, "Action state machine").

Statuses, handling types, the DDI feedback mapping and cancel semantics, the action and history-entry
entities, and every transition as a pure function: given the current action and target it returns the
`Change`s (chalicelib/domain/changes.py) the store applies in one transaction. Services only load, call
these and commit.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from chalicelib.domain.changes import REMOVE, Add, Change
from chalicelib.domain.targets import Target, ds_key


class Status(str, Enum):
    FINISHED = "FINISHED"
    ERROR = "ERROR"
    WARNING = "WARNING"
    RUNNING = "RUNNING"
    CANCELED = "CANCELED"
    CANCELING = "CANCELING"
    RETRIEVED = "RETRIEVED"
    DOWNLOAD = "DOWNLOAD"
    SCHEDULED = "SCHEDULED"
    CANCEL_REJECTED = "CANCEL_REJECTED"
    DOWNLOADED = "DOWNLOADED"
    WAIT_FOR_CONFIRMATION = "WAIT_FOR_CONFIRMATION"


class UpdateStatus(str, Enum):
    UNKNOWN = "UNKNOWN"
    REGISTERED = "REGISTERED"
    PENDING = "PENDING"
    IN_SYNC = "IN_SYNC"
    ERROR = "ERROR"


ACTION_TYPES = ("forced", "soft", "timeforced", "downloadonly")
EXECUTIONS = ("closed", "proceeding", "canceled", "scheduled", "rejected", "resumed", "downloaded", "download")
FINISHED_RESULTS = ("success", "failure", "none")
DEFAULT_WEIGHT = 1000
SERVER_MESSAGE_PREFIX = "Update Server: "


@dataclass(frozen=True)
class Outcome:
    """What one piece of device feedback does.

    history: the status written to the action's history.
    action_status: the action's new status, or None to keep it.
    closes: the action becomes inactive.
    target_status / assigned / installed: effects on the target (None: unchanged).
    """

    history: Status
    action_status: Status | None = None
    closes: bool = False
    installs: bool = False
    fails: bool = False
    cancel_completed: bool = False
    download_only_done: bool = False
    messages: tuple[str, ...] = field(default_factory=tuple)


def deployment_feedback(execution: str, finished: str, action_type: str) -> Outcome:
    """DdiRootController.generateUpdateStatus: execution x finished -> stored status and effects."""
    if execution == "closed":
        if finished == "failure":
            return Outcome(Status.ERROR, Status.ERROR, closes=True, fails=True)
        return Outcome(Status.FINISHED, Status.FINISHED, closes=True, installs=True)
    if execution == "canceled":
        return Outcome(Status.CANCELED)
    if execution == "rejected":
        return Outcome(Status.WARNING)
    if execution == "download":
        return Outcome(Status.DOWNLOAD)
    if execution == "downloaded":
        if action_type == "downloadonly":
            return Outcome(Status.DOWNLOADED, Status.DOWNLOADED, closes=True, download_only_done=True)
        return Outcome(Status.DOWNLOADED)
    return Outcome(Status.RUNNING)  # proceeding, scheduled, resumed


def cancel_feedback(execution: str, finished: str) -> Outcome:
    """addCancelActionStatus: accepting a cancel needs `closed` (issue #952), not `canceled`."""
    if execution == "closed":
        if finished == "failure":
            return Outcome(Status.ERROR, Status.RUNNING)
        return Outcome(Status.CANCELED, Status.CANCELED, closes=True, cancel_completed=True)
    if execution == "rejected":
        return Outcome(Status.CANCEL_REJECTED, Status.RUNNING)
    if execution == "canceled":
        return Outcome(
            Status.WARNING,
            messages=(
                SERVER_MESSAGE_PREFIX + "Target reported cancel for a cancel which is not supported by the server",
            ),
        )
    return Outcome(Status.RUNNING)


def default_message(execution: str, finished: str) -> str:
    word = {"success": "OK", "failure": "ERROR", "none": "NONE"}.get(finished, finished.upper())
    return f"{SERVER_MESSAGE_PREFIX}Target reported {execution.upper()} with {word}!"


def is_final(status: str) -> bool:
    return status in (Status.FINISHED, Status.ERROR, Status.CANCELED, Status.DOWNLOADED)


def is_intermediate(status: str) -> bool:
    """Statuses counted against maxStatusEntriesPerAction (everything but the closing ones)."""
    return status not in (Status.FINISHED, Status.ERROR)


def handling(
    action_type: str, force_time: int | None, now_ms: int, window_available: bool | None = None
) -> tuple[str, str]:
    """(download, update) handling types of a deployment: skip | attempt | forced.

    `window_available` is None without a maintenance window; with one, installing waits for it
    (update = skip outside the window) while downloading may start at once.
    """
    forced = action_type in ("forced", "downloadonly") or (
        action_type == "timeforced" and force_time is not None and now_ms >= force_time
    )
    download = "forced" if forced else "attempt"
    if action_type == "downloadonly":
        update = "skip"
    elif window_available is None:
        update = download
    else:
        update = download if window_available else "skip"
    return download, update


def cache_buster(
    tenant: str, action_id: int, action_type: str, force_time: int | None, now_ms: int, window_available: bool = False
) -> int:
    """The `?c=` value: changes when a time-forced action flips to forced or a maintenance window opens,
    so clients fetch the deployment again."""
    forced_now = action_type == "timeforced" and force_time is not None and now_ms >= force_time
    offset = 1249 if window_available else 1231 if forced_now else 1237
    value = 31 * zlib.crc32(f"{tenant}:{action_id}".encode()) + offset
    return (value + 2**31) % 2**32 - 2**31  # a Java int, as hawkBit's calculateEtag


def pick_active(summaries: list[dict]) -> dict | None:
    """The action a device sees: highest weight first, then the oldest id (no weight counts as 1000)."""
    if not summaries:
        return None

    def weight(summary: dict) -> int:
        return DEFAULT_WEIGHT if summary.get("weight") is None else int(summary["weight"])

    return sorted(summaries, key=lambda a: (-weight(a), int(a["id"])))[0]


# A history entry's id is `actionId << 20 | sequence`: unique per tenant and ordered within the action without
# a counter write. The entries an action can have are bounded below 2^20 (device entries by
# maxStatusEntriesPerAction, server entries by MAX_SERVER_ENTRIES, a handful of others), so ids never collide.
SEQUENCE_BITS = 20
MAX_SERVER_ENTRIES = 100  # RETRIEVED / DOWNLOAD entries the server notes per action; later downloads go unnoted


def status_id(action_id: int, sequence: int) -> int:
    if not 0 < int(sequence) < 1 << SEQUENCE_BITS:
        raise ValueError(f"history sequence {sequence} of action {action_id} is out of range")
    return (int(action_id) << SEQUENCE_BITS) | int(sequence)


def split_message(message: str, limit: int = 512) -> list[str]:
    return [message[i : i + limit] for i in range(0, len(message), limit)] or [""]


# --- keys -------------------------------------------------------------------------------------------------
# Tenant-wide action indexes spread over this many key ranges: an action's shard is its id modulo it, so a
# rollout's actions (consecutive ids) land on every range in turn instead of on one hot end.
INDEX_SHARDS = 16


def target_key(tenant: str, controller_id: str) -> str:
    return f"{tenant}#{controller_id}"


def action_key(tenant: str, action_id: int) -> str:
    return f"{tenant}#{int(action_id)}"


def tenant_shard(tenant: str, action_id: int) -> str:
    return f"{tenant}#{int(action_id) % INDEX_SHARDS}"


def open_ds_key(tenant: str, ds_id: int, action_id: int) -> str:
    """The open-by-ds index's key of an open action: its tenant, set and shard."""
    return f"{tenant}#{int(ds_id)}#{int(action_id) % INDEX_SHARDS}"


def cleanup_key(tenant: str, status: str, action_id: int) -> str:
    """The cleanup index's key of a closed action: its tenant, final status and shard."""
    return f"{tenant}#{status}#{int(action_id) % INDEX_SHARDS}"


# --- entities ---------------------------------------------------------------------------------------------
@dataclass
class Action:
    target_key: str
    action_id: int
    tenant: str = ""
    controller_id: str = ""
    ds_id: int = 0
    ds_name: str = ""
    ds_version: str = ""
    action_type: str = "forced"  # forced | soft | timeforced | downloadonly
    force_time: int | None = None
    weight: int | None = None
    status: str = Status.RUNNING.value
    active: bool = True
    maintenance_window: dict[str, Any] | None = None  # {schedule, duration, timezone}
    last_status_code: int | None = None
    status_seq: int = 0
    intermediate_count: int = 0  # quota: maxStatusEntriesPerAction
    server_entries: int = 0  # RETRIEVED / DOWNLOAD entries noted (at most MAX_SERVER_ENTRIES)
    latest_entry: str | None = None  # status of the newest history entry
    rollout_id: int | None = None
    rollout_group: int | None = None  # the position of its rollout group
    rollout_name: str | None = None  # MgmtAction's rolloutName without a read of the rollout (kept at creation)
    timeout_key: str | None = None  # the timeout index's key while open and not yet timed out (its rollout's)
    timeout_at: int | None = None  # when it times out (a rollout's actionTimeout)
    timed_out: bool | None = None  # counted against its group's error condition (rollout_progress.error_met)
    external_ref: str | None = None
    tenant_shard: str | None = None
    cleanup_key: str | None = None
    closed_at: int | None = None
    open_ds_key: str | None = None
    counted: bool | None = None  # in its set's status counts; None: created before they existed, never moves them
    created_at: int = 0
    created_by: str = ""
    last_modified_at: int = 0
    last_modified_by: str = ""
    version: int | None = None


@dataclass
class ActionStatusEntry:
    action_key: str
    status_id: int
    status: str = Status.RUNNING.value
    messages: list[str] = field(default_factory=list)
    reported_at: int = 0
    timestamp: int = 0
    code: int | None = None


def new_action(
    tenant: str,
    controller_id: str,
    action_id: int,
    ds_id: int,
    ds_name: str,
    ds_version: str,
    action_type: str,
    force_time: int | None,
    weight: int | None,
    maintenance_window: dict | None,
    status: Status,
    first_entry: Status,
    now: int,
    user: str,
    closed: bool,
) -> Action:
    """A new action with its first history entry (sequence 1) counted; closed: an offline report."""
    return Action(
        target_key(tenant, controller_id),
        int(action_id),
        tenant=tenant,
        controller_id=controller_id,
        ds_id=int(ds_id),
        ds_name=ds_name,
        ds_version=ds_version,
        action_type=action_type,
        force_time=force_time,
        weight=weight,
        maintenance_window=maintenance_window,
        status=status.value,
        active=not closed,
        status_seq=1,
        intermediate_count=0 if closed else 1,
        latest_entry=first_entry.value,
        tenant_shard=tenant_shard(tenant, action_id),
        cleanup_key=cleanup_key(tenant, status.value, action_id) if closed else None,
        closed_at=now if closed else None,
        open_ds_key=None if closed else open_ds_key(tenant, ds_id, action_id),
        counted=True,
        created_at=now,
        created_by=user,
        last_modified_at=now,
        last_modified_by=user,
    )


def history_entry(
    tenant: str,
    action_id: int,
    sequence: int,
    status: Status | str,
    messages: list[str],
    now: int,
    timestamp: int | None = None,
    code: int | None = None,
) -> ActionStatusEntry:
    return ActionStatusEntry(
        action_key(tenant, action_id),
        status_id(action_id, sequence),
        status=str(Status(status).value),
        messages=messages,
        reported_at=now,
        timestamp=timestamp or now,
        code=code,
    )


# --- action transitions -----------------------------------------------------------------------------------
def close(action: Action, status: Status, now: int, user: str, sequence: int) -> Change:
    """The action ends in `status` (inactive); the cleanup index learns of it, the open-by-ds index forgets it."""
    return {
        "status": status.value,
        "active": False,
        "status_seq": sequence,
        "latest_entry": status.value,
        "closed_at": now,
        "cleanup_key": cleanup_key(action.tenant, status.value, action.action_id),
        "open_ds_key": REMOVE,
        "timeout_key": REMOVE,
        "last_modified_at": now,
        "last_modified_by": user,
    }


def request_cancel(now: int, user: str, sequence: int) -> Change:
    """The device is asked to cancel: the action stays open, CANCELING."""
    return {
        "status": Status.CANCELING.value,
        "status_seq": sequence,
        "intermediate_count": Add(1),
        "latest_entry": Status.CANCELING.value,
        "last_modified_at": now,
        "last_modified_by": user,
    }


def move_to(status: Status, now: int, user: str, sequence: int) -> Change:
    """The open action takes `status` with a history entry of the same status (confirmations)."""
    return {
        "status": status.value,
        "status_seq": sequence,
        "latest_entry": status.value,
        "last_modified_at": now,
        "last_modified_by": user,
    }


def note(action: Action, status: Status, now: int, sequence: int, set_status: Status | None = None) -> Change:
    """A server-side entry (RETRIEVED, DOWNLOAD); `set_status` also moves a running action to it."""
    change: dict[str, Any] = {
        "status_seq": sequence,
        "latest_entry": status.value,
        "last_modified_at": now,
        "server_entries": Add(1),
    }
    if set_status is not None and action.status != Status.CANCELING.value:
        change["status"] = set_status.value
    return change


def may_note(action: Action) -> bool:
    """Whether another server-side entry fits: a device that downloads again and again must not grow its
    action's history without bound (nor use up the device's own maxStatusEntriesPerAction)."""
    return int(action.server_entries or 0) < MAX_SERVER_ENTRIES


def action_after_feedback(
    action: Action, outcome: Outcome, intermediate: bool, now: int, user: str, sequence: int, code: int | None
) -> Change:
    """What device feedback does to its action."""
    if outcome.closes:
        change = dict(close(action, outcome.action_status or outcome.history, now, user, sequence))
    else:
        change = {
            "status_seq": sequence,
            "latest_entry": outcome.history.value,
            "last_modified_at": now,
            "last_modified_by": user,
        }
        if intermediate:
            change["intermediate_count"] = Add(1)
        if outcome.action_status is not None:
            change["status"] = outcome.action_status.value
    if code is not None:
        change["last_status_code"] = code
    return change


# --- actions counted by status: per distribution set (GET .../statistics/actions) and per rollout group --------
# A counted subject is a set (its id) or a rollout group ((rolloutId, position)); subject -> status -> how its
# count moves: what one transaction does to the counts (store/action_counts.py).
Subject = int | tuple[int, int]
StatusCounts = dict[Subject, dict[str, int]]


TIMED_OUT = "TIMEDOUT"  # a rollout group's count of its open actions past the rollout's actionTimeout


def timeout_key(tenant: str, action_id: int) -> str:
    """The timeout index's key of an open rollout action with a timeout: its tenant and shard."""
    return f"{tenant}#{int(action_id) % INDEX_SHARDS}"


def timed_out(now: int) -> Change:
    """The open action passed its rollout's in-progress timeout: counted so, and out of the timeout index."""
    return {"timed_out": True, "timeout_key": REMOVE, "last_modified_at": now}


def group_subject(rollout_id: int, position: int) -> tuple[int, int]:
    return int(rollout_id), int(position)


def _subjects(ds_id: int, rollout_id: int | None, rollout_group: int | None) -> list[Subject]:
    subjects: list[Subject] = [int(ds_id)]
    if rollout_id is not None and rollout_group is not None:
        subjects.append(group_subject(rollout_id, rollout_group))
    return subjects


def created_counts(action: Action, scheduled_before: bool = False) -> StatusCounts:
    """A new action counts in its set and its rollout group; `scheduled_before`: the group counted it SCHEDULED
    until now (a rollout group's targets wait there until their group starts)."""
    counts: StatusCounts = {int(action.ds_id): {action.status: 1}}
    if action.rollout_id is not None and action.rollout_group is not None:
        moves = {action.status: 1}
        if scheduled_before:
            moves[Status.SCHEDULED.value] = moves.get(Status.SCHEDULED.value, 0) - 1
        counts[group_subject(action.rollout_id, action.rollout_group)] = {k: v for k, v in moves.items() if v}
    return counts


def moved_counts(action: Action, change: Change) -> StatusCounts:
    """What `change` does to the counts: nothing unless the action's status changes (most feedback keeps it), or
    for an action the counts never knew."""
    status = change.get("status")
    if not action.counted or not isinstance(status, str) or status == action.status:
        return {}
    moved: StatusCounts = {
        subject: {action.status: -1, status: 1}
        for subject in _subjects(action.ds_id, action.rollout_id, action.rollout_group)
    }
    if action.timed_out and is_final(status) and action.rollout_id is not None and action.rollout_group is not None:
        # a late end: the action counts as what it ended in, no longer as timed out
        moved[group_subject(action.rollout_id, action.rollout_group)][TIMED_OUT] = -1
    return moved


def removed_counts(
    ds_id: int, status: str, rollout_id: int | None = None, rollout_group: int | None = None, timed_out: bool = False
) -> StatusCounts:
    counts: StatusCounts = {subject: {status: -1} for subject in _subjects(ds_id, rollout_id, rollout_group)}
    if timed_out and rollout_id is not None and rollout_group is not None:
        counts[group_subject(rollout_id, rollout_group)][TIMED_OUT] = -1
    return counts


def merged_counts(*parts: StatusCounts) -> StatusCounts:
    """The counts' moves of several changes in one transaction, those that cancel out left out."""
    merged: dict[Subject, dict[str, int]] = {}
    for part in parts:
        for subject, moves in part.items():
            for status, delta in moves.items():
                merged.setdefault(subject, {})[status] = merged.get(subject, {}).get(status, 0) + delta
    return {subject: {s: d for s, d in moves.items() if d} for subject, moves in merged.items() if any(moves.values())}


# --- summaries on the target ------------------------------------------------------------------------------
def summary(action: Action) -> dict[str, Any]:
    return {
        "id": int(action.action_id),
        "canceling": action.status == Status.CANCELING.value,
        "waiting": action.status == Status.WAIT_FOR_CONFIRMATION.value,
        "type": action.action_type,
        "weight": action.weight,
        "forceTime": action.force_time,
        "dsId": int(action.ds_id),
        "maintenanceWindow": action.maintenance_window,
    }


def canceling(summary_entry: dict[str, Any]) -> dict[str, Any]:
    """The summary of an action asked to cancel: the device sees cancelAction (a waiting action waits no more)."""
    return {**summary_entry, "canceling": True, "waiting": False}


def with_summary(target: Target, action_id: int, **fields: Any) -> list[dict[str, Any]]:
    """The target's summaries with one action's entry changed."""
    return [{**a, **fields} if int(a["id"]) == int(action_id) else a for a in target.active_actions or []]


def touched(now: int, user: str) -> Change:
    return {"last_modified_at": now, "last_modified_by": user}


# --- target transitions -----------------------------------------------------------------------------------
def target_after_close(
    target: Target, action_id: int, now: int, user: str, status_if_none: UpdateStatus = UpdateStatus.IN_SYNC
) -> Change:
    """The target when an action ends without installing (canceled, failed, downloaded only).

    The newest open action's set stays assigned and PENDING. With none left: after a failure the target
    is in ERROR with nothing assigned; otherwise the installed set (if any) is assigned again.
    """
    remaining = [a for a in (target.active_actions or []) if int(a["id"]) != int(action_id)]
    change: dict[str, Any] = {"active_actions": remaining, **touched(now, user)}
    if remaining:
        newest = max(remaining, key=lambda a: int(a["id"]))
        return {
            **change,
            "assigned_ds": int(newest["dsId"]),
            "assigned_ds_key": ds_key(target.tenant, newest["dsId"]),
            "update_status": UpdateStatus.PENDING.value,
        }
    if status_if_none != UpdateStatus.ERROR and target.installed_ds is not None:
        return {
            **change,
            "assigned_ds": int(target.installed_ds),
            "assigned_ds_key": ds_key(target.tenant, target.installed_ds),
            "update_status": status_if_none.value,
        }
    return {**change, "assigned_ds": REMOVE, "assigned_ds_key": REMOVE, "update_status": status_if_none.value}


def target_after_feedback(
    target: Target, action: Action, outcome: Outcome, installed_at: int, now: int, user: str
) -> Change:
    """What device feedback does to the target ({} when nothing)."""
    action_id = int(action.action_id)
    if outcome.cancel_completed:
        return target_after_close(target, action_id, now, user)
    if outcome.action_status == Status.RUNNING and not outcome.closes:
        # cancel rejected / failed: the device keeps updating; the summary shows it as deployable again.
        return {"active_actions": with_summary(target, action_id, canceling=False, waiting=False)}
    if not outcome.closes:
        return {}
    if outcome.download_only_done:
        return {"request_attributes": True, **target_after_close(target, action_id, now, user)}
    if outcome.fails:
        return target_after_close(target, action_id, now, user, UpdateStatus.ERROR)
    remaining = [a for a in (target.active_actions or []) if int(a["id"]) != action_id]
    change: dict[str, Any] = {"active_actions": remaining, **touched(now, user)}
    if outcome.installs:
        change.update(
            installed_ds=int(action.ds_id),
            installed_ds_key=ds_key(target.tenant, action.ds_id),
            installed_action_id=action_id,
            request_attributes=True,
        )
        if target.installed_at is None or installed_at > int(target.installed_at):
            change["installed_at"] = installed_at
        if remaining:  # a newer assignment is still pending
            change["update_status"] = UpdateStatus.PENDING.value
        else:
            change.update(
                assigned_ds=int(action.ds_id),
                assigned_ds_key=ds_key(target.tenant, action.ds_id),
                update_status=UpdateStatus.IN_SYNC.value,
            )
    return change


def target_after_assignment(
    target: Target, action: Action, summaries: dict[int, dict[str, Any]], now: int, user: str, offline: bool
) -> Change:
    """The target once `action` is assigned (`summaries`: its open actions after superseding older ones)."""
    ds_id = int(action.ds_id)
    change: dict[str, Any] = {
        "assigned_ds": ds_id,
        "assigned_ds_key": ds_key(target.tenant, ds_id),
        "action_count": Add(1),
        **touched(now, user),
    }
    if offline:
        change.update(
            installed_ds=ds_id,
            installed_ds_key=ds_key(target.tenant, ds_id),
            installed_at=now,
            installed_action_id=int(action.action_id),
            update_status=UpdateStatus.IN_SYNC.value,
        )
    else:
        summaries = {**summaries, int(action.action_id): summary(action)}
        change["update_status"] = UpdateStatus.PENDING.value
    change["active_actions"] = list(summaries.values())
    return change
