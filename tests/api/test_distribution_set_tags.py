"""/rest/v1/distributionsettags: tags, their assignment to sets, quota, permissions, RSQL `tag` on sets."""
from __future__ import annotations

import pytest

from chalicelib.domain.catalog_entities import DistributionSet
from chalicelib.store import catalog
from tests.api import catalog_helpers as helpers
from tests.api.catalog_helpers import DS, JSON, body, create_ds, delete, error_code, get, post, put

TAGS = "/rest/v1/distributionsettags"
NOT_FOUND = "hawkbit.server.error.repo.entityNotFound"


def _tag(client, name: str, **extra) -> dict:
    return helpers.create_tag(client, TAGS, name, **extra)


def _sets(client, *names: str) -> list[int]:
    return [create_ds(client, name=name)["id"] for name in names]


def _stored_tags(ds_id: int) -> list[int] | None:
    ds = catalog.get(DistributionSet, "DEFAULT", ds_id)
    assert ds is not None
    return ds.tags


def _assigned(client, tag_id: int, query: str = "") -> list[str]:
    return helpers.assigned(client, TAGS, tag_id, "name", query)


def _assign(client, tag_id: int, ids, method=post):
    return method(client, f"{TAGS}/{tag_id}/assigned", ids)


def _unassign(client, tag_id: int, ids):
    return helpers.delete_json(client, f"{TAGS}/{tag_id}/assigned", ids)


# --- tags -------------------------------------------------------------------------------------------
def test_a_kind_of_its_own(client):
    beta = _tag(client, "beta")
    assert helpers.usage("DISTRIBUTION_SET_TAG") == 1 and helpers.usage("TARGET_TAG") == 0
    assert body(get(client, "/rest/v1/targettags"))["total"] == 0
    resp = post(client, "/rest/v1/targettags", [{"name": "beta"}])  # names are per kind
    assert resp.status_code == 201
    target_tag = body(resp)[0]
    assert delete(client, f"/rest/v1/targettags/{target_tag['id']}").status_code == 200
    assert body(get(client, f"{TAGS}/{beta['id']}"))["name"] == "beta"  # untouched, whatever the ids
    assert helpers.usage("DISTRIBUTION_SET_TAG") == 1


def test_permissions(client):
    tag = _tag(client, "beta")
    (ds,) = _sets(client, "os")
    reader = helpers.user_with(client, "reader", "READ_REPOSITORY")
    creator = helpers.user_with(client, "creator", "CREATE_REPOSITORY")
    updater = helpers.user_with(client, "updater", "READ_REPOSITORY", "UPDATE_REPOSITORY")
    target_admin = helpers.user_with(client, "targets", "READ_TARGET", "CREATE_TARGET", "UPDATE_TARGET", "DELETE_TARGET")
    assert get(client, TAGS, headers=reader).status_code == 200
    assert get(client, f"{TAGS}/{tag['id']}/assigned", headers=reader).status_code == 200
    resp = get(client, TAGS, headers=target_admin)
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.insufficientPermission"
    with_json = {**reader, "Content-Type": "application/json"}
    assert post(client, TAGS, [{"name": "x"}], headers=with_json).status_code == 403
    assert post(client, TAGS, [{"name": "x"}], headers={**creator, "Content-Type": "application/json"}).status_code \
        == 201
    assert put(client, f"{TAGS}/{tag['id']}", {"colour": "red"}, headers=with_json).status_code == 403
    assert client.http.post(f"{TAGS}/{tag['id']}/assigned/{ds}", headers=reader).status_code == 403
    assert _stored_tags(ds) is None
    assert client.http.post(f"{TAGS}/{tag['id']}/assigned/{ds}", headers=updater).status_code == 200
    assert delete(client, f"{TAGS}/{tag['id']}", headers=updater).status_code == 403
    assert delete(client, f"{TAGS}/{tag['id']}", headers=target_admin).status_code == 403
    assert _stored_tags(ds) == [tag["id"]]
    assert client.http.get(TAGS).status_code == 401


