"""Verifying a management login: refused before any password is hashed once throttled; hashes upgraded.
The reads and writes of a login; what is decided (password, lockout) is chalicelib/auth.py's.

Cheapest refusal first:
1. this container's memory (services/rate_limits.py): the source IP's failed-login bucket. No I/O.
2. the user item (the GetItem every login needs): `login_failures_per_user` failures inside the window lock
   the user for the rest of it, in every container, since the count lives on the item.
3. PBKDF2 of the offered password, with the rounds stored for this user.
A failure costs one UpdateItem on the user item (two when it opens a new window) and a token of the IP's
bucket. A success costs one BatchGetItem for the user's roles, plus one UpdateItem when it clears earlier
failures or re-hashes a password stored with fewer rounds than configured.
"""

from __future__ import annotations

from chalicelib import auth, clock, config, errors
from chalicelib.domain import permissions
from chalicelib.domain.rate_limits import retry_after_seconds
from chalicelib.domain.users import User
from chalicelib.services import rate_limits
from chalicelib.store import roles as role_store
from chalicelib.store import users


def verify(tenant: str, name: str, password: str, ip: str | None) -> frozenset[str]:
    """The user's effective permissions if the password is right; else 401, or 429 while throttled."""
    settings = config.settings()
    now = clock.now_ms()
    _refuse_while(rate_limits.login_wait(ip, now))
    user = users.find(tenant, name)
    if user is None:
        auth.hash_password(password)  # same cost whether or not the user exists
        rate_limits.note_login_failure(ip, now)
        raise errors.Unauthorized()
    window_ms = settings.login_failure_window_seconds * 1000
    locked_until = auth.login_locked_until(
        user.login_failures, user.login_failures_since, settings.login_failures_per_user, window_ms
    )
    _refuse_while(locked_until - now)
    if not auth.password_matches(password, user.salt, int(user.iterations), user.password_hash):
        rate_limits.note_login_failure(ip, now)
        if settings.login_failures_per_user > 0:
            users.add_login_failure(user, now, window_ms)
        raise errors.Unauthorized()
    _after_success(user, password, settings.password_hash_iterations)
    held = role_store.find_many(tenant, user.roles) if user.roles else {}
    return permissions.effective(user.permissions, [role.permissions for role in held.values()])


def _refuse_while(wait_ms: int) -> None:
    if wait_ms > 0:
        raise errors.TooManyRequests(
            retry_after_seconds(wait_ms),
            f"Too many failed logins. Try again after {retry_after_seconds(wait_ms)} seconds.",
        )


def _after_success(user: User, password: str, configured_rounds: int) -> None:
    """Re-hash with today's rounds while the password is at hand (never lowering them); forget failures."""
    if int(user.iterations) < configured_rounds:
        salt, digest = auth.hash_password(password, iterations=configured_rounds)
        users.rehash(user, salt, digest, configured_rounds)
    elif user.login_failures:
        users.clear_login_failures(user)
