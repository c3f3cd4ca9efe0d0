"""The tenant registry: one item per tenant under a fixed partition, so scheduled jobs can walk the tenants."""
from __future__ import annotations

from pynamodb.exceptions import PutError

from chalicelib.store.tables import REGISTRY_TENANT, TenantRegistration


def register(tenant: str, now: int) -> bool:
    """Register the tenant unless it is; whether this call registered it."""
    try:
        TenantRegistration(REGISTRY_TENANT, tenant, created_at=now).save(
            condition=TenantRegistration.key.does_not_exist())
        return True
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False


def registered() -> list[str]:
    """Every registered tenant's name (one Query of the registry partition)."""
    return [item.key for item in TenantRegistration.query(REGISTRY_TENANT)]
