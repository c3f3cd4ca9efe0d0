"""/rest/v1/targettypes, /rest/v1/targets/{id}/targettype, `targetType` on targets, and the compatibility of a
target's type with the sets assigned to it."""
from __future__ import annotations

import pytest

from chalicelib.domain.catalog_entities import TargetType
from chalicelib.store import catalog
from chalicelib.store import targets as target_store
from tests.api import steps
from tests.api.catalog_helpers import body, delete, error_code, get, post, put, usage, user_with

TYPES = "/rest/v1/targettypes"
TARGETS = "/rest/v1/targets"


def _ds_type_id(client, key: str) -> int:
    resp = get(client, f"/rest/v1/distributionsettypes?q=key=={key}")
    return body(resp)["content"][0]["id"]


def _type(client, name: str, **extra) -> dict:
    resp = post(client, TYPES, [{"name": name, **extra}])
    assert resp.status_code == 201, resp.body
    return body(resp)[0]


def _stored(type_id: int) -> TargetType | None:
    return catalog.get(TargetType, "DEFAULT", type_id)


def _stored_target_type(controller_id: str) -> int | None:
    target = target_store.find("DEFAULT", controller_id)
    assert target is not None
    return target.target_type


def test_create_get_update_delete(client):
    os_type = _ds_type_id(client, "os")
    resp = post(client, TYPES, [{"name": "gateway", "key": "gw", "description": "edge", "colour": "#00ff00",
                                 "compatibledistributionsettypes": [{"id": os_type}]}, {"name": "sensor"}])
    assert resp.status_code == 201
    gateway, sensor = body(resp)
    assert (gateway["name"], gateway["key"], gateway["description"], gateway["colour"]) == \
        ("gateway", "gw", "edge", "#00ff00")
    assert sensor["key"] == "sensor"  # no key: the name is the key
    href = gateway["_links"]["compatibledistributionsettypes"]["href"]
    assert href.endswith(f"{TYPES}/{gateway['id']}/compatibledistributionsettypes")
    assert body(get(client, f"{TYPES}/{gateway['id']}"))["key"] == "gw"
    assert [t["key"] for t in body(get(client, f"{TYPES}/{gateway['id']}/compatibledistributionsettypes"))] == \
        ["os"]
    listed = body(get(client, f"{TYPES}?sort=name:DESC"))
    assert listed["total"] == 2 and [t["name"] for t in listed["content"]] == ["sensor", "gateway"]
    assert [t["name"] for t in body(get(client, f"{TYPES}?q=key==gw"))["content"]] == ["gateway"]
    resp = put(client, f"{TYPES}/{gateway['id']}", {"name": "edge-gateway", "colour": "#0000ff"})
    assert resp.status_code == 200
    assert (body(resp)["name"], body(resp)["colour"], body(resp)["key"]) == ("edge-gateway", "#0000ff", "gw")
    assert _stored(gateway["id"]).name == "edge-gateway"
    assert _type(client, "gateway")["name"] == "gateway"  # the old name is free again
    assert usage("TARGET_TYPE") == 3
    assert delete(client, f"{TYPES}/{gateway['id']}").status_code == 200
    assert _stored(gateway["id"]) is None and usage("TARGET_TYPE") == 2
    resp = get(client, f"{TYPES}/{gateway['id']}")
    assert resp.status_code == 404 and error_code(resp) == "hawkbit.server.error.repo.entityNotFound"
    assert _type(client, "again", key="gw")["key"] == "gw"  # the deleted type's key is free again


def test_compatible_distribution_set_types(client):
    os_type, app_type = _ds_type_id(client, "os"), _ds_type_id(client, "os_app")
    gateway = _type(client, "gateway")
    path = f"{TYPES}/{gateway['id']}/compatibledistributionsettypes"
    assert body(get(client, path)) == []
    assert post(client, path, [{"id": os_type}, {"id": app_type}]).status_code == 200
    assert post(client, path, [{"id": os_type}]).status_code == 200  # already there: no change
    assert _stored(gateway["id"]).compatible == [os_type, app_type]
    assert delete(client, f"{path}/{os_type}").status_code == 200
    assert [t["id"] for t in body(get(client, path))] == [app_type]
    resp = post(client, path, [{"id": os_type}, {"id": 999}])
    assert resp.status_code == 404 and error_code(resp) == "hawkbit.server.error.repo.entityNotFound"
    assert _stored(gateway["id"]).compatible == [app_type]  # nothing half-written
    assert delete(client, f"{path}/999").status_code == 404
    assert get(client, f"{TYPES}/999/compatibledistributionsettypes").status_code == 404


def test_keys_and_names_are_unique_and_a_refused_create_writes_nothing(client):
    _type(client, "gateway", key="gw")
    for payload in ([{"name": "other", "key": "gw"}], [{"name": "gateway", "key": "x"}],
                    [{"name": "a"}, {"name": "a", "key": "b"}], [{"name": "fresh"}, {"name": "gateway"}]):
        resp = post(client, TYPES, payload)
        assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert body(get(client, TYPES))["total"] == 1 and usage("TARGET_TYPE") == 1
    other = _type(client, "other")
    resp = put(client, f"{TYPES}/{other['id']}", {"name": "gateway"})
    assert resp.status_code == 409 and _stored(other["id"]).name == "other"


