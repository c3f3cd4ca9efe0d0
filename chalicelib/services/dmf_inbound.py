"""DMF inbound (hawkBit's AmqpMessageHandlerService): what a gateway's message does, through the services DDI and
the Management API use, so that rollouts, counts and confirmation work unchanged (docs/dmf-hawkbit.md §6, §9).

`handle` takes a parsed message (chalicelib/domain/dmf.py) and answers what it did: APPLIED, DUPLICATE (a
redelivered status whose change was committed before), IGNORED (nothing to do: a status for a closed action, a
PING without correlation id, a THING_REMOVED for a thing already gone). It raises the catalogue's 4xx errors for a
refusal (the consumer dead-letters the message) and anything else for a failure that may pass (retried).

Idempotency: THING_CREATED (find or register, then the same values again), UPDATE_ATTRIBUTES (the same values
again, in order), THING_REMOVED and UPDATE_AUTO_CONFIRM (an activation when active changes nothing) are idempotent
by nature. UPDATE_ACTION_STATUS is not (a second RUNNING is a second history entry): its transaction also puts a
marker `dmfmsg#<tenant>#<deduplication id>` that exists only if the message was applied, so a redelivery fails
that condition and changes nothing (errors.AlreadyApplied).
"""

from __future__ import annotations

import dataclasses
import logging
from functools import partial

from chalicelib import auth, clock, config, errors
from chalicelib.domain import dmf
from chalicelib.domain.actions import Action
from chalicelib.services import confirmation, controller, dmf_outbound, target_types, tenant_config
from chalicelib.services import targets as target_service
from chalicelib.store import actions as action_store
from chalicelib.store import dmf_queues, idempotency
from chalicelib.store import targets as target_store

log = logging.getLogger("skyhawk.dmf")

APPLIED, DUPLICATE, IGNORED = "applied", "duplicate", "ignored"
USER = "CONTROLLER"  # what DDI writes as the device's changes' author
MARKER_SECONDS = dmf_queues.RETENTION_SECONDS  # a message cannot come back after the queue dropped it


def handle(message: dmf.Inbound, message_key: str, sender: str | None = None) -> str:
    """Apply one inbound message; `message_key` identifies it across redeliveries (its deduplication id),
    `sender` is who sent it (SQS's SenderId)."""
    tenant = _enabled_tenant(message.tenant)
    _check_sender(tenant, sender)
    if isinstance(message, dmf.ThingCreated):
        return _thing_created(tenant, message, message_key)
    if isinstance(message, dmf.ThingRemoved):
        return _thing_removed(tenant, message)
    if isinstance(message, dmf.AttributesUpdated):
        _attributes(tenant, message.thing_id, message.update)
        return APPLIED
    if isinstance(message, dmf.ActionStatusUpdate):
        return _action_status(tenant, message, message_key)
    if isinstance(message, dmf.AutoConfirmUpdate):
        return _auto_confirm(tenant, message)
    return _ping(message, message_key)


def _enabled_tenant(name: str) -> str:
    """The tenant (upper case, as DDI's paths), refused unless its `dmf.enabled` is on: a tenant that does not
    exist has the default, off, so hawkBit's TenantNotExistException is the same refusal."""
    tenant = name.upper()
    if not auth.valid_tenant(tenant) or not tenant_config.value(tenant, "dmf.enabled"):
        raise errors.DmfNotEnabled(f"Device Management Federation is not enabled for tenant '{name}'.", [name])
    return tenant


def _check_sender(tenant: str, sender: str | None) -> None:
    """Tenant authentication (docs/dmf-hawkbit.md §9): the body and the headers are the sender's own words, SQS's
    SenderId is not. Refused unless the tenant's `dmf.senders` allows it (empty: anyone who may send to the
    queue, unless the deployment requires a list)."""
    if not dmf.sender_allowed(
        tenant_config.value(tenant, "dmf.senders"), sender, config.settings().dmf_senders_required
    ):
        raise errors.DmfSenderNotAllowed(
            f"The sender '{sender or ''}' may not send DMF messages for tenant '{tenant}'.", [tenant, sender or ""]
        )


