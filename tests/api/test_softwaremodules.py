"""/rest/v1/softwaremodules: CRUD, duplicates, quota, paging/sort/q, soft delete, metadata, permissions."""
from __future__ import annotations

import pytest

from tests.api.catalog_helpers import (
    JSON,
    bucket_keys,
    SM,
    body,
    create_ds,
    create_sm,
    delete,
    error_code,
    get,
    post,
    put,
    upload,
    usage,
    user_with,
)


def test_create_returns_array_with_the_classic_shape(client):
    resp = post(client, SM, [{"name": "firmware", "version": "1.0", "type": "os", "description": "d",
                              "vendor": "ACME", "encrypted": False},
                             {"name": "app", "version": "2.0", "type": "application"}])
    assert resp.status_code == 201
    first, second = body(resp)
    assert set(first) == {"createdBy", "createdAt", "lastModifiedBy", "lastModifiedAt", "name", "description", "id",
                          "version", "type", "typeName", "vendor", "encrypted", "locked", "deleted", "_links"}
    assert (first["name"], first["version"], first["type"], first["typeName"], first["vendor"]) == (
        "firmware", "1.0", "os", "OS", "ACME")
    assert (first["locked"], first["deleted"], first["encrypted"]) == (False, False, False)
    assert isinstance(first["id"], int) and isinstance(first["createdAt"], int) and first["createdBy"] == "admin"
    assert second["typeName"] == "Application" and "description" not in second
    links = first["_links"]
    assert links["self"]["href"].endswith(f"/rest/v1/softwaremodules/{first['id']}")
    assert links["artifacts"]["href"].endswith(f"/rest/v1/softwaremodules/{first['id']}/artifacts")
    assert "/rest/v1/softwaremoduletypes/" in links["type"]["href"]
    assert links["metadata"]["href"].endswith("/metadata?offset=0&limit=50")
    assert usage("SOFTWARE_MODULE") == 2


def test_get_update_delete(client):
    sm = create_sm(client)
    got = get(client, f"{SM}/{sm['id']}")
    assert got.status_code == 200 and body(got)["name"] == "firmware"
    resp = put(client, f"{SM}/{sm['id']}", {"description": "new", "vendor": "V", "name": "ignored"})
    assert resp.status_code == 200
    assert (body(resp)["description"], body(resp)["vendor"], body(resp)["name"]) == ("new", "V", "firmware")
    assert body(resp)["lastModifiedAt"] >= sm["lastModifiedAt"]
    resp = put(client, f"{SM}/{sm['id']}", {"locked": True})
    assert body(resp)["locked"] is True and body(resp)["description"] == "new"
    assert put(client, f"{SM}/{sm['id']}", {"locked": False}).status_code == 200
    resp = delete(client, f"{SM}/{sm['id']}")
    assert resp.status_code == 200 and resp.body in (b"", "")
    assert get(client, f"{SM}/{sm['id']}").status_code == 404
    assert usage("SOFTWARE_MODULE") == 0
    # name, version and type are free again
    create_sm(client)


def test_not_found_and_bad_ids(client):
    resp = get(client, f"{SM}/4711")
    assert resp.status_code == 404 and error_code(resp) == "hawkbit.server.error.repo.entityNotFound"
    assert body(resp)["exceptionClass"].endswith("EntityNotFoundException")
    assert put(client, f"{SM}/4711", {"description": "x"}).status_code == 404
    assert delete(client, f"{SM}/4711").status_code == 404
    assert get(client, f"{SM}/x1").status_code == 400