@pytest.mark.parametrize("payload", [
    {"name": "x"}, [{"description": "no name"}], [{"name": ""}], [{"name": "n" * 65}], [{"name": "x", "key": "k" * 65}],
    [{"name": "x", "compatibledistributionsettypes": [{"id": "abc"}]}],
    [{"name": "x", "compatibledistributionsettypes": [{"id": 999}]}], [{"name": "ok"}, {"name": 5, "key": []}],
])
def test_bad_types_are_refused_and_nothing_is_written(client, payload):
    resp = post(client, TYPES, payload)
    assert resp.status_code in (400, 404), resp.body
    assert body(get(client, TYPES))["total"] == 0 and usage("TARGET_TYPE") == 0


def test_target_type_quota(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_QUOTA_TARGET_TYPE", "2")
    _type(client, "one")
    resp = post(client, TYPES, [{"name": "two"}, {"name": "three"}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    _type(client, "two")
    assert post(client, TYPES, [{"name": "three"}]).status_code == 403
    assert usage("TARGET_TYPE") == 2 and body(get(client, TYPES))["total"] == 2


def test_compatible_types_per_target_type_are_bounded(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_DISTRIBUTION_SET_TYPES_PER_TARGET_TYPE", 1)
    os_type, app_type = _ds_type_id(client, "os"), _ds_type_id(client, "os_app")
    resp = post(client, TYPES, [{"name": "x", "compatibledistributionsettypes": [{"id": os_type}, {"id": app_type}]}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    gateway = _type(client, "gateway", compatibledistributionsettypes=[{"id": os_type}])
    resp = post(client, f"{TYPES}/{gateway['id']}/compatibledistributionsettypes", [{"id": app_type}])
    assert resp.status_code == 403 and _stored(gateway["id"]).compatible == [os_type]


def test_permissions(client):
    gateway = _type(client, "gateway")
    steps.create_target(client, "d1")
    reader = user_with(client, "reader", "READ_TARGET")
    creator = user_with(client, "creator", "CREATE_TARGET")
    updater = user_with(client, "updater", "UPDATE_TARGET")
    nobody = user_with(client, "nobody", "READ_REPOSITORY")
    json_of = {"Content-Type": "application/json"}
    assert get(client, TYPES, headers=reader).status_code == 200
    assert get(client, f"{TYPES}/{gateway['id']}/compatibledistributionsettypes", headers=reader).status_code == 200
    resp = get(client, TYPES, headers=nobody)
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.insufficientPermission"
    assert post(client, TYPES, [{"name": "x"}], headers={**reader, **json_of}).status_code == 403
    assert post(client, TYPES, [{"name": "x"}], headers={**creator, **json_of}).status_code == 201
    assert put(client, f"{TYPES}/{gateway['id']}", {"colour": "red"}, headers={**reader, **json_of}).status_code \
        == 403
    assert put(client, f"{TYPES}/{gateway['id']}", {"colour": "red"}, headers={**updater, **json_of}).status_code \
        == 200
    assert post(client, f"{TARGETS}/d1/targettype", {"id": gateway["id"]}, headers={**reader, **json_of}) \
        .status_code == 403
    assert _stored_target_type("d1") is None
    assert post(client, f"{TARGETS}/d1/targettype", {"id": gateway["id"]}, headers={**updater, **json_of}) \
        .status_code == 200
    assert delete(client, f"{TYPES}/{gateway['id']}", headers=updater).status_code == 403
    compatible = f"{TYPES}/{gateway['id']}/compatibledistributionsettypes"
    os_type = _ds_type_id(client, "os")
    assert post(client, compatible, [{"id": os_type}], headers={**updater, **json_of}).status_code == 403
    assert delete(client, f"{compatible}/{os_type}", headers=updater).status_code == 403
    repository_updater = user_with(client, "repo-updater", "READ_REPOSITORY", "UPDATE_TARGET")
    assert post(client, compatible, [{"id": os_type}], headers={**repository_updater, **json_of}).status_code == 200
    assert _stored(gateway["id"]).compatible == [os_type]
    assert delete(client, f"{compatible}/{os_type}", headers=repository_updater).status_code == 200
    assert client.http.get(TYPES).status_code == 401


# --- a target's type ---------------------------------------------------------------------------------
def test_target_create_update_and_rendering(client):
    gateway, sensor = _type(client, "gateway"), _type(client, "sensor")
    created = steps.create_target(client, "d1", targetType=gateway["id"])
    assert (created["targetType"], created["targetTypeName"]) == (gateway["id"], "gateway")
    assert created["_links"]["targetType"]["href"].endswith(f"{TYPES}/{gateway['id']}")
    assert _stored_target_type("d1") == gateway["id"]
    resp = put(client, f"{TARGETS}/d1", {"targetType": sensor["id"]})
    assert resp.status_code == 200 and body(resp)["targetTypeName"] == "sensor"
    steps.create_target(client, "d2")
    listed = {t["controllerId"]: t for t in body(get(client, TARGETS))["content"]}
    assert listed["d1"]["targetTypeName"] == "sensor" and "targetType" not in listed["d2"]
    assert "targetType" not in listed["d2"]["_links"]
    # a type that does not exist: 404, nothing written
    resp = post(client, TARGETS, [{"controllerId": "d3", "targetType": 999}])
    assert resp.status_code == 404 and target_store.find("DEFAULT", "d3") is None
    resp = put(client, f"{TARGETS}/d1", {"targetType": 999, "name": "renamed"})
    assert resp.status_code == 404 and target_store.find("DEFAULT", "d1").name == "d1"
    resp = post(client, TARGETS, [{"controllerId": "d4", "targetType": "gateway"}])
    assert resp.status_code == 400 and target_store.find("DEFAULT", "d4") is None


def test_assign_and_unassign_a_type(client):
    gateway = _type(client, "gateway")
    steps.create_target(client, "d1")
    assert post(client, f"{TARGETS}/d1/targettype", {"id": gateway["id"]}).status_code == 200
    assert _stored_target_type("d1") == gateway["id"]
    assert body(get(client, f"{TARGETS}/d1"))["targetTypeName"] == "gateway"
    resp = delete(client, f"{TYPES}/{gateway['id']}")
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.target.type.used"
    assert _stored(gateway["id"]) is not None
    assert delete(client, f"{TARGETS}/d1/targettype").status_code == 200
    assert _stored_target_type("d1") is None
    assert post(client, f"{TARGETS}/d1/targettype", {"id": 999}).status_code == 404
    assert post(client, f"{TARGETS}/nope/targettype", {"id": gateway["id"]}).status_code == 404
    assert post(client, f"{TARGETS}/d1/targettype", {"no": 1}).status_code == 400
    assert _stored_target_type("d1") is None
    assert delete(client, f"{TYPES}/{gateway['id']}").status_code == 200


# --- compatibility on assignment ---------------------------------------------------------------------
def test_assigning_a_set_the_targets_type_does_not_list_is_refused(client):
    ds_id, _ = steps.release(client)  # a set of type `os`
    os_type = _ds_type_id(client, "os")
    compatible = _type(client, "compatible", compatibledistributionsettypes=[{"id": os_type}])
    other = _type(client, "other")
    steps.create_target(client, "typed", targetType=compatible["id"])
    steps.create_target(client, "wrong", targetType=other["id"])
    steps.create_target(client, "untyped")
    resp = post(client, f"{TARGETS}/wrong/assignedDS", [{"id": ds_id}])
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.target.type.incompatible"
    assert target_store.find("DEFAULT", "wrong").assigned_ds is None
    # a mixed list: the whole request is refused, nothing assigned
    result = steps.assign(client, ds_id, "typed", "wrong", "untyped", status=400)
    assert result["errorCode"] == "hawkbit.server.error.target.type.incompatible" and "other" in result["message"]
    assert all(target_store.find("DEFAULT", cid).assigned_ds is None for cid in ("typed", "wrong", "untyped"))
    result = steps.assign(client, ds_id, "typed", "untyped")
    assert result["assigned"] == 2
    assert post(client, f"{TYPES}/{other['id']}/compatibledistributionsettypes", [{"id": os_type}]).status_code == 200
    assert steps.assign(client, ds_id, "wrong")["assigned"] == 1


def test_an_assignment_reads_the_target_types_once(client, dynamo_calls):
    os_type = _ds_type_id(client, "os")
    types = [_type(client, f"type-{i}", compatibledistributionsettypes=[{"id": os_type}])["id"] for i in range(3)]
    typed = [f"typed-{i:03d}" for i in range(150)]
    untyped = [f"plain-{i:03d}" for i in range(150)]
    resp = post(client, TARGETS, [{"controllerId": cid, "targetType": types[i % 3]} for i, cid in enumerate(typed)])
    assert resp.status_code == 201
    assert post(client, TARGETS, [{"controllerId": cid} for cid in untyped]).status_code == 201
    first, _ = steps.release(client, name="first")
    second, _ = steps.release(client, name="second")
    dynamo_calls.reset()
    assert steps.assign(client, first, *untyped)["assigned"] == 150
    without_types = dict(dynamo_calls.calls)
    dynamo_calls.reset()
    assert steps.assign(client, second, *typed)["assigned"] == 150
    with_types = dict(dynamo_calls.calls)
    assert with_types["BatchGetItem"] == without_types["BatchGetItem"] + 1  # the three types, one BatchGet
    assert {op: n for op, n in with_types.items() if op != "BatchGetItem"} == \
        {op: n for op, n in without_types.items() if op != "BatchGetItem"}