# --- assignment --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", [post, put])
def test_assign_list_one_by_one_and_unassign(client, method):
    beta, ga = _tag(client, "beta"), _tag(client, "ga")
    a, b, c = _sets(client, "a", "b", "c")
    assert _assign(client, beta["id"], [a, b], method).status_code == 200
    resp = client.http.post(f"{TAGS}/{ga['id']}/assigned/{b}", headers=JSON)
    assert resp.status_code == 200 and not resp.body
    assert _stored_tags(a) == [beta["id"]] and _stored_tags(b) == [beta["id"], ga["id"]]
    assert _stored_tags(c) is None
    assert _assigned(client, beta["id"]) == ["a", "b"]
    page = body(get(client, f"{TAGS}/{beta['id']}/assigned?limit=1&offset=1&sort=name:DESC"))
    assert [ds["name"] for ds in page["content"]] == ["a"] and page["total"] == 2
    assert page["content"][0]["_links"]["self"]["href"].endswith(f"{DS}/{a}")
    assert _assigned(client, beta["id"], "?q=name==b") == ["b"]
    assert _assign(client, beta["id"], [a]).status_code == 200  # again: nothing changes
    assert _stored_tags(a) == [beta["id"]]

    assert _unassign(client, beta["id"], [a, b]).status_code == 200
    assert _stored_tags(a) is None and _stored_tags(b) == [ga["id"]]
    resp = client.http.delete(f"{TAGS}/{ga['id']}/assigned/{b}", headers=JSON)
    assert resp.status_code == 200 and _stored_tags(b) is None
    assert _assigned(client, beta["id"]) == [] and _assigned(client, ga["id"]) == []


def test_missing_sets_are_404_and_nothing_is_written(client):
    tag = _tag(client, "beta")
    a, b = _sets(client, "a", "b")
    resp = _assign(client, tag["id"], [a, 999, b])
    assert resp.status_code == 404 and error_code(resp) == NOT_FOUND
    assert "999" in body(resp)["message"]
    assert _stored_tags(a) is None and _stored_tags(b) is None
    assert client.http.post(f"{TAGS}/{tag['id']}/assigned/999", headers=JSON).status_code == 404
    assert client.http.delete(f"{TAGS}/{tag['id']}/assigned/999", headers=JSON).status_code == 404
    assert _assign(client, 999, [a]).status_code == 404
    assert client.http.post(f"{TAGS}/999/assigned/{a}", headers=JSON).status_code == 404
    assert get(client, f"{TAGS}/999/assigned").status_code == 404
    assert _stored_tags(a) is None


@pytest.mark.parametrize("payload", [["1"], [1.5], {"id": 1}, [True], "x"])
def test_bad_assignments_are_400_and_nothing_is_written(client, payload):
    tag = _tag(client, "beta")
    (a,) = _sets(client, "a")
    resp = _assign(client, tag["id"], [a, *payload] if isinstance(payload, list) else payload)
    assert resp.status_code == 400, resp.body
    assert _stored_tags(a) is None
    assert client.http.post(f"{TAGS}/{tag['id']}/assigned/abc", headers=JSON).status_code == 400


def test_deleting_a_tag_takes_it_off_its_sets(client):
    beta, ga = _tag(client, "beta"), _tag(client, "ga")
    a, b = _sets(client, "a", "b")
    _assign(client, beta["id"], [a, b])
    _assign(client, ga["id"], [b])
    assert delete(client, f"{TAGS}/{beta['id']}").status_code == 200
    assert _stored_tags(a) is None and _stored_tags(b) == [ga["id"]]
    assert helpers.usage("DISTRIBUTION_SET_TAG") == 1


def test_a_deleted_set_drops_its_tags(client):
    tag = _tag(client, "beta")
    plain = create_ds(client, name="plain")["id"]
    locked = create_ds(client, name="locked", locked=True)["id"]
    _assign(client, tag["id"], [plain, locked])
    assert delete(client, f"{DS}/{plain}").status_code == 200  # removed
    assert delete(client, f"{DS}/{locked}").status_code == 200  # locked: soft-deleted, kept without its tags
    assert catalog.get(DistributionSet, "DEFAULT", plain) is None
    assert _stored_tags(locked) is None
    assert _assigned(client, tag["id"]) == []
    resp = _assign(client, tag["id"], [locked])  # a deleted set cannot be tagged
    assert resp.status_code == 404 and _stored_tags(locked) is None


def test_distribution_sets_filter_by_tag_name(client):
    beta, ga = _tag(client, "beta"), _tag(client, "ga")
    a, b, _ = _sets(client, "a", "b", "c")
    _assign(client, beta["id"], [a, b])
    _assign(client, ga["id"], [b])

    def names(q: str) -> list[str]:
        return helpers.listed(client, f"{DS}?q={q}", "name")

    assert names("tag==beta") == ["a", "b"]
    assert names("tag==ga") == ["b"]
    assert names("tag!=beta") == ["c"]
    assert names("tag==beta;tag==ga") == ["b"]
    assert names("tag==nothing") == []
    assert _assigned(client, beta["id"], "?q=tag==ga") == ["b"]
    put(client, f"{TAGS}/{beta['id']}", {"name": "rc"})  # a rename touches no set, queries follow it
    assert names("tag==rc") == ["a", "b"] and names("tag==beta") == []
