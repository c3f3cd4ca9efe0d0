"""The device's actual configuration: one item per (device, file path), the newest configured revision."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.tx import Tx
from chalicelib.store.workflow_tables import DeviceConfigurationEntry


def device_key(tenant: str, device_id: str) -> str:
    return f"{tenant}#{device_id}"


def record(tx: Tx, entry: DeviceConfigurationEntry, replaces: DeviceConfigurationEntry | None) -> Tx:
    """Last configured wins: the entry is written in the transaction that moves the task to CONFIGURED, on
    the condition that the entry it replaces (None: no entry) is still there (else ConcurrentModification)."""
    condition = (DeviceConfigurationEntry.path.does_not_exist() if replaces is None
                 else DeviceConfigurationEntry.task_id == replaces.task_id)
    tx.put(entry, condition=condition)
    return tx


def find_many(tenant: str, device_id: str, paths: list[str]) -> dict[str, DeviceConfigurationEntry]:
    """The device's entries at `paths` (BatchGetItem, consistent), by path."""
    keys = [(device_key(tenant, device_id), path) for path in dict.fromkeys(paths)]
    if not keys:
        return {}
    return {e.path: e for e in DeviceConfigurationEntry.batch_get(keys, consistent_read=True)}


def entries(tenant: str, device_id: str, descending: bool = False) -> list[DeviceConfigurationEntry]:
    return list(DeviceConfigurationEntry.query(device_key(tenant, device_id), scan_index_forward=not descending))


def delete_all(tenant: str, device_id: str) -> int:
    """Delete the device's whole actual configuration: one Query on its partition, BatchWriteItem deletes."""
    entries_of_device = DeviceConfigurationEntry.query(device_key(tenant, device_id), consistent_read=True,
                                                       attributes_to_get=["device_key", "path"])
    count = 0
    with DeviceConfigurationEntry.batch_write() as batch:
        for entry in entries_of_device:
            batch.delete(entry)
            count += 1
    return count


def find(tenant: str, device_id: str, path: str) -> DeviceConfigurationEntry | None:
    try:
        return DeviceConfigurationEntry.get(device_key(tenant, device_id), path)
    except DoesNotExist:
        return None
