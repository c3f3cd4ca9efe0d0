"""Action lifecycle: statuses, handling types, DDI feedback mapping, cancel semantics (hawkbit-api.md §1.4-1.5, §3).

Pure: takes the current action/target facts and returns what must change. Services apply it.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from enum import Enum


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
        return Outcome(Status.WARNING, messages=(
            SERVER_MESSAGE_PREFIX + "Target reported cancel for a cancel which is not supported by the server",))
    return Outcome(Status.RUNNING)


def default_message(execution: str, finished: str) -> str:
    word = {"success": "OK", "failure": "ERROR", "none": "NONE"}.get(finished, finished.upper())
    return f"{SERVER_MESSAGE_PREFIX}Target reported {execution.upper()} with {word}!"


def is_final(status: str) -> bool:
    return status in (Status.FINISHED, Status.ERROR, Status.CANCELED, Status.DOWNLOADED)


def is_intermediate(status: str) -> bool:
    """Statuses counted against maxStatusEntriesPerAction (everything but the closing ones)."""
    return status not in (Status.FINISHED, Status.ERROR)


def handling(action_type: str, force_time: int | None, now_ms: int,
             window_available: bool | None = None) -> tuple[str, str]:
    """(download, update) handling types of a deployment: skip | attempt | forced.

    `window_available` is None without a maintenance window; with one, installing waits for it
    (update = skip outside the window) while downloading may start at once.
    """
    forced = action_type in ("forced", "downloadonly") or (
        action_type == "timeforced" and force_time is not None and now_ms >= force_time)
    download = "forced" if forced else "attempt"
    if action_type == "downloadonly":
        update = "skip"
    elif window_available is None:
        update = download
    else:
        update = download if window_available else "skip"
    return download, update


def cache_buster(tenant: str, action_id: int, action_type: str, force_time: int | None, now_ms: int,
                 window_available: bool = False) -> int:
    """The `?c=` value: changes when a time-forced action flips to forced or a maintenance window opens,
    so clients fetch the deployment again."""
    forced_now = action_type == "timeforced" and force_time is not None and now_ms >= force_time
    offset = 1249 if window_available else 1231 if forced_now else 1237
    value = 31 * zlib.crc32(f"{tenant}:{action_id}".encode()) + offset
    return (value + 2 ** 31) % 2 ** 32 - 2 ** 31  # a Java int, as hawkBit's calculateEtag


def pick_active(summaries: list[dict]) -> dict | None:
    """The action a device sees: highest weight first, then the oldest id (no weight counts as 1000)."""
    if not summaries:
        return None
    def weight(summary: dict) -> int:
        return DEFAULT_WEIGHT if summary.get("weight") is None else int(summary["weight"])
    return sorted(summaries, key=lambda a: (-weight(a), int(a["id"])))[0]


def status_id(action_id: int, sequence: int) -> int:
    """History ids: unique per tenant and ordered within the action, without a counter write."""
    return (int(action_id) << 20) | int(sequence)


def split_message(message: str, limit: int = 512) -> list[str]:
    return [message[i:i + limit] for i in range(0, len(message), limit)] or [""]
