"""/rest/v1/targets/{targetId}/metadata: create, list (paged, sorted, q), read, update, delete; quota, bytes,
permissions (hawkBit's READ_REPOSITORY / UPDATE_REPOSITORY), bad input, and the target's deletion."""
from __future__ import annotations

import json

from tests.api import steps
from tests.api.catalog_helpers import body, delete, error_code, get, post, put, user_with

TARGETS = "/rest/v1/targets"
BASE = f"{TARGETS}/dev-1/metadata"


def _stored(controller_id: str = "dev-1") -> dict:
    """The target's metadata item as stored (None when there is none)."""
    from chalicelib.store import target_metadata
    item = target_metadata.find("DEFAULT", controller_id)
    return None if item.version is None else dict(item.metadata)


def test_create_answers_201_with_the_created_entries_and_stores_them(client):
    steps.create_target(client, "dev-1")
    resp = post(client, BASE, [{"key": "owner", "value": "ops"}, {"key": "site", "value": "berlin"}])
    assert resp.status_code == 201
    assert body(resp) == [{"key": "owner", "value": "ops"}, {"key": "site", "value": "berlin"}]
    assert _stored() == {"owner": {"value": "ops"}, "site": {"value": "berlin"}}
    assert post(client, BASE, []).status_code == 201  # hawkBit accepts an empty array: nothing to add
    link = body(get(client, f"{TARGETS}/dev-1"))["_links"]["metadata"]["href"]
    assert link == "http://localhost/rest/v1/targets/dev-1/metadata?offset=0&limit=50"


def test_list_pages_sorts_and_filters(client):
    steps.create_target(client, "dev-1")
    post(client, BASE, [{"key": f"k{i}", "value": f"v{i % 2}"} for i in range(5)])
    listed = body(get(client, BASE))
    assert listed == {"content": [{"key": f"k{i}", "value": f"v{i % 2}"} for i in range(5)], "total": 5, "size": 5}
    page = body(get(client, f"{BASE}?offset=1&limit=2&sort=key:DESC"))
    assert [e["key"] for e in page["content"]] == ["k3", "k2"] and page["total"] == 5 and page["size"] == 2
    filtered = body(get(client, f"{BASE}?q=value==v1"))
    assert [e["key"] for e in filtered["content"]] == ["k1", "k3"] and filtered["total"] == 2
    assert body(get(client, f"{BASE}?q=key==k4;value==v0"))["content"] == [{"key": "k4", "value": "v0"}]
    assert get(client, f"{BASE}?q=color==red").status_code == 400
    assert get(client, f"{BASE}?sort=color:ASC").status_code == 400
    steps.create_target(client, "dev-2")
    assert body(get(client, f"{TARGETS}/dev-2/metadata")) == {"content": [], "total": 0, "size": 0}


def test_read_update_delete_one_entry(client):
    steps.create_target(client, "dev-1")
    post(client, BASE, [{"key": "channel", "value": "beta"}, {"key": "owner", "value": "ops"}])
    one = get(client, f"{BASE}/channel")
    assert one.status_code == 200 and body(one) == {"key": "channel", "value": "beta"}
    assert one.headers["Content-Type"] == "application/json"  # hawkBit's getMetadataValue: JSON only
    resp = put(client, f"{BASE}/channel", {"value": "stable"})
    assert resp.status_code == 200 and body(resp) == {"key": "channel", "value": "stable"}
    assert put(client, f"{BASE}/channel", {"value": ""}).status_code == 200  # empty, not null, is a value
    assert delete(client, f"{BASE}/owner").status_code == 200
    assert _stored() == {"channel": {"value": ""}}
    resp = get(client, f"{BASE}/owner")
    assert resp.status_code == 404 and error_code(resp) == "hawkbit.server.error.repo.entityNotFound"


def test_keys_with_dots_brackets_and_escapes_are_plain_keys(client):
    steps.create_target(client, "dev-1")
    post(client, BASE, [{"key": "a.b", "value": "1"}, {"key": "c[0]", "value": "2"}, {"key": "d e", "value": "3"}])
    assert body(get(client, f"{BASE}/a.b")) == {"key": "a.b", "value": "1"}
    assert body(get(client, f"{BASE}/c%5B0%5D")) == {"key": "c[0]", "value": "2"}
    assert body(put(client, f"{BASE}/d%20e", {"value": "4"})) == {"key": "d e", "value": "4"}
    assert _stored() == {"a.b": {"value": "1"}, "c[0]": {"value": "2"}, "d e": {"value": "4"}}


