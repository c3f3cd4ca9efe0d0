"""The device side (hawkBit ControllerManagement): polls, deployment commands, feedback, cancel, configData.

Hot path budget (docs/architecture.md, "Hot path"): an idle poll of a known target reads one item (the target
carries its token, status and open-action summary; tenant configuration comes from the container cache) and writes
the last-seen time at most once per interval. deploymentBase, feedback and downloads read the target and the action;
feedback writes them in one transaction guarded by both versions. Value types here are NamedTuples: this module
loads with every cold start, and they cost a fraction of a dataclass to define.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, NamedTuple

from chalicelib import auth, clock, config, errors, faults, metrics
from chalicelib.domain import actions as rules
from chalicelib.domain import changes, polling, quotas
from chalicelib.domain.actions import Action, Status, UpdateStatus
from chalicelib.domain.durations import format_hms, parse_hms
from chalicelib.domain.numbers import is_int64
from chalicelib.domain.targets import ATTRIBUTE_MODES, Target, check_attribute
from chalicelib.lazy import lazy_import
from chalicelib.services import confirmation, downloads, snapshots, tenant_config
from chalicelib.services import targets as target_service
from chalicelib.services.deployment import AssignmentRequest, assign, check_status_quota
from chalicelib.store import action_counts
from chalicelib.store import actions as action_store
from chalicelib.store import targets as target_store
from chalicelib.store.tx import ATTEMPTS, Tx, retrying

log = logging.getLogger("skyhawk")
maintenance = lazy_import("chalicelib.domain.maintenance")  # only actions with a window need it
distribution_sets = lazy_import("chalicelib.services.distribution_sets")  # only PUT installedBase needs it
auto_assignment = lazy_import("chalicelib.services.auto_assignment")  # only configData evaluates filters
rollout_job = lazy_import("chalicelib.jobs.rollouts")  # only feedback on a rollout's action queues a check


class Device(NamedTuple):
    tenant: str
    target: Target
    cfg: Mapping[str, Any]


class PollView(NamedTuple):
    sleep: str
    deployment: tuple[int, int] | None  # (actionId, c)
    cancel: int | None
    installed: int | None
    config_data: bool
    confirmation: tuple[int, int] | None = None  # (actionId, c) of an action waiting for confirmation


def _known_shape(tenant: str, controller_id: str) -> str:
    """No target can exist under a malformed tenant or an over-long controllerId: refuse before any read."""
    if not auth.valid_tenant(tenant) or not controller_id or len(controller_id) > target_service.MAX_CONTROLLER_ID:
        raise errors.DeviceUnauthorized()
    return tenant.upper()


def authenticate(tenant: str, controller_id: str, headers: Mapping[str, str], anonymous_ok: bool = False) -> Device:
    """Read the target once and check the device's credentials against it."""
    tenant = _known_shape(tenant, controller_id)
    cfg = tenant_config.values(tenant)
    target = target_store.find(tenant, controller_id)
    if anonymous_ok and cfg["anonymous.download.enabled"]:
        if target is None:
            raise errors.EntityNotFound.of("Target", controller_id)
        return Device(tenant, target, cfg)
    if target is None:
        if auth.vouched_for(cfg, headers, controller_id):
            raise errors.EntityNotFound.of("Target", controller_id)
        raise errors.DeviceUnauthorized()
    auth.check_device(cfg, headers, controller_id, target.security_token)
    return Device(tenant, target, cfg)


# --- poll ----------------------------------------------------------------------------------------------
def poll(tenant: str, controller_id: str, headers: Mapping[str, str], ip_address: str | None) -> PollView:
    device, now = _arrive(tenant, controller_id, headers, ip_address)
    target = _cancel_if_window_lapsed(device.target, now)
    view = _poll_view(device.tenant, target, device.cfg, now)
    metrics.count("DdiPolls")
    return view


