"""/rest/v1/softwaremoduletypes and /rest/v1/distributionsettypes: defaults, CRUD, sub-resources, errors."""
from __future__ import annotations

import pytest

from tests.api.catalog_helpers import (
    DS_TYPES,
    JSON,
    SM_TYPES,
    body,
    create_ds,
    create_sm,
    delete,
    error_code,
    get,
    post,
    put,
    usage,
    user_with,
)


def _by_key(client, path: str) -> dict[str, dict]:
    return {t["key"]: t for t in body(get(client, path))["content"]}


# --- defaults -----------------------------------------------------------------------------------
def test_default_software_module_types(client):
    listed = body(get(client, SM_TYPES))
    assert listed["total"] == 3 and listed["size"] == 3
    types = {t["key"]: t for t in listed["content"]}
    assert (types["os"]["name"], types["os"]["maxAssignments"]) == ("OS", 1)
    assert (types["application"]["name"], types["application"]["maxAssignments"]) == ("Application", 2147483647)
    assert (types["runtime"]["name"], types["runtime"]["maxAssignments"]) == ("Runtime", 1)
    os_type = types["os"]
    assert os_type["deleted"] is False and os_type["createdBy"] == "system"
    assert isinstance(os_type["id"], int) and isinstance(os_type["createdAt"], int)
    assert os_type["_links"]["self"]["href"].endswith(f"/rest/v1/softwaremoduletypes/{os_type['id']}")
    assert usage("SOFTWARE_MODULE_TYPE") == 3


def test_default_distribution_set_types_and_their_module_types(client):
    types = _by_key(client, DS_TYPES)
    assert {k: t["name"] for k, t in types.items()} == {"os": "OS only", "os_app": "OS with app(s)",
                                                        "app": "App(s) only"}
    sm_types = _by_key(client, SM_TYPES)

    def keys(ds_type: str, which: str) -> list[str]:
        resp = get(client, f"{DS_TYPES}/{types[ds_type]['id']}/{which}")
        assert resp.status_code == 200
        return [t["key"] for t in body(resp)]

    assert keys("os", "mandatorymoduletypes") == ["os"] and keys("os", "optionalmoduletypes") == []
    assert keys("os_app", "mandatorymoduletypes") == ["os"]
    assert keys("os_app", "optionalmoduletypes") == ["application"]
    assert keys("app", "mandatorymoduletypes") == ["application"]
    one = get(client, f"{DS_TYPES}/{types['os_app']['id']}/optionalmoduletypes/{sm_types['application']['id']}")
    assert one.status_code == 200 and body(one)["key"] == "application"
    links = types["os_app"]["_links"]
    assert links["mandatorymodules"]["href"].endswith("/mandatorymoduletypes")
    assert links["optionalmodules"]["href"].endswith("/optionalmoduletypes")


def test_ensure_default_types_is_idempotent_and_cheap(aws_env, dynamo_calls):
    from chalicelib.services import catalog_defaults
    from chalicelib.store import catalog
    from chalicelib.domain.catalog_entities import SoftwareModuleType

    dynamo_calls.reset()
    catalog_defaults.ensure_default_types("DEFAULT")
    assert dynamo_calls.total == 1 and dynamo_calls.calls["GetItem"] == 1
    assert len(catalog.all_visible(SoftwareModuleType, "DEFAULT")) == 3
    assert usage("SOFTWARE_MODULE_TYPE") == 3


def test_deleted_default_type_does_not_come_back(client):
    from chalicelib.services import tenants
    app_type = _by_key(client, DS_TYPES)["app"]
    assert delete(client, f"{DS_TYPES}/{app_type['id']}").status_code == 200
    tenants.ensure_tenant("DEFAULT")
    assert "app" not in _by_key(client, DS_TYPES)


