"""A per-container cache of something read per tenant (its configuration, its auto-assigning filters): kept for
the tenant configuration's cache life (`tenant_config_cache_seconds`), at most MAX_TENANTS tenants (device requests
name arbitrary tenants in their paths; the oldest entry goes first). Writes in this container forget the tenant
at once; other containers see them when their entry expires."""

from __future__ import annotations

import threading
import time
from typing import Callable, Generic, TypeVar

from chalicelib import config

V = TypeVar("V")
MAX_TENANTS = 512


class TenantCache(Generic[V]):
    def __init__(self, load: Callable[[str], V]) -> None:
        self._load = load
        self._entries: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, tenant: str) -> V:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(tenant)
        if hit and hit[0] > now:
            return hit[1]
        value = self._load(tenant)
        with self._lock:
            if len(self._entries) >= MAX_TENANTS and tenant not in self._entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest (dicts keep insertion order)
            self._entries[tenant] = (now + config.settings().tenant_config_cache_seconds, value)
        return value

    def forget(self, tenant: str | None = None) -> None:
        with self._lock:
            if tenant is None:
                self._entries.clear()
            else:
                self._entries.pop(tenant, None)