def test_duplicate_keys_are_409_and_nothing_is_written(client):
    steps.create_target(client, "dev-1")
    post(client, BASE, [{"key": "owner", "value": "ops"}])
    resp = post(client, BASE, [{"key": "new", "value": "x"}, {"key": "owner", "value": "again"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    resp = post(client, BASE, [{"key": "twice", "value": "a"}, {"key": "twice", "value": "b"}])
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert _stored() == {"owner": {"value": "ops"}}


def test_unknown_target_or_key_is_404(client):
    for method, path, payload in (("GET", f"{TARGETS}/nope/metadata", None),
                                  ("POST", f"{TARGETS}/nope/metadata", [{"key": "k", "value": "v"}]),
                                  ("GET", f"{TARGETS}/nope/metadata/k", None),
                                  ("PUT", f"{TARGETS}/nope/metadata/k", {"value": "v"}),
                                  ("DELETE", f"{TARGETS}/nope/metadata/k", None)):
        resp = client.http.request(method, path, headers={**steps.ADMIN, "Content-Type": "application/json"},
                                   body=None if payload is None else json.dumps(payload))
        assert resp.status_code == 404, (method, path)
        assert error_code(resp) == "hawkbit.server.error.repo.entityNotFound"
    assert _stored("nope") is None
    steps.create_target(client, "dev-1")
    assert put(client, f"{BASE}/missing", {"value": "v"}).status_code == 404
    assert delete(client, f"{BASE}/missing").status_code == 404
    assert _stored() is None


def test_bad_input_is_400_and_nothing_is_written(client):
    steps.create_target(client, "dev-1")
    post(client, BASE, [{"key": "keep", "value": "v"}])
    for entries in ([{"key": "nothing"}], [{"key": "null", "value": None}], [{"value": "no key"}],
                    [{"key": "", "value": "v"}], [{"key": "k" * 129, "value": "v"}],
                    [{"key": "long", "value": "v" * 4001}], [{"key": "ok", "value": "v"}, "not an object"],
                    {"key": "not", "value": "an array"}):
        resp = post(client, BASE, entries)
        assert resp.status_code == 400, entries
    resp = post(client, BASE, [{"key": "ok", "value": "v"}, {"key": "nothing"}])
    assert resp.status_code == 400 and "value" in body(resp)["parameters"]
    assert put(client, f"{BASE}/keep", {"value": None}).status_code == 400
    assert put(client, f"{BASE}/keep", {"value": "v" * 4001}).status_code == 400
    assert put(client, f"{BASE}/keep", ["not", "an object"]).status_code == 400
    resp = client.http.post(BASE, headers={**steps.ADMIN, "Content-Type": "application/json"}, body="[{")
    assert resp.status_code == 400
    assert _stored() == {"keep": {"value": "v"}}


def test_quota_of_entries_per_target_is_403_and_nothing_is_written(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_METADATA_ENTRIES", 3)
    steps.create_target(client, "dev-1")
    post(client, BASE, [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    resp = post(client, BASE, [{"key": "c", "value": "3"}, {"key": "d", "value": "4"}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert _stored() == {"a": {"value": "1"}, "b": {"value": "2"}}
    assert post(client, BASE, [{"key": "c", "value": "3"}]).status_code == 201
    assert post(client, BASE, [{"key": "d", "value": "4"}]).status_code == 403
    assert len(_stored()) == 3


def test_quota_of_metadata_bytes_is_403(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_METADATA_BYTES", 100)
    steps.create_target(client, "dev-1")
    post(client, BASE, [{"key": "a", "value": "x" * 40}])
    resp = post(client, BASE, [{"key": "b", "value": "y" * 40}])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert put(client, f"{BASE}/a", {"value": "z" * 80}).status_code == 403
    assert _stored() == {"a": {"value": "x" * 40}}


def test_permissions_are_hawkbits_repository_permissions(client):
    steps.create_target(client, "dev-1")
    post(client, BASE, [{"key": "k", "value": "v"}])
    reader = user_with(client, "reader", "READ_REPOSITORY")
    target_only = user_with(client, "targets", "READ_TARGET", "UPDATE_TARGET", "CREATE_TARGET")
    writer = user_with(client, "writer", "UPDATE_REPOSITORY")

    def json_of(who: dict) -> dict:
        return {**who, "Content-Type": "application/json"}

    assert get(client, BASE, headers=reader).status_code == 200
    assert get(client, f"{BASE}/k", headers=reader).status_code == 200
    for who in (reader, target_only):
        assert post(client, BASE, [{"key": "x", "value": "v"}], headers=json_of(who)).status_code == 403
        assert put(client, f"{BASE}/k", {"value": "w"}, headers=json_of(who)).status_code == 403
        assert delete(client, f"{BASE}/k", headers=who).status_code == 403
    assert get(client, BASE, headers=target_only).status_code == 403
    assert post(client, BASE, [{"key": "x", "value": "v"}], headers=json_of(writer)).status_code == 201
    assert put(client, f"{BASE}/k", {"value": "w"}, headers=json_of(writer)).status_code == 200
    assert delete(client, f"{BASE}/x", headers=writer).status_code == 200
    assert _stored() == {"k": {"value": "w"}}
    assert client.http.get(BASE).status_code == 401


def test_deleting_the_target_deletes_its_metadata(client):
    steps.create_target(client, "dev-1")
    post(client, BASE, [{"key": "k", "value": "v"}])
    assert delete(client, f"{TARGETS}/dev-1").status_code == 200
    assert _stored() is None
    assert get(client, BASE).status_code == 404
    steps.create_target(client, "dev-1")  # a new target of the same id starts without metadata
    assert body(get(client, BASE))["total"] == 0


def test_a_target_being_deleted_takes_no_metadata(client):
    """The tombstone (the target's deletion begun, not finished) refuses metadata writes: nothing outlives it."""
    from chalicelib.services import targets
    steps.create_target(client, "dev-1")
    targets._tombstone("DEFAULT", "dev-1")
    assert post(client, BASE, [{"key": "k", "value": "v"}]).status_code == 404
    assert _stored() is None
    targets.finish_deletion("DEFAULT", "dev-1")
    assert _stored() is None


def test_metadata_stays_off_the_target_item_the_poll_reads(client):
    """A full metadata map leaves the target item (the idle poll's one GetItem) as small as before."""
    from chalicelib.store import targets as target_store
    steps.create_target(client, "dev-1")
    before = target_store.find("DEFAULT", "dev-1")
    post(client, BASE, [{"key": f"key-{i}", "value": "v" * 1000} for i in range(50)])
    after = target_store.find("DEFAULT", "dev-1")
    assert after == before
    assert len(_stored()) == 50
    listed = body(get(client, TARGETS))
    assert [t["controllerId"] for t in listed["content"]] == ["dev-1"] and listed["total"] == 1


def test_idle_poll_with_full_metadata_still_reads_half_a_unit(client, capacity_units):
    """The quota's worth of metadata (100 entries of 1,000 characters) leaves the idle poll one GetItem of
    under 4 KB: 0.5 read units (tests/api/test_capacity_budgets.py)."""
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev-1", "tok-1")
    assert post(client, BASE, [{"key": f"key-{i}", "value": "v" * 1000} for i in range(100)]).status_code == 201
    steps.poll(client, "dev-1", "tok-1")
    capacity_units.reset()
    with capacity_units:
        steps.poll(client, "dev-1", "tok-1")
    assert capacity_units.totals() == {"rru": 0.5, "wru": 0, "index_wru": 0, "calls": {"GetItem": 1}}


def test_targets_list_filters_by_metadata(client, dynamo_calls):
    for cid in ("dev-1", "dev-2", "dev-3"):
        steps.create_target(client, cid)
    post(client, BASE, [{"key": "site", "value": "berlin"}, {"key": "tier", "value": "gold"}])
    post(client, f"{TARGETS}/dev-2/metadata", [{"key": "site", "value": "paris"}])

    def ids(q: str) -> list[str]:
        resp = get(client, f"{TARGETS}?q={q}")
        assert resp.status_code == 200, resp.body
        return [t["controllerId"] for t in body(resp)["content"]]

    assert ids("metadata.site==berlin") == ["dev-1"]
    assert ids("metadata.site==*") == ["dev-1", "dev-2"]
    assert ids("metadata.site!=berlin") == ["dev-2", "dev-3"]
    assert ids("metadata.site==paris,metadata.tier==gold") == ["dev-1", "dev-2"]
    assert ids("metadata.tier==gold;name==dev-2") == []
    dynamo_calls.reset()
    assert ids("name==dev-3") == ["dev-3"]
    assert dynamo_calls.calls["Query"] == 16  # the name order's 16 shards only: no metadata read without it
    dynamo_calls.reset()
    assert ids("metadata.site==paris") == ["dev-2"]
    assert dynamo_calls.calls["Query"] == 2  # the targets and, once, the tenant's metadata items


def test_assigned_targets_of_a_set_filter_by_metadata(client):
    ds_id, _ = steps.release(client)
    for cid in ("dev-1", "dev-2"):
        steps.create_target(client, cid)
    steps.assign(client, ds_id, "dev-1", "dev-2")
    post(client, BASE, [{"key": "site", "value": "berlin"}])
    resp = get(client, f"/rest/v1/distributionsets/{ds_id}/assignedTargets?q=metadata.site==berlin")
    assert resp.status_code == 200 and [t["controllerId"] for t in body(resp)["content"]] == ["dev-1"]
