"""Deployment Workflow models and instances, and Device Configuration tasks as instances of the configuration model.

Every state change is read -> engine (domain.workflow) -> conditional put on the instance's version,
retried on a concurrent change so no PATCH is lost; a transition that became illegal meanwhile is
then refused with 409. A configuration task reaching CONFIGURED records the device's actual
configuration in the same transaction.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from chalicelib import clock, config, errors
from chalicelib.domain import changes, config_model, dcs_ids
from chalicelib.domain import workflow as engine
from chalicelib.domain.dcs_paging import PageRequest
from chalicelib.domain.targets import Target
from chalicelib.domain.workflow import Progress, StateInfo, WorkflowModel
from chalicelib.domain.workflow_instances import (
    RegisteredModel,
    WorkflowInstance,
    becomes_configured,
    new_instance,
    progressed,
)
from chalicelib.services import config_files, device_configuration, tenant_config
from chalicelib.services.callers import Caller
from chalicelib.store import targets as target_store
from chalicelib.store import tx as tx_store
from chalicelib.store import workflow_instances as repo
from chalicelib.store.tx import Tx


@dataclass(frozen=True)
class InstanceView:
    """One instance as both APIs render it (DWS Instance, DCS ConfigurationTask)."""

    id: str
    device_id: str
    created_at: int
    model: WorkflowModel
    current: StateInfo
    history: tuple[StateInfo, ...]
    data: Any


@dataclass(frozen=True)
class InstanceFilter:
    device_id: str | None = None
    model_key: str | None = None
    group: str | None = None
    current_state: str | None = None


# --- models -------------------------------------------------------------------------------------------
def get_model(caller: Caller, key: str) -> WorkflowModel:
    if key == config_model.KEY:
        return config_model.MODEL
    item = repo.find_model(caller.tenant, key) if dcs_ids.is_model_key(key) else None
    if item is None:
        raise errors.EntityNotFound.of("Model", dcs_ids.shortened(key))
    return item.model


def create_model(caller: Caller, body: Any) -> WorkflowModel:
    model = _domain(lambda: engine.WorkflowModel.parse(body))
    if model.key == config_model.KEY:
        raise errors.EntityAlreadyExists(f"The model '{model.key}' is built in.", ["key", model.key])
    now = clock.now_ms()
    repo.create_model(RegisteredModel.new(caller.tenant, model, caller.name, now))
    return model


def delete_model(caller: Caller, key: str) -> None:
    """Instances keep their own copy of the model, so deleting one never breaks a running instance."""
    if key == config_model.KEY:
        raise errors.EntityReadOnly(f"The built-in model '{key}' cannot be deleted.", [key])
    if repo.find_model(caller.tenant, key) is None:
        raise errors.EntityNotFound.of("Model", key)
    repo.delete_model(caller.tenant, key)


# --- instances ----------------------------------------------------------------------------------------
def create_instance(caller: Caller, body: Any) -> InstanceView:
    """POST /instances: {deviceId, model: {key, customTransitions?}, data?} (operators only)."""
    if not isinstance(body, Mapping):
        raise errors.BadRequest("The instance request must be a JSON object.")
    device_id, model_ref = body.get("deviceId"), body.get("model")
    if not isinstance(device_id, str) or not device_id:
        raise errors.BadRequest("'deviceId' is required.", ["deviceId"])
    if not isinstance(model_ref, Mapping) or not isinstance(model_ref.get("key"), str):
        raise errors.BadRequest("'model.key' is required.", ["model"])
    data = body.get("data")
    if data is not None and not isinstance(data, Mapping):
        raise errors.BadRequest("'data' must be a JSON object.", ["data"])
    return _create(caller, device_id, model_ref["key"], model_ref.get("customTransitions"), data)


def create_task(caller: Caller, device_id: str, body: Any) -> InstanceView:
    """POST /devices/{deviceId}/configurationTasks: a configuration-model instance in CREATED."""
    return _create(caller, device_id, config_model.KEY, None, body)


def _create(caller: Caller, device_id: str, model_key: str, custom: Any, data: Any) -> InstanceView:
    _operator_only(caller)
    if not dcs_ids.is_device_id(device_id) or target_store.find(caller.tenant, device_id) is None:
        raise errors.EntityNotFound.of("Device", dcs_ids.shortened(device_id))
    registered = get_model(caller, model_key)
    model = _domain(lambda: registered.with_custom_transitions(custom))
    is_task = model_key == config_model.KEY
    files: dict[str, Any] = {}
    if is_task:
        definition = _domain(lambda: config_model.parse_task(data))
        files = config_files.resolve_task_files(caller.tenant, definition)
        data = config_model.task_data(files["data"], definition.custom_data, definition.target)
    # What the instance stores beside its model and progress: the data, and for a task its resolved files.
    stored = data if not is_task else [data, files.get("resolved"), files.get("refs")]
    _domain(lambda: engine.check_bytes(stored, "'data'" if not is_task else "The task", engine.MAX_DATA_BYTES))
    now = clock.now_ms()
    instance_id = repo.new_instance_id(now)
    progress = engine.start(model, now)
    instance = new_instance(
        caller.tenant,
        instance_id,
        device_id,
        model,
        progress,
        data,
        caller.name,
        now,
        file_refs=files.get("refs"),
        resolved_files=files.get("resolved"),
    )
    # The target must still exist, and not be being deleted, when the instance is written: a deleted device's
    # instances are removed once (device_configuration.forget_device), none may appear afterwards.
    tx = Tx().check(
        Target,
        caller.tenant,
        device_id,
        target_store.live_condition(),
        on_fail=lambda: errors.EntityNotFound.of("Device", device_id),
    )
    after = _record(tx, instance, progress, now)
    repo.add(tx, instance)
    copies = config_files.copy_task_files(caller.tenant, device_id, instance_id, files["resolved"]) if is_task else []
    try:
        tx.commit()
    except Exception:
        config_files.discard_copies(copies)  # a refused task leaves no copies behind
        raise
    after()
    return _view(instance)


def get_instance(caller: Caller, instance_id: str) -> InstanceView:
    return _view(_visible(caller, repo.find(caller.tenant, instance_id), instance_id))


def get_task(caller: Caller, device_id: str, task_id: str) -> InstanceView:
    return _view(_task(caller, device_id, task_id))


def list_instances(caller: Caller, where: InstanceFilter, page: PageRequest) -> tuple[list[InstanceView], int]:
    """Filtered, paged instances (default ascending creation); a device sees only its own, released ones."""
    device_id = where.device_id
    if caller.is_device:
        if device_id not in (None, caller.name):
            return [], 0
        device_id = caller.name
    if device_id is not None:
        if where.group:
            rows = repo.rows_by_device_group(caller.tenant, device_id, where.group, page.descending)
        else:
            rows = repo.rows_by_device(caller.tenant, device_id, page.descending)
    elif where.model_key:
        rows = repo.rows_by_model(caller.tenant, where.model_key, page.descending)
    else:
        rows = repo.rows_by_tenant(caller.tenant, page.descending)
    matching = [
        r
        for r in rows
        if (not where.model_key or r.model_key == where.model_key)
        and (not where.group or r.group_name == where.group)
        and (not where.current_state or r.current_state == where.current_state)
        and (not caller.is_device or r.device_visible)
    ]
    items = repo.fetch(page.window(matching))
    return [_view(i) for i in items], len(matching)


def list_tasks(caller: Caller, device_id: str, page: PageRequest) -> tuple[list[InstanceView], int]:
    """A device's configuration tasks, newest first by default."""
    _device_path(caller, device_id)
    if not caller.is_device and target_store.find(caller.tenant, device_id) is None:
        raise errors.EntityNotFound.of("Device", device_id)
    return list_instances(caller, InstanceFilter(device_id=device_id, model_key=config_model.KEY), page)


