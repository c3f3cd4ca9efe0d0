"""Workflow models and instances: one function per access pattern of the `workflow` table.

Lists read an index projection (keys + the attributes their filters need), then the page's items by
BatchGetItem; the index pass also gives `totalElements`. Its cost grows with the matching index
entries (small, KEYS + a few attributes), never with the table.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Iterable, Iterator, cast

from pynamodb.exceptions import DoesNotExist

from chalicelib import errors
from chalicelib.domain import changes
from chalicelib.domain import workflow_instances as domain
from chalicelib.store import records
from chalicelib.store.tx import Tx
from chalicelib.store.workflow_tables import WorkflowInstance, WorkflowModelItem

# DynamoDB refuses items above 400 KB (409,600 bytes, attribute names included). The domain's budgets keep
# instances and models far below; this last check turns a miscount into a 400, not a 500 from the write.
MAX_ITEM_BYTES = 380_000

_seq_lock = threading.Lock()
_last_ms = -1
_seq = 0


def new_instance_id(now_ms: int) -> str:
    """A UUID version 7: 48-bit ms time, then a per-process sequence, then random bits.

    Lexical order is creation order, so `sk` ranges are time ranges and no extra created index is needed.
    """
    global _last_ms, _seq
    with _seq_lock:
        if now_ms == _last_ms:
            _seq = (_seq + 1) & 0xFFF
        else:
            _last_ms, _seq = now_ms, int.from_bytes(os.urandom(2), "big") & 0x3FF
        seq = _seq
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = ((now_ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (seq << 64) | (0b10 << 62) | rand
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


# --- models -------------------------------------------------------------------------------------------
def find_model(tenant: str, key: str) -> domain.RegisteredModel | None:
    try:
        return records.to_entity(domain.RegisteredModel, WorkflowModelItem.get(tenant, WorkflowModelItem.PREFIX + key))
    except DoesNotExist:
        return None


def create_model(model: domain.RegisteredModel) -> None:
    _check_size(model)
    Tx().put(
        model,
        condition=changes.Missing("sk"),
        on_fail=lambda: errors.EntityAlreadyExists(
            f"A model with key '{model.key}' already exists.", ["key", model.key]
        ),
    ).commit()


def delete_model(tenant: str, key: str) -> None:
    WorkflowModelItem(tenant, WorkflowModelItem.PREFIX + key).delete()


# --- instances ----------------------------------------------------------------------------------------
def _instance(item: WorkflowInstance) -> domain.WorkflowInstance:
    return records.to_entity(domain.WorkflowInstance, item)


def find(tenant: str, instance_id: str) -> domain.WorkflowInstance | None:
    try:
        return _instance(WorkflowInstance.get(tenant, WorkflowInstance.PREFIX + instance_id, consistent_read=True))
    except DoesNotExist:
        return None


def add(tx: Tx, instance: domain.WorkflowInstance) -> Tx:
    """Put the new instance (its id taken: ConcurrentModification)."""
    _check_size(instance)
    return tx.put(instance, condition=changes.Missing("sk"))


def update(tx: Tx, instance: domain.WorkflowInstance, change: changes.Change) -> Tx:
    """Update the instance as read, conditional on its version (a concurrent change -> ConcurrentModification)."""
    _check_size(changes.applied(instance, change))
    return tx.update(instance, change)


def item_bytes(item: Any) -> int:
    """The item's size as DynamoDB counts it (UTF-8 names and values; numbers counted generously)."""
    model = records.to_model(item) if records.is_entity(item) else item
    return sum(len(name.encode("utf-8")) + _value_bytes(value) for name, value in model.serialize().items())


def _value_bytes(value: dict[str, Any]) -> int:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw.encode("utf-8"))
    if kind == "N":
        return len(str(raw)) + 1
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + _value_bytes(v) for k, v in raw.items())
    if kind == "SS":
        return sum(len(v.encode("utf-8")) for v in raw)
    return 1 if kind in ("BOOL", "NULL") else len(str(raw))


