"""/rest/v1/distributionsets: composition rules, locks, soft delete, metadata, lists; the deployment snapshot."""
from __future__ import annotations

import pytest

from tests.api.catalog_helpers import (
    DS,
    JSON,
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

TENANT = "DEFAULT"


def _module_ids(ds: dict) -> list[int]:
    return [m["id"] for m in ds["modules"]]


def test_create_with_modules_renders_the_classic_shape(client):
    os_module = create_sm(client, "kernel", "5.10")
    app = create_sm(client, "agent", "2.1", "application")
    resp = post(client, DS, [{"name": "gateway", "version": "1.0", "type": "os_app", "description": "d",
                              "modules": [{"id": os_module["id"]}, {"id": app["id"]}],
                              "requiredMigrationStep": True}])
    assert resp.status_code == 201
    ds = body(resp)[0]
    assert set(ds) == {"createdBy", "createdAt", "lastModifiedBy", "lastModifiedAt", "name", "description", "id",
                       "version", "modules", "requiredMigrationStep", "type", "typeName", "complete", "locked",
                       "deleted", "valid", "_links"}
    assert (ds["name"], ds["version"], ds["type"], ds["typeName"]) == ("gateway", "1.0", "os_app", "OS with app(s)")
    assert (ds["complete"], ds["locked"], ds["deleted"], ds["valid"], ds["requiredMigrationStep"]) == (
        True, False, False, True, True)
    assert _module_ids(ds) == [os_module["id"], app["id"]]
    assert ds["modules"][0]["typeName"] == "OS" and ds["modules"][0]["_links"]["self"]["href"].endswith(
        f"/softwaremodules/{os_module['id']}")
    links = ds["_links"]
    assert links["modules"]["href"].endswith(f"/distributionsets/{ds['id']}/assignedSM?offset=0&limit=50")
    assert links["metadata"]["href"].endswith(f"/distributionsets/{ds['id']}/metadata?offset=0&limit=50")
    assert "/rest/v1/distributionsettypes/" in links["type"]["href"]
    assert body(get(client, f"{DS}/{ds['id']}")) == ds
    assert usage("DISTRIBUTION_SET") == 1


def test_default_type_and_completeness(client):
    app = create_sm(client, "agent", "1", "application")
    ds = create_ds(client, type_key=None, modules=[app["id"]])
    assert ds["type"] == "os_app" and ds["complete"] is False  # mandatory os missing
    empty = create_ds(client, name="empty", type_key="app")
    assert empty["complete"] is False and empty["modules"] == []
    apps_only = create_ds(client, name="apps", type_key="app", modules=[app["id"]])
    assert apps_only["complete"] is True


def test_create_errors_write_nothing(client):
    os_module = create_sm(client)
    resp = post(client, DS, [{"name": "x", "version": "1", "type": "app", "modules": [{"id": os_module["id"]}]}])
    assert resp.status_code == 400
    assert error_code(resp) == "hawkbit.server.error.distributionset.modules.unsupported"
    assert post(client, DS, [{"name": "x", "version": "1", "modules": [{"id": 999}]}]).status_code == 404
    assert post(client, DS, [{"name": "x", "version": "1", "type": "nope"}]).status_code == 404
    assert post(client, DS, [{"version": "1"}]).status_code == 400
    assert post(client, DS, [{"name": "x", "version": "1", "modules": [{"id": "abc"}]}]).status_code == 400
    assert client.http.post(DS, headers=JSON, body="[").status_code == 400
    create_ds(client, "taken", "1")
    resp = post(client, DS, [{"name": "fresh", "version": "1"}, {"name": "taken", "version": "1"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert post(client, DS, [{"name": "a", "version": "1"}, {"name": "a", "version": "1"}]).status_code == 409
    assert body(get(client, DS))["total"] == 1 and usage("DISTRIBUTION_SET") == 1


def test_quota(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_QUOTA_DISTRIBUTION_SET", "1")
    create_ds(client)
    resp = post(client, DS, [{"name": "second", "version": "1"}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert usage("DISTRIBUTION_SET") == 1 and body(get(client, DS))["total"] == 1


def test_modules_per_set_quota(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_SOFTWARE_MODULES_PER_DS", 2)
    apps = [create_sm(client, f"app{i}", "1", "application")["id"] for i in range(3)]
    ds = create_ds(client, type_key="app", modules=apps[:2])
    resp = post(client, f"{DS}/{ds['id']}/assignedSM", [{"id": apps[2]}])
    assert resp.status_code == 403
    assert _module_ids(body(get(client, f"{DS}/{ds['id']}"))) == apps[:2]


def test_assigned_modules_add_list_remove(client):
    os_module = create_sm(client)
    apps = [create_sm(client, f"app{i}", "1", "application")["id"] for i in range(3)]
    ds = create_ds(client)
    base = f"{DS}/{ds['id']}/assignedSM"
    resp = post(client, base, [{"id": os_module["id"]}, {"id": apps[0]}, {"id": apps[1]}])
    assert resp.status_code == 200
    got = body(get(client, f"{DS}/{ds['id']}"))
    assert _module_ids(got) == [os_module["id"], apps[0], apps[1]] and got["complete"] is True
    assert post(client, base, [{"id": apps[2]}, {"id": apps[0]}]).status_code == 200  # present ones are skipped
    listed = body(get(client, f"{base}?limit=2&offset=1&sort=name:DESC"))
    assert [m["name"] for m in listed["content"]] == ["app2", "app1"] and listed["total"] == 4
    assert delete(client, f"{base}/{os_module['id']}").status_code == 200
    got = body(get(client, f"{DS}/{ds['id']}"))
    assert os_module["id"] not in _module_ids(got) and got["complete"] is False
    assert delete(client, f"{base}/{os_module['id']}").status_code == 404
    assert post(client, base, [{"id": 999}]).status_code == 404
    assert post(client, base, {"id": apps[0]}).status_code == 400  # an array is required
    assert get(client, f"{DS}/999/assignedSM").status_code == 404


def test_max_assignments_replaces_the_module_of_that_type(client):
    first = create_sm(client, "kernel", "1")
    second = create_sm(client, "kernel", "2")
    ds = create_ds(client, modules=[first["id"]])
    assert post(client, f"{DS}/{ds['id']}/assignedSM", [{"id": second["id"]}]).status_code == 200
    assert _module_ids(body(get(client, f"{DS}/{ds['id']}"))) == [second["id"]]
    # the replaced module is no longer held by the set: deleting it is a hard delete
    assert delete(client, f"{SM}/{first['id']}").status_code == 200
    assert get(client, f"{SM}/{first['id']}").status_code == 404
    # within one request the later os module wins
    third = create_sm(client, "kernel", "3")
    other = create_ds(client, name="other", modules=[second["id"], third["id"]])
    assert _module_ids(other) == [third["id"]]


def test_module_type_not_allowed_by_the_set_type(client):
    runtime = create_sm(client, "jvm", "17", "runtime")
    ds = create_ds(client)
    resp = post(client, f"{DS}/{ds['id']}/assignedSM", [{"id": runtime["id"]}])
    assert resp.status_code == 400
    assert error_code(resp) == "hawkbit.server.error.distributionset.modules.unsupported"


def test_locked_set_refuses_module_changes_and_locks_its_modules(client):
    os_module = create_sm(client)
    app = create_sm(client, "agent", "1", "application")
    ds = create_ds(client, modules=[os_module["id"]])
    resp = put(client, f"{DS}/{ds['id']}", {"locked": True})
    assert resp.status_code == 200 and body(resp)["locked"] is True
    assert body(get(client, f"{SM}/{os_module['id']}"))["locked"] is True
    resp = post(client, f"{DS}/{ds['id']}/assignedSM", [{"id": app["id"]}])
    assert resp.status_code == 423 and error_code(resp) == "hawkbit.server.error.locked"
    assert delete(client, f"{DS}/{ds['id']}/assignedSM/{os_module['id']}").status_code == 423
    resp = put(client, f"{DS}/{ds['id']}", {"requiredMigrationStep": True})
    assert resp.status_code == 423
    assert put(client, f"{DS}/{ds['id']}", {"description": "still editable"}).status_code == 200
    assert body(get(client, f"{DS}/{ds['id']}"))["modules"][0]["locked"] is True


def test_create_locked_locks_modules(client):
    os_module = create_sm(client)
    ds = create_ds(client, modules=[os_module["id"]], locked=True)
    assert ds["locked"] is True and ds["modules"][0]["locked"] is True
    assert upload(client, os_module["id"], b"late").status_code == 423


def test_update_name_version_description(client):
    ds = create_ds(client, "one", "1")
    create_ds(client, "two", "1")
    resp = put(client, f"{DS}/{ds['id']}", {"name": "renamed", "version": "2", "description": "d",
                                             "requiredMigrationStep": True})
    assert resp.status_code == 200
    got = body(resp)
    assert (got["name"], got["version"], got["description"], got["requiredMigrationStep"]) == (
        "renamed", "2", "d", True)
    assert put(client, f"{DS}/{ds['id']}", {"name": "two", "version": "1"}).status_code == 409
    create_ds(client, "one", "1")  # the old natural key is free
    assert put(client, f"{DS}/999", {"description": "x"}).status_code == 404
    assert put(client, f"{DS}/{ds['id']}", {"name": ""}).status_code == 400


def test_delete_unlocked_is_hard_and_releases_modules(client):
    os_module = create_sm(client)
    ds = create_ds(client, modules=[os_module["id"]])
    assert delete(client, f"{DS}/{ds['id']}").status_code == 200
    assert get(client, f"{DS}/{ds['id']}").status_code == 404
    assert usage("DISTRIBUTION_SET") == 0
    assert delete(client, f"{SM}/{os_module['id']}").status_code == 200
    assert get(client, f"{SM}/{os_module['id']}").status_code == 404  # no set holds it: removed for good
    create_ds(client)


def test_delete_locked_is_soft_and_hidden(client):
    ds = create_ds(client, locked=True)
    create_ds(client, "visible", "1")
    assert delete(client, f"{DS}/{ds['id']}").status_code == 200
    got = body(get(client, f"{DS}/{ds['id']}"))
    assert got["deleted"] is True
    listed = body(get(client, DS))
    assert [d["name"] for d in listed["content"]] == ["visible"] and listed["total"] == 1
    assert body(get(client, f"{DS}?q=name==set"))["total"] == 0
    # deleting it again is a 200 (hawkBit) and changes nothing
    assert delete(client, f"{DS}/{ds['id']}").status_code == 200
    assert body(get(client, f"{DS}/{ds['id']}"))["deleted"] is True and usage("DISTRIBUTION_SET") == 1
    assert post(client, f"{DS}/{ds['id']}/metadata", [{"key": "k", "value": "v"}]).status_code == 404


def test_paging_sorting_and_search(client):
    kernel = create_sm(client, "kernel", "1")
    for i in range(4):
        create_ds(client, f"ds-{i}", f"1.{i}", modules=[kernel["id"]] if i % 2 else [])
    listed = body(get(client, f"{DS}?limit=2&offset=1"))
    assert [d["name"] for d in listed["content"]] == ["ds-1", "ds-2"] and (listed["total"], listed["size"]) == (4, 2)
    assert [d["name"] for d in body(get(client, f"{DS}?sort=version:DESC&limit=1"))["content"]] == ["ds-3"]
    found = body(get(client, f"{DS}?q=module.name==kernel"))
    assert [d["name"] for d in found["content"]] == ["ds-1", "ds-3"] and found["total"] == 2
    assert body(get(client, f"{DS}?q=complete==true;version=ge=1.2"))["total"] == 1
    assert body(get(client, f"{DS}?q=name==ds-*&sort=name:DESC&limit=1"))["content"][0]["name"] == "ds-3"
    assert body(get(client, f"{DS}?q=type==os_app"))["total"] == 4
    assert error_code(get(client, f"{DS}?q=target==x")) == "hawkbit.server.error.rest.param.rsqlInvalidField"
    assert error_code(get(client, f"{DS}?sort=module:ASC")) == "hawkbit.server.error.rest.param.invalidField"


def test_metadata(client):
    ds = create_ds(client)
    base = f"{DS}/{ds['id']}/metadata"
    resp = post(client, base, [{"key": "channel", "value": "beta"}, {"key": "owner", "value": "ops"}])
    assert resp.status_code == 201
    assert body(resp) == [{"key": "channel", "value": "beta"}, {"key": "owner", "value": "ops"}]
    listed = body(get(client, f"{base}?q=value==ops"))
    assert listed["content"] == [{"key": "owner", "value": "ops"}] and listed["total"] == 1
    one = get(client, f"{base}/channel")
    assert body(one) == {"key": "channel", "value": "beta"}
    assert one.headers["Content-Type"] == "application/json"  # hawkBit: produces application/json only
    assert body(put(client, f"{base}/channel", {"value": "stable"})) == {"key": "channel", "value": "stable"}
    assert post(client, base, [{"key": "owner", "value": "again"}]).status_code == 409
    for entries in ([{"key": "nothing"}], [{"key": "nothing", "value": None}]):
        resp = post(client, base, entries)  # hawkBit renders no null value: there is none to store
        assert resp.status_code == 400 and "value" in body(resp)["parameters"]
    assert put(client, f"{base}/channel", {"value": None}).status_code == 400
    assert body(get(client, f"{base}/channel"))["value"] == "stable"
    assert delete(client, f"{base}/owner").status_code == 200
    assert get(client, f"{base}/owner").status_code == 404
    assert body(get(client, f"{DS}?q=metadata.channel==stable"))["total"] == 1
    assert get(client, f"{DS}/999/metadata").status_code == 404


def test_permissions(client):
    ds = create_ds(client)
    reader = user_with(client, "reader", "READ_REPOSITORY")
    reader_json = {**reader, "Content-Type": "application/json"}
    assert get(client, f"{DS}/{ds['id']}", headers=reader).status_code == 200
    assert post(client, DS, [{"name": "n", "version": "1"}], headers=reader_json).status_code == 403
    assert post(client, f"{DS}/{ds['id']}/assignedSM", [], headers=reader_json).status_code == 403
    assert delete(client, f"{DS}/{ds['id']}", headers=reader).status_code == 403
    assert client.http.get(DS).status_code == 401


# --- for the deployment service ---------------------------------------------------------------------
def test_deployment_snapshot(client):
    from chalicelib.domain.deployment_snapshot import DeploymentSnapshot
    from chalicelib.services import distribution_sets

    os_module = create_sm(client, "kernel", "5.10")
    app = create_sm(client, "agent", "2.1", "application", encrypted=False)
    post(client, f"{SM}/{os_module['id']}/metadata", [{"key": "visible", "value": "yes", "targetVisible": True},
                                                      {"key": "hidden", "value": "no"}])
    artifact = body(upload(client, os_module["id"], b"kernel-bytes", part_name="kernel.img"))
    ds = create_ds(client, "gateway", "1.0", modules=[app["id"], os_module["id"]], requiredMigrationStep=True)

    snapshot = distribution_sets.deployment_snapshot(TENANT, ds["id"])
    assert isinstance(snapshot, DeploymentSnapshot)
    assert (snapshot.ds_id, snapshot.name, snapshot.version, snapshot.type_key, snapshot.required_migration_step) == (
        ds["id"], "gateway", "1.0", "os_app", True)
    assert snapshot.chunks == [
        {"part": "os", "version": "5.10", "name": "kernel", "smId": os_module["id"], "encrypted": False,
         "metadata": [{"key": "visible", "value": "yes"}],
         "artifacts": [{"filename": "kernel.img", "size": 12, "hashes": artifact["hashes"],
                        "s3Key": f"artifacts/DEFAULT/{os_module['id']}/{artifact['id']}",
                        "artifactId": artifact["id"]}]},
        {"part": "application", "version": "2.1", "name": "agent", "smId": app["id"], "encrypted": False,
         "metadata": [], "artifacts": []},
    ]
    from chalicelib.store import blobs
    assert blobs.get_bytes(snapshot.chunks[0]["artifacts"][0]["s3Key"]) == b"kernel-bytes"


def test_deployment_snapshot_refusals(client):
    from chalicelib import errors
    from chalicelib.services import distribution_sets
    from chalicelib.store import catalog
    from chalicelib.domain.catalog_entities import DistributionSet

    incomplete = create_ds(client, "incomplete", "1")
    with pytest.raises(errors.DistributionSetIncomplete):
        distribution_sets.deployment_snapshot(TENANT, incomplete["id"])
    with pytest.raises(errors.EntityNotFound):
        distribution_sets.deployment_snapshot(TENANT, 999)
    invalid = create_ds(client, "invalid", "1", modules=[create_sm(client)["id"]])
    catalog.update(catalog.get(DistributionSet, TENANT, invalid["id"]), {"valid": False})
    with pytest.raises(errors.DistributionSetInvalid) as caught:
        distribution_sets.deployment_snapshot(TENANT, invalid["id"])
    assert caught.value.status == 400
    deleted = create_ds(client, "deleted", "1", locked=True)
    delete(client, f"{DS}/{deleted['id']}")
    with pytest.raises(errors.EntityNotFound):
        distribution_sets.deployment_snapshot(TENANT, deleted["id"])


def test_lock_for_assignment_is_idempotent_and_cheap(client, dynamo_calls):
    from chalicelib.services import distribution_sets

    from chalicelib.store import catalog
    from chalicelib.domain.catalog_entities import SoftwareModule

    os_module = create_sm(client)
    ds = create_ds(client, modules=[os_module["id"]])
    version_before = int(catalog.get(SoftwareModule, TENANT, os_module["id"]).version)
    dynamo_calls.reset()
    distribution_sets.lock_for_assignment(TENANT, ds["id"])
    assert dynamo_calls.calls == {"GetItem": 1, "TransactWriteItems": 1}
    got = body(get(client, f"{DS}/{ds['id']}"))
    assert got["locked"] is True and got["modules"][0]["locked"] is True
    # the module's version moved on by one (a concurrent stale write is refused), not reset
    assert int(catalog.get(SoftwareModule, TENANT, os_module["id"]).version) == version_before + 1
    dynamo_calls.reset()
    distribution_sets.lock_for_assignment(TENANT, ds["id"])
    assert dynamo_calls.total == 1 and dynamo_calls.calls["GetItem"] == 1
    # an assigned (locked) set is soft-deleted, its module too
    assert delete(client, f"{DS}/{ds['id']}").status_code == 200
    assert body(get(client, f"{DS}/{ds['id']}"))["deleted"] is True
    assert delete(client, f"{SM}/{os_module['id']}").status_code == 200
    assert body(get(client, f"{SM}/{os_module['id']}"))["deleted"] is True


def test_get_distribution_sets_batch(client):
    from chalicelib.api.distributionsets import ds_json
    from chalicelib.services import distribution_sets

    os_module = create_sm(client)
    first = create_ds(client, "a", "1", modules=[os_module["id"]])
    second = create_ds(client, "b", "1")
    found = distribution_sets.get_distribution_sets(TENANT, [first["id"], second["id"], 999])
    assert sorted(found) == [first["id"], second["id"]]
    assert ds_json(found[first["id"]], "http://localhost") == first
    cheap = distribution_sets.get_distribution_sets(TENANT, [second["id"]], with_modules=False)
    assert cheap[second["id"]].name == "b"


def test_metadata_keys_with_dots_and_brackets(client):
    from urllib.parse import quote
    ds = create_ds(client)
    base = f"{DS}/{ds['id']}/metadata"
    keys = ["a[0]", "a.b", "x[1].y[2]", ("k.[9]" * 26)[:128]]
    assert post(client, base, [{"key": key, "value": "v"} for key in keys]).status_code == 201
    for key in keys:
        path = f"{base}/{quote(key, safe='')}"
        assert put(client, path, {"value": "w"}).status_code == 200
        assert body(get(client, path)) == {"key": key, "value": "w"}
        assert delete(client, path).status_code == 200
    assert body(get(client, base))["total"] == 0


def _batch(count: int, module_id: int) -> list[dict]:
    return [{"name": f"bulk-{i}", "version": "1", "type": "os", "modules": [{"id": module_id}],
             "locked": i % 2 == 0} for i in range(count)]


def _catalogue_state(client, sm_id: int) -> tuple:
    from chalicelib.services import catalog_types, software_modules
    sm = software_modules.get_software_module(TENANT, sm_id)
    return (body(get(client, DS))["total"], usage("DISTRIBUTION_SET"), int(sm.in_sets or 0), bool(sm.locked),
            int(catalog_types.distribution_set_type_by_key(TENANT, "os").used_by or 0))


def test_bulk_create_with_a_taken_name_after_the_first_transaction_writes_nothing(client):
    """31 sets take two transactions (30 each): a duplicate in the second is refused before the first."""
    sm = create_sm(client)
    create_ds(client, "taken", "1", type_key="os")
    before = _catalogue_state(client, sm["id"])
    resp = post(client, DS, _batch(30, sm["id"]) + [{"name": "taken", "version": "1", "type": "os"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert _catalogue_state(client, sm["id"]) == before


def test_bulk_create_failing_in_a_later_transaction_undoes_the_earlier_ones(client, monkeypatch):
    """A concurrent request takes a name after the check: the second transaction fails, the first is undone."""
    from chalicelib.store import catalog

    sm = create_sm(client)
    create_ds(client, "taken", "1", type_key="os")
    before = _catalogue_state(client, sm["id"])
    monkeypatch.setattr(catalog, "taken_unique", lambda tenant, keys: set())
    resp = post(client, DS, _batch(30, sm["id"]) + [{"name": "taken", "version": "1", "type": "os"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert _catalogue_state(client, sm["id"]) == before  # sets, usage, module counts and lock, type count
    resp = post(client, DS, _batch(31, sm["id"]))  # names and versions are free again
    assert resp.status_code == 201 and len(body(resp)) == 31
    assert _catalogue_state(client, sm["id"])[:4] == (32, 32, 31, True)
