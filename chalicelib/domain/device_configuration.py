"""The device's actual configuration (docs/architecture.md, "Workflow engine"): per file path, what its newest
CONFIGURED task sent there.

A task's files are recorded by path: file id and revision hash (resolved when the task was created), content
type and length, task id and time; files named by foreign URIs by their `name`, with the task's checksum. Last
configured wins: each entry is written on the condition that the one it replaces is still there.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain import changes
from chalicelib.domain.workflow_instances import WorkflowInstance, device_key


@dataclass
class ConfiguredFile:
    device_key: str  # "tenant#deviceId"
    path: str
    uri: str
    task_id: str
    configured_at: int
    file_id: str | None = None  # None: named by a foreign URI, never in our hands
    hash: str | None = None
    checksum: str | None = None
    # DCS files: their content is the configuring task's copy (services.config_files.copy_task_files).
    content_type: str | None = None
    content_length: int | None = None


def configured_files(task: WorkflowInstance, now: int) -> list[ConfiguredFile]:
    """What a task reaching CONFIGURED records, one entry per path (a transaction writes an item once)."""
    by_path = {entry["path"]: entry for entry in task.resolved_files or []}
    return [
        ConfiguredFile(
            device_key(task.tenant, task.device_id),
            path,
            entry["uri"],
            task.instance_id,
            now,
            file_id=entry.get("fileId"),
            hash=entry.get("hash"),
            checksum=entry.get("checksum"),
            content_type=entry.get("contentType"),
            content_length=entry.get("contentLength"),
        )
        for path, entry in by_path.items()
    ]


def replacing(current: ConfiguredFile | None) -> changes.Condition:
    """The condition of writing an entry over `current` (None: no entry yet): it is still the one there, so of
    two tasks configuring a path at once the later retries on a fresh read, and each knows what it replaced."""
    return changes.Missing("path") if current is None else changes.eq("task_id", current.task_id)
