"""Quota limits (operator settings, env `SKYHAWK_QUOTA_<NAME>`) and exact usage from counters."""
from __future__ import annotations

import os

from chalicelib import errors
from chalicelib.domain.quotas import TENANT_QUOTAS
from chalicelib.store import counters


def limit(quota: str) -> int:
    override = os.environ.get(f"SKYHAWK_QUOTA_{quota}")
    return int(override) if override else TENANT_QUOTAS[quota]


def all_quotas(tenant: str) -> dict[str, dict[str, int]]:
    used = counters.usages(tenant)
    return {name: {"limit": limit(name), "used": used.get(name, 0)} for name in sorted(TENANT_QUOTAS)}


def one_quota(tenant: str, quota: str) -> dict[str, int]:
    if quota not in TENANT_QUOTAS:
        raise errors.EntityNotFound.of("Quota", quota)
    return {"limit": limit(quota), "used": counters.usage(tenant, quota)}
