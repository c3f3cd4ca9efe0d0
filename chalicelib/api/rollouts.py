"""/rest/v1/rollouts: hawkBit's 15 rollout operations and `stop` (docs/rollouts-hawkbit.md §1, §7).

Permissions as hawkBit's RolloutManagement: READ_ROLLOUT to read (group targets also READ_TARGET),
CREATE_ROLLOUT to create and retry, UPDATE_ROLLOUT to rename, stop and trigger the next group, HANDLE_ROLLOUT to
start, pause and resume, APPROVE_ROLLOUT to approve or deny, DELETE_ROLLOUT to delete. Void operations answer 200
as the reference OpenAPI documents (hawkBit's newest release: 204).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.catalog_views import audit, paged, without_none
from chalicelib.api.common import base_url, empty, int_param, json_body, json_response, principal, query, route
from chalicelib.api.mgmt_views import targets_json
from chalicelib.domain.listing import Paging
from chalicelib.domain.rollout_progress import Counts
from chalicelib.domain.rollouts import Rollout, RolloutGroup
from chalicelib.lazy import lazy_import

rollouts = lazy_import("chalicelib.services.rollouts")
rollout_spec = lazy_import("chalicelib.domain.rollout_spec")
tenant_config = lazy_import("chalicelib.services.tenant_config")

bp = Blueprint(__name__)

BASE = "/rest/v1/rollouts"


def _past_hawkbit(rollout: Rollout) -> dict[str, Any]:
    """skyhawk's own optional fields, echoed as given (README)."""
    body: dict[str, Any] = {}
    if rollout.max_per_minute is not None:
        rate: dict[str, Any] = {"maximumPerMinute": int(rollout.max_per_minute)}
        if rollout.base_per_minute is not None:
            rate["exponentialRate"] = {
                "baseRatePerMinute": int(rollout.base_per_minute),
                "incrementFactor": float(rollout.increment_factor or 0),
                "rateIncreaseCriteria": {
                    (
                        "numberOfSucceededActions" if rollout.increase_on == "succeeded" else "numberOfStartedActions"
                    ): int(rollout.increase_every or 0)
                },
            }
        body["rateControl"] = rate
    if rollout.action_timeout_ms:
        body["actionTimeout"] = {"inProgressMinutes": int(rollout.action_timeout_ms) // 60_000}
    if rollout.status_message:
        body["statusMessage"] = rollout.status_message
    return body


def rollout_json(rollout: Rollout, root: str, counts: Counts | None = None) -> dict[str, Any]:
    """MgmtRolloutResponseBody; with `counts` the detailed form (single GET, POST, representation=full)."""
    href = f"{root}{BASE}/{int(rollout.id)}"
    body: dict[str, Any] = {
        **audit(rollout),
        "name": rollout.name,
        "description": rollout.description,
        "id": int(rollout.id),
        "targetFilterQuery": rollout.target_filter_query,
        "distributionSetId": int(rollout.ds_id),
        "status": rollout.status.lower(),
        "totalTargets": int(rollout.total_targets),
        "deleted": bool(rollout.deleted),
        "type": rollout.action_type,
        "forcetime": int(rollout.force_time or 0),
        "weight": None if rollout.weight is None else int(rollout.weight),
        "dynamic": bool(rollout.dynamic),
        **_past_hawkbit(rollout),
    }
    links: dict[str, Any] = {"self": {"href": href}}
    if counts is not None:
        body["totalTargetsPerStatus"] = rollouts.per_status(rollout, counts, int(rollout.total_targets))
        body["totalGroups"] = int(rollout.total_groups)
        body["startAt"] = None if rollout.start_at is None else int(rollout.start_at)
        body["approvalRemark"] = rollout.approval_remark
        body["approveDecidedBy"] = rollout.approval_decided_by
        for name in ("start", "pause", "resume", "triggerNextGroup", "approve", "deny"):
            links[name] = {"href": f"{href}/{name}"}
        links["groups"] = {"href": f"{href}/deploygroups?offset=0&limit=50"}
        links["distributionset"] = {"href": f"{root}/rest/v1/distributionsets/{int(rollout.ds_id)}"}
    body["_links"] = links
    return without_none(body)


def group_json(
    group: RolloutGroup, rollout: Rollout, root: str, flow: bool, counts: Counts | None = None
) -> dict[str, Any]:
    """MgmtRolloutGroupResponseBody; `confirmationRequired` only while the confirmation flow is on."""
    body: dict[str, Any] = {
        **audit(group),
        "name": group.name,
        "description": group.description,
        "successCondition": {"condition": group.success_condition, "expression": group.success_expression},
        "successAction": without_none({"action": group.success_action, "expression": group.success_action_expression}),
        "targetFilterQuery": group.target_filter_query or "",
        "targetPercentage": float(group.target_percentage),
        "id": int(group.id),
        "dynamic": bool(group.dynamic),
        "status": group.status.lower(),
        "totalTargets": int(group.total_targets),
    }
    if group.error_condition is not None:
        body["errorCondition"] = {"condition": group.error_condition, "expression": group.error_expression}
    if group.error_action is not None:
        body["errorAction"] = without_none({"action": group.error_action, "expression": group.error_action_expression})
    if flow:
        body["confirmationRequired"] = bool(group.confirmation_required)
    if counts is not None:
        body["totalTargetsPerStatus"] = rollouts.per_status(rollout, counts, int(group.total_targets))
    body["_links"] = {"self": {"href": f"{root}{BASE}/{int(rollout.id)}/deploygroups/{int(group.id)}"}}
    return without_none(body)


def _rollout_id(value: str) -> int:
    return int_param(value, "rolloutId")


def _full(params: dict[str, str]) -> bool:
    return (params.get("representation") or "compact").lower() == "full"


def _detailed(who, rollout_id: int, status: int = 200):
    found = rollouts.with_progress(who.tenant, rollout_id)
    return json_response(rollout_json(found.rollout, base_url(bp), found.total), status=status)


@route(bp, BASE)
def list_rollouts():
    who = principal(bp, "READ_ROLLOUT")
    params = query(bp)
    paging = Paging.parse(params, rollouts.SORTABLE, "id:ASC")
    items, total = rollouts.list_rollouts(who.tenant, params.get("q"), paging)
    root = base_url(bp)
    if _full(params):
        content = [rollout_json(p.rollout, root, p.total) for p in rollouts.progress_of(who.tenant, items)]
    else:
        content = [rollout_json(r, root) for r in items]
    return json_response(paged(content, total))


@route(bp, BASE, methods=["POST"])
def create_rollout():
    who = principal(bp, "CREATE_ROLLOUT", "READ_REPOSITORY", "READ_TARGET")
    spec = rollout_spec.rollout_spec(json_body(bp, dict))
    rollout = rollouts.create(who.tenant, spec, who.username, who.permissions)
    return _detailed(who, rollout.id, status=201)


@route(bp, BASE + "/{rollout_id}")
def get_rollout(rollout_id):
    who = principal(bp, "READ_ROLLOUT")
    return _detailed(who, _rollout_id(rollout_id))


@route(bp, BASE + "/{rollout_id}", methods=["PUT"])
def update_rollout(rollout_id):
    who = principal(bp, "UPDATE_ROLLOUT")
    change = rollout_spec.rollout_change(json_body(bp, dict))
    rollouts.update(who.tenant, _rollout_id(rollout_id), change, who.username)
    return _detailed(who, _rollout_id(rollout_id))


@route(bp, BASE + "/{rollout_id}", methods=["DELETE"])
def delete_rollout(rollout_id):
    who = principal(bp, "DELETE_ROLLOUT")
    rollouts.delete(who.tenant, _rollout_id(rollout_id), who.username)
    return empty(200)


@route(bp, BASE + "/{rollout_id}/start", methods=["POST"])
def start_rollout(rollout_id):
    who = principal(bp, "HANDLE_ROLLOUT")
    rollouts.start(who.tenant, _rollout_id(rollout_id), who.username)
    return empty(200)


@route(bp, BASE + "/{rollout_id}/pause", methods=["POST"])
def pause_rollout(rollout_id):
    who = principal(bp, "HANDLE_ROLLOUT")
    rollouts.pause(who.tenant, _rollout_id(rollout_id), who.username)
    return empty(200)


@route(bp, BASE + "/{rollout_id}/resume", methods=["POST"])
def resume_rollout(rollout_id):
    who = principal(bp, "HANDLE_ROLLOUT")
    rollouts.resume(who.tenant, _rollout_id(rollout_id), who.username)
    return empty(200)


@route(bp, BASE + "/{rollout_id}/stop", methods=["POST"])
def stop_rollout(rollout_id):
    who = principal(bp, "UPDATE_ROLLOUT")
    rollouts.stop(who.tenant, _rollout_id(rollout_id), who.username)
    return empty(200)


def _approval(rollout_id: str, approved: bool):
    who = principal(bp, "APPROVE_ROLLOUT")
    rollouts.approve(who.tenant, _rollout_id(rollout_id), approved, query(bp).get("remark"), who.username)
    return empty(200)


@route(bp, BASE + "/{rollout_id}/approve", methods=["POST"])
def approve_rollout(rollout_id):
    return _approval(rollout_id, True)


@route(bp, BASE + "/{rollout_id}/deny", methods=["POST"])
def deny_rollout(rollout_id):
    return _approval(rollout_id, False)


@route(bp, BASE + "/{rollout_id}/triggerNextGroup", methods=["POST"])
def trigger_next_group(rollout_id):
    who = principal(bp, "UPDATE_ROLLOUT")
    rollouts.trigger_next_group(who.tenant, _rollout_id(rollout_id), who.username)
    return empty(200)


@route(bp, BASE + "/{rollout_id}/retry", methods=["POST"])
def retry_rollout(rollout_id):
    who = principal(bp, "CREATE_ROLLOUT", "READ_REPOSITORY", "READ_TARGET")
    rollout = rollouts.retry(who.tenant, _rollout_id(rollout_id), who.username, who.permissions)
    return _detailed(who, rollout.id, status=201)


@route(bp, BASE + "/{rollout_id}/deploygroups")
def list_groups(rollout_id):
    who = principal(bp, "READ_ROLLOUT")
    params = query(bp)
    paging = Paging.parse(params, rollouts.GROUP_SORTABLE, "id:ASC")
    rollout = rollouts.get(who.tenant, _rollout_id(rollout_id))
    items, total = rollouts.groups(who.tenant, rollout.id, params.get("q"), paging)
    counts = rollouts.group_counts(who.tenant, rollout) if _full(params) else None
    root, flow = base_url(bp), _flow(who.tenant)
    content = [
        group_json(g, rollout, root, flow, None if counts is None else counts.get(g.position, Counts())) for g in items
    ]
    return json_response(paged(content, total))


@route(bp, BASE + "/{rollout_id}/deploygroups/{group_id}")
def get_group(rollout_id, group_id):
    who = principal(bp, "READ_ROLLOUT")
    rollout = rollouts.get(who.tenant, _rollout_id(rollout_id))
    group = rollouts.group(who.tenant, rollout.id, int_param(group_id, "groupId"))
    counts = rollouts.group_counts(who.tenant, rollout).get(group.position, Counts())
    return json_response(group_json(group, rollout, base_url(bp), _flow(who.tenant), counts))


@route(bp, BASE + "/{rollout_id}/deploygroups/{group_id}/targets")
def group_targets(rollout_id, group_id):
    who = principal(bp, "READ_ROLLOUT", "READ_TARGET")
    targets, total = rollouts.group_targets(
        who.tenant, _rollout_id(rollout_id), int_param(group_id, "groupId"), query(bp)
    )
    return json_response(paged(targets_json(targets, who, base_url(bp)), total))


def _flow(tenant: str) -> bool:
    return bool(tenant_config.value(tenant, "user.confirmation.flow.enabled"))