def update_instance(caller: Caller, instance_id: str, body: Any) -> InstanceView:
    update = _domain(lambda: engine.StatusUpdate.parse(body))
    return _change(
        caller,
        lambda: repo.find(caller.tenant, instance_id),
        instance_id,
        lambda model, progress, now: engine.apply(model, progress, update, caller.actor, now),
    )


def update_task(caller: Caller, device_id: str, task_id: str, body: Any) -> InstanceView:
    update = _domain(lambda: engine.StatusUpdate.parse(body))
    if update.state not in config_model.TASK_STATES:
        raise errors.BadRequest(f"'state' must be one of {', '.join(config_model.TASK_STATES)}.", ["state"])
    _device_path(caller, device_id)
    return _change(
        caller,
        lambda: _task_item(caller, device_id, task_id),
        task_id,
        lambda model, progress, now: engine.apply(model, progress, update, caller.actor, now),
    )


def cancel_instance(caller: Caller, instance_id: str) -> InstanceView:
    return _change(
        caller,
        lambda: repo.find(caller.tenant, instance_id),
        instance_id,
        lambda model, progress, now: engine.cancel(model, progress, caller.actor, now),
    )


# --- internals ----------------------------------------------------------------------------------------
def _change(
    caller: Caller,
    load: Callable[[], WorkflowInstance | None],
    instance_id: str,
    decide: Callable[[WorkflowModel, Progress, int], Progress],
) -> InstanceView:
    def attempt() -> InstanceView:
        instance = _visible(caller, load(), instance_id)
        model = instance.model
        now = clock.now_ms()
        progress = _domain(lambda: decide(model, instance.progress, now))
        change = progressed(instance, model, progress)
        tx = Tx()
        after = _record(tx, instance, progress, now)
        repo.update(tx, instance, change).commit()
        after()
        return _view(changes.applied(instance, change))

    return tx_store.retrying(tx_store.ATTEMPTS, attempt)


def _record(tx: Tx, instance: WorkflowInstance, progress: Progress, now: int) -> Callable[[], None]:
    """Add the device's actual configuration to `tx` when this change makes a task CONFIGURED; returns what to
    run once `tx` committed."""
    if becomes_configured(instance, progress):
        return device_configuration.record_task(tx, instance, now)
    return lambda: None


