"""Device Management Federation (hawkBit DMF) messages, both ways, as pure data (docs/dmf-hawkbit.md).

A DMF message is headers (strings: on AMQP its headers and properties, on SQS its message attributes) and a body
(JSON text, empty for some). Inbound messages are parsed into frozen dataclasses or refused with skyhawk's errors:
BodyNotReadable when the body is no JSON of the expected shape (hawkBit's MessageConversionException),
ConstraintViolation when a header or field breaks a rule, InvalidTargetAttributes for attributes. Each refusal is
what hawkBit answers with AmqpRejectAndDontRequeueException: the message goes to the dead-letter queue, never back.
Outbound messages are rendered from plain inputs with hawkBit's field names and its null handling (`NON_NULL`:
an absent value is left out, never sent as null).

What an inbound status means for the action reuses the DDI vocabulary (chalicelib/domain/actions.py's Outcome,
chalicelib/domain/confirmation.py's decisions): DMF and DDI drive one action engine.

Sources (eclipse-hawkbit/hawkbit): hawkbit-dmf/hawkbit-dmf-api/.../dmf/amqp/api/ (MessageHeaderKey, MessageType,
EventTopic), .../dmf/json/model/ (the bodies), hawkbit-dmf/hawkbit-dmf-amqp/.../amqp/AmqpMessageHandlerService.java
(inbound) and AmqpMessageDispatcherService.java (outbound).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Iterable, Mapping, Sequence

from chalicelib import errors
from chalicelib.domain import actions, confirmation
from chalicelib.domain.actions import Outcome, Status
from chalicelib.domain.numbers import is_int64
from chalicelib.domain.targets import check_attribute, valid_controller_id
from chalicelib.lazy import lazy_import

catalog = lazy_import("chalicelib.domain.catalog")  # its text rules


class MessageType(str, Enum):
    EVENT = "EVENT"
    THING_CREATED = "THING_CREATED"
    THING_DELETED = "THING_DELETED"
    THING_REMOVED = "THING_REMOVED"
    PING = "PING"
    PING_RESPONSE = "PING_RESPONSE"


class Topic(str, Enum):
    UPDATE_ACTION_STATUS = "UPDATE_ACTION_STATUS"
    DOWNLOAD_AND_INSTALL = "DOWNLOAD_AND_INSTALL"
    CANCEL_DOWNLOAD = "CANCEL_DOWNLOAD"
    UPDATE_ATTRIBUTES = "UPDATE_ATTRIBUTES"
    UPDATE_AUTO_CONFIRM = "UPDATE_AUTO_CONFIRM"
    DOWNLOAD = "DOWNLOAD"
    REQUEST_ATTRIBUTES_UPDATE = "REQUEST_ATTRIBUTES_UPDATE"
    MULTI_ACTION = "MULTI_ACTION"
    BATCH_DOWNLOAD = "BATCH_DOWNLOAD"
    BATCH_DOWNLOAD_AND_INSTALL = "BATCH_DOWNLOAD_AND_INSTALL"
    CONFIRM = "CONFIRM"


class ActionStatus(str, Enum):
    """DmfActionStatus: what a client reports in UPDATE_ACTION_STATUS."""

    DOWNLOAD = "DOWNLOAD"
    RETRIEVED = "RETRIEVED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    ERROR = "ERROR"
    WARNING = "WARNING"
    CANCELED = "CANCELED"
    CANCEL_REJECTED = "CANCEL_REJECTED"
    DOWNLOADED = "DOWNLOADED"
    CONFIRMED = "CONFIRMED"
    DENIED = "DENIED"


class UpdateMode(str, Enum):
    """DmfUpdateMode: how UPDATE_ATTRIBUTES changes the attributes; absent means MERGE."""

    MERGE = "MERGE"
    REPLACE = "REPLACE"
    REMOVE = "REMOVE"


# MessageHeaderKey; `replyTo` and `correlationId` are AMQP message properties hawkBit reads, attributes on SQS.
TYPE, TENANT, THING_ID, SENDER, TOPIC, CONTENT_TYPE = "type", "tenant", "thingId", "sender", "topic", "content-type"
REPLY_TO, CORRELATION_ID = "replyTo", "correlationId"
JSON = "application/json"  # Spring AMQP's MessageProperties.CONTENT_TYPE_JSON
TEXT = "text/plain"
INBOUND_TOPICS = (Topic.UPDATE_ACTION_STATUS, Topic.UPDATE_ATTRIBUTES, Topic.UPDATE_AUTO_CONFIRM)
NAME_MAX = 128  # a target's name (hawkBit NamedEntity.NAME_MAX_SIZE)
TYPE_NAME_MAX = 128
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # DmfActionUpdateStatus.code is a Java Integer
AUTO_CONFIRM_REMARK = "Activated using Device Management Federation API."  # setAutoConfirmationState's default
CORRELATION_MESSAGE = actions.SERVER_MESSAGE_PREFIX + "DMF message correlation-id {}"


# --- inbound --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttributeUpdate:
    """DmfAttributeUpdate: attribute values are text; None (JSON null) in MERGE or REPLACE drops the key."""

    attributes: Mapping[str, str | None] = field(default_factory=dict)
    mode: UpdateMode = UpdateMode.MERGE


@dataclass(frozen=True)
class ThingCreated:
    """Register the thing (plug and play) or find it; it is reachable at `reply_to` from now on."""

    tenant: str
    thing_id: str
    reply_to: str
    name: str | None = None  # None: a new target is named after its thing id, a known one keeps its name
    target_type: str | None = None  # a type's name; None: unchanged, "": the known target loses its type
    attribute_update: AttributeUpdate | None = None


@dataclass(frozen=True)
class ThingRemoved:
    tenant: str
    thing_id: str


@dataclass(frozen=True)
class AttributesUpdated:
    tenant: str
    thing_id: str
    update: AttributeUpdate


@dataclass(frozen=True)
class ActionStatusUpdate:
    """DmfActionUpdateStatus. hawkBit finds the action by id alone: `thing_id` is what the header said, if anything."""

    tenant: str
    action_id: int
    status: ActionStatus
    thing_id: str | None = None
    software_module_id: int | None = None
    messages: tuple[str, ...] = ()
    code: int | None = None
    timestamp: int | None = None  # None: when it is handled (hawkBit: System.currentTimeMillis())
    correlation_id: str | None = None


@dataclass(frozen=True)
class AutoConfirmUpdate:
    """DmfAutoConfirmation: switch the thing's auto-confirmation on (with initiator and remark) or off."""

    tenant: str
    thing_id: str
    enabled: bool
    initiator: str | None = None
    remark: str = AUTO_CONFIRM_REMARK


