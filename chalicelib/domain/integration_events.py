"""Service integration events (issue 10 §3, docs/integration-events.md): the events one committed change announces.

Pure: from one change of the change feed (chalicelib/store/change_feed.py: its kind, INSERT/MODIFY/REMOVE, tenant,
the entity before and after, the stream sequence and when it was written) the events to put on the bus, each with
its `detail-type` (hawkBit's remote event class names where hawkBit has the event) and a `detail` that reads like
the Management API's representation of the entity (its field names; no links, never a security token), plus:

- `eventId`: `<stream sequence>:<detail-type>`, the same every time the change is delivered (duplicates of
  at-least-once carry it: consumers deduplicate on it);
- `sequence`: the stream record's sequence number (a later change of the same item has a greater one);
- `tenant`, `eventTime` (ms, when DynamoDB wrote the change; seconds precision);
- `changed`: for the *UpdatedEvent and TargetPollEvent, the representation's fields that changed.

Which changes announce what (the rule):
- an INSERT announces <Entity>CreatedEvent (a target inserted with a poll time also TargetPollEvent; a new action
  status entry ActionStatusUpdateEvent);
- a MODIFY announces <Entity>UpdatedEvent only when a field of the representation that matters changed
  (`_TRIGGERS`); audit fields (lastModifiedAt/By) and the internal bookkeeping (counters, index keys, chain and
  rate markers, status sequence numbers...) are not in the representation, so when they change alone nothing is
  announced. A target's coarse last poll (`lastControllerRequestAt`, written at most once a minute) announces
  TargetPollEvent instead. A MODIFY that marks the entity deleted (a target's deletion tombstone, a module's,
  set's or rollout's soft deletion) announces <Entity>DeletedEvent;
- a REMOVE announces <Entity>DeletedEvent unless the entity was already marked deleted (announced then). The
  removals of actions and of action status entries (the action cleanup, a target's deletion) announce nothing:
  hawkBit has no such events either, and TargetDeletedEvent says its actions are gone.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from typing import Any, Callable, Mapping, Protocol

SOURCE = "skyhawk"
INSERT, MODIFY, REMOVE = "INSERT", "MODIFY", "REMOVE"
AUDIT = frozenset({"createdBy", "createdAt", "lastModifiedBy", "lastModifiedAt"})
ENVELOPE = ("eventId", "sequence", "tenant", "eventTime")


class ChangeLike(Protocol):
    """What a change of the change feed carries (chalicelib.store.change_feed.Change)."""

    @property
    def kind(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def old(self) -> Any: ...
    @property
    def new(self) -> Any: ...
    @property
    def sequence(self) -> str: ...
    @property
    def at_ms(self) -> int: ...


@dataclasses.dataclass(frozen=True)
class Event:
    detail_type: str
    detail: dict[str, Any]
    time_ms: int

    @property
    def event_id(self) -> str:
        return str(self.detail["eventId"])

    def entry(self, max_bytes: int | None = None) -> dict[str, Any]:
        """The PutEvents entry (without the bus). A detail larger than `max_bytes` (with the entry's other fields)
        keeps its envelope and ids only and says `truncated`: the consumer reads the rest through the API."""
        detail = json.dumps(self.detail, separators=(",", ":"), ensure_ascii=False, default=str)
        if max_bytes is not None and len(detail.encode()) + len(SOURCE) + len(self.detail_type) + 14 > max_bytes:
            kept = {k: v for k, v in self.detail.items() if k in ENVELOPE or k in _IDS}
            detail = json.dumps({**kept, "truncated": True}, separators=(",", ":"), ensure_ascii=False)
        return {
            "Source": SOURCE,
            "DetailType": self.detail_type,
            "Detail": detail,
            "Time": datetime.datetime.fromtimestamp(self.time_ms / 1000, tz=datetime.timezone.utc),
        }


_IDS = frozenset({"id", "controllerId", "actionId", "deviceId", "rolloutId", "distributionSetId", "changed"})


# --- the representations (the Management API's field names) ----------------------------------------------------
def _audit(entity: Any) -> dict[str, Any]:
    return {
        "createdBy": entity.created_by,
        "createdAt": int(entity.created_at or 0),
        "lastModifiedBy": entity.last_modified_by,
        "lastModifiedAt": int(entity.last_modified_at or 0),
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def _iso(ms: int | None) -> str | None:
    """The Device Configuration Service's timestamps (ISO 8601, UTC, milliseconds)."""
    if ms is None:
        return None
    return (
        datetime.datetime.fromtimestamp(int(ms) / 1000, tz=datetime.timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def target_view(target: Any) -> dict[str, Any]:
    """MgmtTarget's fields, and the ids of its assigned and installed sets (its assignedDS/installedDS links),
    its attributes (the `attributes` link) and tag ids. Never the security token."""
    return _without_none(
        {
            **_audit(target),
            "controllerId": target.controller_id,
            "name": target.name,
            "description": target.description,
            "updateStatus": (target.update_status or "unknown").lower(),
            "requestAttributes": bool(target.request_attributes),
            "address": target.address or None,
            "ipAddress": target.ip_address or None,
            "targetType": _int(target.target_type),
            "installedAt": _int(target.installed_at),
            "lastControllerRequestAt": _int(target.last_request_at),
            "autoConfirmActive": target.auto_confirm is not None,
            "assignedDS": _int(target.assigned_ds),
            "installedDS": _int(target.installed_ds),
            "attributes": dict(target.attributes or {}),
            "tags": sorted(int(t) for t in target.tags or []),
        }
    )


def action_view(action: Any) -> dict[str, Any]:
    """MgmtAction's fields, with the ids its links name (target, distribution set, rollout)."""
    status = str(action.status)
    return _without_none(
        {
            **_audit(action),
            "id": int(action.action_id),
            "controllerId": action.controller_id,
            "distributionSetId": int(action.ds_id),
            "distributionSetName": f"{action.ds_name}:{action.ds_version}",
            "type": "cancel" if status in ("CANCELING", "CANCELED") else "update",
            "status": status.lower(),
            "detailStatus": status.lower(),
            "active": bool(action.active),
            "forceType": action.action_type,
            "forceTime": _int(action.force_time) if action.action_type == "timeforced" else None,
            "weight": _int(action.weight),
            "rollout": _int(action.rollout_id),
            "rolloutName": action.rollout_name,
            "lastStatusCode": _int(action.last_status_code),
            "externalRef": action.external_ref or None,
            "maintenanceWindow": dict(action.maintenance_window) if action.maintenance_window else None,
        }
    )


def action_status_view(entry: Any) -> dict[str, Any]:
    """MgmtActionStatus's fields, with the action's id (and the tenant-less action key's)."""
    return _without_none(
        {
            "id": int(entry.status_id),
            "actionId": int(str(entry.action_key).rsplit("#", 1)[1]),
            "type": str(entry.status).lower(),
            "messages": list(entry.messages or []),
            "reportedAt": int(entry.reported_at or 0),
            "timestamp": int(entry.timestamp or 0),
            "code": _int(entry.code),
        }
    )


def software_module_view(module: Any) -> dict[str, Any]:
    """MgmtSoftwareModule's fields."""
    return _without_none(
        {
            **_audit(module),
            "id": int(module.id),
            "name": module.name,
            "version": module.version_name,
            "type": module.type_key,
            "typeName": module.type_name,
            "description": module.description,
            "vendor": module.vendor,
            "encrypted": bool(module.encrypted),
            "locked": bool(module.locked),
            "deleted": bool(module.deleted),
        }
    )


def distribution_set_view(ds: Any) -> dict[str, Any]:
    """MgmtDistributionSet's fields, its modules as ids (the REST body nests them whole) and its tag ids."""
    return _without_none(
        {
            **_audit(ds),
            "id": int(ds.id),
            "name": ds.name,
            "version": ds.version_name,
            "type": ds.type_key,
            "typeName": ds.type_name,
            "description": ds.description,
            "modules": [int(m) for m in ds.modules or []],
            "requiredMigrationStep": bool(ds.required_migration_step),
            "complete": bool(ds.complete),
            "locked": bool(ds.locked),
            "deleted": bool(ds.deleted),
            "valid": bool(ds.valid),
            "tags": sorted(int(t) for t in ds.tags or []),
        }
    )


def rollout_view(rollout: Any) -> dict[str, Any]:
    """MgmtRolloutResponseBody's fields (its full representation, without the per-status counts)."""
    return _without_none(
        {
            **_audit(rollout),
            "id": int(rollout.id),
            "name": rollout.name,
            "description": rollout.description,
            "targetFilterQuery": rollout.target_filter_query,
            "distributionSetId": int(rollout.ds_id),
            "status": str(rollout.status).lower(),
            "totalTargets": int(rollout.total_targets or 0),
            "totalGroups": int(rollout.total_groups or 0),
            "deleted": bool(rollout.deleted),
            "type": rollout.action_type,
            "forcetime": int(rollout.force_time or 0),
            "startAt": _int(rollout.start_at),
            "weight": _int(rollout.weight),
            "dynamic": bool(rollout.dynamic),
            "approvalRemark": rollout.approval_remark,
            "approveDecidedBy": rollout.approval_decided_by,
            "statusMessage": rollout.status_message,
        }
    )


def rollout_group_view(group: Any) -> dict[str, Any]:
    """MgmtRolloutGroupResponseBody's fields, with its rollout's id."""
    return _without_none(
        {
            **_audit(group),
            "id": int(group.id),
            "rolloutId": int(group.rollout_id),
            "name": group.name,
            "description": group.description,
            "status": str(group.status).lower(),
            "targetFilterQuery": group.target_filter_query or "",
            "targetPercentage": float(group.target_percentage),
            "dynamic": bool(group.dynamic),
            "confirmationRequired": bool(group.confirmation_required),
            "totalTargets": int(group.total_targets or 0),
            "successCondition": {"condition": group.success_condition, "expression": group.success_expression},
            "errorCondition": _without_none({"condition": group.error_condition, "expression": group.error_expression})
            or None,
        }
    )


def _state_info(stored: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not stored:
        return None
    return {
        "state": stored.get("state"),
        "entered": _iso(stored.get("entered")),
        "updated": _iso(stored.get("updated")),
        "progress": float(stored.get("progress") or 0),
        "message": stored.get("message") or "",
        "details": stored.get("details"),
    }


def config_task_view(instance: Any) -> dict[str, Any]:
    """The Device Configuration Service's task fields (ISO timestamps, as its API), without its files' content."""
    return _without_none(
        {
            "id": instance.instance_id,
            "deviceId": instance.device_id,
            "createdAt": _iso(instance.created_at),
            "createdBy": instance.created_by,
            "currentState": _state_info(instance.current),
        }
    )


# --- the catalogue ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Spec:
    """What one kind of change announces: its event names, its representation, and which of its fields changing
    is worth an update event (None: every field of the representation but the audit fields)."""

    created: str
    updated: str
    deleted: str | None  # None: its removal announces nothing
    view: Callable[[Any], dict[str, Any]]
    gone: Callable[[Any], bool] = lambda entity: False  # marked deleted (announced), though still stored
    triggers: frozenset[str] | None = None
    applies: Callable[[Any], bool] = lambda entity: True


TARGET_POLL = "TargetPollEvent"
ACTION_STATUS = "ActionStatusUpdateEvent"
POLL_FIELD = "lastControllerRequestAt"

SPECS: dict[str, Spec] = {
    "target": Spec(
        "TargetCreatedEvent",
        "TargetUpdatedEvent",
        "TargetDeletedEvent",
        target_view,
        gone=lambda target: bool(target.deletion),
    ),
    "action": Spec(
        "ActionCreatedEvent",
        "ActionUpdatedEvent",
        None,
        action_view,
        triggers=frozenset(
            {"type", "status", "active", "forceType", "forceTime", "weight", "externalRef", "maintenanceWindow"}
        ),
    ),
    "software_module": Spec(
        "SoftwareModuleCreatedEvent",
        "SoftwareModuleUpdatedEvent",
        "SoftwareModuleDeletedEvent",
        software_module_view,
        gone=lambda module: bool(module.deleted),
    ),
    "distribution_set": Spec(
        "DistributionSetCreatedEvent",
        "DistributionSetUpdatedEvent",
        "DistributionSetDeletedEvent",
        distribution_set_view,
        gone=lambda ds: bool(ds.deleted),
    ),
    "rollout": Spec(
        "RolloutCreatedEvent",
        "RolloutUpdatedEvent",
        "RolloutDeletedEvent",
        rollout_view,
        gone=lambda rollout: bool(rollout.deleted) or str(rollout.status) == "DELETED",
        triggers=frozenset(
            {
                "name",
                "description",
                "status",
                "type",
                "forcetime",
                "startAt",
                "weight",
                "approvalRemark",
                "approveDecidedBy",
                "statusMessage",
            }
        ),
    ),
    "rollout_group": Spec(
        "RolloutGroupCreatedEvent",
        "RolloutGroupUpdatedEvent",
        "RolloutGroupDeletedEvent",
        rollout_group_view,
        triggers=frozenset({"name", "description", "status"}),
    ),
    "config_task": Spec(
        "ConfigurationTaskCreatedEvent",
        "ConfigurationTaskUpdatedEvent",
        "ConfigurationTaskDeletedEvent",
        config_task_view,
        applies=lambda instance: bool(getattr(instance, "is_task", False)),
    ),
}

DETAIL_TYPES: tuple[str, ...] = tuple(
    sorted(
        {name for spec in SPECS.values() for name in (spec.created, spec.updated, spec.deleted) if name}
        | {TARGET_POLL, ACTION_STATUS}
    )
)


def _kind(change: ChangeLike) -> str:
    kind = change.kind
    return str(getattr(kind, "value", kind))


def events_of(change: ChangeLike) -> list[Event]:
    """The events `change` announces, in the order to publish them (none for most bookkeeping writes)."""
    kind = _kind(change)
    if kind == "action_status":
        if change.event != INSERT or change.new is None:
            return []
        return [_event(change, ACTION_STATUS, action_status_view(change.new), None)]
    spec = SPECS.get(kind)
    current = change.new if change.new is not None else change.old
    if spec is None or current is None or not spec.applies(current):
        return []
    old_live = change.old is not None and not spec.gone(change.old)
    new_live = change.new is not None and not spec.gone(change.new)
    if new_live and not old_live:
        view = spec.view(change.new)
        created = [_event(change, spec.created, view, None)]
        if kind == "target" and view.get(POLL_FIELD) is not None:
            created.append(_event(change, TARGET_POLL, view, [POLL_FIELD]))
        return created
    if old_live and not new_live:
        return [] if spec.deleted is None else [_event(change, spec.deleted, spec.view(current), None)]
    if not (old_live and new_live):
        return []
    before, after = spec.view(change.old), spec.view(change.new)
    changed = sorted(key for key in set(before) | set(after) if key not in AUDIT and before.get(key) != after.get(key))
    found: list[Event] = []
    if kind == "target" and POLL_FIELD in changed:
        found.append(_event(change, TARGET_POLL, after, [POLL_FIELD]))
        changed.remove(POLL_FIELD)
    if spec.triggers is not None and not spec.triggers.intersection(changed):
        changed = []
    if changed:
        found.append(_event(change, spec.updated, after, changed))
    return found


def _event(change: ChangeLike, detail_type: str, view: dict[str, Any], changed: list[str] | None) -> Event:
    detail = {
        "eventId": f"{change.sequence}:{detail_type}",
        "sequence": str(change.sequence),
        "tenant": change.tenant,
        "eventTime": int(change.at_ms),
        **view,
    }
    if changed is not None:
        detail["changed"] = changed
    return Event(detail_type, detail, int(change.at_ms))