def _arrive(tenant: str, controller_id: str, headers: Mapping[str, str], ip_address: str | None) -> tuple[Device, int]:
    """hawkBit's findOrRegisterTargetIfItDoesNotExist: authenticate the device (registering an unknown one
    that a gateway token or the proxy's authority vouches for) and note that it was seen."""
    tenant = _known_shape(tenant, controller_id)
    cfg = tenant_config.values(tenant)
    target = target_store.find(tenant, controller_id)
    now = clock.now_ms()
    if target is None:
        if not auth.vouched_for(cfg, headers, controller_id):
            raise errors.DeviceUnauthorized()
        target = target_service.register_plug_and_play(tenant, controller_id, ip_address)
    else:
        auth.check_device(cfg, headers, controller_id, target.security_token)
        if target.update_status == UpdateStatus.UNKNOWN.value:
            _register_known(target, now)
    _record_presence(target, now, ip_address)
    return Device(tenant, target, cfg), now


def _cancel_if_window_lapsed(target: Target, now: int) -> Target:
    """hawkBit cancels an action whose maintenance schedule has no window left: it could never install."""
    active = rules.pick_active(list(target.active_actions or []))
    if active is None or active.get("canceling") or not active.get("maintenanceWindow"):
        return target
    if window_of(active["maintenanceWindow"]).has_future(now):
        return target
    action = action_store.find(target.tenant, target.controller_id, int(active["id"]))
    if action is None or not action.active:
        return target
    seq = int(action.status_seq or 0) + 1
    change = rules.close(action, Status.CANCELED, now, "CONTROLLER", seq)
    tx = Tx().update(action, change)
    action_counts.add(tx, target.tenant, rules.moved_counts(action, change), spread_by=action.action_id)
    tx.put(
        rules.history_entry(
            target.tenant,
            action.action_id,
            seq,
            Status.CANCELED,
            [rules.SERVER_MESSAGE_PREFIX + "Maintenance window lapsed: the action was canceled."],
            now,
        )
    )
    tx.update(target, rules.target_after_close(target, int(action.action_id), now, "CONTROLLER"))
    try:
        tx.commit()
    except errors.ConcurrentModification:
        pass  # someone else changed the target: the next poll decides again
    return target_store.find(target.tenant, target.controller_id) or target


def _register_known(target: Target, now: int) -> None:
    """A target created by an operator polls for the first time: UNKNOWN -> REGISTERED, written at once."""
    try:
        Tx().update(
            target,
            {"update_status": UpdateStatus.REGISTERED.value},
            condition=changes.eq("update_status", UpdateStatus.UNKNOWN.value),
        ).commit()
        target.update_status = UpdateStatus.REGISTERED.value
    except errors.ConcurrentModification:
        pass  # a concurrent request changed it; the next poll sees the stored state


def _record_presence(target: Target, now: int, ip_address: str | None) -> None:
    interval = config.settings().last_seen_write_interval_ms
    if target.last_request_at is not None and now - int(target.last_request_at) < interval:
        return
    try:
        target_store.touch_last_seen(target.tenant, target.controller_id, now, ip_address, now - interval)
    except Exception as exc:
        if not faults.unavailable(exc):
            raise
        log.warning("last-seen of %s not written: %s", target.controller_id, faults.describe(exc))


def window_of(stored: Mapping[str, Any] | None):
    """The action's maintenance window (validated when it was assigned), or None."""
    return maintenance.Window.parse(**stored) if stored else None


def _cache_buster(tenant: str, summary: Mapping[str, Any], now: int) -> int:
    window = window_of(summary.get("maintenanceWindow"))
    available = window is not None and window.is_available(now)
    return rules.cache_buster(
        tenant, int(summary["id"]), str(summary.get("type")), summary.get("forceTime"), now, available
    )


