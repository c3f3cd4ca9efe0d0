"""Permissions, their implications, and the rules for users and roles (domain/permissions.py, domain/users.py)."""
import pytest

from chalicelib import errors
from chalicelib.domain import permissions
from chalicelib.domain import users as rules
from chalicelib.domain.users import Holder


def test_effective_permissions_are_the_union_with_implications():
    held = permissions.effective(["READ_TARGET"], [["TENANT_CONFIGURATION"], ["UPDATE_DEVICE_CONFIGURATION"]])
    assert held == {"READ_TARGET", "TENANT_CONFIGURATION", "READ_TENANT_CONFIGURATION",
                    "UPDATE_DEVICE_CONFIGURATION", "READ_DEVICE_CONFIGURATION"}
    assert "USER_ADMIN" in permissions.expand(["SYSTEM_ADMIN"])
    assert permissions.expand([]) == frozenset()


def test_unknown_permissions_are_named():
    assert permissions.unknown(["READ_TARGET", "ROOT", "ALL"]) == ["ALL", "ROOT"]


def test_new_user_needs_a_valid_name_and_password():
    user = rules.parse_new_user({"username": "ops.bot@example.com", "password": "12345678",
                                 "roles": ["b", "a", "a"], "permissions": ["READ_TARGET"]})
    assert user == rules.NewUser("ops.bot@example.com", "12345678", ("a", "b"), ("READ_TARGET",))
    for body in ({"password": "12345678"}, {"username": "a:b", "password": "12345678"},
                 {"username": "tenant\\a", "password": "12345678"}, {"username": "a/b", "password": "12345678"},
                 {"username": "x" * 65, "password": "12345678"}, {"username": "alice"},
                 {"username": "alice", "password": "short"}, {"username": "alice", "password": 12345678},
                 {"username": "alice", "password": "12345678", "roles": "admins"},
                 {"username": "alice", "password": "12345678", "roles": ["bad name"]},
                 {"username": "alice", "password": "12345678", "permissions": ["ROOT"]}):
        with pytest.raises(errors.ConstraintViolation):
            rules.parse_new_user(body)


def test_changes_name_only_what_they_change():
    assert rules.parse_user_change({}) == rules.UserChange()
    assert rules.parse_user_change({"password": "new-secret"}).password_only
    assert not rules.parse_user_change({"roles": []}).password_only
    assert rules.parse_role_change({"permissions": []}) == rules.RoleChange(None, ())
    with pytest.raises(errors.ConstraintViolation):
        rules.parse_role_change({"description": "x" * 513})
    with pytest.raises(errors.ConstraintViolation):
        rules.parse_new_role({"name": "-leading"})


def test_an_admin_witness_prefers_one_holding_user_admin_itself():
    roles = {"admins": ["USER_ADMIN"], "ops": ["READ_TARGET"]}
    via_role = Holder("a", frozenset(), frozenset({"admins"}))
    direct = Holder("b", frozenset({"SYSTEM_ADMIN"}), frozenset())
    nobody = Holder("c", frozenset({"READ_TARGET"}), frozenset({"ops"}))
    assert rules.admin_witness([via_role, direct, nobody], roles) == ("b", None)
    assert rules.admin_witness([via_role, nobody], roles) == ("a", "admins")
    assert rules.admin_witness([nobody], roles) is None
    assert rules.admin_witness([via_role], {"admins": []}) is None
