"""Tenant configuration values: one item per overridden key (`config#<key>`), JSON-encoded."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.domain import changes
from chalicelib.domain.tenant_keys import StoredValue
from chalicelib.store import records
from chalicelib.store.tables import TenantConfigValue
from chalicelib.store.tx import Tx

PREFIX = StoredValue.PREFIX


def load_all(tenant: str) -> dict[str, StoredValue]:
    """The tenant's overrides by key name (one Query)."""
    found = (
        records.to_entity(StoredValue, item)
        for item in TenantConfigValue.query(tenant, TenantConfigValue.key.startswith(PREFIX))
    )
    return {value.name: value for value in found}


def save_all(tenant: str, values: dict[str, Any], user: str, now: int, current: dict[str, StoredValue]) -> None:
    """Store several values in one transaction, each conditional on the stored item it was checked against."""
    tx = Tx()
    for key, value in values.items():
        old = current.get(key)
        item = StoredValue(
            tenant,
            PREFIX + key,
            value=json.dumps(value),
            created_at=old.created_at if old else now,
            created_by=old.created_by if old else user,
            last_modified_at=now,
            last_modified_by=user,
        )
        if old is None:
            tx.put(item, condition=changes.Missing("key"))
        else:
            tx.put(item, condition=changes.eq("last_modified_at", old.last_modified_at))
    tx.commit()


def delete(tenant: str, key: str) -> None:
    TenantConfigValue(tenant, PREFIX + key).delete()
