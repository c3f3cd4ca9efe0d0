"""hawkBit's permission names, what each implies, and a user's effective permissions.

The classic set (hawkBit 0.9 `SpPermission`, the one Bosch IoT Rollouts documents), the device-configuration
pair, and `USER_ADMIN`: hawkBit has no user API, so skyhawk names the right to manage users and roles
itself. `SYSTEM_ADMIN` implies it, so administrators created before it existed (they hold every permission
of their day, SYSTEM_ADMIN included) keep managing users.
"""

from __future__ import annotations

from typing import Iterable

USER_ADMIN = "USER_ADMIN"
PERMISSIONS = (
    "READ_TARGET",
    "UPDATE_TARGET",
    "CREATE_TARGET",
    "DELETE_TARGET",
    "READ_TARGET_SECURITY_TOKEN",
    "READ_REPOSITORY",
    "UPDATE_REPOSITORY",
    "CREATE_REPOSITORY",
    "DELETE_REPOSITORY",
    "DOWNLOAD_REPOSITORY_ARTIFACT",
    "READ_TENANT_CONFIGURATION",
    "TENANT_CONFIGURATION",
    "READ_GATEWAY_SECURITY_TOKEN",
    "READ_ROLLOUT",
    "CREATE_ROLLOUT",
    "UPDATE_ROLLOUT",
    "DELETE_ROLLOUT",
    "HANDLE_ROLLOUT",
    "APPROVE_ROLLOUT",
    "SYSTEM_ADMIN",
    "READ_DEVICE_CONFIGURATION",
    "UPDATE_DEVICE_CONFIGURATION",
    USER_ADMIN,
)
# Holding the key permission implies the listed ones (hawkBit: TENANT_CONFIGURATION reads too).
IMPLIED = {
    "TENANT_CONFIGURATION": ("READ_TENANT_CONFIGURATION",),
    "UPDATE_DEVICE_CONFIGURATION": ("READ_DEVICE_CONFIGURATION",),
    "SYSTEM_ADMIN": (USER_ADMIN,),
}


def expand(permissions: Iterable[str]) -> frozenset[str]:
    """The permissions with everything they imply."""
    result = set(permissions)
    pending = list(result)
    while pending:
        for implied in IMPLIED.get(pending.pop(), ()):
            if implied not in result:
                result.add(implied)
                pending.append(implied)
    return frozenset(result)


def effective(direct: Iterable[str], role_permissions: Iterable[Iterable[str]]) -> frozenset[str]:
    """A user's effective permissions: its own and its roles', with their implications."""
    held = set(direct)
    for permissions in role_permissions:
        held.update(permissions)
    return expand(held)


def unknown(permissions: Iterable[str]) -> list[str]:
    return sorted(set(permissions) - set(PERMISSIONS))
