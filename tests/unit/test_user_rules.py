"""Permissions and their implications (domain/permissions.py)."""
from chalicelib.domain import permissions


def test_effective_permissions_are_the_union_with_implications():
    held = permissions.effective(["READ_TARGET"], [["TENANT_CONFIGURATION"], ["UPDATE_DEVICE_CONFIGURATION"]])
    assert held == {"READ_TARGET", "TENANT_CONFIGURATION", "READ_TENANT_CONFIGURATION",
                    "UPDATE_DEVICE_CONFIGURATION", "READ_DEVICE_CONFIGURATION"}
    assert "USER_ADMIN" in permissions.expand(["SYSTEM_ADMIN"])
    assert permissions.expand([]) == frozenset()


def test_unknown_permissions_are_named():
    assert permissions.unknown(["READ_TARGET", "ROOT", "ALL"]) == ["ALL", "ROOT"]
