"""/rest/v1/users and /rest/v1/roles: every operation and error path, quotas, permissions, the last admin,
password hashing and the verified-login cache."""
from __future__ import annotations

import json

import pytest

from chalicelib.auth import PERMISSIONS
from tests.api import steps
from tests.conftest import ADMIN, basic

USERS = "/rest/v1/users"
ROLES = "/rest/v1/roles"
JSON = {"Content-Type": "application/json"}


def _send(client, method, path, body=None, headers=ADMIN):
    return getattr(client.http, method)(path, headers={**headers, **JSON},
                                        **({"body": json.dumps(body)} if body is not None else {}))


def _ok(resp, status=200):
    assert resp.status_code == status, resp.body
    return json.loads(resp.body) if resp.body else None


def _error(resp, status, code):
    assert resp.status_code == status, resp.body
    body = json.loads(resp.body)
    assert body["errorCode"] == code, body
    return body


def role(client, name, permissions, description=None, headers=ADMIN):
    return _ok(_send(client, "post", ROLES, [{"name": name, "permissions": permissions,
                                              "description": description}], headers), 201)[0]


def user(client, name, password=None, roles=(), permissions=(), headers=ADMIN):
    body = [{"username": name, "password": password or f"{name}-password", "roles": list(roles),
             "permissions": list(permissions)}]
    return _ok(_send(client, "post", USERS, body, headers), 201)[0]


def login(name):
    return basic(name, f"{name}-password")


def used(client, quota):
    return _ok(client.http.get(f"/rest/v1/system/quota/{quota}", headers=ADMIN))["used"]


def stored_user(name):
    from chalicelib.store import users
    return users.find("DEFAULT", name)


# --- roles ----------------------------------------------------------------------------------------------------
def test_roles_create_read_update_delete(client):
    created = role(client, "operators", ["READ_TARGET", "UPDATE_TARGET"], "run the fleet")
    assert created["name"] == "operators" and created["description"] == "run the fleet"
    assert created["permissions"] == ["READ_TARGET", "UPDATE_TARGET"] and created["totalUsers"] == 0
    assert created["createdBy"] == created["lastModifiedBy"] == "admin"
    assert created["_links"]["self"]["href"].endswith("/rest/v1/roles/operators")
    assert _ok(client.http.get(f"{ROLES}/operators", headers=ADMIN)) == created
    assert used(client, "USER_ROLE") == 1

    changed = _ok(_send(client, "put", f"{ROLES}/operators", {"permissions": ["READ_TARGET"]}))
    assert changed["permissions"] == ["READ_TARGET"] and changed["description"] == "run the fleet"
    changed = _ok(_send(client, "put", f"{ROLES}/operators", {"description": "watch the fleet"}))
    assert changed["permissions"] == ["READ_TARGET"] and changed["description"] == "watch the fleet"

    assert client.http.delete(f"{ROLES}/operators", headers=ADMIN).status_code == 200
    _error(client.http.get(f"{ROLES}/operators", headers=ADMIN), 404, "hawkbit.server.error.repo.entityNotFound")
    assert used(client, "USER_ROLE") == 0


def test_roles_list_pages_sorts_and_searches(client):
    for name, perms in (("b-readers", ["READ_TARGET"]), ("a-writers", ["UPDATE_TARGET"]),
                        ("c-config", ["TENANT_CONFIGURATION"])):
        role(client, name, perms)
    listed = _ok(client.http.get(ROLES, headers=ADMIN))
    assert [r["name"] for r in listed["content"]] == ["a-writers", "b-readers", "c-config"]
    assert listed["total"] == listed["size"] == 3
    page = _ok(client.http.get(f"{ROLES}?offset=1&limit=1&sort=name:DESC", headers=ADMIN))
    assert [r["name"] for r in page["content"]] == ["b-readers"] and page["total"] == 3
    found = _ok(client.http.get(f"{ROLES}?q=permission==TENANT_CONFIGURATION", headers=ADMIN))
    assert [r["name"] for r in found["content"]] == ["c-config"] and found["total"] == 1
    _error(client.http.get(f"{ROLES}?q=secret==1", headers=ADMIN), 400,
           "hawkbit.server.error.rest.param.rsqlInvalidField")
    _error(client.http.get(f"{ROLES}?sort=colour:ASC", headers=ADMIN), 400,
           "hawkbit.server.error.rest.param.invalidField")