def _visible(caller: Caller, item: WorkflowInstance | None, instance_id: str) -> WorkflowInstance:
    if item is None or (caller.is_device and (item.device_id != caller.name or not item.device_visible)):
        raise errors.EntityNotFound.of("Instance", instance_id)
    return item


def _task_item(caller: Caller, device_id: str, task_id: str) -> WorkflowInstance:
    item = repo.find(caller.tenant, task_id)
    if item is None or item.device_id != device_id or item.model_key != config_model.KEY:
        if not caller.is_device and target_store.find(caller.tenant, device_id) is None:
            raise errors.EntityNotFound.of("Device", device_id)
        raise errors.EntityNotFound.of("ConfigurationTask", task_id)
    return item


def _task(caller: Caller, device_id: str, task_id: str) -> WorkflowInstance:
    _device_path(caller, device_id)
    return _visible(caller, _task_item(caller, device_id, task_id), task_id)


def _device_path(caller: Caller, device_id: str) -> None:
    """A device may use the DCS task endpoints of its own device only; others look absent."""
    if caller.is_device and device_id != caller.name:
        raise errors.EntityNotFound.of("Device", device_id)


def _operator_only(caller: Caller) -> None:
    if caller.is_device:
        raise errors.InsufficientPermission("Devices cannot create workflow instances.")


def _view(instance: WorkflowInstance) -> InstanceView:
    progress = instance.progress
    return InstanceView(
        instance.instance_id,
        instance.device_id,
        int(instance.created_at),
        instance.model,
        progress.current,
        progress.history,
        instance.data if instance.data is not None else {},
    )


def _domain(fn: Callable[[], Any]) -> Any:
    """Run engine code, turning its refusals into catalogue errors (400 / 409)."""
    try:
        return fn()
    except engine.IllegalTransition as exc:
        raise errors.IllegalStateTransition(str(exc)) from exc
    except engine.InvalidInput as exc:
        raise errors.BadRequest(str(exc)) from exc


# --- retention ----------------------------------------------------------------------------------------
RETENTION_KEY = "deviceconfiguration.task.retentionDays"
DAY_MS = 86_400_000


def task_retention_days(tenant: str) -> int:
    """The tenant's override, else the deployment's default (settings, 90 days unless configured)."""
    entry = tenant_config.entries(tenant)[RETENTION_KEY]
    return int(entry.value) if not entry.is_global else config.settings().config_task_retention_days


RETENTION_BATCH = 100  # due tasks read (one BatchGetItem) and deleted together


def expire_tasks(tenant: str, now: int, has_time: Callable[[], bool] = lambda: True) -> tuple[int, bool]:
    """Delete the tenant's configuration tasks created more than the retention ago, whatever their state.

    The sparse retention index yields only what is due (the cost follows what is deleted, never the
    table): per 100 due tasks one BatchGetItem, and per 25 one BatchWriteItem of deletes. Each task goes
    in three steps, each one idempotent, the task staying in the index until the last: an open task is
    closed first (canceled by the backend, so its device stops seeing it and its downloads), then the
    copies it took are released unless its device's actual configuration still names them, then the task
    is deleted. A run that stops half-way leaves what the next run completes. Files, revisions and the
    recorded actual configuration stay.

    Answers (deleted, more): `more` when it stopped because `has_time` said so with due tasks left (deleted
    tasks leave the index, so going on needs no position: the next Query starts at what is still due).
    """
    days = task_retention_days(tenant)
    due = repo.due_for_retention(tenant, now - days * DAY_MS)
    deleted = 0
    while keys := list(itertools.islice(due, RETENTION_BATCH)):
        closed = [_closed(task, days, now) for task in repo.fetch_keys(keys)]
        for task in closed:
            if task is not None:
                device_configuration.release_task_copies(task)
        deleted += repo.delete_many((t.tenant, t.sk) for t in closed if t is not None)
        if not has_time():
            return deleted, next(due, None) is not None
    return deleted, False


def _closed(task: WorkflowInstance, days: int, now: int) -> WorkflowInstance | None:
    """The task in a final state: an open one is canceled first. None: it could not be closed this time
    (changed concurrently) and waits for the next run."""
    if task.is_final():
        return task
    message = f"Expired: configuration tasks are deleted {days} days after their creation."

    def cancel(model: WorkflowModel, progress: Progress, at: int) -> Progress:
        target = model.cancel_target(progress.state, engine.Actor.BACKEND)
        return engine.apply(model, progress, engine.StatusUpdate(target, message=message), engine.Actor.BACKEND, at)

    try:
        _change(
            Caller.operator(task.tenant, "retention"),
            lambda: repo.find(task.tenant, task.instance_id),
            task.instance_id,
            cancel,
        )
    except errors.IllegalStateTransition:
        pass  # it reached a final state meanwhile (or its model cannot cancel it): delete it as it is
    except (errors.ConcurrentModification, errors.EntityNotFound):
        return None
    return repo.find(task.tenant, task.instance_id)