def _poll_view(tenant: str, target: Target, cfg: Mapping[str, Any], now: int) -> PollView:
    active = rules.pick_active(list(target.active_actions or []))
    deployment = cancel = waiting = None
    sleep_ms = polling.polling_ms(cfg)
    if active is not None:
        if active.get("canceling"):
            cancel = int(active["id"])
        else:
            window = window_of(active.get("maintenanceWindow"))
            if window is not None:
                # poll a few times before the window opens (maintenanceWindowPollCount), within the bounds
                sleep_ms = maintenance.polling_sleep_ms(
                    window, now, sleep_ms, parse_hms(cfg["minPollingTime"]), int(cfg["maintenanceWindowPollCount"])
                )
            link = (int(active["id"]), _cache_buster(tenant, active, now))
            if active.get("waiting"):
                waiting = link
            else:
                deployment = link
    installed = target.installed_action_id
    if installed is not None and active is not None and int(installed) == int(active["id"]):
        installed = None
    return PollView(
        sleep=format_hms(sleep_ms),
        deployment=deployment,
        cancel=cancel,
        installed=int(installed) if installed is not None else None,
        config_data=bool(target.request_attributes),
        confirmation=waiting,
    )


# --- confirmation -------------------------------------------------------------------------------------
class ConfirmationState(NamedTuple):
    auto_confirm: confirmation.AutoConfirm | None
    waiting: tuple[int, int] | None  # (actionId, c) when the device's next action waits for confirmation


def confirmation_state(
    tenant: str, controller_id: str, headers: Mapping[str, str], ip_address: str | None
) -> ConfirmationState:
    """GET confirmationBase: like a poll, it registers an unknown device and notes that it was seen."""
    device, now = _arrive(tenant, controller_id, headers, ip_address)
    active = rules.pick_active(list(device.target.active_actions or []))
    waiting = None
    if active is not None and active.get("waiting") and not active.get("canceling"):
        waiting = (int(active["id"]), _cache_buster(device.tenant, active, now))
    return ConfirmationState(confirmation.auto_confirm_of(device.target), waiting)


def confirmation_base(device: Device, action_id: int, history_count: int) -> DeploymentView:
    """The action waiting for confirmation, in deploymentBase's shape; a bare 404 for any other action."""
    action = _action_of(device, action_id)
    if not action.active or action.status != Status.WAIT_FOR_CONFIRMATION.value:
        raise errors.NotFoundNoBody()
    return _deployment_view(device, action, history_count)


# --- deployment command --------------------------------------------------------------------------------
class DeploymentView(NamedTuple):
    action: Action
    download: str
    update: str
    chunks: list[dict]
    history: tuple[str, list[str]] | None
    maintenance_window: str | None  # "available" | "unavailable", None without a window


def deployment_base(device: Device, action_id: int, history_count: int) -> DeploymentView:
    action = _action_of(device, action_id)
    if action.status in (Status.CANCELING.value, Status.CANCELED.value, Status.WAIT_FOR_CONFIRMATION.value):
        raise errors.NotFoundNoBody()
    if action.active and action.latest_entry != Status.RETRIEVED.value:
        _append_history(
            device,
            action,
            Status.RETRIEVED,
            [rules.SERVER_MESSAGE_PREFIX + "Target retrieved update action and should start now the download."],
            set_status=Status.RETRIEVED,
        )
    return _deployment_view(device, action, history_count)


def installed_base(device: Device, action_id: int, history_count: int) -> DeploymentView:
    action = _action_of(device, action_id)
    if action.active or action.status != Status.FINISHED.value:
        raise errors.EntityNotFound(
            f"Action {action_id} is not an installed action of target {device.target.controller_id}.",
            ["Action", action_id],
        )
    return _deployment_view(device, action, history_count)


def _deployment_view(device: Device, action: Action, history_count: int) -> DeploymentView:
    now = clock.now_ms()
    window = window_of(action.maintenance_window)
    available = window.is_available(now) if window is not None else None
    download, update = rules.handling(action.action_type, action.force_time, now, available)
    history = None
    if history_count:
        # hawkBit: a negative count asks for the maximum
        count = quotas.MAX_ACTION_HISTORY if history_count < 0 else min(history_count, quotas.MAX_ACTION_HISTORY)
        messages: list[str] = []
        for entry in action_store.history(device.tenant, int(action.action_id), page_size=count):
            for message in entry.messages or []:
                if not message.startswith(rules.SERVER_MESSAGE_PREFIX):
                    messages.append(message)
            if len(messages) >= count:
                break
        history = (action.status, messages[:count])
    window_state = None if available is None else "available" if available else "unavailable"
    return DeploymentView(
        action, download, update, snapshots.chunks(device.tenant, int(action.ds_id)), history, window_state
    )


