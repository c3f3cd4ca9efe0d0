"""Roles of a tenant (`role#<name>` in the tenants table): named permission sets held by users."""
from __future__ import annotations

from typing import Iterable, Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.tables import Role

PREFIX = Role.PREFIX


def find(tenant: str, name: str) -> Role | None:
    try:
        return Role.get(tenant, PREFIX + name)
    except DoesNotExist:
        return None


def find_many(tenant: str, names: Iterable[str]) -> dict[str, Role]:
    """BatchGetItem (100 keys a call), duplicates removed."""
    keys = [(tenant, PREFIX + name) for name in dict.fromkeys(names)]
    return {role.name: role for role in Role.batch_get(keys)} if keys else {}


def all_roles(tenant: str) -> Iterator[Role]:
    """The tenant's roles in name order (one Query; USER_ROLE bounds how many there are)."""
    return Role.query(tenant, Role.key.startswith(PREFIX))
