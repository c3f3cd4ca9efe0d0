"""Management users of a tenant (`user#<name>` in the tenants table), with salted password hashes.

Reads return domain users (chalicelib/domain/users.py); what a login writes goes through the version-less
`UserLogin` view of the item, so a login never makes a concurrent change of the user retry.
"""

from __future__ import annotations

from typing import Iterator

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib import errors
from chalicelib.domain import changes
from chalicelib.domain.users import User
from chalicelib.store import records, tables
from chalicelib.store.tables import UserLogin
from chalicelib.store.tx import Tx

PREFIX = User.PREFIX


def find(tenant: str, name: str) -> User | None:
    try:
        return records.to_entity(User, tables.User.get(tenant, PREFIX + name))
    except DoesNotExist:
        return None


def any_user(tenant: str) -> bool:
    return any(True for _ in tables.User.query(tenant, tables.User.key.startswith(PREFIX), limit=1))


def all_users(tenant: str) -> Iterator[User]:
    """The tenant's users in name order (one Query; LOCAL_USER bounds how many there are)."""
    for item in tables.User.query(tenant, tables.User.key.startswith(PREFIX)):
        yield records.to_entity(User, item)


def new_item(
    tenant: str,
    name: str,
    salt: str,
    password_hash: str,
    iterations: int,
    permissions: list[str],
    roles: list[str],
    now: int,
    by: str,
) -> User:
    return User(
        tenant,
        PREFIX + name,
        salt=salt,
        password_hash=password_hash,
        iterations=iterations,
        permissions=permissions,
        roles=roles,
        created_at=now,
        created_by=by,
        last_modified_at=now,
        last_modified_by=by,
    )


def put_new(tx: Tx, user: User) -> Tx:
    return tx.put(
        user,
        condition=changes.Missing("key"),
        on_fail=lambda: errors.EntityAlreadyExists(f"User {user.username} already exists.", ["User", user.username]),
    )


# --- what a login writes (UserLogin: no version bump) --------------------------------------------------
def _exists():
    return UserLogin.key.exists()


def add_login_failure(user: User, now: int, window_ms: int) -> None:
    """Count a failed login in the user's current window, or start a new window with it.

    One UpdateItem; two when the window read with the user ran out or a concurrent failure just moved it.
    A user deleted meanwhile is not re-created (every write requires the item).
    """
    login = UserLogin(user.tenant, user.key)
    since = user.login_failures_since
    attempts: list[tuple[list[Action], Condition]] = []
    if since is not None and now - int(since) < window_ms:
        attempts.append(([UserLogin.login_failures.add(1)], _exists() & (UserLogin.login_failures_since == since)))
    stale = UserLogin.login_failures_since.does_not_exist() | (UserLogin.login_failures_since <= now - window_ms)
    attempts.append(([UserLogin.login_failures.set(1), UserLogin.login_failures_since.set(now)], _exists() & stale))
    attempts.append(([UserLogin.login_failures.add(1)], _exists()))
    for actions, condition in attempts:
        try:
            login.update(actions=actions, condition=condition)
            return
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise


def clear_login_failures(user: User) -> None:
    try:
        UserLogin(user.tenant, user.key).update(
            actions=[UserLogin.login_failures.remove(), UserLogin.login_failures_since.remove()], condition=_exists()
        )
    except UpdateError as exc:
        if not _condition_failed(exc):
            raise


def rehash(user: User, salt: str, password_hash: str, iterations: int) -> bool:
    """Replace the hash a login just verified, unless the password changed meanwhile (then keep that one).
    Failed-login counts go with it: the login succeeded."""
    try:
        UserLogin(user.tenant, user.key).update(
            actions=[
                UserLogin.salt.set(salt),
                UserLogin.password_hash.set(password_hash),
                UserLogin.iterations.set(iterations),
                UserLogin.login_failures.remove(),
                UserLogin.login_failures_since.remove(),
            ],
            condition=_exists() & (UserLogin.password_hash == user.password_hash),
        )
        return True
    except UpdateError as exc:
        if not _condition_failed(exc):
            raise
        return False


def _condition_failed(exc: UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"