def _action_of(device: Device, action_id: int) -> Action:
    action = action_store.find(device.tenant, device.target.controller_id, action_id)
    if action is None:
        raise not_an_action_of(device, action_id)
    return action


def not_an_action_of(device: Device, action_id: int) -> errors.EntityNotFound:
    return errors.EntityNotFound(
        f"Not a valid action ({action_id}) for target: {device.target.controller_id}", ["Action", action_id]
    )


# --- feedback ------------------------------------------------------------------------------------------
class Feedback(NamedTuple):
    execution: str
    finished: str
    messages: list[str]
    code: int | None
    timestamp: int | None


def parse_feedback(body: Any) -> Feedback:
    """Tolerant of what real clients send: id as string or number, progress absent or {}, details [""], time."""
    if not isinstance(body, dict):
        raise errors.BodyNotReadable("The feedback body must be a JSON object.")
    status = body.get("status")
    if not isinstance(status, dict):
        raise errors.ConstraintViolation("status is required.", ["status"])
    execution = status.get("execution")
    if not isinstance(execution, str) or execution.lower() not in rules.EXECUTIONS:
        raise errors.BodyNotReadable(
            f"status.execution must be one of {', '.join(rules.EXECUTIONS)}.", ["status.execution"]
        )
    result = status.get("result")
    if not isinstance(result, dict):
        raise errors.ConstraintViolation("status.result is required.", ["status.result"])
    finished = result.get("finished")
    if not isinstance(finished, str) or finished.lower() not in rules.FINISHED_RESULTS:
        raise errors.BodyNotReadable(
            f"status.result.finished must be one of {', '.join(rules.FINISHED_RESULTS)}.", ["status.result.finished"]
        )
    details = status.get("details") or []
    if not isinstance(details, list):
        raise errors.ConstraintViolation("status.details must be a list of strings.", ["status.details"])
    messages = [str(d) for d in details if d is not None and str(d) != ""]
    code = status.get("code")
    if code is not None and not is_int64(code):
        raise errors.ConstraintViolation("status.code must be a number.", ["status.code"])
    timestamp = body.get("timestamp")
    if timestamp is not None and not is_int64(timestamp):
        timestamp = None
    return Feedback(execution.lower(), finished.lower(), messages, code, timestamp)


def deployment_feedback(device: Device, action_id: int, body: Any) -> None:
    feedback = parse_feedback(body)

    def attempt(device: Device) -> None:
        action = _action_of(device, action_id)
        if action.status == Status.WAIT_FOR_CONFIRMATION.value:
            raise errors.NotFoundNoBody()  # hawkBit answers this before looking at whether it is active
        if not action.active:
            raise errors.Gone()
        outcome = rules.deployment_feedback(feedback.execution, feedback.finished, action.action_type)
        _apply(device, action, feedback, outcome)

    _with_fresh_target(device, attempt)
    metrics.count("DdiFeedback")


def cancel_command(device: Device, action_id: int) -> Action:
    action = _action_of(device, action_id)
    if action.status not in (Status.CANCELING.value, Status.CANCELED.value):
        raise errors.EntityNotFound(f"Action {action_id} is not being canceled.", ["Action", action_id])
    if action.active and action.latest_entry != Status.RETRIEVED.value:
        _append_history(
            device,
            action,
            Status.RETRIEVED,
            [rules.SERVER_MESSAGE_PREFIX + "Target retrieved cancel action and should start now the cancelation."],
        )
    return action


def cancel_feedback(device: Device, action_id: int, body: Any) -> None:
    feedback = parse_feedback(body)

    def attempt(device: Device) -> None:
        action = _action_of(device, action_id)
        if not action.active or action.status != Status.CANCELING.value:
            raise errors.ActionNotCancelable(f"Action {action_id} is not canceling.", [action_id])
        _apply(device, action, feedback, rules.cancel_feedback(feedback.execution, feedback.finished))

    _with_fresh_target(device, attempt)
    metrics.count("DdiFeedback")


