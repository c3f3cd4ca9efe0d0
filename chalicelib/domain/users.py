"""Users and roles as rules: names, passwords, request bodies, and who holds USER_ADMIN.

A role is a named set of permissions; a user holds roles and permissions of its own, and may do what their
union allows (with the implications of domain/permissions.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Mapping

from chalicelib import errors
from chalicelib.domain import permissions
from chalicelib.domain.changes import Condition, Missing, eq
from chalicelib.domain.permissions import USER_ADMIN

# A user name is the login's `user` part and a path segment: no `:` (Basic splits there), no `\` (tenant
# separator), nothing a URL would have to escape.
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
ROLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
MAX_DESCRIPTION = 512


@dataclass
class User:
    """A management user (`user#<name>` under its tenant). Audit fields are absent on users created before
    they were kept. `login_failures` counts failed logins since `login_failures_since`."""

    PREFIX: ClassVar[str] = "user#"
    tenant: str
    key: str
    salt: str = ""
    password_hash: str = ""
    iterations: int = 0  # PBKDF2-SHA256 rounds of this user's hash
    permissions: list[str] = field(default_factory=list)  # held directly
    roles: list[str] = field(default_factory=list)  # role names
    login_failures: int | None = None
    login_failures_since: int | None = None
    created_at: int = 0
    created_by: str | None = None
    last_modified_at: int | None = None
    last_modified_by: str | None = None
    version: int | None = None

    @property
    def username(self) -> str:
        return self.key[len(self.PREFIX) :]


@dataclass
class Role:
    """A named set of permissions (`role#<name>`); `members` counts the users holding it."""

    PREFIX: ClassVar[str] = "role#"
    tenant: str
    key: str
    description: str | None = None
    permissions: list[str] = field(default_factory=list)
    members: int = 0
    created_at: int = 0
    created_by: str = ""
    last_modified_at: int = 0
    last_modified_by: str = ""
    version: int | None = None

    @property
    def name(self) -> str:
        return self.key[len(self.PREFIX) :]


def unchanged(entity: User | Role) -> Condition:
    """The stored item is still the one read (its version), for writes that depend on it staying so."""
    return eq("version", entity.version) if entity.version is not None else Missing("version")


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str
    roles: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserChange:
    """None: unchanged. Lists replace what the user holds."""

    password: str | None = None
    roles: tuple[str, ...] | None = None
    permissions: tuple[str, ...] | None = None

    @property
    def password_only(self) -> bool:
        return self.roles is None and self.permissions is None


@dataclass(frozen=True)
class NewRole:
    name: str
    description: str | None = None
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleChange:
    description: str | None = None
    permissions: tuple[str, ...] | None = None


def parse_new_user(body: Mapping[str, Any]) -> NewUser:
    username = body.get("username")
    if not isinstance(username, str) or not USERNAME.match(username):
        raise errors.ConstraintViolation(
            "username is required: 1 to 64 letters, digits or . _ @ + -, starting with a letter or digit.", ["username"]
        )
    password = _password(body)
    if password is None:
        raise errors.ConstraintViolation("password is required.", ["password"])
    return NewUser(username, password, _role_names(body) or (), _permissions(body) or ())


def parse_user_change(body: Mapping[str, Any]) -> UserChange:
    return UserChange(_password(body), _role_names(body), _permissions(body))


def parse_new_role(body: Mapping[str, Any]) -> NewRole:
    name = body.get("name")
    if not isinstance(name, str) or not ROLE_NAME.match(name):
        raise errors.ConstraintViolation(
            "name is required: 1 to 64 letters, digits or . _ -, starting with a letter or digit.", ["name"]
        )
    return NewRole(name, _description(body), _permissions(body) or ())


def parse_role_change(body: Mapping[str, Any]) -> RoleChange:
    return RoleChange(_description(body), _permissions(body))


def _password(body: Mapping[str, Any]) -> str | None:
    password = body.get("password")
    if password is None:
        return None
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise errors.ConstraintViolation(
            f"password must be a string of {MIN_PASSWORD} to {MAX_PASSWORD} characters.", ["password"]
        )
    return password


def _description(body: Mapping[str, Any]) -> str | None:
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise errors.ConstraintViolation(
            f"description must be a string of at most {MAX_DESCRIPTION} characters.", ["description"]
        )
    return description


def _strings(body: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    values = body.get(key)
    if values is None:
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise errors.ConstraintViolation(f"{key} must be an array of strings.", [key])
    return tuple(sorted(set(values)))


def _role_names(body: Mapping[str, Any]) -> tuple[str, ...] | None:
    names = _strings(body, "roles")
    bad = [n for n in names or () if not ROLE_NAME.match(n)]
    if bad:
        raise errors.ConstraintViolation(f"Invalid role names: {', '.join(bad[:5])}.", ["roles"])
    return names


def _permissions(body: Mapping[str, Any]) -> tuple[str, ...] | None:
    names = _strings(body, "permissions")
    unknown = permissions.unknown(names or ())
    if unknown:
        raise errors.ConstraintViolation(
            f"Unknown permissions: {', '.join(unknown[:5])}; known are {', '.join(permissions.PERMISSIONS)}.",
            ["permissions", *unknown[:5]],
        )
    return names


# --- who can manage users ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Holder:
    """What one user holds, as the last-admin rule sees it."""

    username: str
    permissions: frozenset[str]
    roles: frozenset[str]


def admin_via(holder: Holder, role_permissions: Mapping[str, Iterable[str]]) -> tuple[bool, str | None]:
    """(holds USER_ADMIN, the role granting it or None when the user holds it itself).

    USER_ADMIN comes from one permission (itself or SYSTEM_ADMIN), so one source always suffices.
    """
    if USER_ADMIN in permissions.expand(holder.permissions):
        return True, None
    for role in sorted(holder.roles):
        if USER_ADMIN in permissions.expand(role_permissions.get(role, ())):
            return True, role
    return False, None


def admin_witness(
    holders: Iterable[Holder], role_permissions: Mapping[str, Iterable[str]]
) -> tuple[str, str | None] | None:
    """A user holding USER_ADMIN in this state, and the role it holds it through (None: directly, preferred,
    since then one item proves it); None when nobody does."""
    through_role = None
    for holder in sorted(holders, key=lambda h: h.username):
        is_admin, via = admin_via(holder, role_permissions)
        if is_admin and via is None:
            return holder.username, None
        if is_admin and through_role is None:
            through_role = (holder.username, via)
    return through_role
