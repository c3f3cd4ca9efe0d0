"""Management users of a tenant (`user#<name>` in the tenants table), with salted password hashes."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib import errors
from chalicelib.store import counters
from chalicelib.store.tables import User
from chalicelib.store.tx import Tx

PREFIX = "user#"


def find(tenant: str, name: str) -> User | None:
    try:
        return User.get(tenant, PREFIX + name)
    except DoesNotExist:
        return None


def any_user(tenant: str) -> bool:
    return any(True for _ in User.query(tenant, User.key.startswith(PREFIX), limit=1))


def create(tenant: str, name: str, salt: str, password_hash: str, iterations: int, permissions: list[str],
           now: int, limit: int) -> User:
    """The user and its LOCAL_USER usage in one transaction: an existing name is 409, a full quota 403."""
    user = User(tenant, PREFIX + name, salt=salt, password_hash=password_hash, iterations=iterations,
                permissions=permissions, created_at=now)
    tx = Tx().put(user, condition=User.key.does_not_exist(),
                  on_fail=lambda: errors.EntityAlreadyExists(f"User {name} already exists.", ["User", name]))
    counters.usage_update(tx, tenant, "LOCAL_USER", 1, limit)
    tx.commit()
    return user
