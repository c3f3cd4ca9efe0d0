"""Roles of a tenant (`role#<name>` in the tenants table): named permission sets held by users."""

from __future__ import annotations

from typing import Iterable, Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.users import Role
from chalicelib.store import records, tables

PREFIX = Role.PREFIX


def find(tenant: str, name: str) -> Role | None:
    try:
        return records.to_entity(Role, tables.Role.get(tenant, PREFIX + name))
    except DoesNotExist:
        return None


def find_many(tenant: str, names: Iterable[str]) -> dict[str, Role]:
    """BatchGetItem (100 keys a call), duplicates removed."""
    keys = [(tenant, PREFIX + name) for name in dict.fromkeys(names)]
    if not keys:
        return {}
    found = (records.to_entity(Role, item) for item in tables.Role.batch_get(keys))
    return {role.name: role for role in found}


def all_roles(tenant: str) -> Iterator[Role]:
    """The tenant's roles in name order (one Query; USER_ROLE bounds how many there are)."""
    for item in tables.Role.query(tenant, tables.Role.key.startswith(PREFIX)):
        yield records.to_entity(Role, item)


def new_item(tenant: str, name: str, description: str | None, permissions: list[str], now: int, by: str) -> Role:
    return Role(
        tenant,
        PREFIX + name,
        description=description,
        permissions=permissions,
        members=0,
        created_at=now,
        created_by=by,
        last_modified_at=now,
        last_modified_by=by,
    )
