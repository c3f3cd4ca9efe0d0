"""What every tag kind shares (/rest/v1/targettags, /rest/v1/distributionsettags): lists, names, bad bodies,
quotas, creates of many. Each kind's own file tests its assignments."""
from __future__ import annotations

import pytest

from chalicelib import clock
from tests.api.catalog_helpers import body, create_tag, delete, error_code, get, post, put, usage

KINDS = [("/rest/v1/targettags", "TARGET_TAG"), ("/rest/v1/distributionsettags", "DISTRIBUTION_SET_TAG")]
ASSIGNED_REL = {"/rest/v1/targettags": "assignedTargets", "/rest/v1/distributionsettags": "assignedDistributionSets"}


@pytest.fixture(params=KINDS, ids=["target", "distribution-set"])
def kind(request) -> tuple[str, str]:
    return request.param


_tag = create_tag


def test_create_get_update_delete(client, kind):
    TAGS, quota = kind
    clock.set_now(1_700_000_000_000)
    resp = post(client, TAGS, [{"name": "lab", "description": "in the lab", "colour": "#ff0000"}, {"name": "field"}])
    assert resp.status_code == 201
    lab, field = body(resp)
    assert (lab["name"], lab["description"], lab["colour"]) == ("lab", "in the lab", "#ff0000")
    assert lab["createdBy"] == lab["lastModifiedBy"] == "admin"
    assert lab["createdAt"] == lab["lastModifiedAt"] == 1_700_000_000_000
    assert lab["_links"]["self"]["href"].endswith(f"{TAGS}/{lab['id']}")
    assert field["id"] == lab["id"] + 1 and "description" not in field and "colour" not in field
    assert usage(quota) == 2

    one = body(get(client, f"{TAGS}/{lab['id']}"))
    assert {k: v for k, v in one.items() if k != "_links"} == {k: v for k, v in lab.items() if k != "_links"}
    rel = ASSIGNED_REL[TAGS]
    assert one["_links"][rel]["href"].endswith(f"{TAGS}/{lab['id']}/assigned?offset=0&limit=50")

    clock.set_now(1_700_000_001_000)
    resp = put(client, f"{TAGS}/{lab['id']}", {"name": "laboratory", "colour": "blue"})
    assert resp.status_code == 200
    updated = body(resp)
    assert (updated["name"], updated["description"], updated["colour"]) == ("laboratory", "in the lab", "blue")
    assert updated["lastModifiedAt"] == 1_700_000_001_000 and updated["createdAt"] == 1_700_000_000_000
    # the old name is free again, the new one taken
    assert post(client, TAGS, [{"name": "lab"}]).status_code == 201
    assert post(client, TAGS, [{"name": "laboratory"}]).status_code == 409

    assert delete(client, f"{TAGS}/{lab['id']}").status_code == 200
    resp = get(client, f"{TAGS}/{lab['id']}")
    assert resp.status_code == 404 and error_code(resp) == "hawkbit.server.error.repo.entityNotFound"
    assert delete(client, f"{TAGS}/{lab['id']}").status_code == 404
    assert usage(quota) == 2
    assert post(client, TAGS, [{"name": "laboratory"}]).status_code == 201  # its name is free again


def test_list_paging_sorting_and_search(client, kind):
    base, _ = kind
    for name, colour in (("alpha", "red"), ("beta", "green"), ("gamma", "red")):
        _tag(client, base, name, colour=colour)
    page = body(get(client, base))
    assert [t["name"] for t in page["content"]] == ["alpha", "beta", "gamma"] and page["total"] == 3
    page = body(get(client, f"{base}?sort=name:DESC&limit=2"))
    assert [t["name"] for t in page["content"]] == ["gamma", "beta"] and page["total"] == 3 and page["size"] == 2
    page = body(get(client, f"{base}?offset=1&limit=1"))
    assert [t["name"] for t in page["content"]] == ["beta"]
    page = body(get(client, f"{base}?q=colour==red"))
    assert [t["name"] for t in page["content"]] == ["alpha", "gamma"] and page["total"] == 2
    page = body(get(client, f"{base}?q=name==g*"))
    assert [t["name"] for t in page["content"]] == ["gamma"]
    assert error_code(get(client, f"{base}?q=bogus==1")) == "hawkbit.server.error.rest.param.rsqlInvalidField"
    assert error_code(get(client, f"{base}?sort=bogus:ASC")) == "hawkbit.server.error.rest.param.invalidField"


def test_names_are_unique_and_a_refused_create_writes_nothing(client, kind):
    base, quota = kind
    _tag(client, base, "lab")
    resp = post(client, base, [{"name": "new"}, {"name": "lab"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    resp = post(client, base, [{"name": "twice"}, {"name": "twice"}])
    assert resp.status_code == 409
    assert [t["name"] for t in body(get(client, base))["content"]] == ["lab"] and usage(quota) == 1
    other = _tag(client, base, "other")
    resp = put(client, f"{base}/{other['id']}", {"name": "lab"})
    assert resp.status_code == 409
    assert body(get(client, f"{base}/{other['id']}"))["name"] == "other"


@pytest.mark.parametrize("payload", [
    [{"description": "no name"}], [{"name": ""}], [{"name": "x" * 65}], [{"name": "ok", "colour": "c" * 17}],
    [{"name": "ok", "description": "d" * 513}], {"name": "not a list"}, ["not an object"], [{"name": ["x"]}],
])
def test_bad_tags_are_400_and_nothing_is_written(client, kind, payload):
    base, quota = kind
    resp = post(client, base, payload)
    assert resp.status_code == 400, resp.body
    assert body(get(client, base))["total"] == 0 and usage(quota) == 0


def test_tag_quota(client, kind, monkeypatch):
    base, quota = kind
    monkeypatch.setenv(f"SKYHAWK_QUOTA_{quota}", "2")
    _tag(client, base, "one")
    resp = post(client, base, [{"name": "two"}, {"name": "three"}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    _tag(client, base, "two")
    resp = post(client, base, [{"name": "three"}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert usage(quota) == 2 and body(get(client, base))["total"] == 2
    limits = body(get(client, f"/rest/v1/system/quota/{quota}"))
    assert (limits["limit"], limits["used"]) == (2, 2)


def test_a_create_of_many_tags_takes_several_transactions(client, kind):
    base, quota = kind
    resp = post(client, base, [{"name": f"tag-{i:03d}"} for i in range(120)])
    assert resp.status_code == 201 and len(body(resp)) == 120
    assert body(get(client, f"{base}?limit=500"))["total"] == 120 and usage(quota) == 120


def test_bad_ids_and_updates(client, kind):
    base, _ = kind
    tag = _tag(client, base, "lab")
    assert get(client, f"{base}/abc").status_code == 400
    assert get(client, f"{base}/999").status_code == 404
    assert put(client, f"{base}/999", {"name": "x"}).status_code == 404
    assert put(client, f"{base}/{tag['id']}", {"name": ""}).status_code == 400
    assert put(client, f"{base}/{tag['id']}", ["x"]).status_code == 400
    assert put(client, f"{base}/{tag['id']}", {"name": "y" * 65}).status_code == 400
    assert body(get(client, f"{base}/{tag['id']}"))["name"] == "lab"