@dataclass(frozen=True)
class Ping:
    """Answered with PING_RESPONSE to `reply_to` only when it carries a correlation id (hawkBit's rule)."""

    tenant: str
    correlation_id: str | None = None
    reply_to: str | None = None

    @property
    def answered(self) -> bool:
        return bool(self.correlation_id) and bool(self.reply_to)


Inbound = ThingCreated | ThingRemoved | AttributesUpdated | ActionStatusUpdate | AutoConfirmUpdate | Ping


def parse(headers: Mapping[str, str], body: str | bytes | None) -> Inbound:
    """One inbound message (AmqpMessageHandlerService.onMessage), or the refusal."""
    message_type, tenant = headers.get(TYPE), headers.get(TENANT)
    if not message_type or not tenant:
        raise errors.ConstraintViolation("Invalid message! tenant and type header are mandatory!", [TYPE, TENANT])
    text = _text_of(body)
    kind = _member(MessageType, message_type, "Invalid message! Unknown message type.", TYPE)
    if kind == MessageType.THING_CREATED:
        return _thing_created(headers, tenant, text)
    if kind == MessageType.THING_REMOVED:
        return ThingRemoved(tenant, _thing_id(headers))
    if kind == MessageType.PING:
        return Ping(tenant, headers.get(CORRELATION_ID) or None, headers.get(REPLY_TO) or None)
    if kind == MessageType.EVENT:
        _check_json(headers)
        return _event(headers, tenant, text)
    raise errors.ConstraintViolation("No handle method was found for the given message type.", [TYPE])


