"""Tenant configuration values: one item per overridden key (`config#<key>`), JSON-encoded."""
from __future__ import annotations

import json
from typing import Any


from chalicelib.store.tables import TenantConfigValue
from chalicelib.store.tx import Tx

PREFIX = "config#"


def load_all(tenant: str) -> dict[str, TenantConfigValue]:
    return {item.key[len(PREFIX):]: item
            for item in TenantConfigValue.query(tenant, TenantConfigValue.key.startswith(PREFIX))}


def decoded(item: TenantConfigValue) -> Any:
    return json.loads(item.value)


def save_all(tenant: str, changes: dict[str, Any], user: str, now: int,
             current: dict[str, TenantConfigValue]) -> None:
    """Store several values in one transaction, each conditional on the stored item it was checked against."""
    tx = Tx()
    for key, value in changes.items():
        old = current.get(key)
        item = TenantConfigValue(tenant, PREFIX + key, value=json.dumps(value),
                                 created_at=old.created_at if old else now, created_by=old.created_by if old else user,
                                 last_modified_at=now, last_modified_by=user)
        if old is None:
            tx.put(item, condition=TenantConfigValue.key.does_not_exist())
        else:
            tx.put(item, condition=TenantConfigValue.last_modified_at == old.last_modified_at)
    tx.commit()


def delete(tenant: str, key: str) -> None:
    TenantConfigValue(tenant, PREFIX + key).delete()
