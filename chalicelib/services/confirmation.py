"""Consent to an update (hawkBit ConfirmationManagement): confirm or deny an action, a target's auto-confirmation.

Devices (DDI confirmationBase) and operators (Management API) share these use cases. Every change is one
transaction guarded by the versions read: the action (status and history entry) and, whenever it changes
whether an action waits, the target, whose open-action summary tells the poll which link to show.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from chalicelib import clock, errors
from chalicelib.domain import actions as rules
from chalicelib.domain import changes, confirmation
from chalicelib.domain.actions import Status
from chalicelib.domain.changes import REMOVE, Add
from chalicelib.domain.numbers import is_int64
from chalicelib.domain.targets import Target
from chalicelib.services import targets as target_service
from chalicelib.services.deployment import check_status_quota
from chalicelib.store import action_counts
from chalicelib.store import actions as action_store
from chalicelib.store.tx import ATTEMPTS, Tx, retrying

# Each confirmed action costs two items (action, history entry); one transaction holds at most 100.
ACTIONS_PER_TRANSACTION = 40


class AutoConfirm(NamedTuple):
    initiator: str | None
    remark: str | None
    activated_at: int


def auto_confirm_of(target: Target) -> AutoConfirm | None:
    state = target.auto_confirm
    if not state:
        return None
    return AutoConfirm(state.get("initiator"), state.get("remark"), int(state["activatedAt"]))


def _optional_text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise errors.BodyNotReadable(f"{key} must be a string.", [key])
    return value


def parse_activation(body: Any) -> tuple[str | None, str | None]:
    """{initiator?, remark?} (both optional strings); an absent body is (None, None)."""
    if body is None:
        return None, None
    if not isinstance(body, dict):
        raise errors.BodyNotReadable("The body must be an object with the optional fields initiator and remark.")
    return _optional_text(body, "initiator"), _optional_text(body, "remark")


# --- auto-confirmation -------------------------------------------------------------------------------------
def activate_auto_confirm(
    tenant: str, controller_id: str, initiator: str | None, remark: str | None, user: str
) -> None:
    """Switch auto-confirmation on (409 when it is on already) and confirm the actions waiting now."""
    more = False

    def attempt() -> None:
        nonlocal more
        target = target_service.get(tenant, controller_id)
        if target.auto_confirm:
            raise errors.AutoConfirmAlreadyActive.of(controller_id)
        now = clock.now_ms()
        state = {"initiator": initiator, "remark": remark, "activatedAt": now, "activatedBy": user}
        more = len(_waiting_ids(target)) > ACTIONS_PER_TRANSACTION
        tx = _confirm_waiting(tenant, target, state, now, user)
        # The condition keeps two concurrent activations from both succeeding (the loser retries, sees 409).
        tx.update(
            target, {"auto_confirm": state, **_touched(target, now, user)}, condition=changes.Missing("auto_confirm")
        )
        tx.commit()

    retrying(ATTEMPTS, attempt)
    if more:  # only with multi-assignments can that many actions wait at once
        confirm_waiting_actions(tenant, controller_id, user)


def deactivate_auto_confirm(tenant: str, controller_id: str, user: str) -> None:
    """Switch auto-confirmation off; actions keep their state (hawkBit). Off already: nothing changes."""

    def attempt() -> None:
        target = target_service.get(tenant, controller_id)
        if target.auto_confirm is None:
            return
        now = clock.now_ms()
        Tx().update(target, {"auto_confirm": REMOVE, **rules.touched(now, user)}).commit()

    retrying(ATTEMPTS, attempt)


def confirm_waiting_actions(tenant: str, controller_id: str, user: str) -> None:
    """Confirm what still waits while auto-confirmation is on, a transaction per batch; a retry completes it."""

    def attempt() -> bool:
        target = target_service.get(tenant, controller_id)
        if not target.auto_confirm or not _waiting_ids(target):
            return False
        now = clock.now_ms()
        tx = _confirm_waiting(tenant, target, target.auto_confirm, now, user)
        tx.update(target, _touched(target, now, user), condition=changes.Exists("auto_confirm"))
        tx.commit()
        return True

    while retrying(ATTEMPTS, attempt):
        pass


def _waiting_ids(target: Target) -> list[int]:
    return sorted(int(a["id"]) for a in target.active_actions or [] if a.get("waiting"))


def _confirm_waiting(tenant: str, target: Target, state: dict, now: int, user: str) -> Tx:
    """The writes confirming (a batch of) the target's waiting actions; the caller adds the target update."""
    tx = Tx()
    ids = _waiting_ids(target)[:ACTIONS_PER_TRANSACTION]
    moved: list[rules.StatusCounts] = []
    message = confirmation.auto_confirmed(state.get("initiator"), state.get("remark"))
    for action in action_store.find_many(tenant, [(target.controller_id, action_id) for action_id in ids]):
        if not action.active or action.status != Status.WAIT_FOR_CONFIRMATION.value:
            continue  # the summary was stale; the target update below corrects it
        seq = int(action.status_seq or 0) + 1
        # Not quota-checked, like hawkBit's autoConfirmAction: an exhausted quota must not block consent.
        change = rules.move_to(Status.RUNNING, now, user, seq)
        tx.update(action, change)
        moved.append(rules.moved_counts(action, change))
        tx.put(rules.history_entry(tenant, action.action_id, seq, Status.RUNNING, [message], now))
    target.active_actions = [{**a, "waiting": False} if int(a["id"]) in ids else a for a in target.active_actions or []]
    return action_counts.add(tx, tenant, rules.merged_counts(*moved), spread_by=ids[0] if ids else 0)