# --- things ------------------------------------------------------------------------------------------------
def _thing_created(tenant: str, message: dmf.ThingCreated, message_key: str) -> str:
    """Plug and play: register the thing or refresh it, remember its reply queue as the target's address, send it
    its current command (a gateway that reconnects learns what it missed)."""
    address = dmf_queues.reply_queue_url(message.reply_to)
    if address is None:
        raise errors.ConstraintViolation(f"The reply queue '{message.reply_to}' does not exist.", [dmf.REPLY_TO])
    if len(address) > target_service.MAX_ADDRESS:
        raise errors.ConstraintViolation("The reply queue's URL is too long for a target's address.", [dmf.REPLY_TO])
    type_id = None
    if message.target_type:
        type_id = target_types.id_by_name(tenant, message.target_type)
        if type_id is None:  # hawkBit logs it and leaves the target untyped
            log.warning(
                "THING_CREATED of %s names an unknown target type %r",
                message.thing_id,
                message.target_type,
                extra={"tenant": tenant},
            )
    if target_store.find(tenant, message.thing_id) is None:
        target_service.register_plug_and_play(
            tenant, message.thing_id, None, name=message.name, address=address, target_type=type_id
        )
    # Also after a registration: a concurrent one may have won with other values.
    target_service.refresh_plug_and_play(
        tenant, message.thing_id, message.name, address, type_id, remove_type=message.target_type == ""
    )
    now = clock.now_ms()
    target_store.touch_last_seen(
        tenant, message.thing_id, now, None, now - config.settings().last_seen_write_interval_ms
    )
    if message.attribute_update is not None:
        _attributes(tenant, message.thing_id, message.attribute_update)
    dmf_outbound.send_current(tenant, message.thing_id, message_key)
    return APPLIED


def _thing_removed(tenant: str, message: dmf.ThingRemoved) -> str:
    try:
        target_service.delete(tenant, message.thing_id)
    except errors.EntityNotFound:
        # hawkBit dead-letters it; here it is most often this message again after its deletion committed
        log.info("THING_REMOVED of %s: no such target", message.thing_id, extra={"tenant": tenant})
        return IGNORED
    return APPLIED


def _attributes(tenant: str, thing_id: str, update: dmf.AttributeUpdate) -> None:
    """UPDATE_ATTRIBUTES through DDI's configData service; REMOVE leaves the "request attributes" flag on."""
    device = controller.Device(tenant, target_service.get(tenant, thing_id), tenant_config.values(tenant))
    controller.update_attributes(
        device, dict(update.attributes), update.mode.value.lower(), clears_request=update.mode != dmf.UpdateMode.REMOVE
    )


def _auto_confirm(tenant: str, message: dmf.AutoConfirmUpdate) -> str:
    if not message.enabled:
        confirmation.deactivate_auto_confirm(tenant, message.thing_id, USER)
        return APPLIED
    try:
        confirmation.activate_auto_confirm(tenant, message.thing_id, message.initiator, message.remark, USER)
    except errors.AutoConfirmAlreadyActive:
        return IGNORED
    return APPLIED


# --- action status -----------------------------------------------------------------------------------------
_FINISHED = {dmf.ActionStatus.FINISHED: "success", dmf.ActionStatus.ERROR: "failure"}


