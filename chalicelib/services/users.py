"""Users and roles of a tenant (hawkBit has no counterpart: its users are static configuration).

Rules:
- Managing users and roles needs USER_ADMIN (SYSTEM_ADMIN implies it); every user may read itself and
  change its own password.
- Nobody grants what they do not hold: every permission a user or role has before or after a change (or a
  deletion) must be the caller's own, so USER_ADMIN alone can neither create nor take over a stronger account.
- The tenant keeps a user holding USER_ADMIN: a change that would take it from the last one is 409. Such a
  change carries a condition that another administrator (its item, and the role it holds USER_ADMIN through)
  is unchanged, so two concurrent demotions cannot both pass.
- A user counts against LOCAL_USER and a role against USER_ROLE in the transaction that creates or deletes
  it; a role counts its members in the same transactions, and one with members cannot be deleted (409).
- A change of a user forgets its verified logins in this container; a change of a role's permissions forgets
  them all. Other containers keep what they verified for at most auth._VERIFIED_SECONDS.
Lists read the tenant's users (or roles) in one Query, which LOCAL_USER (USER_ROLE) bounds, then filter, sort
and page in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable, Mapping

from chalicelib import auth, clock, config, errors
from chalicelib.domain import listing, permissions
from chalicelib.domain import users as rules
from chalicelib.domain.changes import REMOVE, Add, Missing
from chalicelib.domain.permissions import USER_ADMIN
from chalicelib.domain.users import Role, User
from chalicelib.lazy import lazy_import
from chalicelib.services import quotas
from chalicelib.services.catalog_lists import ENTITY, filter_and_page, sortable
from chalicelib.store import roles as role_store
from chalicelib.store import users as user_store
from chalicelib.store.tx import Tx, retrying

rsql = lazy_import("chalicelib.domain.rsql")

# Every new password is hashed (600,000 PBKDF2 rounds by default) inside the one request.
MAX_USERS_PER_REQUEST = 20
# A user's change updates the member count of each role it gains or loses in one transaction (100 items).
MAX_ROLES_PER_USER = 40
MAX_NEW_ROLES_PER_REQUEST = 50
ATTEMPTS = 3  # read-decide-write again when a concurrent change beat it

USER_FIELDS = {"username", "role", "permission", "createdat", "createdby", "lastmodifiedat", "lastmodifiedby"}
ROLE_FIELDS = {"name", "description", "permission", "createdat", "createdby", "lastmodifiedat", "lastmodifiedby"}


@dataclass(frozen=True)
class UserView:
    user: User
    effective: frozenset[str]


# --- users --------------------------------------------------------------------------------------------------
def get_user(tenant: str, name: str) -> UserView:
    user = _user(tenant, name)
    return _view(user, role_store.find_many(tenant, user.roles))


def list_users(tenant: str, params: Mapping[str, str]) -> tuple[list[UserView], int]:
    paging = listing.Paging.parse(params, sortable(USER_FIELDS), "username:ASC")
    node = rsql.parse(params["q"], USER_FIELDS) if params.get("q") else None
    roles = {role.name: role for role in role_store.all_roles(tenant)}
    records = []
    for user in user_store.all_users(tenant):
        view = _view(user, roles)
        records.append(
            {
                "username": user.username,
                "role": list(user.roles),
                "permission": sorted(view.effective),
                **_audit_record(user),
                ENTITY: view,
            }
        )
    return filter_and_page(records, node, paging)


def create_users(who: auth.Principal, bodies: list[Any]) -> list[UserView]:
    """All or none; 409 for a name taken (or given twice), 404 for an unknown role, 403 past LOCAL_USER."""
    specs = _parse_new(bodies, rules.parse_new_user, MAX_USERS_PER_REQUEST, "User", lambda spec: spec.username)
    wanted = sorted({role for spec in specs for role in spec.roles})
    if len(wanted) > MAX_ROLES_PER_USER:
        raise errors.ConstraintViolation(f"At most {MAX_ROLES_PER_USER} roles can be given per request.", ["roles"])
    if not specs:
        return []
    tenant = who.tenant
    hashes: dict[str, tuple[str, str]] = {}
    rounds = config.settings().password_hash_iterations

    def attempt() -> list[UserView]:
        roles = _existing_roles(tenant, wanted)
        for spec in specs:
            who.may_grant(_effective(spec.permissions, spec.roles, roles))
        for spec in specs:  # once, even when the transaction is tried again
            hashes.setdefault(spec.username, auth.hash_password(spec.password, iterations=rounds))
        now = clock.now_ms()
        items = [
            user_store.new_item(
                tenant,
                spec.username,
                *hashes[spec.username],
                rounds,
                list(spec.permissions),
                list(spec.roles),
                now,
                who.username,
            )
            for spec in specs
        ]
        tx = Tx()
        for item in items:
            user_store.put_new(tx, item)
        for name, role in roles.items():
            tx.update(role, {"members": Add(sum(name in spec.roles for spec in specs))})
        quotas.charge(tx, tenant, "LOCAL_USER", len(items))
        tx.commit()
        return [_view(item, roles) for item in items]

    return retrying(ATTEMPTS, attempt)


def update_user(who: auth.Principal, name: str, body: Mapping[str, Any]) -> UserView:
    """Password, roles and/or permissions. A user may change its own password without USER_ADMIN."""
    change = rules.parse_user_change(body)
    if len(change.roles or ()) > MAX_ROLES_PER_USER:
        raise errors.ConstraintViolation(f"A user can hold at most {MAX_ROLES_PER_USER} roles.", ["roles"])
    own_password = change.password_only and name == who.username
    if not own_password:
        who.require(USER_ADMIN)
    tenant = who.tenant
    hashed: list[tuple[str, str, int]] = []

    def attempt() -> None:
        user = _user(tenant, name)
        before_roles = set(user.roles)
        after_roles = set(change.roles) if change.roles is not None else before_roles
        after_permissions = list(change.permissions) if change.permissions is not None else list(user.permissions)
        roles = _existing_roles(tenant, after_roles - before_roles) | role_store.find_many(tenant, before_roles)
        before = _effective(user.permissions, before_roles, roles)
        after = _effective(after_permissions, after_roles, roles)
        if not own_password:
            who.may_grant(before | after)
        now = clock.now_ms()
        update: dict[str, Any] = {"last_modified_at": now, "last_modified_by": who.username}
        if change.permissions is not None:
            update["permissions"] = after_permissions
        if change.roles is not None:
            update["roles"] = sorted(after_roles)
        if change.password is not None:
            if not hashed:
                rounds = config.settings().password_hash_iterations
                hashed.append((*auth.hash_password(change.password, iterations=rounds), rounds))
            salt, digest, rounds = hashed[0]
            update.update(
                salt=salt, password_hash=digest, iterations=rounds, login_failures=REMOVE, login_failures_since=REMOVE
            )
        tx = Tx().update(user, update)
        changed_roles = (after_roles ^ before_roles) & set(roles)
        for role_name in changed_roles:
            tx.update(roles[role_name], {"members": Add(1 if role_name in after_roles else -1)})
        if USER_ADMIN in before and USER_ADMIN not in after:
            _keep_an_admin(
                tx,
                tenant,
                {name: rules.Holder(name, frozenset(after_permissions), frozenset(after_roles))},
                {},
                changed_roles,
            )
        tx.commit()

    retrying(ATTEMPTS, attempt)
    auth.forget_user(tenant, name)
    return get_user(tenant, name)


def delete_user(who: auth.Principal, name: str) -> None:
    tenant = who.tenant

    def attempt() -> None:
        user = _user(tenant, name)
        roles = role_store.find_many(tenant, user.roles)
        held = _effective(user.permissions, user.roles, roles)
        who.may_grant(held)
        tx = Tx().delete(user)
        for role in roles.values():
            tx.update(role, {"members": Add(-1)})
        quotas.release(tx, tenant, "LOCAL_USER", 1)
        if USER_ADMIN in held:
            _keep_an_admin(tx, tenant, {name: None}, {}, set(roles))
        tx.commit()

    retrying(ATTEMPTS, attempt)
    auth.forget_user(tenant, name)


# --- roles --------------------------------------------------------------------------------------------------
def get_role(tenant: str, name: str) -> Role:
    role = role_store.find(tenant, name)
    if role is None:
        raise errors.EntityNotFound.of("Role", name)
    return role


def list_roles(tenant: str, params: Mapping[str, str]) -> tuple[list[Role], int]:
    paging = listing.Paging.parse(params, sortable(ROLE_FIELDS), "name:ASC")
    node = rsql.parse(params["q"], ROLE_FIELDS) if params.get("q") else None
    records = [
        {
            "name": role.name,
            "description": role.description,
            "permission": list(role.permissions),
            **_audit_record(role),
            ENTITY: role,
        }
        for role in role_store.all_roles(tenant)
    ]
    return filter_and_page(records, node, paging)


def create_roles(who: auth.Principal, bodies: list[Any]) -> list[Role]:
    """All or none; 409 for a name taken (or given twice), 403 past USER_ROLE."""
    specs = _parse_new(bodies, rules.parse_new_role, MAX_NEW_ROLES_PER_REQUEST, "Role", lambda spec: spec.name)
    for spec in specs:
        who.may_grant(permissions.expand(spec.permissions))
    if not specs:
        return []
    now = clock.now_ms()
    items = [
        role_store.new_item(who.tenant, spec.name, spec.description, list(spec.permissions), now, who.username)
        for spec in specs
    ]
    tx = Tx()
    for item in items:
        tx.put(item, condition=Missing("key"), on_fail=partial(_role_exists, item.name))
    quotas.charge(tx, who.tenant, "USER_ROLE", len(items))
    tx.commit()
    return items


def update_role(who: auth.Principal, name: str, body: Mapping[str, Any]) -> Role:
    change = rules.parse_role_change(body)
    tenant = who.tenant

    def attempt() -> None:
        role = get_role(tenant, name)
        before = permissions.expand(role.permissions)
        after = permissions.expand(change.permissions) if change.permissions is not None else before
        who.may_grant(before | after)
        now = clock.now_ms()
        update: dict[str, Any] = {"last_modified_at": now, "last_modified_by": who.username}
        if change.description is not None:
            update["description"] = change.description
        if change.permissions is not None:
            update["permissions"] = list(change.permissions)
        tx = Tx().update(role, update)
        if role.members and USER_ADMIN in before and USER_ADMIN not in after:
            _keep_an_admin(tx, tenant, {}, {name: change.permissions or ()}, {name})
        tx.commit()

    retrying(ATTEMPTS, attempt)
    if change.permissions is not None:
        auth.forget_verified()  # every user holding the role
    return get_role(tenant, name)


def delete_role(who: auth.Principal, name: str) -> None:
    """409 while users hold the role: take it from them first (nothing changes their permissions silently)."""
    tenant = who.tenant

    def attempt() -> None:
        role = get_role(tenant, name)
        who.may_grant(permissions.expand(role.permissions))
        if role.members:
            raise errors.RoleInUse(
                f"Role {name} is held by users ({int(role.members)}); take it from them first.", ["Role", name]
            )
        tx = Tx().delete(role)
        quotas.release(tx, tenant, "USER_ROLE", 1)
        tx.commit()

    retrying(ATTEMPTS, attempt)


# --- shared -------------------------------------------------------------------------------------------------
def _role_exists(name: str) -> errors.SkyhawkError:
    return errors.EntityAlreadyExists(f"Role {name} already exists.", ["Role", name])


def _parse_new(
    bodies: list[Any], parse: Callable[[Mapping[str, Any]], Any], most: int, kind: str, name_of: Callable[[Any], str]
) -> list[Any]:
    """The entities of one create request: at most `most`, each name once (409)."""
    specs = [parse(body if isinstance(body, dict) else {}) for body in bodies]
    if len(specs) > most:
        raise errors.ConstraintViolation(f"At most {most} {kind.lower()}s can be created per request.")
    names = [name_of(spec) for spec in specs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise errors.EntityAlreadyExists(f"{kind} {twice[0]} is given twice.", [kind, twice[0]])
    return specs


def _user(tenant: str, name: str) -> User:
    user = user_store.find(tenant, name)
    if user is None:
        raise errors.EntityNotFound.of("User", name)
    return user


def _existing_roles(tenant: str, names: Iterable[str]) -> dict[str, Role]:
    names = sorted(set(names))
    found = role_store.find_many(tenant, names)
    missing = [name for name in names if name not in found]
    if missing:
        raise errors.EntityNotFound.of("Role", missing[0])
    return found


def _effective(direct: Iterable[str], role_names: Iterable[str], roles: Mapping[str, Role]) -> frozenset[str]:
    return permissions.effective(direct, [roles[name].permissions for name in role_names if name in roles])


def _view(user: User, roles: Mapping[str, Role]) -> UserView:
    return UserView(user, _effective(user.permissions, user.roles, roles))


def _keep_an_admin(
    tx: Tx,
    tenant: str,
    users_after: Mapping[str, rules.Holder | None],
    roles_after: Mapping[str, Iterable[str]],
    roles_in_tx: set[str],
) -> None:
    """409 if the change leaves no user holding USER_ADMIN; else make `tx` require one such user unchanged."""
    user_items = {user.username: user for user in user_store.all_users(tenant)}
    role_items = {role.name: role for role in role_store.all_roles(tenant)}
    holders = {
        name: rules.Holder(name, frozenset(user.permissions), frozenset(user.roles))
        for name, user in user_items.items()
    }
    for name, holder in users_after.items():
        if holder is None:
            holders.pop(name, None)
        else:
            holders[name] = holder
    role_permissions = {name: list(role.permissions) for name, role in role_items.items()}
    role_permissions.update({name: list(perms) for name, perms in roles_after.items()})
    witness = rules.admin_witness(holders.values(), role_permissions)
    if witness is None:
        raise errors.LastUserAdmin(
            "The change would leave no user holding USER_ADMIN, and nobody could manage users any more."
        )
    username, via = witness
    if username not in users_after:
        tx.check(User, tenant, user_items[username].key, rules.unchanged(user_items[username]))
    if via is not None and via not in roles_in_tx:
        tx.check(Role, tenant, role_items[via].key, rules.unchanged(role_items[via]))


def _audit_record(entity: Any) -> dict[str, Any]:
    """Search and sort fields of the audit data (users made before it was kept have no modification yet)."""
    modified_at = entity.last_modified_at if entity.last_modified_at is not None else entity.created_at
    return {
        "createdat": int(entity.created_at),
        "createdby": entity.created_by,
        "lastmodifiedat": int(modified_at),
        "lastmodifiedby": entity.last_modified_by or entity.created_by,
    }