def _event(headers: Mapping[str, str], tenant: str, text: str) -> Inbound:
    topic_name = headers.get(TOPIC)
    if not topic_name:
        raise errors.ConstraintViolation("EventTopic is null", [TOPIC])
    topic = _member(Topic, topic_name, "Invalid message! Unknown event topic.", TOPIC)
    if topic not in INBOUND_TOPICS:
        raise errors.ConstraintViolation("Got event without appropriate topic.", [TOPIC])
    body = _json_object(text)
    if topic == Topic.UPDATE_ACTION_STATUS:
        return _action_status(headers, tenant, body)
    if topic == Topic.UPDATE_ATTRIBUTES:
        return AttributesUpdated(tenant, _thing_id(headers), attribute_update(body))
    return _auto_confirm(headers, tenant, body)


def _thing_created(headers: Mapping[str, str], tenant: str, text: str) -> ThingCreated:
    thing_id = _thing_id(headers)
    reply_to = headers.get(REPLY_TO)
    if not reply_to:
        raise errors.ConstraintViolation("No ReplyTo was set for the createThing message.", [REPLY_TO])
    # Spring's converter turns an empty body into `""`: both mean "no body" (isOptionalMessageBodyEmpty)
    if not text.strip() or text.strip() == '""':
        return ThingCreated(tenant, thing_id, reply_to)
    _check_json(headers)
    body = _json_object(text)
    raw_update = body.get("attributeUpdate")
    name = catalog._text(body, "name", NAME_MAX)
    # JpaControllerManagement: a blank name changes nothing (StringUtils.hasText); a blank type removes the type
    target_type = catalog._text(body, "type", TYPE_NAME_MAX)
    if target_type is not None and not target_type.strip():
        target_type = ""
    return ThingCreated(
        tenant,
        thing_id,
        reply_to,
        name=name if name and name.strip() else None,
        target_type=target_type,
        attribute_update=None if raw_update is None else attribute_update(raw_update),
    )


def attribute_update(raw: Any) -> AttributeUpdate:
    """DmfAttributeUpdate: {attributes: {key: text}, mode}; attributes absent -> none, mode absent -> MERGE."""
    body = catalog._object(raw, "attribute update")
    attributes = body.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        raise errors.BodyNotReadable("'attributes' must be an object of texts.", ["attributes"])
    mode_name = body.get("mode")
    mode = (
        UpdateMode.MERGE
        if mode_name is None
        else _member(
            UpdateMode,
            mode_name,
            f"'mode' must be one of {', '.join(m.value for m in UpdateMode)}.",
            "mode",
            errors.BodyNotReadable,
        )
    )
    values: dict[str, str | None] = {}
    for key, value in attributes.items():
        if isinstance(value, (Mapping, list)):
            raise errors.BodyNotReadable(f"Attribute '{key}' must be a text.", ["attributes"])
        check_attribute(key, value, mode.value.lower())
        values[key] = None if value is None else _java_text(value)
    return AttributeUpdate(values, mode)


def _action_status(headers: Mapping[str, str], tenant: str, body: Mapping[str, Any]) -> ActionStatusUpdate:
    action_id = body.get("actionId")
    if action_id is None or body.get("actionStatus") is None:
        raise errors.BodyNotReadable("'actionId' and 'actionStatus' are required.", ["actionId", "actionStatus"])
    if not is_int64(action_id):
        raise errors.BodyNotReadable("'actionId' must be a whole number.", ["actionId"])
    status = _member(
        ActionStatus,
        body["actionStatus"],
        f"'actionStatus' must be one of {', '.join(s.value for s in ActionStatus)}.",
        "actionStatus",
        errors.BodyNotReadable,
    )
    messages = body.get("message")
    if messages is None:
        messages = []
    if not isinstance(messages, list) or any(isinstance(m, (Mapping, list, bool)) for m in messages):
        raise errors.BodyNotReadable("'message' must be a list of texts.", ["message"])
    code = body.get("code")
    if code is not None and not (is_int64(code) and INT32_MIN <= code <= INT32_MAX):
        raise errors.BodyNotReadable("'code' must be a whole number within 32 bits.", ["code"])
    thing_id = headers.get(THING_ID) or None
    if thing_id is not None:
        _check_thing_id(thing_id)
    return ActionStatusUpdate(
        tenant,
        int(action_id),
        status,
        thing_id=thing_id,
        software_module_id=_optional_long(body, "softwareModuleId"),
        messages=tuple(_java_text(m) for m in messages if m is not None),
        code=code,
        timestamp=_optional_long(body, "timestamp"),
        correlation_id=headers.get(CORRELATION_ID) or None,
    )