def record_status(
    device: Device,
    action_id: int,
    feedback: Feedback,
    outcome_of: Callable[[Action], rules.Outcome],
    also: Callable[[Tx], Any] | None = None,
) -> None:
    """A status of an open action from another channel than DDI's routes (DMF's UPDATE_ACTION_STATUS): the same
    transaction as DDI feedback (history, counts, target, the rollout's check). `outcome_of` decides on the action
    as read (again on each retry) or refuses; `also` adds to the transaction (an idempotency marker). A closed
    action is 410 (Gone), one waiting for confirmation 404, as DDI's deployment feedback."""

    def attempt(device: Device) -> None:
        action = _action_of(device, action_id)
        if not action.active:
            raise errors.Gone()
        if action.status == Status.WAIT_FOR_CONFIRMATION.value:
            raise errors.NotFoundNoBody()
        _apply(device, action, feedback, outcome_of(action), also)

    _with_fresh_target(device, attempt)


def _with_fresh_target(device: Device, attempt) -> None:
    """Run `attempt` on the authenticated device; after a concurrent change, on the target read again."""
    tries = iter(range(ATTEMPTS))

    def once() -> None:
        nonlocal device
        if next(tries):  # a retry: the target changed under the last attempt
            target = target_store.find(device.tenant, device.target.controller_id)
            if target is None:
                raise errors.EntityNotFound.of("Target", device.target.controller_id)
            device = Device(device.tenant, target, device.cfg)
        attempt(device)

    retrying(ATTEMPTS, once)


def _apply(
    device: Device, action: Action, feedback: Feedback, outcome: rules.Outcome, also: Callable[[Tx], Any] | None = None
) -> None:
    """One transaction: action status, the history entry, and the target when the action ends."""
    # Counted as stored: a long detail becomes several messages of at most 512 characters.
    reported = [piece for message in feedback.messages for piece in rules.split_message(message)]
    intermediate = not outcome.closes and rules.is_intermediate(outcome.history)
    check_status_quota(action, len(reported), intermediate)
    now = clock.now_ms()
    user = "CONTROLLER"
    seq = int(action.status_seq or 0) + 1
    messages = list(outcome.messages) + reported
    if feedback.code is not None:
        messages.append(f"Device reported status code: {feedback.code}")
    if not messages:
        messages = [rules.default_message(feedback.execution, feedback.finished)]
    change = rules.action_after_feedback(action, outcome, intermediate, now, user, seq, feedback.code)
    tx = Tx().update(action, change)
    # only when the status changes
    action_counts.add(tx, device.tenant, rules.moved_counts(action, change), spread_by=action.action_id)
    tx.put(
        rules.history_entry(
            device.tenant, action.action_id, seq, outcome.history, messages, now, feedback.timestamp, feedback.code
        )
    )
    target_change = rules.target_after_feedback(device.target, action, outcome, feedback.timestamp or now, now, user)
    if target_change:
        tx.update(device.target, target_change)
    if also is not None:
        also(tx)
    tx.commit()
    if action.rollout_id is not None:
        rollout_job.action_changed(device.tenant, action, change)  # a group may have reached its threshold


def _append_history(
    device: Device, action: Action, status: Status, messages: list[str], set_status: Status | None = None
) -> None:
    """Server-side history entry (RETRIEVED, DOWNLOAD); a concurrent change simply skips it.

    Not counted against maxStatusEntriesPerAction: that quota limits what devices report, and a device
    that downloads again and again must not lose its ability to report progress. Bounded on its own
    (rules.may_note): past it, downloads go unnoted.
    """
    if not rules.may_note(action):
        return
    now = clock.now_ms()
    seq = int(action.status_seq or 0) + 1
    change = rules.note(action, status, now, seq, set_status)
    tx = Tx().update(action, change)
    action_counts.add(tx, device.tenant, rules.moved_counts(action, change), spread_by=action.action_id)
    tx.put(rules.history_entry(device.tenant, action.action_id, seq, status, messages, now))
    try:
        tx.commit()
    except errors.ConcurrentModification:
        pass