def test_role_errors(client):
    role(client, "ops", ["READ_TARGET"])
    _error(_send(client, "post", ROLES, [{"name": "ops"}]), 409, "hawkbit.server.error.repo.entityAlreadyExists")
    _error(_send(client, "post", ROLES, [{"name": "x"}, {"name": "x"}]), 409,
           "hawkbit.server.error.repo.entityAlreadyExists")
    _error(_send(client, "post", ROLES, [{"name": "y", "permissions": ["ROOT"]}]), 400,
           "hawkbit.server.error.repo.constraintViolation")
    _error(_send(client, "post", ROLES, [{"name": "bad name"}]), 400, "hawkbit.server.error.repo.constraintViolation")
    _error(_send(client, "post", ROLES, {"name": "z"}), 400, "hawkbit.server.error.rest.body.notReadable")
    _error(_send(client, "put", f"{ROLES}/ops", {"permissions": "READ_TARGET"}), 400,
           "hawkbit.server.error.repo.constraintViolation")
    _error(_send(client, "put", f"{ROLES}/nope", {"description": "d"}), 404, "hawkbit.server.error.repo.entityNotFound")
    _error(client.http.delete(f"{ROLES}/nope", headers=ADMIN), 404, "hawkbit.server.error.repo.entityNotFound")
    assert [r["name"] for r in _ok(client.http.get(ROLES, headers=ADMIN))["content"]] == ["ops"]
    assert used(client, "USER_ROLE") == 1


def test_a_role_held_by_users_cannot_be_deleted(client):
    role(client, "ops", ["READ_TARGET"])
    user(client, "alice", roles=["ops"])
    assert _ok(client.http.get(f"{ROLES}/ops", headers=ADMIN))["totalUsers"] == 1
    _error(client.http.delete(f"{ROLES}/ops", headers=ADMIN), 409, "hawkbit.server.error.role.used")
    _ok(_send(client, "put", f"{USERS}/alice", {"roles": []}))
    assert _ok(client.http.get(f"{ROLES}/ops", headers=ADMIN))["totalUsers"] == 0
    assert client.http.delete(f"{ROLES}/ops", headers=ADMIN).status_code == 200


