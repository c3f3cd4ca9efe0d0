"""The copy of a device's actual configuration (docs/architecture.md, "Workflow engine").

When a configuration task reaches CONFIGURED, each of its files is recorded for the device by path:
file id and revision hash (resolved when the task was created), content type and length, task id and
time. A later CONFIGURED task overwrites the paths it names, so the record holds the newest revision
per path. Files named by foreign URIs are recorded by their `name` with the task's checksum.

The content of a recorded DCS file is the copy its task took when it was created: it stays readable
(`configured_content`) after the file's head moved on or the file was deleted, and is released when
a newer configuration replaces the entry.

A deleted device leaves nothing behind (`forget_device`): a new target with the same controllerId
starts without tasks, download grants or configuration.
"""

from __future__ import annotations

import logging
from typing import Callable

from chalicelib import errors
from chalicelib.domain import config_model, dcs_ids
from chalicelib.domain.config_files import Content
from chalicelib.domain.dcs_paging import PageRequest
from chalicelib.domain.device_configuration import ConfiguredFile, configured_files, replacing
from chalicelib.domain.workflow_instances import WorkflowInstance
from chalicelib.services import config_files
from chalicelib.services.callers import Caller
from chalicelib.store import device_configuration as repo
from chalicelib.store import targets as target_store
from chalicelib.store import workflow_instances
from chalicelib.store.tx import Tx

log = logging.getLogger("skyhawk")


def record_task(tx: Tx, task: WorkflowInstance, now: int) -> Callable[[], None]:
    """Add the task's files to the device's actual configuration, inside the transaction that closes the task.

    Reads the entries it replaces (one BatchGetItem) and writes each on the condition that the one read is
    still there: of two tasks configuring a path at once, the later retries on a fresh read, and each knows
    exactly which entry it replaced. Returns what to run once the transaction committed: release the
    copies of the replaced entries (a crash before leaves them behind until the device is forgotten).
    """
    recorded = configured_files(task, now)
    current = repo.find_many(task.tenant, task.device_id, [entry.path for entry in recorded])
    for entry in recorded:
        tx.put(entry, condition=replacing(current.get(entry.path)))
    replaced = [e for e in current.values() if e.task_id != task.instance_id]

    def release_replaced() -> None:
        for old in replaced:
            if old.file_id is None or old.hash is None:
                continue  # named by a foreign URI: no copy was taken
            try:
                config_files.release_copy(task.tenant, task.device_id, old.task_id, old.file_id, old.hash)
            except Exception:
                log.exception("could not release the copy of %s for device %s", old.path, task.device_id)

    return release_replaced


def release_task_copies(task: WorkflowInstance) -> None:
    """Delete the copies a task took, except those its device's actual configuration names (idempotent).

    Call on a task in a final state that is about to go: only a CONFIGURED task recorded entries (one
    BatchGetItem finds those still naming its copies; later tasks may have replaced them).
    """
    pinned = [e for e in task.resolved_files or [] if e.get("fileId") is not None]
    recorded: set[tuple[str | None, str | None]] = set()
    if pinned and task.current_state == config_model.CONFIGURED:
        current = repo.find_many(task.tenant, task.device_id, [e["path"] for e in pinned])
        recorded = {(e.file_id, e.hash) for e in current.values() if e.task_id == task.instance_id}
    for entry in pinned:
        if (entry["fileId"], entry["hash"]) not in recorded:
            config_files.release_copy(task.tenant, task.device_id, task.instance_id, entry["fileId"], entry["hash"])


def actual_configuration(caller: Caller, device_id: str, page: PageRequest) -> tuple[list[ConfiguredFile], int]:
    _readable(caller, device_id)
    files = repo.entries(caller.tenant, device_id, descending=page.descending)
    return page.window(files), len(files)


def configured_content(caller: Caller, device_id: str, path: str, accept: str | None) -> Content:
    """The bytes recorded at `path` of the device's actual configuration (DCS files only: a file named by a
    foreign URI was never in our hands)."""
    _readable(caller, device_id)
    entry = repo.find(caller.tenant, device_id, path)
    if entry is None:
        raise errors.EntityNotFound(
            f"Device {device_id} has no configured file at path '{dcs_ids.shortened(path)}'.", ["ConfiguredFile", path]
        )
    if entry.file_id is None or entry.hash is None:  # a DCS file is recorded with its revision's hash
        raise errors.EntityNotFound(
            f"The file at path '{dcs_ids.shortened(path)}' was configured from a foreign URI; no copy of it is stored.",
            ["ConfiguredFile", path],
        )
    return config_files.copied_content(
        caller.tenant, device_id, entry.task_id, entry.file_id, entry.hash, entry.content_type, accept
    )


def _readable(caller: Caller, device_id: str) -> None:
    """Operators read any existing device's configuration; a device only its own."""
    if caller.is_device and caller.name != device_id:
        raise errors.EntityNotFound.of("Device", device_id)
    if not caller.is_device and target_store.find(caller.tenant, device_id) is None:
        raise errors.EntityNotFound.of("Device", device_id)


def forget_device(tenant: str, device_id: str) -> int:
    """Delete what these APIs keep for a device (call it once its target is deleted); the number of items deleted.

    Its workflow instances and configuration tasks in any state (and with them the file-revision
    grants they carry and their places in the retention index), then its actual configuration, then the
    copies its tasks took. Files and revisions belong to the tenant and stay. The cost follows what is
    deleted: one Query on the device index and one on the device's configuration partition (a page per
    MB), a BatchWriteItem per 25 items, an S3 listing per 1000 copies; nothing is scanned. Instances are
    created under a condition on the target's existence, so none can be added after the target is gone.
    """
    if not dcs_ids.is_device_id(device_id):
        return 0
    deleted = workflow_instances.delete_many(workflow_instances.keys_by_device(tenant, device_id))
    deleted += repo.delete_all(tenant, device_id)
    config_files.forget_copies(tenant, device_id)
    return deleted