def _action_status(tenant: str, message: dmf.ActionStatusUpdate, message_key: str) -> str:
    """Through DDI's feedback transaction (controller.record_status) or the confirmation service, with the
    message's idempotency marker in the same transaction. A status for a closed action is dropped (logged): it is
    most often a late duplicate (docs/dmf-hawkbit.md §11, question 4)."""
    action = _action(tenant, message)
    if not action.active:
        log.info(
            "DMF %s for closed action %s dropped", message.status.value, message.action_id, extra={"tenant": tenant}
        )
        return IGNORED
    meaning = dmf.status_meaning(message.status, action.action_type, action.status)  # refusals before any write
    marker = partial(
        idempotency.mark_once,
        key=f"dmfmsg#{tenant}#{message_key}",
        expires_at_s=clock.now_ms() // 1000 + MARKER_SECONDS,
    )
    target = target_service.get(tenant, action.controller_id)
    try:
        if meaning.route == dmf.Route.CONFIRMATION:
            assert meaning.confirmation is not None
            feedback = confirmation.Feedback(meaning.confirmation, message.code, dmf.history_messages(message, meaning))
            confirmation.give_feedback(
                tenant,
                action.controller_id,
                message.action_id,
                feedback,
                USER,
                missing=lambda: _no_action(message.action_id),
                target=target,
                also=marker,
            )
        else:
            # the code's history line comes from the feedback transaction itself, as for DDI
            messages = dmf.history_messages(dataclasses.replace(message, code=None), meaning)
            feedback_ = controller.Feedback(
                message.status.value.lower(),
                _FINISHED.get(message.status, "none"),
                messages,
                message.code,
                message.timestamp,
            )
            device = controller.Device(tenant, target, tenant_config.values(tenant))
            controller.record_status(
                device, message.action_id, feedback_, lambda current: _outcome(message, current), also=marker
            )
    except errors.AlreadyApplied:
        log.info(
            "DMF %s for action %s delivered again: applied before",
            message.status.value,
            message.action_id,
            extra={"tenant": tenant},
        )
        return DUPLICATE
    except errors.Gone:
        log.info(
            "DMF %s for action %s: closed meanwhile, dropped",
            message.status.value,
            message.action_id,
            extra={"tenant": tenant},
        )
        return IGNORED
    except errors.NotFoundNoBody as exc:  # DDI's bare 404: the action is not in the state the status needs
        waiting = (
            "is waiting for confirmation"
            if meaning.route != dmf.Route.CONFIRMATION
            else "is not waiting for confirmation"
        )
        raise errors.ConstraintViolation(f"Action {message.action_id} {waiting}.", ["actionStatus"]) from exc
    stays_open = meaning.route == dmf.Route.UPDATE and meaning.outcome is not None and not meaning.outcome.closes
    if stays_open and dmf.next_command_due(message.status, True, _window_open(action)):
        # hawkBit's shouldTargetProceed: a thing told DOWNLOAD outside its window is told to install once it is
        # open. Closing and confirming are the change feed's (services/dmf_outbound.py).
        dmf_outbound.send_current(tenant, action.controller_id, message_key)
    return APPLIED


def _window_open(action: Action) -> bool:
    window = controller.window_of(action.maintenance_window)
    return window is not None and window.is_available(clock.now_ms())


def _outcome(message: dmf.ActionStatusUpdate, action: Action):
    meaning = dmf.status_meaning(message.status, action.action_type, action.status)
    if meaning.route == dmf.Route.CONFIRMATION or meaning.outcome is None:  # the action changed meanwhile
        raise errors.ConstraintViolation(f"Action {message.action_id} is waiting for confirmation.", ["actionStatus"])
    return meaning.outcome


def _action(tenant: str, message: dmf.ActionStatusUpdate) -> Action:
    """The action by id (hawkBit needs no thingId); with a thingId header, only that thing's action."""
    if message.thing_id:
        action = action_store.find(tenant, message.thing_id, message.action_id)
    else:
        action = action_store.find_by_id(tenant, message.action_id)
    if action is None:
        raise _no_action(message.action_id)
    return action


def _no_action(action_id: int) -> errors.EntityNotFound:
    return errors.EntityNotFound(
        f"Got intermediate notification about action {action_id} but action does not exist", ["Action", action_id]
    )


# --- ping --------------------------------------------------------------------------------------------------
def _ping(message: dmf.Ping, message_key: str) -> str:
    """PING_RESPONSE to the reply queue, only for a ping with a correlation id (hawkBit's rule)."""
    if not message.answered:
        return IGNORED
    assert message.reply_to is not None and message.correlation_id is not None
    address = dmf_queues.reply_queue_url(message.reply_to)
    if address is None:
        raise errors.ConstraintViolation(f"The reply queue '{message.reply_to}' does not exist.", [dmf.REPLY_TO])
    answer = dmf.ping_response(message.tenant, message.correlation_id, clock.now_ms())
    dmf_queues.send(
        address, answer.headers, answer.body, group_id=message.tenant, deduplication_id=f"ping-{message_key}"
    )
    return APPLIED