def test_user_role_quota_refuses_with_403_and_writes_nothing(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_QUOTA_USER_ROLE", "2")
    role(client, "one", [])
    _error(_send(client, "post", ROLES, [{"name": "two"}, {"name": "three"}]), 403,
           "hawkbit.server.error.quota.tooManyEntries")
    assert used(client, "USER_ROLE") == 1
    assert [r["name"] for r in _ok(client.http.get(ROLES, headers=ADMIN))["content"]] == ["one"]
    role(client, "two", [])
    assert used(client, "USER_ROLE") == 2


# --- users ----------------------------------------------------------------------------------------------------
def test_users_create_read_update_delete(client):
    role(client, "ops", ["READ_TARGET", "TENANT_CONFIGURATION"])
    created = user(client, "alice", roles=["ops"], permissions=["READ_REPOSITORY"])
    assert created["username"] == "alice" and created["roles"] == ["ops"]
    assert created["permissions"] == ["READ_REPOSITORY"]
    assert created["effectivePermissions"] == ["READ_REPOSITORY", "READ_TARGET", "READ_TENANT_CONFIGURATION",
                                               "TENANT_CONFIGURATION"]
    assert created["createdBy"] == "admin" and "password" not in json.dumps(created)
    assert created["_links"]["self"]["href"].endswith("/rest/v1/users/alice")
    assert created["_links"]["roles"] == [{"href": created["_links"]["roles"][0]["href"], "name": "ops"}]
    assert _ok(client.http.get(f"{USERS}/alice", headers=ADMIN)) == created
    assert used(client, "LOCAL_USER") == 2 and _ok(client.http.get(f"{ROLES}/ops", headers=ADMIN))["totalUsers"] == 1
    # the login works and carries the effective permissions
    assert client.http.get("/rest/v1/system/configs", headers=login("alice")).status_code == 200
    assert client.http.post("/rest/v1/targets", headers={**login("alice"), **JSON}, body="[]").status_code == 403

    changed = _ok(_send(client, "put", f"{USERS}/alice", {"roles": [], "permissions": ["CREATE_TARGET"]}))
    assert changed["roles"] == [] and changed["effectivePermissions"] == ["CREATE_TARGET"]
    assert changed["lastModifiedAt"] >= changed["createdAt"]
    assert _ok(client.http.get(f"{ROLES}/ops", headers=ADMIN))["totalUsers"] == 0

    assert client.http.delete(f"{USERS}/alice", headers=ADMIN).status_code == 200
    _error(client.http.get(f"{USERS}/alice", headers=ADMIN), 404, "hawkbit.server.error.repo.entityNotFound")
    assert client.http.get("/rest/v1/userinfo", headers=login("alice")).status_code == 401
    assert used(client, "LOCAL_USER") == 1


def test_users_list_pages_sorts_and_searches(client):
    role(client, "ops", ["READ_TARGET"])
    for name in ("carol", "bob"):
        user(client, name, roles=["ops"])
    user(client, "dave", permissions=["READ_REPOSITORY"])
    listed = _ok(client.http.get(USERS, headers=ADMIN))
    assert [u["username"] for u in listed["content"]] == ["admin", "bob", "carol", "dave"]
    assert listed["total"] == 4
    page = _ok(client.http.get(f"{USERS}?offset=1&limit=2&sort=username:DESC", headers=ADMIN))
    assert [u["username"] for u in page["content"]] == ["carol", "bob"] and page["size"] == 2
    by_role = _ok(client.http.get(f"{USERS}?q=role==ops", headers=ADMIN))
    assert [u["username"] for u in by_role["content"]] == ["bob", "carol"] and by_role["total"] == 2
    by_permission = _ok(client.http.get(f"{USERS}?q=permission==READ_REPOSITORY;username!=admin", headers=ADMIN))
    assert [u["username"] for u in by_permission["content"]] == ["dave"]
    _error(client.http.get(f"{USERS}?q=password==x", headers=ADMIN), 400,
           "hawkbit.server.error.rest.param.rsqlInvalidField")


def test_user_errors(client):
    user(client, "alice")
    for body, status, code in (
            ([{"username": "alice", "password": "another-one"}], 409, "hawkbit.server.error.repo.entityAlreadyExists"),
            ([{"username": "x1", "password": "password1"}, {"username": "x1", "password": "password1"}], 409,
             "hawkbit.server.error.repo.entityAlreadyExists"),
            ([{"username": "bob", "password": "password1", "roles": ["nope"]}], 404,
             "hawkbit.server.error.repo.entityNotFound"),
            ([{"username": "bob", "password": "short"}], 400, "hawkbit.server.error.repo.constraintViolation"),
            ([{"username": "bob"}], 400, "hawkbit.server.error.repo.constraintViolation"),
            ([{"username": "b:ob", "password": "password1"}], 400, "hawkbit.server.error.repo.constraintViolation"),
            ([{"username": "bob", "password": "password1", "permissions": ["GOD"]}], 400,
             "hawkbit.server.error.repo.constraintViolation"),
            ([{"username": f"u{i}", "password": "password1"} for i in range(21)], 400,
             "hawkbit.server.error.repo.constraintViolation"),
            ({"username": "bob", "password": "password1"}, 400, "hawkbit.server.error.rest.body.notReadable")):
        _error(_send(client, "post", USERS, body), status, code)
    _error(_send(client, "put", f"{USERS}/alice", {"roles": ["nope"]}), 404, "hawkbit.server.error.repo.entityNotFound")
    _error(_send(client, "put", f"{USERS}/alice", {"password": "short"}), 400,
           "hawkbit.server.error.repo.constraintViolation")
    _error(_send(client, "put", f"{USERS}/nobody", {"password": "long-enough"}), 404,
           "hawkbit.server.error.repo.entityNotFound")
    _error(client.http.delete(f"{USERS}/nobody", headers=ADMIN), 404, "hawkbit.server.error.repo.entityNotFound")
    _error(client.http.put(f"{USERS}/alice", headers={**ADMIN, **JSON}, body="{"), 400,
           "hawkbit.server.error.rest.body.notReadable")
    assert [u["username"] for u in _ok(client.http.get(USERS, headers=ADMIN))["content"]] == ["admin", "alice"]
    assert used(client, "LOCAL_USER") == 2


def test_local_user_quota_refuses_with_403_and_writes_nothing(client, monkeypatch):
    role(client, "ops", ["READ_TARGET"])
    monkeypatch.setenv("SKYHAWK_QUOTA_LOCAL_USER", "2")
    _error(_send(client, "post", USERS, [{"username": "a1", "password": "password1", "roles": ["ops"]},
                                         {"username": "a2", "password": "password1", "roles": ["ops"]}]),
           403, "hawkbit.server.error.quota.tooManyEntries")
    assert used(client, "LOCAL_USER") == 1 and stored_user("a1") is None
    assert _ok(client.http.get(f"{ROLES}/ops", headers=ADMIN))["totalUsers"] == 0
    user(client, "a1", roles=["ops"])
    _error(_send(client, "post", USERS, [{"username": "a2", "password": "password1"}]), 403,
           "hawkbit.server.error.quota.tooManyEntries")
    client.http.delete(f"{USERS}/a1", headers=ADMIN)
    user(client, "a2")
    assert used(client, "LOCAL_USER") == 2


# --- who may do what ------------------------------------------------------------------------------------------
ENDPOINTS = [("get", USERS, None), ("post", USERS, [{"username": "zed", "password": "password1"}]),
             ("get", f"{USERS}/admin", None), ("put", f"{USERS}/admin", {"permissions": []}),
             ("delete", f"{USERS}/admin", None), ("get", ROLES, None), ("post", ROLES, [{"name": "r"}]),
             ("get", f"{ROLES}/ops", None), ("put", f"{ROLES}/ops", {"permissions": []}),
             ("delete", f"{ROLES}/ops", None)]


def test_every_endpoint_needs_credentials_and_user_admin(client):
    role(client, "ops", ["READ_TARGET"])
    user(client, "operator", permissions=[p for p in PERMISSIONS if p not in ("USER_ADMIN", "SYSTEM_ADMIN")])
    for method, path, body in ENDPOINTS:
        _error(_send(client, method, path, body, headers={}), 401, "hawkbit.server.error.unauthorized")
        _error(_send(client, method, path, body, headers=basic("admin", "wrong")), 401,
               "hawkbit.server.error.unauthorized")
        body_403 = _error(_send(client, method, path, body, headers=login("operator")), 403,
                          "hawkbit.server.error.insufficientPermission")
        assert "USER_ADMIN" in body_403["parameters"], (method, path)
    # nothing changed
    assert [u["username"] for u in _ok(client.http.get(USERS, headers=ADMIN))["content"]] == ["admin", "operator"]
    assert [r["permissions"] for r in _ok(client.http.get(ROLES, headers=ADMIN))["content"]] == [["READ_TARGET"]]


def test_user_admin_grants_only_what_it_holds(client):
    role(client, "readers", ["READ_TARGET"])
    user(client, "keeper", permissions=["USER_ADMIN", "READ_TARGET"])
    keeper = login("keeper")
    user(client, "reader", roles=["readers"], headers=keeper)  # holds READ_TARGET itself
    for method, path, body in (
            ("post", USERS, [{"username": "x", "password": "password1", "permissions": ["CREATE_TARGET"]}]),
            ("post", ROLES, [{"name": "creators", "permissions": ["CREATE_TARGET"]}]),
            ("put", f"{USERS}/reader", {"permissions": ["TENANT_CONFIGURATION"]}),
            ("put", f"{ROLES}/readers", {"permissions": ["READ_TARGET", "DELETE_TARGET"]}),
            ("put", f"{USERS}/admin", {"password": "taken-over"}),  # a stronger account cannot be taken over
            ("delete", f"{USERS}/admin", None)):
        body_403 = _error(_send(client, method, path, body, headers=keeper), 403,
                          "hawkbit.server.error.insufficientPermission")
        assert body_403["parameters"], (method, path)
    assert client.http.get("/rest/v1/userinfo", headers=ADMIN).status_code == 200
    assert _ok(client.http.get(f"{USERS}/reader", headers=ADMIN))["effectivePermissions"] == ["READ_TARGET"]
    assert client.http.delete(f"{USERS}/reader", headers=keeper).status_code == 200


def test_system_admin_implies_user_admin(client):
    from chalicelib.services import tenants
    tenants.create_user("DEFAULT", "legacy", "legacy-password", ["SYSTEM_ADMIN", "READ_TARGET"])
    assert _ok(client.http.get(USERS, headers=login("legacy")))["total"] == 2
    user(client, "made-by-legacy", permissions=["READ_TARGET"], headers=login("legacy"))


def test_a_user_reads_itself_and_changes_its_own_password_without_user_admin(client):
    user(client, "alice", permissions=["READ_TARGET"])
    me = _ok(client.http.get(f"{USERS}/alice", headers=login("alice")))
    assert me["effectivePermissions"] == ["READ_TARGET"]
    _error(client.http.get(f"{USERS}/admin", headers=login("alice")), 403,
           "hawkbit.server.error.insufficientPermission")
    _error(_send(client, "put", f"{USERS}/alice", {"permissions": ["READ_TARGET", "CREATE_TARGET"]},
                 headers=login("alice")), 403, "hawkbit.server.error.insufficientPermission")
    _error(_send(client, "put", f"{USERS}/admin", {"password": "new-password"}, headers=login("alice")), 403,
           "hawkbit.server.error.insufficientPermission")
    _ok(_send(client, "put", f"{USERS}/alice", {"password": "alice-new-password"}, headers=login("alice")))
    assert client.http.get("/rest/v1/userinfo", headers=basic("alice", "alice-new-password")).status_code == 200


# --- the last admin -------------------------------------------------------------------------------------------
def test_the_last_user_admin_cannot_be_deleted_or_demoted(client):
    for method, path, body in (("delete", f"{USERS}/admin", None), ("put", f"{USERS}/admin", {"permissions": []}),
                               ("put", f"{USERS}/admin", {"permissions": ["READ_TARGET"], "roles": []})):
        _error(_send(client, method, path, body), 409, "hawkbit.server.error.user.lastAdmin")
    assert "USER_ADMIN" in _ok(client.http.get(f"{USERS}/admin", headers=ADMIN))["effectivePermissions"]
    # with a second administrator, the first may go (even by its own hand)
    user(client, "deputy", permissions=["USER_ADMIN"])
    _ok(_send(client, "put", f"{USERS}/deputy", {"permissions": list(PERMISSIONS)}))
    assert client.http.delete(f"{USERS}/admin", headers=ADMIN).status_code == 200
    _error(client.http.delete(f"{USERS}/deputy", headers=login("deputy")), 409, "hawkbit.server.error.user.lastAdmin")


def test_the_last_admin_role_cannot_lose_user_admin(client):
    everything = list(PERMISSIONS)
    role(client, "admins", everything)
    user(client, "root", roles=["admins"])
    _ok(_send(client, "put", f"{USERS}/admin", {"permissions": ["READ_TARGET"]}))  # root (via its role) remains
    root = login("root")
    _error(_send(client, "put", f"{ROLES}/admins", {"permissions": ["READ_TARGET"]}, headers=root), 409,
           "hawkbit.server.error.user.lastAdmin")
    _error(_send(client, "put", f"{USERS}/root", {"roles": []}, headers=root), 409,
           "hawkbit.server.error.user.lastAdmin")
    assert _ok(client.http.get(f"{ROLES}/admins", headers=root))["permissions"] == sorted(everything)


def test_two_demotions_that_each_leave_the_other_admin_cannot_both_pass(client):
    from chalicelib.store import users as user_store

    user(client, "deputy", permissions=list(PERMISSIONS))
    stale = list(user_store.all_users("DEFAULT"))  # read by the second demotion before the first committed
    _ok(_send(client, "put", f"{USERS}/deputy", {"permissions": ["READ_TARGET"]}))
    # The second demotion decides on the stale read (deputy still an admin): its transaction requires the
    # deputy unchanged, fails, and the retry on a fresh read finds admin the last one.
    real = user_store.all_users
    reads = []

    def stale_first(tenant):
        reads.append(tenant)
        return iter(stale) if len(reads) == 1 else real(tenant)
    user_store.all_users = stale_first
    try:
        resp = _send(client, "put", f"{USERS}/admin", {"permissions": ["READ_TARGET"]})
    finally:
        user_store.all_users = real
    _error(resp, 409, "hawkbit.server.error.user.lastAdmin")
    assert len(reads) == 2
    assert "USER_ADMIN" in stored_user("admin").permissions


# --- passwords and the login cache ----------------------------------------------------------------------------
def test_passwords_are_pbkdf2_sha256_with_600000_rounds_by_default(monkeypatch):
    from chalicelib import config
    monkeypatch.delenv("SKYHAWK_PASSWORD_HASH_ITERATIONS")
    config.reset()
    try:
        assert config.settings().password_hash_iterations == 600_000
    finally:
        monkeypatch.undo()
        config.reset()


def test_new_and_changed_passwords_store_the_configured_rounds_and_old_hashes_are_upgraded(client, monkeypatch):
    from chalicelib import auth, config
    user(client, "alice")
    assert int(stored_user("alice").iterations) == 1000  # tests configure 1000 rounds
    old_hash = stored_user("alice").password_hash
    monkeypatch.setenv("SKYHAWK_PASSWORD_HASH_ITERATIONS", "2000")
    config.reset()
    assert client.http.get("/rest/v1/userinfo", headers=login("alice")).status_code == 200
    upgraded = stored_user("alice")
    assert int(upgraded.iterations) == 2000 and upgraded.password_hash != old_hash
    auth.forget_verified()
    assert client.http.get("/rest/v1/userinfo", headers=login("alice")).status_code == 200
    assert client.http.get("/rest/v1/userinfo", headers=basic("alice", "wrong-password")).status_code == 401
    # fewer configured rounds never weaken a stored hash
    monkeypatch.setenv("SKYHAWK_PASSWORD_HASH_ITERATIONS", "1000")
    config.reset()
    auth.forget_verified()
    assert client.http.get("/rest/v1/userinfo", headers=login("alice")).status_code == 200
    assert int(stored_user("alice").iterations) == 2000
    _ok(_send(client, "put", f"{USERS}/alice", {"password": "changed-password"}))
    assert int(stored_user("alice").iterations) == 1000


def test_a_password_change_ends_the_cached_login_at_once(client):
    user(client, "alice")
    assert client.http.get("/rest/v1/userinfo", headers=login("alice")).status_code == 200  # verified and cached
    _ok(_send(client, "put", f"{USERS}/alice", {"password": "the-new-password"}))
    assert client.http.get("/rest/v1/userinfo", headers=login("alice")).status_code == 401
    assert client.http.get("/rest/v1/userinfo", headers=basic("alice", "the-new-password")).status_code == 200


def test_a_deleted_user_or_changed_permissions_take_effect_at_once(client):
    role(client, "readers", ["READ_TARGET"])
    user(client, "alice", roles=["readers"])
    user(client, "bob", roles=["readers"])
    assert client.http.get("/rest/v1/targets", headers=login("alice")).status_code == 200
    assert client.http.get("/rest/v1/targets", headers=login("bob")).status_code == 200
    _ok(_send(client, "put", f"{ROLES}/readers", {"permissions": ["READ_REPOSITORY"]}))
    assert client.http.get("/rest/v1/targets", headers=login("alice")).status_code == 403
    _ok(_send(client, "put", f"{USERS}/bob", {"permissions": ["READ_TARGET"]}))
    assert client.http.get("/rest/v1/targets", headers=login("bob")).status_code == 200
    client.http.delete(f"{USERS}/bob", headers=ADMIN)
    assert client.http.get("/rest/v1/targets", headers=login("bob")).status_code == 401


# --- the security token ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("with_token", [False, True])
def test_security_token_is_shown_only_with_its_permission_in_every_rendering(client, with_token):
    steps.enable_target_tokens(client)
    ds_id, _ = steps.release(client)
    granted = ["READ_TARGET", "CREATE_TARGET", "UPDATE_TARGET", "READ_REPOSITORY"]
    role(client, "fleet", granted + (["READ_TARGET_SECURITY_TOKEN"] if with_token else []))
    user(client, "operator", roles=["fleet"])
    who = {**login("operator"), **JSON}
    created = _ok(client.http.post("/rest/v1/targets", headers=who,
                                   body=json.dumps([{"controllerId": "t1", "securityToken": "tok-t1"}])), 201)
    steps.assign(client, ds_id, "t1")
    steps.feedback(client, "t1", "tok-t1", steps.poll(client, "t1", "tok-t1")["_links"]["deploymentBase"]["href"]
                   .split("/deploymentBase/")[1].split("?")[0], "closed", "success")
    renderings = {
        "create": created[0],
        "get": _ok(client.http.get("/rest/v1/targets/t1", headers=who)),
        "list": _ok(client.http.get("/rest/v1/targets", headers=who))["content"][0],
        "update": _ok(client.http.put("/rest/v1/targets/t1", headers=who, body=json.dumps({"name": "renamed"}))),
        "assigned": _ok(client.http.get(f"/rest/v1/distributionsets/{ds_id}/assignedTargets",
                                        headers=who))["content"][0],
        "installed": _ok(client.http.get(f"/rest/v1/distributionsets/{ds_id}/installedTargets",
                                         headers=who))["content"][0],
    }
    for name, target in renderings.items():
        assert target["controllerId"] == "t1", name
        assert ("securityToken" in target) is with_token, name
        if with_token:
            assert target["securityToken"] == "tok-t1", name
