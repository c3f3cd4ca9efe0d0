"""Management users of a tenant (`user#<name>` in the tenants table), with salted password hashes."""
from __future__ import annotations

from typing import Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib import errors
from chalicelib.store import counters
from chalicelib.store.tables import User
from chalicelib.store.tx import Tx

PREFIX = User.PREFIX


def find(tenant: str, name: str) -> User | None:
    try:
        return User.get(tenant, PREFIX + name)
    except DoesNotExist:
        return None


def any_user(tenant: str) -> bool:
    return any(True for _ in User.query(tenant, User.key.startswith(PREFIX), limit=1))


def all_users(tenant: str) -> Iterator[User]:
    """The tenant's users in name order (one Query; LOCAL_USER bounds how many there are)."""
    return User.query(tenant, User.key.startswith(PREFIX))


def new_item(tenant: str, name: str, salt: str, password_hash: str, iterations: int, permissions: list[str],
             roles: list[str], now: int, by: str) -> User:
    return User(tenant, PREFIX + name, salt=salt, password_hash=password_hash, iterations=iterations,
                permissions=permissions, roles=roles, created_at=now, created_by=by, last_modified_at=now,
                last_modified_by=by)


def create(tenant: str, name: str, salt: str, password_hash: str, iterations: int, permissions: list[str],
           now: int, limit: int, by: str = "system") -> User:
    """The user and its LOCAL_USER usage in one transaction: an existing name is 409, a full quota 403."""
    user = new_item(tenant, name, salt, password_hash, iterations, permissions, [], now, by)
    tx = put_new(Tx(), user)
    counters.usage_update(tx, tenant, "LOCAL_USER", 1, limit)
    tx.commit()
    return user


def put_new(tx: Tx, user: User) -> Tx:
    return tx.put(user, condition=User.key.does_not_exist(), on_fail=lambda: errors.EntityAlreadyExists(
        f"User {user.username} already exists.", ["User", user.username]))
