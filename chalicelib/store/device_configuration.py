"""The device's actual configuration: one item per (device, file path), the newest configured revision."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import device_configuration as domain
from chalicelib.domain.workflow_instances import device_key
from chalicelib.store import records
from chalicelib.store.workflow_tables import DeviceConfigurationEntry


def _entry(item: DeviceConfigurationEntry) -> domain.ConfiguredFile:
    return records.to_entity(domain.ConfiguredFile, item)


def find_many(tenant: str, device_id: str, paths: list[str]) -> dict[str, domain.ConfiguredFile]:
    """The device's entries at `paths` (BatchGetItem, consistent), by path."""
    keys = [(device_key(tenant, device_id), path) for path in dict.fromkeys(paths)]
    if not keys:
        return {}
    return {e.path: _entry(e) for e in DeviceConfigurationEntry.batch_get(keys, consistent_read=True)}


def entries(tenant: str, device_id: str, descending: bool = False) -> list[domain.ConfiguredFile]:
    return [
        _entry(e)
        for e in DeviceConfigurationEntry.query(device_key(tenant, device_id), scan_index_forward=not descending)
    ]


def delete_all(tenant: str, device_id: str) -> int:
    """Delete the device's whole actual configuration: one Query on its partition, BatchWriteItem deletes."""
    entries_of_device = DeviceConfigurationEntry.query(
        device_key(tenant, device_id), consistent_read=True, attributes_to_get=["device_key", "path"]
    )
    count = 0
    with DeviceConfigurationEntry.batch_write() as batch:
        for entry in entries_of_device:
            batch.delete(entry)
            count += 1
    return count


def find(tenant: str, device_id: str, path: str) -> domain.ConfiguredFile | None:
    try:
        return _entry(DeviceConfigurationEntry.get(device_key(tenant, device_id), path))
    except DoesNotExist:
        return None
