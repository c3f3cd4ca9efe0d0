"""Tenant configuration: typed values with global defaults, cached per container (~10 s, as hawkBit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib import clock, errors
from chalicelib.domain import tenant_keys
from chalicelib.services.tenant_cache import TenantCache
from chalicelib.store import tenant_config as repo


@dataclass(frozen=True)
class ConfigEntry:
    key: str
    value: Any
    is_global: bool
    created_at: int | None = None
    created_by: str | None = None
    last_modified_at: int | None = None
    last_modified_by: str | None = None


def entries(tenant: str) -> dict[str, ConfigEntry]:
    """All keys of the tenant, overridden or global. Cached; costs no read on most calls."""
    return _cache.get(tenant)


def _load(tenant: str) -> dict[str, ConfigEntry]:
    stored = repo.load_all(tenant)
    result = {}
    for name, key in tenant_keys.KEYS.items():
        item = stored.get(name)
        if item is None:
            result[name] = ConfigEntry(name, key.default, True)
        else:
            result[name] = ConfigEntry(
                name,
                item.decoded,
                False,
                int(item.created_at),
                item.created_by,
                int(item.last_modified_at),
                item.last_modified_by,
            )
    return result


_cache: TenantCache[dict[str, ConfigEntry]] = TenantCache(_load)


def value(tenant: str, key: str) -> Any:
    return entries(tenant)[key].value


def values(tenant: str) -> dict[str, Any]:
    return {name: entry.value for name, entry in entries(tenant).items()}


def entry(tenant: str, key: str) -> ConfigEntry:
    _known(key)
    return entries(tenant)[key]


def set_values(tenant: str, changes: dict[str, Any], user: str) -> dict[str, ConfigEntry]:
    """Validate every change first (types and cross-key rules), then store them: all or nothing."""
    typed = {}
    for key, raw in changes.items():
        spec = _known(key)
        try:
            typed[key] = tenant_keys.coerce(spec, raw)
        except tenant_keys.InvalidValue as exc:
            raise errors.ConfigValueInvalid(
                f"The given configuration value is invalid for key '{key}': {exc}", [key]
            ) from exc
    # Checked against the stored values (not the cache) and written only if none changed meanwhile.
    invalidate(tenant)
    stored = repo.load_all(tenant)
    current = values(tenant)
    for key, value in typed.items():
        _check_change_allowed(tenant_keys.KEYS[key], current[key], value)
    merged = {**current, **typed}
    try:
        tenant_keys.check_consistency(merged)
    except tenant_keys.InvalidValue as exc:
        raise errors.ConfigValueInvalid(str(exc), list(typed)) from exc
    repo.save_all(tenant, typed, user, clock.now_ms(), stored)
    invalidate(tenant)
    return {key: entry(tenant, key) for key in typed}


def delete_value(tenant: str, key: str) -> None:
    spec = _known(key)
    invalidate(tenant)
    current = values(tenant)
    _check_change_allowed(spec, current[key], spec.default)
    merged = {**current, key: spec.default}
    try:
        tenant_keys.check_consistency(merged)
    except tenant_keys.InvalidValue as exc:
        raise errors.ConfigValueInvalid(str(exc), [key]) from exc
    repo.delete(tenant, key)
    invalidate(tenant)


def _check_change_allowed(spec: tenant_keys.Key, current: Any, new: Any) -> None:
    if spec.one_way_to is not None and current == spec.one_way_to and new != current:
        raise errors.ConfigValueChangeNotAllowed(f"'{spec.name}' cannot be switched back once enabled.", [spec.name])


def invalidate(tenant: str | None = None) -> None:
    _cache.forget(tenant)


def _known(key: str) -> tenant_keys.Key:
    spec = tenant_keys.KEYS.get(key)
    if spec is None:
        raise errors.ConfigKeyInvalid(f"The given configuration key '{key}' does not exist.", [key])
    return spec
