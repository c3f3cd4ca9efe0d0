"""Retention of configuration tasks: final tasks older than 90 days (tenant key
`deviceconfiguration.task.retentionDays`) are deleted. Per registered tenant, one Query on the sparse
expiry index plus batched deletes: the cost follows what is deleted, not what is kept.
"""
from __future__ import annotations

from chalicelib import clock
from chalicelib.services import tenants, workflow


def expire_config_tasks(now_ms: int | None = None) -> dict:
    now = clock.now_ms() if now_ms is None else now_ms
    per_tenant = {}
    for tenant in tenants.registered_tenants():
        deleted = workflow.expire_final_tasks(tenant, now)
        if deleted:
            per_tenant[tenant] = deleted
    return {"deleted": sum(per_tenant.values()), "tenants": per_tenant}
