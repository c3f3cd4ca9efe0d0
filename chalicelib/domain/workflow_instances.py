"""Workflow instances (Deployment Workflow instances and Device Configuration tasks) and registered models as
stored, and what a state change writes on an instance.

An instance keeps its progress (current state, history) beside the keys of the lists that find it: by device,
by device and group (the device poll), by model, and, for configuration tasks only, the sparse retention index
(`expiry_key`). Those keys follow its state, so every state change writes them with it (`progressed`).
Instance ids are time-ordered UUIDs: the sort key orders instances by creation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain import changes, config_model
from chalicelib.domain.workflow import Progress, StateInfo, WorkflowModel

INSTANCE_PREFIX = "inst#"
MODEL_PREFIX = "model#"


def device_key(tenant: str, device_id: str) -> str:
    return f"{tenant}#{device_id}"


def model_index_key(tenant: str, model_key: str) -> str:
    return f"{tenant}#{model_key}"


def group_key(group: str | None, instance_id: str) -> str:
    """The device-poll index's sort key: the instance's group, then its (creation-ordered) id."""
    return f"{group or ''}#{instance_id}"


@dataclass
class RegisteredModel:
    """A tenant's workflow model, as registered (the built-in configuration model is never stored)."""

    tenant: str
    sk: str
    key: str
    definition: dict[str, Any]
    created_at: int
    created_by: str

    @classmethod
    def new(cls, tenant: str, model: WorkflowModel, user: str, now: int) -> "RegisteredModel":
        return cls(tenant, MODEL_PREFIX + model.key, model.key, model.to_json(), now, user)

    @property
    def model(self) -> WorkflowModel:
        return WorkflowModel.from_json(self.definition)


@dataclass
class WorkflowInstance:
    tenant: str
    sk: str
    instance_id: str
    device_id: str
    device_key: str
    model_key: str
    model_index_key: str
    created_at: int
    created_by: str
    device_group_key: str = ""
    # The instance's own model when it differs from the registered one (custom transitions, user models).
    model_json: dict[str, Any] | None = None
    data: Any = None
    current_state: str = ""
    group_name: str | None = None
    current: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    device_visible: bool = True
    # Configuration tasks: the DCS revisions the device may download while the task is open
    # ("<fileId>/<hash>"), and the files resolved at creation (chalicelib/services/config_files.py).
    file_refs: list[str] | None = None
    resolved_files: list[dict[str, Any]] | None = None
    expiry_key: str | None = None
    version: int | None = None

    @property
    def is_task(self) -> bool:
        return self.model_key == config_model.KEY

    @functools.cached_property
    def model(self) -> WorkflowModel:
        return WorkflowModel.from_json(self.model_json) if self.model_json else config_model.MODEL

    @functools.cached_property
    def progress(self) -> Progress:
        return Progress(StateInfo.from_store(self.current), tuple(StateInfo.from_store(h) for h in self.history))

    def is_final(self) -> bool:
        return self.model.is_final(self.current_state)


def new_instance(
    tenant: str,
    instance_id: str,
    device_id: str,
    model: WorkflowModel,
    progress: Progress,
    data: Any,
    user: str,
    now: int,
    file_refs: list[str] | None = None,
    resolved_files: list[dict[str, Any]] | None = None,
) -> WorkflowInstance:
    """A new instance of `model` for `device_id`, started at `progress` (chalicelib.domain.workflow.start)."""
    created = WorkflowInstance(
        tenant,
        INSTANCE_PREFIX + instance_id,
        instance_id,
        device_id,
        device_key(tenant, device_id),
        model.key,
        model_index_key(tenant, model.key),
        now,
        user,
        model_json=None if model == config_model.MODEL else model.to_json(),
        data=data if data is not None else {},
        file_refs=file_refs or None,
        resolved_files=resolved_files,
    )
    return changes.applied(created, progressed(created, model, progress))


def progressed(instance: WorkflowInstance, model: WorkflowModel, progress: Progress) -> changes.Change:
    """What the engine's result writes on the instance: its progress, and the index keys that follow its state."""
    state = progress.state
    group = model.group_of(state)
    change: dict[str, Any] = {
        "current": progress.current.to_store(),
        "history": [h.to_store() for h in progress.history],
        "current_state": state,
        "group_name": group if group is not None else changes.REMOVE,
        "device_group_key": group_key(group, instance.instance_id),
        "device_visible": model.device_visible(state),
    }
    if instance.is_task and instance.expiry_key is None:
        change["expiry_key"] = instance.tenant  # joins the sparse index the retention job reads (by creation time)
    return change


def becomes_configured(instance: WorkflowInstance, progress: Progress) -> bool:
    """Whether this change makes a configuration task CONFIGURED (its files become the device's configuration)."""
    return instance.is_task and config_model.CONFIGURED in progress.entered


@dataclass(frozen=True)
class InstanceRow:
    """One index entry of an instance list: enough to filter, count and fetch the page."""

    tenant: str
    sk: str
    model_key: str | None
    current_state: str | None
    group_name: str | None
    device_visible: bool
    file_refs: tuple[str, ...] = ()

    @property
    def instance_id(self) -> str:
        return self.sk[len(INSTANCE_PREFIX) :]
