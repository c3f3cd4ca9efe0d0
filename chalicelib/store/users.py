"""Management users of a tenant (`user#<name>` in the tenants table), with salted password hashes."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.tables import User

PREFIX = "user#"


def find(tenant: str, name: str) -> User | None:
    try:
        return User.get(tenant, PREFIX + name)
    except DoesNotExist:
        return None


def any_user(tenant: str) -> bool:
    return any(True for _ in User.query(tenant, User.key.startswith(PREFIX), limit=1))


def create(tenant: str, name: str, salt: str, password_hash: str, iterations: int, permissions: list[str],
           now: int) -> User:
    user = User(tenant, PREFIX + name, salt=salt, password_hash=password_hash, iterations=iterations,
                permissions=permissions, created_at=now)
    user.save(condition=User.key.does_not_exist())
    return user