# --- installedBase (PUT) -------------------------------------------------------------------------------
def report_installed(device: Device, body: Any) -> bool:
    """The device runs a set it got some other way (hawkBit's EXPERIMENTAL updateOfflineAssignedVersion): an
    offline assignment, FINISHED at once. True when it created an action; False when the target has the set
    assigned already or an update pending (hawkBit leaves such targets alone)."""
    if not isinstance(body, dict):
        raise errors.BodyNotReadable("The body must be an object {name, version}.")
    for key in ("name", "version"):
        if not isinstance(body.get(key), str):
            raise errors.BodyNotReadable(f"{key} (a string) is required.", [key])
    ds_id = distribution_sets.id_by_name_and_version(device.tenant, body["name"], body["version"])
    controller_id = device.target.controller_id
    # hawkBit runs it as the device: the action's initiator is the controller id.
    result = assign(device.tenant, ds_id, [AssignmentRequest(controller_id)], controller_id, offline=True)
    return result.assigned > 0


# --- configData ----------------------------------------------------------------------------------------
def config_data(device: Device, body: Any) -> None:
    if not isinstance(body, dict):
        raise errors.BodyNotReadable("The configData body must be a JSON object.")
    data = body.get("data")
    if not isinstance(data, dict) or not data:
        raise errors.ConstraintViolation("data must be a non-empty object.", ["data"])
    mode = body.get("mode") or "merge"
    if not isinstance(mode, str) or mode.lower() not in ATTRIBUTE_MODES:
        raise errors.ConstraintViolation("mode must be merge, replace or remove.", ["mode"])
    mode = mode.lower()
    for key, value in data.items():
        check_attribute(key, value, mode)
    update_attributes(device, data, mode)


def update_attributes(device: Device, data: Mapping[str, Any], mode: str, clears_request: bool = True) -> None:
    """Set the controller attributes (checked already) by mode merge / replace / remove; `clears_request`: the
    target's "request attributes" flag goes off (DMF's REMOVE leaves it, hawkBit's updateControllerAttributes)."""

    def attempt(device: Device) -> None:
        current = dict(device.target.attributes or {})
        if mode == "remove":
            merged = {k: v for k, v in current.items() if k not in data}
        else:
            merged = dict(current) if mode == "merge" else {}
            for key, value in data.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = str(value)
        quotas.check_assign(
            len(merged) - len(current),
            len(current),
            quotas.MAX_ATTRIBUTE_ENTRIES_PER_TARGET,
            "Attribute entities",
            f"Target '{device.target.controller_id}'",
        )
        change: dict[str, Any] = {"attributes": merged}
        if clears_request:
            change["request_attributes"] = False
        Tx().update(device.target, change).commit()

    _with_fresh_target(device, attempt)
    auto_assignment.changed(device.tenant, [device.target.controller_id])


# --- artifacts -----------------------------------------------------------------------------------------
class ModuleView(NamedTuple):
    chunk: dict
    action_id: int
    active: bool  # an open action's module: its downloads are noted in the action's history


def module_of_target(device: Device, sm_id: int) -> ModuleView:
    """The module must belong to an open (non-canceling) action of the target, or to its installed set.

    Decided from the target's summaries and the sets' snapshots (kept per container): no action is read.
    """
    target = device.target
    candidates = [
        (int(a["id"]), int(a["dsId"]), True)
        for a in sorted(target.active_actions or [], key=lambda a: -int(a["id"]))
        if not a.get("canceling")
    ]
    if target.installed_action_id is not None and target.installed_ds is not None:
        candidates.append((int(target.installed_action_id), int(target.installed_ds), False))
    for action_id, ds_id, active in candidates:
        for chunk in snapshots.chunks(device.tenant, ds_id):
            if int(chunk["smId"]) == int(sm_id):
                return ModuleView(chunk, action_id, active)
    raise errors.EntityNotFound(
        f"Software module {sm_id} is not assigned to target {target.controller_id}.", ["SoftwareModule", sm_id]
    )


