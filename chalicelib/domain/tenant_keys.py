"""The tenant configuration key registry: type, global default and validation of every key.

Source: hawkBit's tenant configuration keys and skyhawk's own (README, "Tenant configuration keys"). Each key has an
effect somewhere in the service; the `effect` text is what the key does, rendered nowhere but kept beside the key so
the registry says it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from chalicelib.domain.durations import parse_hms
from chalicelib.domain.numbers import is_int64
from chalicelib.lazy import lazy_import

dmf = lazy_import("chalicelib.domain.dmf")  # the rule of `dmf.senders`

MAX_POLLING_MS = parse_hms("23:59:59")
MIN_POLLING_MS = parse_hms("00:00:30")


class InvalidValue(ValueError):
    pass


@dataclass
class StoredValue:
    """A tenant's override of one key (`config#<name>`), its typed value JSON-encoded as stored."""

    PREFIX: ClassVar[str] = "config#"
    tenant: str
    key: str
    value: str
    created_at: int = 0
    created_by: str = ""
    last_modified_at: int = 0
    last_modified_by: str = ""

    @property
    def name(self) -> str:
        return self.key[len(self.PREFIX) :]

    @property
    def decoded(self) -> Any:
        return json.loads(self.value)


@dataclass(frozen=True)
class Key:
    name: str
    kind: type  # bool, int, str
    default: Any
    effect: str
    check: Callable[[Any], None] | None = None
    # Once set to this value it may not change again (hawkBit: multi-assignment cannot be switched off).
    one_way_to: Any = None


def _duration(value: str) -> None:
    try:
        ms = parse_hms(value)
    except ValueError as exc:
        raise InvalidValue(str(exc)) from exc
    if not MIN_POLLING_MS <= ms <= MAX_POLLING_MS:
        raise InvalidValue(f"'{value}' must lie between 00:00:30 and 23:59:59")


def _positive(value: int) -> None:
    if value < 1:
        raise InvalidValue("must be at least 1")


def _not_negative(value: int) -> None:
    if value < 0:
        raise InvalidValue("must not be negative")


ACTION_STATUSES = {
    "FINISHED",
    "ERROR",
    "WARNING",
    "RUNNING",
    "CANCELED",
    "CANCELING",
    "RETRIEVED",
    "DOWNLOAD",
    "SCHEDULED",
    "CANCEL_REJECTED",
    "DOWNLOADED",
    "WAIT_FOR_CONFIRMATION",
}


def _statuses(value: str) -> None:
    names = [v.strip().upper() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in ACTION_STATUSES]
    if unknown:
        raise InvalidValue(f"unknown action status(es): {', '.join(unknown)}")


def _cdn_days(value: int) -> None:
    if not 1 <= value <= 3650:
        raise InvalidValue("must lie between 1 and 3650 days")


def _dmf_senders(value: str) -> None:
    try:
        dmf.sender_ids(value)
    except ValueError as exc:
        raise InvalidValue(str(exc)) from exc


def _retention_days(value: int) -> None:
    if not 1 <= value <= 3650:
        raise InvalidValue("must lie between 1 and 3650 days")


