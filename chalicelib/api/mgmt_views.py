"""Management API renderings of targets, actions and action history (MgmtTarget, MgmtAction, MgmtActionStatus)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from chalicelib import clock
from chalicelib.domain.actions import Action, ActionStatusEntry
from chalicelib.domain.polling import poll_status
from chalicelib.domain.targets import Target
from chalicelib.lazy import lazy_import
from chalicelib.services import tenant_config

if TYPE_CHECKING:
    from chalicelib.auth import Principal
    from chalicelib.services.confirmation import AutoConfirm

maintenance = lazy_import("chalicelib.domain.maintenance")
target_types = lazy_import("chalicelib.services.target_types")


def _base(entity: Any) -> dict[str, Any]:
    return {
        "createdBy": entity.created_by,
        "createdAt": int(entity.created_at),
        "lastModifiedBy": entity.last_modified_by,
        "lastModifiedAt": int(entity.last_modified_at),
    }


def target_json(
    target: Target, root: str, cfg: Mapping[str, Any], now: int, with_token: bool, type_names: Mapping[int, str]
) -> dict[str, Any]:
    href = f"{root}/rest/v1/targets/{target.controller_id}"
    body = {
        **_base(target),
        "name": target.name,
        "description": target.description,
        "controllerId": target.controller_id,
        "updateStatus": (target.update_status or "unknown").lower(),
        "requestAttributes": bool(target.request_attributes),
    }
    # hawkBit shows auto-confirmation (field and link) only while the tenant's confirmation flow is on.
    flow = bool(cfg["user.confirmation.flow.enabled"])
    if flow:
        body["autoConfirmActive"] = target.auto_confirm is not None
    status = poll_status(target.last_request_at, cfg, now)
    if status is not None:
        body["lastControllerRequestAt"] = status.last_request_at
        body["pollStatus"] = {
            "lastRequestAt": status.last_request_at,
            "nextExpectedRequestAt": status.next_expected_request_at,
            "overdue": status.overdue,
        }
    if target.installed_at is not None:
        body["installedAt"] = int(target.installed_at)
    if target.ip_address:
        body["ipAddress"] = target.ip_address
    if target.address:
        body["address"] = target.address
    if target.target_type is not None:
        body["targetType"] = int(target.target_type)
        body["targetTypeName"] = type_names.get(int(target.target_type))
    if with_token:
        body["securityToken"] = target.security_token
    body["_links"] = {
        "self": {"href": href},
        "assignedDS": {"href": f"{href}/assignedDS"},
        "installedDS": {"href": f"{href}/installedDS"},
        "attributes": {"href": f"{href}/attributes"},
        "actions": {"href": f"{href}/actions?offset=0&limit=50&sort=id%3ADESC"},
        "metadata": {"href": f"{href}/metadata?offset=0&limit=50"},
    }
    if flow:
        body["_links"]["autoConfirm"] = {"href": f"{href}/autoConfirm"}
    if target.target_type is not None:
        body["_links"]["targetType"] = {"href": f"{root}/rest/v1/targettypes/{int(target.target_type)}"}
    return {k: v for k, v in body.items() if v is not None}


def auto_confirm_json(state: AutoConfirm | None, target_href: str) -> dict[str, Any]:
    """MgmtTargetAutoConfirm: the state, and the link that switches it."""
    if state is None:
        return {"active": False, "_links": {"activate": {"href": f"{target_href}/autoConfirm/activate"}}}
    fields = {"active": True, "initiator": state.initiator, "remark": state.remark, "activatedAt": state.activated_at}
    body: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    body["_links"] = {"deactivate": {"href": f"{target_href}/autoConfirm/deactivate"}}
    return body


def targets_json(targets: Iterable[Target], who: Principal, root: str) -> list[dict[str, Any]]:
    """MgmtTargets as the caller may see them (the security token needs READ_TARGET_SECURITY_TOKEN)."""
    cfg, now = tenant_config.values(who.tenant), clock.now_ms()
    with_token = who.may_read_target_tokens
    targets = list(targets)
    type_names = target_types.names_of(who.tenant, targets)  # no read unless a target has a type
    return [target_json(t, root, cfg, now, with_token, type_names) for t in targets]


def maintenance_window_json(stored: Mapping[str, Any], now: int) -> dict[str, Any]:
    window = maintenance.Window.parse(**{key: stored.get(key) for key in ("schedule", "duration", "timezone")})
    upcoming = window.current_or_next(now) if window else None
    body = {key: stored[key] for key in ("schedule", "duration", "timezone")}
    if upcoming:
        body["nextStartAt"] = upcoming[0]
    return body


def action_json(action: Action, root: str, now: int | None = None) -> dict[str, Any]:
    """hawkBit's MgmtAction: `status` is the action's own status (`canceled`, `running`, ...) and `active` says
    whether it is open (hawkBit 0.10 replaced the old pending/finished `status`); `detailStatus` keeps the same
    value for clients written against the older shape."""
    now = clock.now_ms() if now is None else now
    target_href = f"{root}/rest/v1/targets/{action.controller_id}"
    href = f"{target_href}/actions/{int(action.action_id)}"
    canceling_or_canceled = action.status in ("CANCELING", "CANCELED")
    body = {
        **_base(action),
        "id": int(action.action_id),
        "type": "cancel" if canceling_or_canceled else "update",
        "status": action.status.lower(),
        "detailStatus": action.status.lower(),
        "active": bool(action.active),
        "forceType": action.action_type,
    }
    if action.action_type == "timeforced" and action.force_time is not None:
        body["forceTime"] = int(action.force_time)
    if action.weight is not None:
        body["weight"] = int(action.weight)
    if action.rollout_id is not None:
        body["rollout"] = int(action.rollout_id)
        if action.rollout_name is not None:
            body["rolloutName"] = action.rollout_name
    if action.last_status_code is not None:
        body["lastStatusCode"] = int(action.last_status_code)
    if action.external_ref:
        body["externalRef"] = action.external_ref
    if action.maintenance_window:
        body["maintenanceWindow"] = maintenance_window_json(action.maintenance_window, now)
    body["_links"] = {"self": {"href": href}}
    if canceling_or_canceled:
        body["_links"]["canceledaction"] = {"href": href}
    body["_links"].update(
        {
            "target": {"href": target_href, "name": action.controller_id},
            "distributionset": {
                "href": f"{root}/rest/v1/distributionsets/{int(action.ds_id)}",
                "name": f"{action.ds_name}:{action.ds_version}",
            },
            "status": {"href": f"{href}/status?offset=0&limit=50&sort=id%3ADESC"},
        }
    )
    if action.rollout_id is not None:
        body["_links"]["rollout"] = {
            "href": f"{root}/rest/v1/rollouts/{int(action.rollout_id)}",
            **({"name": action.rollout_name} if action.rollout_name else {}),
        }
    return body


def status_json(entry: ActionStatusEntry) -> dict[str, Any]:
    body = {
        "id": int(entry.status_id),
        "type": entry.status.lower(),
        "messages": list(entry.messages or []),
        "reportedAt": int(entry.reported_at),
        "timestamp": int(entry.timestamp),
    }
    if entry.code is not None:
        body["code"] = int(entry.code)
    return body


def assignment_json(result, root: str) -> dict[str, Any]:
    return {
        "assigned": result.assigned,
        "alreadyAssigned": result.already_assigned,
        "total": result.total,
        "assignedActions": [
            {"id": action_id, "_links": {"self": {"href": f"{root}/rest/v1/targets/{cid}/actions/{action_id}"}}}
            for cid, action_id in result.action_ids
        ],
    }
