"""Tenant quota usage: read from the counters, and charged or released inside the transactions that create
and delete what a quota counts. What the limits are and when a quota refuses is decided in
chalicelib/domain/quotas.py, the quotas' one home.
"""

from __future__ import annotations

from chalicelib import errors
from chalicelib.domain import quotas as rules
from chalicelib.domain.quotas import TENANT_QUOTAS
from chalicelib.store import counters
from chalicelib.store.tx import Tx

limit = rules.limit


def charge(tx: Tx, tenant: str, quota: str, adding: int, spread_by: str = "") -> Tx:
    """Add `adding` to the quota's usage inside `tx`, which then fails (403) if it would pass the limit.
    `spread_by` (the entity's id) picks the counter item of a sharded quota (store.counters.SHARDED)."""
    return counters.usage_update(tx, tenant, quota, adding, rules.limit(quota), spread_by=spread_by)


def release(tx: Tx, tenant: str, quota: str, removing: int, spread_by: str = "") -> Tx:
    return counters.usage_update(tx, tenant, quota, -removing, spread_by=spread_by)


def all_quotas(tenant: str) -> dict[str, dict[str, int]]:
    used = counters.usages(tenant)
    return {name: {"limit": limit(name), "used": used.get(name, 0)} for name in sorted(TENANT_QUOTAS)}


def one_quota(tenant: str, quota: str) -> dict[str, int]:
    if quota not in TENANT_QUOTAS:
        raise errors.EntityNotFound.of("Quota", quota)
    return {"limit": limit(quota), "used": counters.usage(tenant, quota)}
