"""Tenant lifecycle: registration (so jobs can walk tenants), default types, the first admin user."""

from __future__ import annotations

from chalicelib import auth, clock, config, errors
from chalicelib.services import quotas
from chalicelib.store import tenants as registry
from chalicelib.store import users
from chalicelib.store.tx import Tx


def ensure_tenant(tenant: str, admin_password: str | None = None) -> None:
    """Idempotent: register the tenant, seed default types, create `admin` when the tenant has no user."""
    tenant = tenant.upper()
    registry.register(tenant, clock.now_ms())
    from chalicelib.services import catalog_defaults

    catalog_defaults.ensure_default_types(tenant)
    if not users.any_user(tenant):
        create_user(tenant, "admin", admin_password or config.settings().admin_password, list(auth.PERMISSIONS))


def create_user(tenant: str, name: str, password: str, permissions: list[str]) -> None:
    """Counted against LOCAL_USER. Bootstrap-safe: a user a concurrent bootstrap created is kept as is."""
    rounds = config.settings().password_hash_iterations
    salt, digest = auth.hash_password(password, iterations=rounds)
    user = users.new_item(tenant, name, salt, digest, rounds, permissions, [], clock.now_ms(), "system")
    try:
        quotas.charge(users.put_new(Tx(), user), tenant, "LOCAL_USER", 1).commit()
    except errors.EntityAlreadyExists:
        pass
