"""Verifying a management login: the user item (GetItem), PBKDF2 of the offered password with the rounds
stored for this user, then the user's roles (one BatchGetItem) for its effective permissions."""
from __future__ import annotations

from chalicelib import auth, errors
from chalicelib.domain import permissions
from chalicelib.store import roles as role_store
from chalicelib.store import users


def verify(tenant: str, name: str, password: str) -> frozenset[str]:
    """The user's effective permissions if the password is right; else 401."""
    user = users.find(tenant, name)
    if user is None:
        auth.hash_password(password)  # same cost whether or not the user exists
        raise errors.Unauthorized()
    if not auth.password_matches(password, user.salt, int(user.iterations), user.password_hash):
        raise errors.Unauthorized()
    held = role_store.find_many(tenant, user.roles) if user.roles else {}
    return permissions.effective(user.permissions, [role.permissions for role in held.values()])