def _auto_confirm(headers: Mapping[str, str], tenant: str, body: Mapping[str, Any]) -> AutoConfirmUpdate:
    enabled = catalog._flag(body, "enabled", False)  # a Java boolean: absent is false
    initiator, remark = _optional_string(body, "initiator"), _optional_string(body, "remark")
    return AutoConfirmUpdate(
        tenant, _thing_id(headers), bool(enabled), initiator, AUTO_CONFIRM_REMARK if remark is None else remark
    )


# --- who may send for a tenant (skyhawk's own, docs/dmf-hawkbit.md §9) ------------------------------------------
# SQS's SenderId: an IAM user's unique id (AIDA...), a role session's "<role unique id>:<session name>" (AROA...:x),
# the account id for its root user. A tenant's `dmf.senders` lists them, separated by commas or white space.
SENDER_ID = re.compile(r"[A-Za-z0-9+=.@_:-]{1,128}")
_SENDER_SEPARATORS = re.compile(r"[\s,]+")


def sender_ids(text: str) -> tuple[str, ...]:
    """The entries of a `dmf.senders` value; ValueError names the first that cannot be a SenderId."""
    entries = tuple(entry for entry in _SENDER_SEPARATORS.split(text or "") if entry)
    bad = next((entry for entry in entries if not SENDER_ID.fullmatch(entry)), None)
    if bad is not None:
        raise ValueError(f"'{bad[:64]}' is not an SQS sender id (an IAM unique id, or a role's id:session)")
    return entries


def sender_allowed(allowed: str, sender: str | None, required: bool = False) -> bool:
    """Whether the principal that sent a message (its SQS SenderId) may write for a tenant whose `dmf.senders`
    is `allowed`: an entry allows the SenderId it equals, and a role's unique id alone (no ':') every session of
    that role. An empty list allows any sender that could send to the inbound queue, unless `required`
    (the deployment's SKYHAWK_DMF_SENDERS_REQUIRED): then it allows none."""
    entries = sender_ids(allowed)
    if not entries:
        return not required
    if not sender:
        return False
    return sender in entries or sender.split(":", 1)[0] in entries


# --- what an inbound action status means --------------------------------------------------------------------
class Route(str, Enum):
    """Which of hawkBit's entry points takes the status (AmqpMessageHandlerService.updateActionStatus)."""

    UPDATE = "update"  # ControllerManagement.addUpdateActionStatus, as DDI deployment feedback
    CANCEL = "cancel"  # addCancelActionStatus, as DDI cancel feedback
    CONFIRMATION = "confirmation"  # ConfirmationManagement.confirmAction / denyAction, as DDI confirmation feedback


@dataclass(frozen=True)
class StatusMeaning:
    route: Route
    outcome: Outcome | None = None  # UPDATE and CANCEL: what the status does to the action and its target
    confirmation: str | None = None  # CONFIRMATION: confirmation.CONFIRMED or DENIED, for confirmation.decide


# The DMF statuses DDI can say too, as the DDI feedback that says them: one mapping, chalicelib/domain/actions.py's
_AS_DDI_FEEDBACK = {
    ActionStatus.DOWNLOAD: ("download", "none"),
    ActionStatus.DOWNLOADED: ("downloaded", "none"),
    ActionStatus.RUNNING: ("proceeding", "none"),
    ActionStatus.FINISHED: ("closed", "success"),
    ActionStatus.ERROR: ("closed", "failure"),
}
_AS_DDI_CANCEL_FEEDBACK = {
    ActionStatus.CANCELED: ("closed", "success"),
    ActionStatus.CANCEL_REJECTED: ("rejected", "none"),
}


