"""The tenant registry: one item per tenant under a fixed partition, so scheduled jobs can walk the tenants
a page at a time."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from chalicelib.store import paging
from chalicelib.store.tables import REGISTRY_TENANT, TenantRegistration


def register(tenant: str, now: int) -> bool:
    """Register the tenant unless it is; whether this call registered it."""
    try:
        TenantRegistration(REGISTRY_TENANT, tenant, created_at=now).save(
            condition=TenantRegistration.key.does_not_exist()
        )
        return True
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False


def page(after: str | None = None, limit: int = 20) -> paging.Page[str]:
    """Tenant names in order, after the tenant `after`; the page's `after` is its last tenant, None at the end."""
    condition = TenantRegistration.key > after if after is not None else None
    results = TenantRegistration.query(
        REGISTRY_TENANT, condition, limit=limit, page_size=limit, attributes_to_get=["tenant", "key"]
    )
    names = [item.key for item in results]
    return paging.Page(names, names[-1] if names and results.last_evaluated_key is not None else None)