KEYS: dict[str, Key] = {
    k.name: k
    for k in [
        Key(
            "pollingTime",
            str,
            "12:00:00",
            "config.polling.sleep in DDI polls; pollStatus.nextExpectedRequestAt",
            _duration,
        ),
        Key(
            "minPollingTime",
            str,
            "00:00:30",
            "lower bound of pollingTime and of the maintenance-window sleep",
            _duration,
        ),
        Key(
            "pollingOverdueTime",
            str,
            "23:59:59",
            "a target is overdue after lastRequest + pollingTime + this",
            _duration,
        ),
        Key("maintenanceWindowPollCount", int, 3, "polls before a maintenance window starts", _positive),
        Key("authentication.targettoken.enabled", bool, False, "DDI accepts 'TargetToken <target token>'"),
        Key("authentication.gatewaytoken.enabled", bool, False, "DDI accepts 'GatewayToken <key>' (plug and play)"),
        Key("authentication.gatewaytoken.key", str, "", "the gateway token"),
        Key("authentication.header.enabled", bool, True, "DDI accepts X-Controller-Id + X-Authority from a proxy"),
        Key("authentication.header.authority", str, "", "accepted issuer hash(es) for header authentication"),
        Key("anonymous.download.enabled", bool, False, "DDI artifact downloads without device credentials"),
        Key("repository.actions.autoclose.enabled", bool, False, "a new assignment closes open actions at once"),
        Key(
            "multi.assignments.enabled",
            bool,
            False,
            "several distribution sets active per target, by weight",
            one_way_to=True,
        ),
        Key(
            "batch.assignments.enabled",
            bool,
            False,
            "DMF things of one assignment are told in BATCH_DOWNLOAD("
            "_AND_INSTALL) messages, one per reply queue and set, instead of one message each",
        ),
        Key(
            "user.confirmation.flow.enabled",
            bool,
            False,
            "new actions wait for the device's confirmation (WAIT_FOR_CONFIRMATION, DDI confirmationBase)",
        ),
        Key(
            "rollout.approval.enabled",
            bool,
            False,
            "created rollouts wait for approval (unless the creator may approve)",
        ),
        Key("action.cleanup.enabled", bool, False, "the scheduled cleanup deletes expired closed actions"),
        Key(
            "action.cleanup.actionExpiry",
            int,
            2592000000,
            "ms after which a closed action may be deleted",
            _not_negative,
        ),
        Key("action.cleanup.actionStatus", str, "CANCELED,ERROR", "statuses the cleanup deletes", _statuses),
        Key("cdn.validity.days", int, 30, "lifetime of signed download URLs", _cdn_days),
        Key(
            "dmf.enabled",
            bool,
            False,
            "Device Management Federation: the tenant's gateways' messages on the DMF "
            "inbound queue are applied (off: dead-lettered)",
        ),
        # skyhawk's own (hawkBit has no such key): SQS tells who sent a message, AMQP did not
        Key(
            "dmf.senders",
            str,
            "",
            "the SQS sender ids (IAM principals' unique ids) allowed to send the tenant's DMF "
            "messages; empty: any principal that may send to the inbound queue, unless SKYHAWK_DMF_SENDERS_REQUIRED",
            _dmf_senders,
        ),
        Key(
            "sie.enabled",
            bool,
            False,
            "Service Integration Events: the tenant's changes are announced on the "
            "EventBridge bus (docs/integration-events.md)",
        ),
        Key(
            "deviceconfiguration.task.retentionDays",
            int,
            90,
            "days after its creation when the retention job deletes a configuration task (an open one is closed first)",
            _retention_days,
        ),
    ]
}


# hawkBit's TenantConfiguration.VALUE_MAX_SIZE; it also keeps every value far below an item's size limit.
VALUE_MAX_LENGTH = 512


def _shown(raw: Any) -> str:
    text = str(raw)
    return text if len(text) <= 64 else text[:61] + "..."


def coerce(key: Key, raw: Any) -> Any:
    """Type-check a value from the wire (JSON) for `key`; InvalidValue when it does not fit."""
    value: bool | int | str
    if key.kind is bool:
        if isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            raise InvalidValue(f"'{_shown(raw)}' is not a Boolean")
    elif key.kind is int:
        if isinstance(raw, bool):
            raise InvalidValue(f"'{raw}' is not a number")
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        elif isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            value = int(raw.strip())
        else:
            raise InvalidValue(f"'{_shown(raw)}' is not a whole number")
        if not is_int64(value):
            raise InvalidValue(f"'{_shown(raw)}' is out of range")
    else:
        if not isinstance(raw, str):
            raise InvalidValue(f"'{_shown(raw)}' is not a string")
        if len(raw) > VALUE_MAX_LENGTH:
            raise InvalidValue(f"the value is longer than {VALUE_MAX_LENGTH} characters")
        value = raw
    if key.check:
        key.check(value)
    return value


def check_consistency(values: dict[str, Any]) -> None:
    """Rules across keys: pollingTime may not be shorter than minPollingTime."""
    if parse_hms(values["pollingTime"]) < parse_hms(values["minPollingTime"]):
        raise InvalidValue("pollingTime must not be shorter than minPollingTime")