# --- software module types ----------------------------------------------------------------------
def test_create_get_update_software_module_type(client):
    resp = post(client, SM_TYPES, [{"key": "bootloader", "name": "Bootloader", "description": "boot",
                                    "colour": "#ff0000", "maxAssignments": 2}])
    assert resp.status_code == 201
    created = body(resp)
    assert isinstance(created, list) and len(created) == 1
    item = created[0]
    assert (item["key"], item["name"], item["maxAssignments"], item["colour"]) == ("bootloader", "Bootloader", 2,
                                                                                  "#ff0000")
    assert item["createdBy"] == "admin"
    got = get(client, f"{SM_TYPES}/{item['id']}")
    assert got.status_code == 200 and body(got)["description"] == "boot"
    updated = put(client, f"{SM_TYPES}/{item['id']}", {"description": "new", "name": "ignored"})
    assert updated.status_code == 200
    assert body(updated)["description"] == "new" and body(updated)["name"] == "Bootloader"
    assert usage("SOFTWARE_MODULE_TYPE") == 4


def test_max_assignments_defaults_to_one(client):
    item = body(post(client, SM_TYPES, [{"key": "fpga", "name": "FPGA"}]))[0]
    assert item["maxAssignments"] == 1


def test_duplicate_software_module_type_key_or_name_is_409_and_writes_nothing(client):
    assert post(client, SM_TYPES, [{"key": "os", "name": "Other"}]).status_code == 409
    resp = post(client, SM_TYPES, [{"key": "other", "name": "OS"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    resp = post(client, SM_TYPES, [{"key": "a", "name": "A"}, {"key": "a", "name": "B"}])
    assert resp.status_code == 409
    assert body(get(client, SM_TYPES))["total"] == 3 and usage("SOFTWARE_MODULE_TYPE") == 3


def test_software_module_type_validation(client):
    resp = post(client, SM_TYPES, [{"name": "no key"}])
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.repo.constraintViolation"
    assert post(client, SM_TYPES, [{"key": "x" * 65, "name": "long"}]).status_code == 400
    assert post(client, SM_TYPES, [{"key": "k", "name": "n", "maxAssignments": 0}]).status_code == 400
    resp = post(client, SM_TYPES, {"key": "k", "name": "n"})
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.body.notReadable"
    resp = client.http.post(SM_TYPES, headers=JSON, body="[{nope")
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.body.notReadable"


def test_unknown_or_malformed_type_id(client):
    resp = get(client, f"{SM_TYPES}/999")
    assert resp.status_code == 404
    assert error_code(resp) == "hawkbit.server.error.repo.entityNotFound"
    assert put(client, f"{SM_TYPES}/999", {"description": "x"}).status_code == 404
    assert delete(client, f"{SM_TYPES}/999").status_code == 404
    assert get(client, f"{SM_TYPES}/abc").status_code == 400
    assert get(client, f"{DS_TYPES}/999").status_code == 404


def test_delete_unused_software_module_type_is_hard(client):
    item = body(post(client, SM_TYPES, [{"key": "tmp", "name": "Tmp"}]))[0]
    assert delete(client, f"{SM_TYPES}/{item['id']}").status_code == 200
    assert get(client, f"{SM_TYPES}/{item['id']}").status_code == 404
    assert usage("SOFTWARE_MODULE_TYPE") == 3
    # the key is free again
    assert post(client, SM_TYPES, [{"key": "tmp", "name": "Tmp"}]).status_code == 201


def test_delete_used_software_module_type_is_soft(client):
    item = body(post(client, SM_TYPES, [{"key": "tool", "name": "Tool"}]))[0]
    create_sm(client, type_key="tool")
    assert delete(client, f"{SM_TYPES}/{item['id']}").status_code == 200
    got = body(get(client, f"{SM_TYPES}/{item['id']}"))
    assert got["deleted"] is True
    listed = body(get(client, SM_TYPES))
    assert item["id"] not in [t["id"] for t in listed["content"]] and listed["total"] == 3
    # a deleted type cannot be used any more
    resp = post(client, "/rest/v1/softwaremodules", [{"name": "x", "version": "1", "type": "tool"}])
    assert resp.status_code == 404


def test_software_module_type_quota(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_QUOTA_SOFTWARE_MODULE_TYPE", "4")
    assert post(client, SM_TYPES, [{"key": "one", "name": "One"}]).status_code == 201
    resp = post(client, SM_TYPES, [{"key": "two", "name": "Two"}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert usage("SOFTWARE_MODULE_TYPE") == 4 and body(get(client, SM_TYPES))["total"] == 4


def test_list_paging_sorting_and_search(client):
    page = body(get(client, f"{SM_TYPES}?sort=name:DESC&limit=2"))
    assert [t["name"] for t in page["content"]] == ["Runtime", "OS"] and page["total"] == 3 and page["size"] == 2
    page = body(get(client, f"{SM_TYPES}?offset=1&limit=1"))
    assert [t["key"] for t in page["content"]] == ["application"] and page["total"] == 3
    page = body(get(client, f"{SM_TYPES}?sort=id:DESC"))
    assert [t["key"] for t in page["content"]] == ["runtime", "application", "os"]
    page = body(get(client, f"{SM_TYPES}?q=maxassignments==1"))
    assert sorted(t["key"] for t in page["content"]) == ["os", "runtime"] and page["total"] == 2
    page = body(get(client, f"{DS_TYPES}?q=key==os*&sort=key:DESC"))
    assert [t["key"] for t in page["content"]] == ["os_app", "os"]
    assert error_code(get(client, f"{SM_TYPES}?q=colour=")) == "hawkbit.server.error.rest.param.rsqlParamSyntax"
    assert error_code(get(client, f"{SM_TYPES}?q=bogus==1")) == "hawkbit.server.error.rest.param.rsqlInvalidField"
    assert error_code(get(client, f"{SM_TYPES}?sort=bogus:ASC")) == "hawkbit.server.error.rest.param.invalidField"
    assert error_code(get(client, f"{SM_TYPES}?sort=name:UP")) == "hawkbit.server.error.rest.param.invalidDirection"
    assert error_code(get(client, f"{SM_TYPES}?sort=name")) == "hawkbit.server.error.rest.param.sortParamSyntax"
    assert get(client, f"{SM_TYPES}?limit=x").status_code == 400


def test_permissions(client):
    reader = user_with(client, "reader", "READ_REPOSITORY")
    nobody = user_with(client, "nobody", "READ_TARGET")
    assert get(client, SM_TYPES, headers=reader).status_code == 200
    resp = get(client, DS_TYPES, headers=nobody)
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.insufficientPermission"
    resp = post(client, SM_TYPES, [{"key": "k", "name": "n"}], headers={**reader, "Content-Type": "application/json"})
    assert resp.status_code == 403
    assert client.http.get(SM_TYPES).status_code == 401


# --- distribution set types -----------------------------------------------------------------------
def test_create_distribution_set_type_with_module_types(client):
    sm_types = _by_key(client, SM_TYPES)
    resp = post(client, DS_TYPES, [{"key": "full", "name": "Full", "description": "all", "colour": "blue",
                                    "mandatorymodules": [{"id": sm_types["os"]["id"]}],
                                    "optionalmodules": [{"id": sm_types["application"]["id"]},
                                                        {"id": sm_types["runtime"]["id"]}]}])
    assert resp.status_code == 201
    item = body(resp)[0]
    assert (item["key"], item["name"], item["deleted"]) == ("full", "Full", False)
    optional = body(get(client, f"{DS_TYPES}/{item['id']}/optionalmoduletypes"))
    assert [t["key"] for t in optional] == ["application", "runtime"]
    assert usage("DISTRIBUTION_SET_TYPE") == 4


def test_distribution_set_type_errors(client):
    resp = post(client, DS_TYPES, [{"key": "x", "name": "X", "mandatorymodules": [{"id": 999}]}])
    assert resp.status_code == 404
    assert post(client, DS_TYPES, [{"key": "os", "name": "Another"}]).status_code == 409
    assert post(client, DS_TYPES, [{"key": "new"}]).status_code == 400
    assert usage("DISTRIBUTION_SET_TYPE") == 3


def test_add_and_remove_module_types(client):
    sm_types = _by_key(client, SM_TYPES)
    item = body(post(client, DS_TYPES, [{"key": "custom", "name": "Custom"}]))[0]
    base = f"{DS_TYPES}/{item['id']}"
    assert post(client, f"{base}/mandatorymoduletypes", {"id": sm_types["os"]["id"]}).status_code == 200
    assert post(client, f"{base}/optionalmoduletypes", [{"id": sm_types["runtime"]["id"]}]).status_code == 200
    assert [t["key"] for t in body(get(client, f"{base}/mandatorymoduletypes"))] == ["os"]
    assert [t["key"] for t in body(get(client, f"{base}/optionalmoduletypes"))] == ["runtime"]
    # moving a type from optional to mandatory
    assert post(client, f"{base}/mandatorymoduletypes", {"id": sm_types["runtime"]["id"]}).status_code == 200
    assert body(get(client, f"{base}/optionalmoduletypes")) == []
    assert delete(client, f"{base}/mandatorymoduletypes/{sm_types['os']['id']}").status_code == 200
    assert get(client, f"{base}/mandatorymoduletypes/{sm_types['os']['id']}").status_code == 404
    assert delete(client, f"{base}/mandatorymoduletypes/{sm_types['os']['id']}").status_code == 404
    assert post(client, f"{base}/mandatorymoduletypes", {"id": 999}).status_code == 404
    assert post(client, f"{base}/mandatorymoduletypes", {"nope": 1}).status_code == 400


def test_module_types_of_a_used_distribution_set_type_are_read_only(client):
    sm_types = _by_key(client, SM_TYPES)
    os_type = _by_key(client, DS_TYPES)["os"]
    create_ds(client, type_key="os")
    resp = post(client, f"{DS_TYPES}/{os_type['id']}/optionalmoduletypes", {"id": sm_types["runtime"]["id"]})
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.entityReadOnly"
    resp = delete(client, f"{DS_TYPES}/{os_type['id']}/mandatorymoduletypes/{sm_types['os']['id']}")
    assert resp.status_code == 403


def test_delete_distribution_set_type_soft_when_used(client):
    types = _by_key(client, DS_TYPES)
    create_ds(client, type_key="os")
    assert delete(client, f"{DS_TYPES}/{types['os']['id']}").status_code == 200
    assert body(get(client, f"{DS_TYPES}/{types['os']['id']}"))["deleted"] is True
    assert delete(client, f"{DS_TYPES}/{types['app']['id']}").status_code == 200
    assert get(client, f"{DS_TYPES}/{types['app']['id']}").status_code == 404
    listed = body(get(client, DS_TYPES))
    assert [t["key"] for t in listed["content"]] == ["os_app"] and listed["total"] == 1
    # a module type named by a (live) set type is soft-deleted too
    application = _by_key(client, SM_TYPES)["application"]
    assert delete(client, f"{SM_TYPES}/{application['id']}").status_code == 200
    assert body(get(client, f"{SM_TYPES}/{application['id']}"))["deleted"] is True


def test_update_distribution_set_type(client):
    item = _by_key(client, DS_TYPES)["app"]
    resp = put(client, f"{DS_TYPES}/{item['id']}", {"description": "apps", "colour": "green"})
    assert resp.status_code == 200
    assert (body(resp)["description"], body(resp)["colour"], body(resp)["key"]) == ("apps", "green", "app")


@pytest.mark.parametrize("concurrent", [False, True])
@pytest.mark.parametrize("path,quota", [(SM_TYPES, "SOFTWARE_MODULE_TYPE"), (DS_TYPES, "DISTRIBUTION_SET_TYPE")])
def test_bulk_create_of_types_is_all_or_nothing(client, monkeypatch, concurrent, path, quota):
    """34 types take two transactions (33 each); a taken key in the second writes nothing: refused up
    front, or (taken concurrently after that check) by undoing the first transaction."""
    from chalicelib.store import catalog

    assert post(client, path, [{"key": "taken", "name": "Taken"}]).status_code == 201
    before = (body(get(client, path))["total"], usage(quota))
    if concurrent:
        monkeypatch.setattr(catalog, "taken_unique", lambda tenant, keys: set())
    batch = [{"key": f"bulk-{i}", "name": f"Bulk {i}"} for i in range(33)]
    resp = post(client, path, batch + [{"key": "taken", "name": "Another name"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert (body(get(client, path))["total"], usage(quota)) == before
    assert post(client, path, batch).status_code == 201  # keys and names are free again
    assert usage(quota) == before[1] + 33
