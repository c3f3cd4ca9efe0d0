"""Tenant configuration values: one item per overridden key (`config#<key>`), JSON-encoded."""
from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.tables import TenantConfigValue

PREFIX = "config#"


def load_all(tenant: str) -> dict[str, TenantConfigValue]:
    return {item.key[len(PREFIX):]: item
            for item in TenantConfigValue.query(tenant, TenantConfigValue.key.startswith(PREFIX))}


def decoded(item: TenantConfigValue) -> Any:
    return json.loads(item.value)


def save(tenant: str, key: str, value: Any, user: str, now: int) -> TenantConfigValue:
    try:
        item = TenantConfigValue.get(tenant, PREFIX + key)
        item.value, item.last_modified_at, item.last_modified_by = json.dumps(value), now, user
    except DoesNotExist:
        item = TenantConfigValue(tenant, PREFIX + key, value=json.dumps(value), created_at=now, created_by=user,
                                 last_modified_at=now, last_modified_by=user)
    item.save()
    return item


def delete(tenant: str, key: str) -> None:
    TenantConfigValue(tenant, PREFIX + key).delete()
