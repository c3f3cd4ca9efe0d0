"""The registry of tenants read a page at a time: how the queued jobs walk every tenant in bounded steps.

(Registration itself is services.tenants'; this is only the jobs' paged read of the same items.)
"""
from __future__ import annotations

from chalicelib.store import paging
from chalicelib.store.tables import REGISTRY_TENANT, TenantRegistration


def page(after: str | None = None, limit: int = 20) -> paging.Page[str]:
    """Tenant names in order, after the tenant `after`; the page's `after` is its last tenant, None at the end."""
    condition = TenantRegistration.key > after if after is not None else None
    results = TenantRegistration.query(REGISTRY_TENANT, condition, limit=limit, page_size=limit,
                                       attributes_to_get=["tenant", "key"])
    names = [item.key for item in results]
    return paging.Page(names, names[-1] if names and results.last_evaluated_key is not None else None)
