"""Tenant lifecycle: registration (so jobs can walk tenants), default types, the first admin user."""
from __future__ import annotations

from pynamodb.exceptions import PutError

from chalicelib import auth, clock, config, errors
from chalicelib.services import quotas
from chalicelib.store import users
from chalicelib.store.tables import REGISTRY_TENANT, TenantRegistration


def ensure_tenant(tenant: str, admin_password: str | None = None) -> None:
    """Idempotent: register the tenant, seed default types, create `admin` when the tenant has no user."""
    tenant = tenant.upper()
    now = clock.now_ms()
    try:
        TenantRegistration(REGISTRY_TENANT, tenant, created_at=now).save(
            condition=TenantRegistration.key.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        # already registered
    from chalicelib.services import catalog_defaults
    catalog_defaults.ensure_default_types(tenant)
    if not users.any_user(tenant):
        create_user(tenant, "admin", admin_password or config.settings().admin_password, list(auth.PERMISSIONS))


def create_user(tenant: str, name: str, password: str, permissions: list[str]) -> None:
    """Counted against LOCAL_USER. Bootstrap-safe: a user a concurrent bootstrap created is kept as is."""
    salt, digest = auth.hash_password(password)
    try:
        users.create(tenant, name, salt, digest, config.settings().password_hash_iterations, permissions,
                     clock.now_ms(), quotas.limit("LOCAL_USER"))
    except errors.EntityAlreadyExists:
        pass


def registered_tenants() -> list[str]:
    return [item.key for item in TenantRegistration.query(REGISTRY_TENANT)]
