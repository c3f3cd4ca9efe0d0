"""Which outbound DMF message a thing gets, and when (hawkBit's AmqpMessageDispatcherService, docs/dmf-hawkbit.md §8).

Pure rules over the change feed's entities: `trigger_of` reads one committed change (an action or a target, before
and after) and names why its thing may need a message; `command_for` decides the message from the thing's open
actions as they are when the message is sent (the target's `active_actions` summaries), so a late or repeated
trigger sends what is true now, never a command for an action that closed meanwhile.

hawkBit's rules, as skyhawk applies them:
- an assignment (manual, auto-assignment, a rollout group's start) tells the thing its action once the action is the
  one it should work on: not while an older action is still being canceled (the CANCEL_DOWNLOAD came first; the new
  action's command follows when the cancel closes);
- a cancel request is CANCEL_DOWNLOAD; a confirmed action (WAIT_FOR_CONFIRMATION → RUNNING) its DOWNLOAD_AND_INSTALL;
- an action that closed is followed by the thing's next command, if it has another open action;
- with `multi.assignments.enabled`, each of these is one MULTI_ACTION with every open action, highest weight first;
- a target whose "request attributes" flag goes on, or that finished an action with the flag on, is sent
  REQUEST_ATTRIBUTES_UPDATE; a deleted target THING_DELETED.
Only targets whose address is a reply queue (they came through DMF's THING_CREATED, or an operator gave one) are
DMF targets; the others get nothing (they poll DDI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping, Sequence

from chalicelib.domain import actions

# An SQS queue URL: scheme, host, the 12-digit account, the queue name (letters, digits, - and _, ≤ 80, .fifo).
_QUEUE_URL = re.compile(r"^https?://[^/\s]+/\d{12}/[A-Za-z0-9_-]{1,75}(\.fifo)?$")


def is_reply_queue(address: str | None) -> bool:
    """A target is a DMF target exactly when its address is a queue URL (hawkBit: an AMQP URI)."""
    return bool(address) and _QUEUE_URL.match(address or "") is not None


class Reason(str, Enum):
    ASSIGNED = "assigned"
    CANCELING = "canceling"
    CONFIRMED = "confirmed"
    CLOSED = "closed"
    ATTRIBUTES_REQUESTED = "attributes_requested"
    DELETED = "deleted"
    CONNECTED = "connected"  # THING_CREATED: the thing asks for its current command


@dataclass(frozen=True)
class Trigger:
    tenant: str
    thing_id: str
    reason: Reason
    action_id: int | None = None
    installed: bool = False  # CLOSED: the action installed its set (FINISHED, or DOWNLOADED for download-only)


def action_trigger(tenant: str, old: Any, new: Any) -> Trigger | None:
    """What an action's change means for its thing (old/new: actions.Action or None)."""
    if new is None:
        return None  # a closed action's deletion (cleanup, the target's deletion) tells nothing
    thing, action_id = new.controller_id, int(new.action_id)
    if old is None:
        return Trigger(tenant, thing, Reason.ASSIGNED, action_id) if new.active else None
    if old.active and not new.active:
        installed = new.status in (actions.Status.FINISHED.value, actions.Status.DOWNLOADED.value)
        return Trigger(tenant, thing, Reason.CLOSED, action_id, installed=installed)
    if new.status == actions.Status.CANCELING.value and old.status != new.status:
        return Trigger(tenant, thing, Reason.CANCELING, action_id)
    if old.status == actions.Status.WAIT_FOR_CONFIRMATION.value and new.status == actions.Status.RUNNING.value:
        return Trigger(tenant, thing, Reason.CONFIRMED, action_id)
    return None


def target_trigger(tenant: str, old: Any, new: Any) -> Trigger | None:
    """What a target's change means for it (old/new: targets.Target or None)."""
    if new is None:
        return Trigger(tenant, old.controller_id, Reason.DELETED) if old is not None else None
    if old is not None and not old.request_attributes and new.request_attributes and new.deletion is None:
        return Trigger(tenant, new.controller_id, Reason.ATTRIBUTES_REQUESTED)
    return None


# --- what to send ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Install:
    """DOWNLOAD_AND_INSTALL, DOWNLOAD or CONFIRM for one open action (its summary on the target)."""

    summary: Mapping[str, Any]


@dataclass(frozen=True)
class Cancel:
    action_id: int


@dataclass(frozen=True)
class Multi:
    summaries: tuple[Mapping[str, Any], ...]  # highest weight first, then oldest


@dataclass(frozen=True)
class RequestAttributes:
    pass


@dataclass(frozen=True)
class Deleted:
    pass


Command = Install | Cancel | Multi | RequestAttributes | Deleted


def by_weight(summaries: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], ...]:
    """hawkBit's order of a thing's open actions: highest weight first (none counts as 1000), then the oldest."""

    def weight(summary: Mapping[str, Any]) -> int:
        return actions.DEFAULT_WEIGHT if summary.get("weight") is None else int(summary["weight"])

    return tuple(sorted(summaries, key=lambda s: (-weight(s), int(s["id"]))))


def commands_for(
    trigger: Trigger, summaries: Sequence[Mapping[str, Any]], multi: bool, attributes_requested: bool
) -> list[Command]:
    """The messages the trigger calls for, in order, given the thing's open actions and its "request attributes"
    flag now. An installed action asks for the attributes (hawkBit publishes the request with every successful
    finish, whether or not the flag was already on), then the thing gets its next command."""
    command = command_for(trigger, summaries, multi)
    first: list[Command] = [RequestAttributes()] if trigger.installed and attributes_requested else []
    return first + ([command] if command is not None else [])


def command_for(trigger: Trigger, summaries: Sequence[Mapping[str, Any]], multi: bool) -> Command | None:
    """The message the trigger calls for, given the thing's open actions now; None: nothing to send."""
    if trigger.reason is Reason.DELETED:
        return Deleted()
    if trigger.reason is Reason.ATTRIBUTES_REQUESTED:
        return RequestAttributes()
    open_ids = {int(s["id"]) for s in summaries}
    if multi:
        if not summaries:
            return None
        if trigger.action_id is not None and trigger.reason is not Reason.CLOSED and trigger.action_id not in open_ids:
            return None  # the action closed meanwhile: its closing sends the thing's actions
        return Multi(by_weight(summaries))
    if trigger.reason is Reason.CANCELING:
        entry = next((s for s in summaries if int(s["id"]) == trigger.action_id), None)
        return Cancel(int(entry["id"])) if entry is not None and entry.get("canceling") else None
    current = actions.pick_active([dict(s) for s in summaries])
    if current is None:
        return None
    if trigger.reason in (Reason.ASSIGNED, Reason.CONFIRMED) and int(current["id"]) != trigger.action_id:
        return None  # another action comes first (an older one being canceled): this one follows when it closes
    if current.get("canceling"):
        return Cancel(int(current["id"])) if trigger.reason in (Reason.CLOSED, Reason.CONNECTED) else None
    return Install(current)