def _check_size(item: Any) -> None:
    size = item_bytes(item)
    if size > MAX_ITEM_BYTES:
        raise errors.BadRequest(f"The request would store {size} bytes in one item; at most {MAX_ITEM_BYTES} fit.")


def _row(item: WorkflowInstance, group: str | None = None, model_key: str | None = None) -> domain.InstanceRow:
    # PynamoDB types ListAttribute(of=UnicodeAttribute)'s elements as the attribute class; they load as str.
    file_refs = cast("list[str] | None", item.file_refs)
    return domain.InstanceRow(
        item.tenant,
        item.sk,
        model_key or item.model_key,
        item.current_state,
        group if group is not None else item.group_name,
        item.device_visible if item.device_visible is not None else True,
        tuple(file_refs or ()),
    )


def rows_by_device(tenant: str, device_id: str, descending: bool) -> Iterator[domain.InstanceRow]:
    items = WorkflowInstance.by_device.query(domain.device_key(tenant, device_id), scan_index_forward=not descending)
    return (_row(i) for i in items)


def keys_by_device(tenant: str, device_id: str) -> Iterator[tuple[str, str]]:
    """Keys of every instance of the device, in any state (the device index, keys only)."""
    items = WorkflowInstance.by_device.query(domain.device_key(tenant, device_id), attributes_to_get=["tenant", "sk"])
    return ((i.tenant, i.sk) for i in items)


def rows_by_device_group(tenant: str, device_id: str, group: str, descending: bool) -> Iterator[domain.InstanceRow]:
    items = WorkflowInstance.by_device_group.query(
        domain.device_key(tenant, device_id),
        WorkflowInstance.device_group_key.startswith(group + "#"),
        scan_index_forward=not descending,
    )
    return (_row(i, group) for i in items)


def rows_by_model(tenant: str, model_key: str, descending: bool) -> Iterator[domain.InstanceRow]:
    items = WorkflowInstance.by_model.query(
        domain.model_index_key(tenant, model_key), scan_index_forward=not descending
    )
    return (_row(i, model_key=model_key) for i in items)


def rows_by_tenant(tenant: str, descending: bool) -> Iterator[domain.InstanceRow]:
    """Every instance of the tenant (the unfiltered operator list; cost grows with the tenant's instances)."""
    items = WorkflowInstance.query(
        tenant,
        WorkflowInstance.sk.startswith(WorkflowInstance.PREFIX),
        scan_index_forward=not descending,
        attributes_to_get=["tenant", "sk", "model_key", "current_state", "group_name", "device_visible"],
    )
    return (_row(i) for i in items)


def fetch(rows: Iterable[domain.InstanceRow]) -> list[domain.WorkflowInstance]:
    """The full items of `rows`, in the rows' order (BatchGetItem, 100 keys a call)."""
    keys = [(r.tenant, r.sk) for r in rows]
    if not keys:
        return []
    found = {(i.tenant, i.sk): i for i in WorkflowInstance.batch_get(keys)}
    return [_instance(found[k]) for k in keys if k in found]


# --- retention ----------------------------------------------------------------------------------------
def due_for_retention(tenant: str, created_until: int) -> Iterator[tuple[str, str]]:
    """Keys of the tenant's configuration tasks created at `created_until` or before, oldest first (the sparse
    index)."""
    items = WorkflowInstance.retention_due.query(tenant, WorkflowInstance.created_at <= created_until)
    return ((i.tenant, i.sk) for i in items)


def fetch_keys(keys: Iterable[tuple[str, str]]) -> list[domain.WorkflowInstance]:
    """The items of `keys` that exist (consistent BatchGetItem, 100 keys a call), in no particular order."""
    keys = list(keys)
    return [_instance(i) for i in WorkflowInstance.batch_get(keys, consistent_read=True)] if keys else []


def delete_many(keys: Iterable[tuple[str, str]]) -> int:
    """BatchWriteItem deletes (25 a call, unprocessed items retried by PynamoDB)."""
    count = 0
    with WorkflowInstance.batch_write() as batch:
        for tenant, sk in keys:
            batch.delete(WorkflowInstance(tenant, sk))
            count += 1
    return count
