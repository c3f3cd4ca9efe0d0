"""User consent before a deployment: hawkBit's confirmation flow (tenant key `user.confirmation.flow.enabled`).

Pure rules, no AWS: how a new action starts, what a confirmation feedback does to an action, and the
history messages hawkBit writes for each step (JpaDeploymentManagement.verifyAndAddConfirmationStatus,
OnlineDsAssignmentStrategy, JpaConfirmationManagement, JpaAutoConfirmationStatus).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Mapping, NamedTuple

from chalicelib.domain.actions import SERVER_MESSAGE_PREFIX, Status

CONFIRMED = "confirmed"
DENIED = "denied"
CONFIRMATIONS = (CONFIRMED, DENIED)

WAITING_MESSAGE = "Waiting for the confirmation by the device before processing with the deployment"
CONFIRMED_MESSAGE = (
    SERVER_MESSAGE_PREFIX + "Target confirmed action. Therefore, it will be set to the running "
    "state to proceed with the deployment."
)
DENIED_MESSAGE = SERVER_MESSAGE_PREFIX + "Target rejected action. Action will stay in confirmation pending state."
# hawkBit PR #3238 (denied on an already confirmed action) records its own message; its wording is ours.
REVOKED_MESSAGE = (
    SERVER_MESSAGE_PREFIX + "Target revoked its confirmation of the action. Action is back in "
    "confirmation pending state."
)
# DdiRootController: an activation without a body gets this remark.
DDI_FALLBACK_REMARK = "Initiated using the Device Direct Integration API without providing a remark."


def code_message(code: int) -> str:
    return f"Confirmation status code: {code}"


def confirmed_by_initiator(user: str) -> str:
    return f"Assignment confirmed by initiator [{user}]."


def auto_confirmed(initiator: str | None, remark: str | None) -> str:
    """JpaAutoConfirmationStatus.constructActionMessage, character for character (the doubled quotes, the
    space before the line break and Java's "null" for a missing initiator included)."""
    shown = remark if remark is not None and remark.strip() else "n/a"
    who = "null" if initiator is None else initiator
    return f"Assignment automatically confirmed by initiator ''{who}'' \nRemark: {shown}"


class Start(NamedTuple):
    """How a new online action begins: its status, the status of its first history entry and the
    messages that follow the assignment message in that entry."""

    status: Status
    history: Status
    messages: tuple[str, ...]


def start(
    flow_enabled: bool, confirmation_required: bool, auto_confirm: Mapping[str, Any] | None, initiator: str
) -> Start:
    """With the flow on, the first entry is always WAIT_FOR_CONFIRMATION (hawkBit's createActionStatus);
    the action itself runs at once when the assignment waived the confirmation or the target confirms
    automatically."""
    if not flow_enabled:
        return Start(Status.RUNNING, Status.RUNNING, ())
    if not confirmation_required:
        return Start(Status.RUNNING, Status.WAIT_FOR_CONFIRMATION, (confirmed_by_initiator(initiator),))
    if auto_confirm:
        return Start(
            Status.RUNNING,
            Status.WAIT_FOR_CONFIRMATION,
            (auto_confirmed(auto_confirm.get("initiator"), auto_confirm.get("remark")),),
        )
    return Start(Status.WAIT_FOR_CONFIRMATION, Status.WAIT_FOR_CONFIRMATION, (WAITING_MESSAGE,))


class Refusal(str, Enum):
    CLOSED = "closed"  # the action is no longer active: 410
    NOT_AWAITING = "not awaiting"  # nothing to confirm (or, for a denial, a cancellation runs): 404


class Decision(NamedTuple):
    status: Status  # the action's status afterwards, also the status of the history entry
    message: str


def decide(confirmation: str, action_status: str, active: bool) -> Decision | Refusal:
    """confirmed: WAIT_FOR_CONFIRMATION -> RUNNING. denied: stays WAIT_FOR_CONFIRMATION (issue #1667), and
    an active action confirmed before but not installed yet goes back to it (PR #3238)."""
    if not active:
        return Refusal.CLOSED
    waiting = action_status == Status.WAIT_FOR_CONFIRMATION.value
    if confirmation == CONFIRMED:
        return Decision(Status.RUNNING, CONFIRMED_MESSAGE) if waiting else Refusal.NOT_AWAITING
    if waiting:
        return Decision(Status.WAIT_FOR_CONFIRMATION, DENIED_MESSAGE)
    if action_status == Status.CANCELING.value:
        return Refusal.NOT_AWAITING
    return Decision(Status.WAIT_FOR_CONFIRMATION, REVOKED_MESSAGE)