def status_meaning(status: ActionStatus, action_type: str, action_status: str) -> StatusMeaning:
    """AmqpMessageHandlerService.mapStatus and the route it takes. CONFIRMED and DENIED go to the confirmation
    flow; CANCELED and CANCEL_REJECTED answer a cancel and need a canceling (or canceled) action: hawkBit refuses
    CANCEL_REJECTED otherwise ("Cancel rejected message is not allowed, if action is on state: ...") and
    addCancelActionStatus throws CancelActionNotAllowedException for CANCELED; both are dead-lettered. RETRIEVED and
    WARNING are history entries only; the rest act as the equivalent DDI feedback."""
    if status in (ActionStatus.CONFIRMED, ActionStatus.DENIED):
        word = confirmation.CONFIRMED if status == ActionStatus.CONFIRMED else confirmation.DENIED
        return StatusMeaning(Route.CONFIRMATION, confirmation=word)
    if status in _AS_DDI_CANCEL_FEEDBACK:
        if action_status not in (Status.CANCELING.value, Status.CANCELED.value):
            if status == ActionStatus.CANCEL_REJECTED:
                raise errors.ConstraintViolation(
                    f"Cancel rejected message is not allowed, if action is on state: {action_status}", ["actionStatus"]
                )
            raise errors.ActionNotCancelable("The action is not in canceling state.", ["actionStatus"])
        return StatusMeaning(Route.CANCEL, actions.cancel_feedback(*_AS_DDI_CANCEL_FEEDBACK[status]))
    if status in _AS_DDI_FEEDBACK:
        execution, finished = _AS_DDI_FEEDBACK[status]
        return StatusMeaning(Route.UPDATE, actions.deployment_feedback(execution, finished, action_type))
    return StatusMeaning(Route.UPDATE, Outcome(Status(status.value)))  # RETRIEVED, WARNING


def history_messages(update: ActionStatusUpdate, meaning: StatusMeaning) -> list[str]:
    """The history entry's messages: the client's, then the correlation id, then (outside the confirmation flow,
    which records the code itself) "Device reported status code: <code>", as hawkBit writes them."""
    messages = list(update.messages)
    if update.correlation_id:
        messages.append(CORRELATION_MESSAGE.format(update.correlation_id))
    if update.code is not None and meaning.route != Route.CONFIRMATION:
        messages.append(f"Device reported status code: {update.code}")
    return messages


def next_command_due(status: ActionStatus, active_after: bool, window_opened: bool) -> bool:
    """Whether the thing is sent its next command after the status (shouldTargetProceed): once the action closed
    (the next open action, if any), once its maintenance window opened, or once it was confirmed."""
    return not active_after or window_opened or status == ActionStatus.CONFIRMED


