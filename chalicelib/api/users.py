"""/rest/v1/users and /rest/v1/roles: local users, roles and the permissions they hold.

hawkBit has no REST API for users (they are static configuration there); these resources follow its
Management API style: POST an array (201 with the created array), PUT changes what the body names, DELETE
answers 200, lists take offset/limit/sort/q. Everything needs USER_ADMIN, except that a user may read itself
and change its own password. Passwords and hashes are never rendered.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalice import Blueprint

from chalicelib.api.catalog_views import paged, path_text, without_none
from chalicelib.api.common import base_url, empty, json_body, json_response, principal, query, route
from chalicelib.domain.permissions import USER_ADMIN
from chalicelib.lazy import lazy_import

service = lazy_import("chalicelib.services.users")

bp = Blueprint(__name__)
USERS = "/rest/v1/users"
ROLES = "/rest/v1/roles"


def _audit(entity: Any) -> dict[str, Any]:
    modified_at = entity.last_modified_at if entity.last_modified_at is not None else entity.created_at
    return {
        "createdBy": entity.created_by,
        "createdAt": int(entity.created_at),
        "lastModifiedBy": entity.last_modified_by or entity.created_by,
        "lastModifiedAt": int(modified_at),
    }


def user_json(view, root: str) -> dict[str, Any]:
    user = view.user
    return without_none(
        {
            **_audit(user),
            "username": user.username,
            "roles": sorted(user.roles),
            "permissions": sorted(user.permissions),
            "effectivePermissions": sorted(view.effective),
            "_links": {
                "self": {"href": f"{root}{USERS}/{quote(user.username, safe='@+')}"},
                "roles": [{"href": f"{root}{ROLES}/{name}", "name": name} for name in sorted(user.roles)],
            },
        }
    )


def role_json(role, root: str) -> dict[str, Any]:
    return without_none(
        {
            **_audit(role),
            "name": role.name,
            "description": role.description,
            "permissions": sorted(role.permissions),
            "totalUsers": int(role.members or 0),
            "_links": {"self": {"href": f"{root}{ROLES}/{role.name}"}},
        }
    )


# --- users ----------------------------------------------------------------------------------------------------
@route(bp, USERS)
def list_users():
    who = principal(bp, USER_ADMIN)
    content, total = service.list_users(who.tenant, query(bp))
    root = base_url(bp)
    return json_response(paged([user_json(v, root) for v in content], total))


@route(bp, USERS, methods=["POST"])
def create_users():
    who = principal(bp, USER_ADMIN)
    created = service.create_users(who, json_body(bp, list))
    root = base_url(bp)
    return json_response([user_json(v, root) for v in created], status=201)


@route(bp, USERS + "/{username}")
def get_user(username):
    who = principal(bp)
    username = path_text(username)
    who.require_unless_self(username, USER_ADMIN)
    return json_response(user_json(service.get_user(who.tenant, username), base_url(bp)))


@route(bp, USERS + "/{username}", methods=["PUT"])
def update_user(username):
    who = principal(bp)  # the service decides: USER_ADMIN, or a user changing its own password
    view = service.update_user(who, path_text(username), json_body(bp, dict))
    return json_response(user_json(view, base_url(bp)))


@route(bp, USERS + "/{username}", methods=["DELETE"])
def delete_user(username):
    who = principal(bp, USER_ADMIN)
    service.delete_user(who, path_text(username))
    return empty(200)


# --- roles ----------------------------------------------------------------------------------------------------
@route(bp, ROLES)
def list_roles():
    who = principal(bp, USER_ADMIN)
    content, total = service.list_roles(who.tenant, query(bp))
    root = base_url(bp)
    return json_response(paged([role_json(r, root) for r in content], total))


@route(bp, ROLES, methods=["POST"])
def create_roles():
    who = principal(bp, USER_ADMIN)
    created = service.create_roles(who, json_body(bp, list))
    root = base_url(bp)
    return json_response([role_json(r, root) for r in created], status=201)


@route(bp, ROLES + "/{name}")
def get_role(name):
    who = principal(bp, USER_ADMIN)
    return json_response(role_json(service.get_role(who.tenant, path_text(name)), base_url(bp)))


@route(bp, ROLES + "/{name}", methods=["PUT"])
def update_role(name):
    who = principal(bp, USER_ADMIN)
    return json_response(role_json(service.update_role(who, path_text(name), json_body(bp, dict)), base_url(bp)))


@route(bp, ROLES + "/{name}", methods=["DELETE"])
def delete_role(name):
    who = principal(bp, USER_ADMIN)
    service.delete_role(who, path_text(name))
    return empty(200)