def artifact_of(module: ModuleView, filename: str) -> dict:
    for artifact in module.chunk["artifacts"]:
        if artifact["filename"] == filename:
            return artifact
    raise errors.EntityNotFound(
        f"Artifact {filename} does not exist in software module {module.chunk['smId']}.", ["Artifact", filename]
    )


def record_download(device: Device, module: ModuleView, uri: str) -> None:
    """A full (non-Range) download is noted in the action history, as hawkBit does."""
    if not module.active:
        return
    action = action_store.find(device.tenant, device.target.controller_id, module.action_id)
    if action is not None and action.active:
        _append_history(device, action, Status.DOWNLOAD, [rules.SERVER_MESSAGE_PREFIX + f"Target downloads {uri}"])


class Download(NamedTuple):
    filename: str
    sha1: str
    size: int  # of what a GET would send: the artifact, or the md5sum text
    url: str | None = None  # a signed URL to redirect to ...
    md5sum: str | None = None  # ... or the text of a `<name>.MD5SUM` file


MD5SUM_SUFFIX = ".MD5SUM"


def _md5sum_text(artifact: dict) -> str:
    return f"{artifact['hashes']['md5']}  {artifact['filename']}\n"


def _requested_file(module: ModuleView, file_name: str) -> tuple[dict, bool]:
    """(artifact, is the `<name>.MD5SUM` of it): a real artifact of that name wins over the suffix."""
    names = {a["filename"] for a in module.chunk["artifacts"]}
    if file_name.endswith(MD5SUM_SUFFIX) and file_name not in names:
        return artifact_of(module, file_name[: -len(MD5SUM_SUFFIX)]), True
    return artifact_of(module, file_name), False


def _check_if_match(artifact: dict, if_match: str | None) -> None:
    if if_match and if_match.strip().strip('"') not in (artifact["hashes"]["sha1"], "*"):
        raise errors.PreconditionFailed()


def download(device: Device, sm_id: int, file_name: str, if_match: str | None, ranged: bool, uri: str) -> Download:
    """An artifact of the device's module as a signed URL (S3 then serves Range, 206 and 416), or its md5sum.

    If-Match is compared with the SHA-1 (412 on a mismatch). A full download (no Range) and an md5sum
    fetch are noted in the action history with the request's path, as hawkBit does; range requests are
    not (issue #1249).
    """
    module = module_of_target(device, sm_id)
    artifact, md5sum = _requested_file(module, file_name)
    if md5sum:
        record_download(device, module, uri)
        text = _md5sum_text(artifact)
        return Download(
            artifact["filename"] + MD5SUM_SUFFIX, artifact["hashes"]["sha1"], len(text.encode()), md5sum=text
        )
    _check_if_match(artifact, if_match)
    if not ranged:
        record_download(device, module, uri)
    validity = int(device.cfg["cdn.validity.days"]) * 86400
    return Download(
        artifact["filename"],
        artifact["hashes"]["sha1"],
        int(artifact["size"]),
        url=downloads.signed_url(artifact["s3Key"], artifact["filename"], validity),
    )


def describe_download(device: Device, sm_id: int, file_name: str, if_match: str | None) -> Download:
    """What a GET of the artifact would send, without sending it (HEAD): SWUpdate asks for the size first.

    Nothing is signed (a URL presigned for GET must never answer a HEAD) and nothing is recorded: a HEAD
    downloads nothing.
    """
    module = module_of_target(device, sm_id)
    artifact, md5sum = _requested_file(module, file_name)
    if md5sum:
        return Download(
            artifact["filename"] + MD5SUM_SUFFIX, artifact["hashes"]["sha1"], len(_md5sum_text(artifact).encode())
        )
    _check_if_match(artifact, if_match)
    return Download(artifact["filename"], artifact["hashes"]["sha1"], int(artifact["size"]))