# --- outbound -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    """An outbound message: headers (SQS message attributes) and body text."""

    headers: Mapping[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Artifact:
    """One file of a module. `urls`: protocol ("HTTP", "HTTPS") -> download URL, for skyhawk a signed one."""

    filename: str
    size: int
    sha1: str
    md5: str
    urls: Mapping[str, str] = field(default_factory=dict)
    last_modified: int = 0


@dataclass(frozen=True)
class SoftwareModule:
    module_id: int
    module_type: str  # the module type's key
    version: str
    artifacts: tuple[Artifact, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()  # target-visible metadata only, (key, value)
    encrypted: bool = False


@dataclass(frozen=True)
class Deployment:
    """One open action as DMF tells it: its id, type and state, the target's token and the set's modules."""

    action_id: int
    action_type: str = "forced"  # actions.ACTION_TYPES
    security_token: str | None = None
    modules: tuple[SoftwareModule, ...] = ()
    waiting_confirmation: bool = False
    window_available: bool | None = None  # None: no maintenance window
    canceling: bool = False
    weight: int | None = None


def deployment_topic(action_type: str, waiting_confirmation: bool, window_available: bool | None) -> Topic:
    """getEventTypeForTarget: CONFIRM while the action waits for confirmation; DOWNLOAD for a download-only action
    or outside its maintenance window; else DOWNLOAD_AND_INSTALL. DMF has no soft/forced/timeforced: those all
    install."""
    if waiting_confirmation:
        return Topic.CONFIRM
    if action_type == "downloadonly" or window_available is False:
        return Topic.DOWNLOAD
    return Topic.DOWNLOAD_AND_INSTALL


def batch_topic(action_type: str, window_available: bool | None) -> Topic:
    """getBatchEventTopicForAction: a batch has no CONFIRM."""
    if action_type == "downloadonly" or window_available is False:
        return Topic.BATCH_DOWNLOAD
    return Topic.BATCH_DOWNLOAD_AND_INSTALL


def download_request(tenant: str, thing_id: str, deployment: Deployment) -> Message:
    """DOWNLOAD_AND_INSTALL, DOWNLOAD or CONFIRM with a DmfDownloadAndUpdateRequest (DmfConfirmRequest is the same
    body: "for the moment the confirmation request is the same as download and update request")."""
    topic = deployment_topic(deployment.action_type, deployment.waiting_confirmation, deployment.window_available)
    return _message(_event_headers(tenant, thing_id, topic), _download_body(deployment))


def cancel_download(tenant: str, thing_id: str, action_id: int) -> Message:
    """CANCEL_DOWNLOAD with a DmfActionRequest; the client answers CANCELED or CANCEL_REJECTED."""
    return _message(_event_headers(tenant, thing_id, Topic.CANCEL_DOWNLOAD), {"actionId": int(action_id)})


def multi_action(tenant: str, thing_id: str, deployments: Sequence[Deployment]) -> Message:
    """MULTI_ACTION (multi-assignments): the thing's open actions, highest weight first as given, each element
    {topic, action, weight}; a canceling action is a CANCEL_DOWNLOAD element with {actionId} alone."""
    elements = []
    for deployment in deployments:
        if deployment.canceling:
            topic, action = Topic.CANCEL_DOWNLOAD, {"actionId": int(deployment.action_id)}
        else:
            topic = deployment_topic(
                deployment.action_type, deployment.waiting_confirmation, deployment.window_available
            )
            action = _download_body(deployment)
        weight = actions.DEFAULT_WEIGHT if deployment.weight is None else int(deployment.weight)
        elements.append({"topic": topic.value, "action": action, "weight": weight})
    return _message(_event_headers(tenant, thing_id, Topic.MULTI_ACTION), elements)


@dataclass(frozen=True)
class BatchTarget:
    """DmfTarget: one thing of a batch, with its own action."""

    action_id: int
    controller_id: str
    security_token: str | None = None


def batch_download(
    tenant: str,
    targets: Sequence[BatchTarget],
    modules: Sequence[SoftwareModule],
    action_type: str,
    window_available: bool | None,
    now_ms: int,
) -> Message:
    """BATCH_DOWNLOAD(_AND_INSTALL) (`batch.assignments.enabled`): one message for the things of one assignment,
    no thingId header; hawkBit signs the URLs for the first target only ("all targets in a batch use the same set
    of software modules")."""
    body = {
        "timestamp": int(now_ms),
        "targets": [
            _without_nulls(
                {"actionId": int(t.action_id), "controllerId": t.controller_id, "targetSecurityToken": t.security_token}
            )
            for t in targets
        ],
        "softwareModules": [_module_body(m) for m in modules],
    }
    return _message(_event_headers(tenant, None, batch_topic(action_type, window_available)), body)


def request_attributes_update(tenant: str, thing_id: str) -> Message:
    """REQUEST_ATTRIBUTES_UPDATE: the client should send UPDATE_ATTRIBUTES; the body is empty."""
    return Message(_event_headers(tenant, thing_id, Topic.REQUEST_ATTRIBUTES_UPDATE), "")


def thing_deleted(tenant: str, thing_id: str) -> Message:
    """THING_DELETED: the target is gone (whoever deleted it); the body is empty."""
    return Message({TYPE: MessageType.THING_DELETED.value, THING_ID: thing_id, TENANT: tenant, CONTENT_TYPE: JSON}, "")


def ping_response(tenant: str, correlation_id: str, now_ms: int) -> Message:
    """PING_RESPONSE: the ping's correlation id and the server's time in milliseconds as plain text."""
    return Message(
        {TYPE: MessageType.PING_RESPONSE.value, TENANT: tenant, CORRELATION_ID: correlation_id, CONTENT_TYPE: TEXT},
        str(int(now_ms)),
    )


def modules_of_snapshot(
    chunks: Iterable[Mapping[str, Any]], urls_of: Callable[[int, str], Mapping[str, str]]
) -> tuple[SoftwareModule, ...]:
    """A deployment snapshot's chunks (chalicelib/domain/deployment_snapshot.py) as DMF modules; `urls_of(smId,
    filename)` gives an artifact's download URLs by protocol. The snapshot keeps no artifact times: lastModified
    is the chunk's artifact `lastModified` when present, else 0."""
    return tuple(
        SoftwareModule(
            module_id=int(chunk["smId"]),
            module_type=str(chunk["part"]),
            version=str(chunk["version"]),
            artifacts=tuple(
                Artifact(
                    filename=a["filename"],
                    size=int(a["size"]),
                    sha1=a["hashes"]["sha1"],
                    md5=a["hashes"]["md5"],
                    urls=urls_of(int(chunk["smId"]), a["filename"]),
                    last_modified=int(a.get("lastModified") or 0),
                )
                for a in chunk.get("artifacts") or ()
            ),
            metadata=tuple((m["key"], m["value"]) for m in chunk.get("metadata") or ()),
            encrypted=bool(chunk.get("encrypted")),
        )
        for chunk in chunks
    )


# --- helpers ----------------------------------------------------------------------------------------------------
def _event_headers(tenant: str, thing_id: str | None, topic: Topic) -> dict[str, str]:
    headers = {TYPE: MessageType.EVENT.value, TOPIC: topic.value, TENANT: tenant, CONTENT_TYPE: JSON}
    if thing_id is not None:
        headers[THING_ID] = thing_id
    return headers


def _message(headers: dict[str, str], body: Any) -> Message:
    return Message(headers, json.dumps(body, separators=(",", ":")))


def _download_body(deployment: Deployment) -> dict[str, Any]:
    return _without_nulls(
        {
            "actionId": int(deployment.action_id),
            "targetSecurityToken": deployment.security_token,
            "softwareModules": [_module_body(m) for m in deployment.modules],
        }
    )


def _module_body(module: SoftwareModule) -> dict[str, Any]:
    """DmfSoftwareModule: `encrypted` only when true, `metadata` only when there is some, `artifacts` always."""
    return _without_nulls(
        {
            "moduleId": int(module.module_id),
            "moduleType": module.module_type,
            "moduleVersion": module.version,
            "encrypted": True if module.encrypted else None,
            "artifacts": [
                {
                    "filename": a.filename,
                    "hashes": {"sha1": a.sha1, "md5": a.md5},
                    "size": int(a.size),
                    "lastModified": int(a.last_modified),
                    "urls": dict(a.urls),
                }
                for a in module.artifacts
            ],
            "metadata": [{"key": key, "value": value} for key, value in module.metadata] or None,
        }
    )


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    """Jackson's Include.NON_NULL, which every DMF body carries."""
    return {key: value for key, value in body.items() if value is not None}


def _member(
    enum: type[Any], value: Any, message: str, name: str, error: type[errors.BadRequest] = errors.ConstraintViolation
) -> Any:
    """The enum member named `value` (Java's valueOf: exact, case-sensitive), or the refusal."""
    if not isinstance(value, str) or value not in enum.__members__:
        raise error(message, [name])
    return enum[value]


def _text_of(body: str | bytes | None) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise errors.BodyNotReadable("The message body is not UTF-8 text.") from exc
    return body


def _json_object(text: str) -> Mapping[str, Any]:
    if not text.strip():
        raise errors.BodyNotReadable("Message body cannot be null")
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise errors.BodyNotReadable("The message body is not well-formed JSON.") from exc
    return catalog._object(body, "message body")


def _check_json(headers: Mapping[str, str]) -> None:
    """BaseAmqpService.checkContentTypeJson: any content type mentioning json."""
    if "json" not in (headers.get(CONTENT_TYPE) or ""):
        raise errors.BodyNotReadable("Content-Type is not JSON compatible", [CONTENT_TYPE])


def _thing_id(headers: Mapping[str, str]) -> str:
    thing_id = headers.get(THING_ID)
    if not thing_id:
        raise errors.ConstraintViolation("ThingId is null", [THING_ID])
    _check_thing_id(thing_id)
    return thing_id


def _check_thing_id(thing_id: str) -> None:
    if not valid_controller_id(thing_id):
        raise errors.ConstraintViolation(f"ThingId '{thing_id}' is not a valid controllerId.", [THING_ID])


def _optional_long(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and not is_int64(value):
        raise errors.BodyNotReadable(f"'{name}' must be a whole number.", [name])
    return value


def _optional_string(body: Mapping[str, Any], name: str) -> str | None:
    """As DDI's auto-confirm activation takes its initiator and remark: any string, or absent."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise errors.BodyNotReadable(f"'{name}' must be a string.", [name])
    return value


def _java_text(value: Any) -> str:
    """A JSON scalar as Jackson reads it into a String field: true -> "true", 1.5 -> "1.5"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
