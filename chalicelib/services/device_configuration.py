"""The copy of a device's actual configuration (reference §1.5, seed step 5).

When a configuration task reaches CONFIGURED, each of its files is recorded for the device by path:
file id and revision hash (resolved when the task was created), task id and time. A later
CONFIGURED task overwrites the paths it names, so the record holds the newest revision per path.
Files named by foreign URIs are recorded by their `name` with the task's checksum.

A deleted device leaves nothing behind (`forget_device`): a new target with the same controllerId
starts without tasks, download grants or configuration.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib import errors
from chalicelib.domain import dcs_ids
from chalicelib.domain.dcs_paging import PageRequest
from chalicelib.services.callers import Caller
from chalicelib.store import device_configuration as repo
from chalicelib.store import targets as target_store
from chalicelib.store import workflow_instances
from chalicelib.store.tx import Tx
from chalicelib.store.workflow_tables import DeviceConfigurationEntry, WorkflowInstance


@dataclass(frozen=True)
class ConfiguredFile:
    path: str
    file_id: str | None
    hash: str | None
    checksum: str | None
    uri: str
    task_id: str
    configured_at: int


def record_task(tx: Tx, task: WorkflowInstance, now: int) -> Tx:
    """Add the task's files to the device's actual configuration, inside the transaction that closes the task."""
    key = repo.device_key(task.tenant, task.device_id)
    by_path = {entry["path"]: entry for entry in task.resolved_files or []}  # one write per item in a transaction
    for entry in by_path.values():
        repo.record(tx, DeviceConfigurationEntry(
            key, entry["path"], file_id=entry.get("fileId"), hash=entry.get("hash"), checksum=entry.get("checksum"),
            uri=entry["uri"], task_id=task.instance_id, configured_at=now))
    return tx


def actual_configuration(caller: Caller, device_id: str, page: PageRequest) -> tuple[list[ConfiguredFile], int]:
    if caller.is_device and caller.name != device_id:
        raise errors.EntityNotFound.of("Device", device_id)
    if not caller.is_device and target_store.find(caller.tenant, device_id) is None:
        raise errors.EntityNotFound.of("Device", device_id)
    entries = repo.entries(caller.tenant, device_id, descending=page.descending)
    files = [ConfiguredFile(e.path, e.file_id, e.hash, e.checksum, e.uri, e.task_id, int(e.configured_at))
             for e in entries]
    return page.window(files), len(files)


def forget_device(tenant: str, device_id: str) -> int:
    """Delete what these APIs keep for a device (call it once its target is deleted); the number of items deleted.

    Its workflow instances and configuration tasks in any state (and with them the file-revision
    grants they carry and their places in the retention index), then its actual configuration. Files
    and revisions belong to the tenant and stay. The cost follows what is deleted: one Query on the
    device index and one on the device's configuration partition (a page per MB), a BatchWriteItem per
    25 items; nothing is scanned. Instances are created under a condition on the target's existence,
    so none can be added after the target is gone.
    """
    if not dcs_ids.is_device_id(device_id):
        return 0
    deleted = workflow_instances.delete_many(workflow_instances.keys_by_device(tenant, device_id))
    return deleted + repo.delete_all(tenant, device_id)