def _touched(target: Target, now: int, user: str) -> changes.Change:
    return {"active_actions": list(target.active_actions or []), **rules.touched(now, user)}


# --- confirmed / denied ------------------------------------------------------------------------------------
class Feedback(NamedTuple):
    confirmation: str  # confirmed | denied
    code: int | None
    messages: list[str]


def parse_feedback(body: Any) -> Feedback:
    """DdiConfirmationFeedback / MgmtActionConfirmationRequestBodyPut: {confirmation, code?, details?}."""
    if not isinstance(body, dict):
        raise errors.BodyNotReadable("The confirmation body must be an object.")
    value = body.get("confirmation")
    if value not in confirmation.CONFIRMATIONS:
        raise errors.BodyNotReadable("confirmation must be 'confirmed' or 'denied'.", ["confirmation"])
    code = body.get("code")
    if code is not None and not is_int64(code):
        raise errors.BodyNotReadable("code must be a number.", ["code"])
    details = body.get("details")
    if details is None:
        details = []
    if not isinstance(details, list) or not all(isinstance(d, str) for d in details):
        raise errors.BodyNotReadable("details must be a list of strings.", ["details"])
    return Feedback(value, code, [piece for d in details for piece in rules.split_message(d)])


def give_feedback(
    tenant: str,
    controller_id: str,
    action_id: int,
    feedback: Feedback,
    user: str,
    missing: Callable[[], errors.SkyhawkError],
    target: Target | None = None,
    also: Callable[[Tx], Any] | None = None,
) -> None:
    """Apply a confirmation: 410 (bare) for a closed action, 404 (bare) when there is nothing to confirm.

    `missing` names the 404 for an action that is not the target's; `target`, when the caller has read it
    already (the device's authentication), saves the first read; `also` adds to the transaction (DMF's
    idempotency marker).
    """

    def attempt() -> None:
        nonlocal target
        current = target or target_service.get(tenant, controller_id)
        target = None  # a retry reads it again
        action = action_store.find(tenant, controller_id, action_id)
        if action is None:
            raise missing()
        decision = confirmation.decide(feedback.confirmation, action.status, bool(action.active))
        if decision is confirmation.Refusal.CLOSED:
            raise errors.Gone()
        if decision is confirmation.Refusal.NOT_AWAITING:
            raise errors.NotFoundNoBody()
        messages = [*feedback.messages, decision.message]
        if feedback.code is not None:
            messages.append(confirmation.code_message(feedback.code))
        check_status_quota(action, len(messages), intermediate=True)
        now = clock.now_ms()
        seq = int(action.status_seq or 0) + 1
        change = {**rules.move_to(decision.status, now, user, seq), "intermediate_count": Add(1)}
        if feedback.code is not None:
            change["last_status_code"] = feedback.code
        tx = Tx().update(action, change)
        action_counts.add(tx, tenant, rules.moved_counts(action, change), spread_by=action_id)
        tx.put(rules.history_entry(tenant, action_id, seq, decision.status, messages, now, code=feedback.code))
        waiting = decision.status == Status.WAIT_FOR_CONFIRMATION
        summaries = list(current.active_actions or [])
        if any(int(a["id"]) == action_id and bool(a.get("waiting")) != waiting for a in summaries):
            # Only the summary changes: hawkBit's confirmation leaves the target itself untouched.
            tx.update(current, {"active_actions": rules.with_summary(current, action_id, waiting=waiting)})
        if also is not None:
            also(tx)
        tx.commit()

    retrying(ATTEMPTS, attempt)


# --- views -------------------------------------------------------------------------------------------------
def state_of(tenant: str, controller_id: str) -> AutoConfirm | None:
    """GET .../autoConfirm: the target's auto-confirmation (404 for an unknown target)."""
    return auto_confirm_of(target_service.get(tenant, controller_id))
