"""Retention of configuration tasks: every task is deleted 90 days after its creation (tenant key
`deviceconfiguration.task.retentionDays`), an open one closed first. Per registered tenant, one Query on
the sparse retention index plus batched reads and deletes: the cost follows what is deleted, not what is
kept (services.workflow.expire_tasks).
"""
from __future__ import annotations

from chalicelib import clock
from chalicelib.services import tenants, workflow


def expire_config_tasks(now_ms: int | None = None) -> dict:
    now = clock.now_ms() if now_ms is None else now_ms
    per_tenant = {}
    for tenant in tenants.registered_tenants():
        deleted = workflow.expire_tasks(tenant, now)
        if deleted:
            per_tenant[tenant] = deleted
    return {"deleted": sum(per_tenant.values()), "tenants": per_tenant}