def test_duplicate_name_version_type_is_409_and_writes_nothing(client):
    create_sm(client)
    resp = post(client, SM, [{"name": "other", "version": "1", "type": "os"},
                             {"name": "firmware", "version": "1.0", "type": "os"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert body(get(client, SM))["total"] == 1 and usage("SOFTWARE_MODULE") == 1
    # the same name and version with another type is another module
    create_sm(client, type_key="application")
    resp = post(client, SM, [{"name": "x", "version": "1", "type": "os"}, {"name": "x", "version": "1", "type": "os"}])
    assert resp.status_code == 409


def test_validation_errors(client):
    resp = post(client, SM, [{"version": "1", "type": "os"}])
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.repo.constraintViolation"
    assert post(client, SM, [{"name": "a", "type": "os"}]).status_code == 400
    assert post(client, SM, [{"name": " ", "version": "1", "type": "os"}]).status_code == 400
    assert post(client, SM, [{"name": "a" * 129, "version": "1", "type": "os"}]).status_code == 400
    resp = post(client, SM, [{"name": "a", "version": "1", "type": "nope"}])
    assert resp.status_code == 404
    resp = post(client, SM, {"name": "a", "version": "1", "type": "os"})
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.body.notReadable"
    resp = client.http.post(SM, headers=JSON, body="[{]")
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.body.notReadable"
    resp = post(client, SM, [{"name": "a", "version": "1", "type": "os", "encrypted": True}])
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.artifact.encryptionNotSupported"
    resp = put(client, f"{SM}/{create_sm(client)['id']}", {"locked": "yes"})
    assert resp.status_code == 400
    assert usage("SOFTWARE_MODULE") == 1


def test_quota_refuses_and_writes_nothing(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_QUOTA_SOFTWARE_MODULE", "2")
    create_sm(client, "a")
    resp = post(client, SM, [{"name": "b", "version": "1", "type": "os"}, {"name": "c", "version": "1", "type": "os"}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert usage("SOFTWARE_MODULE") == 1 and body(get(client, SM))["total"] == 1
    create_sm(client, "b")
    assert post(client, SM, [{"name": "c", "version": "1", "type": "os"}]).status_code == 403
    assert usage("SOFTWARE_MODULE") == 2
    quota = body(client.http.get("/rest/v1/system/quota/SOFTWARE_MODULE", headers=JSON))
    assert (quota["limit"], quota["used"]) == (2, 2)


def _names(resp) -> list[str]:
    return [sm["name"] for sm in body(resp)["content"]]


def test_paging_sorting_and_search(client):
    resp = post(client, SM, [{"name": f"mod-{i}", "version": f"1.{i}", "type": "os" if i % 2 else "application",
                              "vendor": "acme" if i < 3 else "other"} for i in range(5)])
    assert resp.status_code == 201
    listed = body(get(client, SM))
    assert (listed["total"], listed["size"]) == (5, 5) and _names(get(client, SM))[0] == "mod-0"
    page = body(get(client, f"{SM}?offset=1&limit=2"))
    assert [sm["name"] for sm in page["content"]] == ["mod-1", "mod-2"]
    assert (page["total"], page["size"]) == (5, 2)
    assert _names(get(client, f"{SM}?sort=id:DESC&limit=2")) == ["mod-4", "mod-3"]
    assert _names(get(client, f"{SM}?sort=type:ASC,name:DESC")) == ["mod-4", "mod-2", "mod-0", "mod-3", "mod-1"]
    assert _names(get(client, f"{SM}?offset=-5&limit=0")) == [f"mod-{i}" for i in range(5)]
    found = body(get(client, f"{SM}?q=type==os;vendor==acme"))
    assert [sm["name"] for sm in found["content"]] == ["mod-1"] and found["total"] == 1
    found = body(get(client, f"{SM}?q=name==mod-*,version==2&sort=name:DESC&limit=2"))
    assert [sm["name"] for sm in found["content"]] == ["mod-4", "mod-3"] and found["total"] == 5
    found = body(get(client, f"{SM}?q=version=in=(1.0,1.4)"))
    assert [sm["name"] for sm in found["content"]] == ["mod-0", "mod-4"]
    assert error_code(get(client, f"{SM}?q=colour==red")) == "hawkbit.server.error.rest.param.rsqlInvalidField"
    assert error_code(get(client, f"{SM}?q=name=mod")) == "hawkbit.server.error.rest.param.rsqlParamSyntax"
    assert error_code(get(client, f"{SM}?sort=name:sideways")) == "hawkbit.server.error.rest.param.invalidDirection"
    assert get(client, f"{SM}?offset=abc").status_code == 400


def test_list_costs_one_query_and_one_counter_read(client, dynamo_calls):
    post(client, SM, [{"name": f"m{i}", "version": "1", "type": "os"} for i in range(3)])
    get(client, SM)  # warm the credential cache
    dynamo_calls.reset()
    assert body(get(client, f"{SM}?limit=2"))["total"] == 3
    assert dynamo_calls.calls["Query"] == 1 and dynamo_calls.calls["GetItem"] == 1
    assert dynamo_calls.calls["Scan"] == 0


def test_locked_module_delete_is_soft(client):
    sm = create_sm(client)
    put(client, f"{SM}/{sm['id']}", {"locked": True})
    assert delete(client, f"{SM}/{sm['id']}").status_code == 200
    got = body(get(client, f"{SM}/{sm['id']}"))
    assert got["deleted"] is True
    listed = body(get(client, SM))
    assert listed["content"] == [] and listed["total"] == 0
    assert body(get(client, f"{SM}?q=name==firmware"))["total"] == 0
    assert usage("SOFTWARE_MODULE") == 0
    # deleting it again is a 200 (hawkBit), and changes nothing: still there, still counted once
    assert delete(client, f"{SM}/{sm['id']}").status_code == 200
    assert body(get(client, f"{SM}/{sm['id']}"))["deleted"] is True and usage("SOFTWARE_MODULE") == 0
    assert put(client, f"{SM}/{sm['id']}", {"description": "x"}).status_code == 404
    create_sm(client)  # the natural key is free again
    assert usage("SOFTWARE_MODULE") == 1


def test_deleting_a_soft_deleted_module_again_purges_it_once_no_set_holds_it(client):
    sm = create_sm(client)
    upload(client, sm["id"], b"bytes", part_name="a.bin")
    ds = create_ds(client, modules=[sm["id"]])
    assert delete(client, f"{SM}/{sm['id']}").status_code == 200  # soft: the set lists it
    assert delete(client, f"{SM}/{sm['id']}").status_code == 200  # still soft
    assert body(get(client, f"{SM}/{sm['id']}"))["deleted"] is True and len(bucket_keys()) == 1
    assert delete(client, f"/rest/v1/distributionsets/{ds['id']}").status_code == 200  # unlocked: hard
    assert delete(client, f"{SM}/{sm['id']}").status_code == 200
    assert get(client, f"{SM}/{sm['id']}").status_code == 404
    assert bucket_keys() == [] and usage("ARTIFACT_STORAGE") == 0 and usage("SOFTWARE_MODULE") == 0
    assert delete(client, f"{SM}/{sm['id']}").status_code == 404


def test_module_in_a_distribution_set_is_soft_deleted_and_stays_in_the_set(client):
    sm = create_sm(client)
    ds = create_ds(client, modules=[sm["id"]])
    assert delete(client, f"{SM}/{sm['id']}").status_code == 200
    assert body(get(client, f"{SM}/{sm['id']}"))["deleted"] is True
    modules = body(get(client, f"/rest/v1/distributionsets/{ds['id']}"))["modules"]
    assert [(m["id"], m["deleted"]) for m in modules] == [(sm["id"], True)]


def test_permissions(client):
    sm = create_sm(client)
    reader = user_with(client, "reader", "READ_REPOSITORY")
    reader_json = {**reader, "Content-Type": "application/json"}
    assert get(client, f"{SM}/{sm['id']}", headers=reader).status_code == 200
    resp = post(client, SM, [{"name": "x", "version": "1", "type": "os"}], headers=reader_json)
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.insufficientPermission"
    assert put(client, f"{SM}/{sm['id']}", {"description": "x"}, headers=reader_json).status_code == 403
    assert delete(client, f"{SM}/{sm['id']}", headers=reader).status_code == 403
    assert post(client, f"{SM}/{sm['id']}/metadata", [{"key": "k", "value": "v"}], headers=reader_json).status_code == 403
    assert client.http.get(SM).status_code == 401
    assert usage("SOFTWARE_MODULE") == 1


# --- metadata -------------------------------------------------------------------------------------
def test_metadata_lifecycle(client):
    sm = create_sm(client)
    base = f"{SM}/{sm['id']}/metadata"
    resp = post(client, base, [{"key": "color", "value": "red", "targetVisible": True}, {"key": "size", "value": "L"}])
    assert resp.status_code == 201
    assert body(resp) == [{"key": "color", "value": "red", "targetVisible": True},
                          {"key": "size", "value": "L", "targetVisible": False}]
    listed = body(get(client, base))
    assert listed["total"] == 2 and [m["key"] for m in listed["content"]] == ["color", "size"]
    assert body(get(client, f"{base}?q=targetVisible==true"))["content"][0]["key"] == "color"
    assert [m["key"] for m in body(get(client, f"{base}?sort=key:DESC&limit=1"))["content"]] == ["size"]
    assert body(get(client, f"{base}/color")) == {"key": "color", "value": "red", "targetVisible": True}
    resp = put(client, f"{base}/color", {"value": "blue"})
    assert resp.status_code == 200 and body(resp) == {"key": "color", "value": "blue", "targetVisible": True}
    resp = put(client, f"{base}/color", {"targetVisible": False})
    assert body(resp) == {"key": "color", "value": "blue", "targetVisible": False}
    assert delete(client, f"{base}/color").status_code == 200
    assert get(client, f"{base}/color").status_code == 404
    assert body(get(client, base))["total"] == 1
    # the module's search sees metadata
    assert body(get(client, f"{SM}?q=metadata.size==L"))["total"] == 1


def test_metadata_errors(client):
    sm = create_sm(client)
    base = f"{SM}/{sm['id']}/metadata"
    post(client, base, [{"key": "a", "value": "1"}])
    resp = post(client, base, [{"key": "b", "value": "2"}, {"key": "a", "value": "3"}])
    assert resp.status_code == 409
    assert body(get(client, base))["total"] == 1  # nothing written
    assert post(client, base, [{"key": "c", "value": "1"}, {"key": "c", "value": "2"}]).status_code == 409
    assert post(client, base, [{"value": "no key"}]).status_code == 400
    assert post(client, base, {"key": "x"}).status_code == 400
    assert put(client, f"{base}/missing", {"value": "x"}).status_code == 404
    assert delete(client, f"{base}/missing").status_code == 404
    assert get(client, f"{SM}/999/metadata").status_code == 404
    assert post(client, f"{SM}/999/metadata", [{"key": "a", "value": "1"}]).status_code == 404


def test_metadata_value_must_be_given_on_create_and_not_nulled_on_update(client):
    """hawkBit never renders a null value (and DDI's DdiMetadata requires one): absent or null is a 400, an
    empty string is a value; a PUT without `value` keeps the stored one."""
    sm = create_sm(client)
    base = f"{SM}/{sm['id']}/metadata"
    for entries in ([{"key": "a"}], [{"key": "a", "value": None}], [{"key": "b", "value": "1"}, {"key": "a"}]):
        resp = post(client, base, entries)
        assert resp.status_code == 400, resp.body
        assert error_code(resp) == "hawkbit.server.error.repo.constraintViolation"
        assert "value" in body(resp)["parameters"]
    assert body(get(client, base))["total"] == 0  # nothing written
    resp = post(client, base, [{"key": "empty", "value": "", "targetVisible": True}])
    assert resp.status_code == 201 and body(resp) == [{"key": "empty", "value": "", "targetVisible": True}]
    resp = put(client, f"{base}/empty", {"value": None})
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.repo.constraintViolation"
    resp = put(client, f"{base}/empty", {"targetVisible": False})
    assert resp.status_code == 200 and body(resp) == {"key": "empty", "value": "", "targetVisible": False}
    assert body(get(client, f"{base}/empty")) == {"key": "empty", "value": "", "targetVisible": False}


def test_metadata_quota(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_METADATA_ENTRIES", 2)
    sm = create_sm(client)
    base = f"{SM}/{sm['id']}/metadata"
    assert post(client, base, [{"key": "a", "value": ""}, {"key": "b", "value": ""}]).status_code == 201
    resp = post(client, base, [{"key": "c", "value": ""}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert body(get(client, base))["total"] == 2


@pytest.mark.parametrize("collection", ["softwaremodules", "distributionsets"])
def test_metadata_within_hawkbits_limits_that_would_not_fit_an_item_is_a_quota_error(client, collection):
    """100 entries of 4,000 characters are within hawkBit's limits; in one DynamoDB item they were a 500."""
    owner = create_sm(client) if collection == "softwaremodules" else create_ds(client)
    base = f"/rest/v1/{collection}/{owner['id']}/metadata"
    big = "\u00e9" * 4000  # 8,000 bytes as UTF-8
    first = [{"key": f"k{i}", "value": big} for i in range(18)]
    assert post(client, base, first).status_code == 201
    resp = post(client, base, [{"key": f"more{i}", "value": big} for i in range(10)])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert body(get(client, f"{base}?limit=100"))["total"] == 18
    assert put(client, f"{base}/k0", {"value": "x" * 4000}).status_code == 200  # smaller values still change
    assert put(client, f"{base}/k1", {"value": "\U0001F600" * 4000}).status_code == 200  # 16,000 bytes: fits
    assert put(client, f"{base}/k3", {"value": "\U0001F600" * 4000}).status_code == 403  # would grow past it
    assert delete(client, f"{base}/k2").status_code == 200


def test_one_paged_list_renderer():
    from chalicelib.api import catalog_views, mgmt_views
    assert not hasattr(mgmt_views, "paged")  # targets and deployments use catalog_views.paged
    assert catalog_views.paged([{"a": 1}], 7) == {"content": [{"a": 1}], "total": 7, "size": 1}


METADATA_KEYS = ["a[0]", "a.b", "x[1].y[2]", "[", "]", "a]b[", "#0", ":v", "a b", ("k.[9]" * 26)[:128]]


def test_metadata_keys_with_dots_and_brackets(client):
    """Keys are data, not DynamoDB document paths: `a[0]` was a 500 (invalid document path)."""
    from urllib.parse import quote
    sm = create_sm(client)
    base = f"{SM}/{sm['id']}/metadata"
    resp = post(client, base, [{"key": key, "value": f"v-{key}"} for key in METADATA_KEYS])
    assert resp.status_code == 201, resp.body
    assert body(get(client, base))["total"] == len(METADATA_KEYS)
    for key in METADATA_KEYS:
        path = f"{base}/{quote(key, safe='')}"
        assert body(get(client, path)) == {"key": key, "value": f"v-{key}", "targetVisible": False}
        resp = put(client, path, {"value": "new", "targetVisible": True})
        assert resp.status_code == 200, resp.body
        assert body(get(client, path)) == {"key": key, "value": "new", "targetVisible": True}
    assert post(client, base, [{"key": "a[0]", "value": "again"}]).status_code == 409
    for key in METADATA_KEYS:
        assert delete(client, f"{base}/{quote(key, safe='')}").status_code == 200
    assert body(get(client, base))["total"] == 0


def _modules_state(client) -> tuple:
    from chalicelib.services import catalog_types
    return (body(get(client, SM))["total"], usage("SOFTWARE_MODULE"),
            int(catalog_types.software_module_type_by_key("DEFAULT", "os").used_by or 0))


@pytest.mark.parametrize("concurrent", [False, True])
def test_bulk_create_is_all_or_nothing(client, monkeypatch, concurrent):
    """41 modules take two transactions (40 each); a taken name in the second writes nothing: refused
    up front, or (taken concurrently after that check) by undoing the first transaction."""
    from chalicelib.store import catalog

    create_sm(client, "taken", "1")
    before = _modules_state(client)
    if concurrent:
        monkeypatch.setattr(catalog, "taken_unique", lambda tenant, keys: set())
    batch = [{"name": f"bulk-{i}", "version": "1", "type": "os"} for i in range(40)]
    resp = post(client, SM, batch + [{"name": "taken", "version": "1", "type": "os"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert _modules_state(client) == before
    assert post(client, SM, batch).status_code == 201  # the names are free again
    assert _modules_state(client) == (41, 41, 41)
