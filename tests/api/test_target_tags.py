"""/rest/v1/targettags and /rest/v1/targets/{id}/tags: tags, their assignment, quotas, permissions, RSQL `tag`."""
from __future__ import annotations

import pytest

from chalicelib.domain import quotas
from chalicelib.store import targets as target_store
from tests.api import catalog_helpers as helpers
from tests.api import steps
from tests.api.catalog_helpers import JSON, body, delete, error_code, get, post, put

TAGS = "/rest/v1/targettags"
TARGETS = "/rest/v1/targets"


def _tag(client, name: str, **extra) -> dict:
    return helpers.create_tag(client, TAGS, name, **extra)


def _targets(client, *ids: str) -> None:
    resp = post(client, TARGETS, [{"controllerId": cid, "name": cid} for cid in ids])
    assert resp.status_code == 201, resp.body


def _stored_tags(controller_id: str) -> list[int] | None:
    target = target_store.find("DEFAULT", controller_id)
    assert target is not None
    return target.tags


def _assigned(client, tag_id: int, query: str = "") -> list[str]:
    return helpers.assigned(client, TAGS, tag_id, "controllerId", query)


def _names_of(client, controller_id: str) -> list[str]:
    resp = get(client, f"{TARGETS}/{controller_id}/tags")
    assert resp.status_code == 200, resp.body
    return [t["name"] for t in body(resp)]


def _assign(client, tag_id: int, ids, policy: str | None = None, method=put):
    return method(client, f"{TAGS}/{tag_id}/assigned" + (f"?onNotFoundPolicy={policy}" if policy else ""), ids)


def _unassign(client, tag_id: int, ids, policy: str | None = None):
    path = f"{TAGS}/{tag_id}/assigned" + (f"?onNotFoundPolicy={policy}" if policy else "")
    return helpers.delete_json(client, path, ids)


# --- tags (what every kind shares: tests/api/test_tags.py) -------------------------------------------
def test_permissions(client):
    tag = _tag(client, "lab")
    _targets(client, "d1")
    reader = helpers.user_with(client, "reader", "READ_TARGET")
    creator = helpers.user_with(client, "creator", "CREATE_TARGET")
    updater = helpers.user_with(client, "updater", "READ_TARGET", "UPDATE_TARGET")
    nobody = helpers.user_with(client, "nobody", "READ_REPOSITORY")
    assert get(client, TAGS, headers=reader).status_code == 200
    assert get(client, f"{TAGS}/{tag['id']}/assigned", headers=reader).status_code == 200
    assert get(client, f"{TARGETS}/d1/tags", headers=reader).status_code == 200
    resp = get(client, TAGS, headers=nobody)
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.insufficientPermission"
    assert get(client, f"{TARGETS}/d1/tags", headers=nobody).status_code == 403
    with_json = {**reader, "Content-Type": "application/json"}
    assert post(client, TAGS, [{"name": "x"}], headers=with_json).status_code == 403
    assert post(client, TAGS, [{"name": "x"}], headers={**creator, "Content-Type": "application/json"}).status_code \
        == 201
    assert put(client, f"{TAGS}/{tag['id']}", {"colour": "red"}, headers=with_json).status_code == 403
    assert _assign(client, tag["id"], ["d1"]).status_code == 200
    assert client.http.delete(f"{TAGS}/{tag['id']}/assigned/d1", headers=reader).status_code == 403
    assert _stored_tags("d1") == [tag["id"]]
    assert client.http.post(f"{TAGS}/{tag['id']}/assigned/d1", headers=updater).status_code == 200
    assert delete(client, f"{TAGS}/{tag['id']}", headers=updater).status_code == 403
    assert client.http.get(TAGS).status_code == 401


# --- assignment --------------------------------------------------------------------------------------
def test_assign_list_and_unassign(client):
    lab, field = _tag(client, "lab"), _tag(client, "field")
    _targets(client, "d1", "d2", "d3")
    assert _assign(client, lab["id"], ["d1", "d2"]).status_code == 200
    resp = client.http.post(f"{TAGS}/{field['id']}/assigned/d2", headers=JSON)
    assert resp.status_code == 200 and not resp.body
    assert _stored_tags("d1") == [lab["id"]] and _stored_tags("d2") == [lab["id"], field["id"]]
    assert _stored_tags("d3") is None
    assert _assigned(client, lab["id"]) == ["d1", "d2"]
    page = body(get(client, f"{TAGS}/{lab['id']}/assigned?limit=1&offset=1&sort=controllerId:DESC"))
    assert [t["controllerId"] for t in page["content"]] == ["d1"] and page["total"] == 2
    assert _assigned(client, lab["id"], "?q=controllerId==d2") == ["d2"]
    assert _names_of(client, "d2") == ["lab", "field"] and _names_of(client, "d3") == []
    tags = body(get(client, f"{TARGETS}/d2/tags"))
    assert tags[0]["id"] == lab["id"] and tags[0]["_links"]["self"]["href"].endswith(f"{TAGS}/{lab['id']}")

    assert _assign(client, lab["id"], ["d1"]).status_code == 200  # again: no change
    assert _stored_tags("d1") == [lab["id"]]
    # hawkBit's newest release assigns a list with POST (its documented API: PUT)
    assert _assign(client, lab["id"], ["d3"], method=post).status_code == 200
    assert _stored_tags("d3") == [lab["id"]]
    assert _unassign(client, lab["id"], ["d3"]).status_code == 200

    assert _unassign(client, lab["id"], ["d1", "d2"]).status_code == 200
    assert _stored_tags("d1") is None and _stored_tags("d2") == [field["id"]]
    assert client.http.delete(f"{TAGS}/{field['id']}/assigned/d2", headers=JSON).status_code == 200
    assert _stored_tags("d2") is None and _assigned(client, field["id"]) == []
    assert get(client, f"{TAGS}/999/assigned").status_code == 404
    assert get(client, f"{TARGETS}/nobody/tags").status_code == 404


def test_missing_targets_and_the_not_found_policy(client):
    tag = _tag(client, "lab")
    _targets(client, "d1", "d2")
    resp = _assign(client, tag["id"], ["d1", "ghost"])
    assert resp.status_code == 404 and error_code(resp) == "hawkbit.server.error.repo.entityNotFound"
    assert body(resp)["parameters"][0] == "Target" and "ghost" in body(resp)["message"]
    assert _stored_tags("d1") is None  # nothing written
    resp = _assign(client, tag["id"], ["d1", "ghost"], "ON_WHAT_FOUND_AND_FAIL")
    assert resp.status_code == 404 and _stored_tags("d1") == [tag["id"]]
    assert _assign(client, tag["id"], ["d2", "ghost"], "ON_WHAT_FOUND_AND_SUCCESS").status_code == 200
    assert _assigned(client, tag["id"]) == ["d1", "d2"]
    assert client.http.post(f"{TAGS}/{tag['id']}/assigned/ghost", headers=JSON).status_code == 404
    assert _assign(client, 999, ["d1"]).status_code == 404

    assert _unassign(client, tag["id"], ["d1", "ghost"]).status_code == 404
    assert _stored_tags("d1") == [tag["id"]]
    assert _unassign(client, tag["id"], ["d1", "ghost"], "ON_WHAT_FOUND_AND_SUCCESS").status_code == 200
    assert _unassign(client, tag["id"], ["d2", "ghost"], "ON_WHAT_FOUND_AND_FAIL").status_code == 404
    assert _stored_tags("d1") is None and _stored_tags("d2") is None
    assert client.http.delete(f"{TAGS}/{tag['id']}/assigned/ghost", headers=JSON).status_code == 404


@pytest.mark.parametrize("payload,query", [
    ({"controllerId": "d1"}, ""), ([1], ""), ([{"id": "d1"}], ""), (["d1"], "?onNotFoundPolicy=SOMETIMES"),
])
def test_bad_assignments_are_400_and_nothing_is_written(client, payload, query):
    tag = _tag(client, "lab")
    _targets(client, "d1")
    resp = put(client, f"{TAGS}/{tag['id']}/assigned{query}", payload)
    assert resp.status_code == 400, resp.body
    assert _stored_tags("d1") is None


def test_tags_per_target_are_bounded(client, monkeypatch):
    monkeypatch.setattr(quotas, "MAX_TAGS_PER_TARGET", 2)
    one, two, three = _tag(client, "one"), _tag(client, "two"), _tag(client, "three")
    _targets(client, "d1", "d2")
    assert _assign(client, one["id"], ["d1"]).status_code == 200
    assert _assign(client, two["id"], ["d1"]).status_code == 200
    resp = _assign(client, three["id"], ["d2", "d1"])
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert _stored_tags("d1") == [one["id"], two["id"]] and _stored_tags("d2") is None  # nothing written
    assert _assign(client, two["id"], ["d1"]).status_code == 200  # already there: no more room needed


def test_a_poll_of_a_target_with_the_most_tags_reads_half_a_unit(client, capacity_units):
    steps.enable_target_tokens(client)
    steps.create_target(client, "cu1", "tok-cu1")
    steps.poll(client, "cu1", "tok-cu1")
    resp = post(client, TAGS, [{"name": f"tag-{i}"} for i in range(quotas.MAX_TAGS_PER_TARGET)])
    for tag in body(resp):
        assert _assign(client, tag["id"], ["cu1"]).status_code == 200
    assert len(_stored_tags("cu1") or []) == quotas.MAX_TAGS_PER_TARGET
    steps.poll(client, "cu1", "tok-cu1")  # a warm poll is measured: the tagging may outlast the config cache
    capacity_units.reset()
    with capacity_units:
        steps.poll(client, "cu1", "tok-cu1")
    assert capacity_units.totals() == {"rru": 0.5, "wru": 0, "index_wru": 0, "calls": {"GetItem": 1}}


# --- deletes -----------------------------------------------------------------------------------------
def test_deleting_a_tag_takes_it_off_its_targets(client):
    lab, field = _tag(client, "lab"), _tag(client, "field")
    _targets(client, "d1", "d2")
    _assign(client, lab["id"], ["d1", "d2"])
    _assign(client, field["id"], ["d1"])
    assert delete(client, f"{TAGS}/{lab['id']}").status_code == 200
    assert _stored_tags("d1") == [field["id"]] and _stored_tags("d2") is None
    assert _names_of(client, "d1") == ["field"]
    assert helpers.usage("TARGET_TAG") == 1


def test_deleting_a_target_removes_its_assignments(client):
    tag = _tag(client, "lab")
    _targets(client, "d1", "d2")
    _assign(client, tag["id"], ["d1", "d2"])
    assert delete(client, f"{TARGETS}/d1").status_code == 200
    assert _assigned(client, tag["id"]) == ["d2"]
    _targets(client, "d1")  # a new target of the same id starts without tags
    assert _stored_tags("d1") is None and _names_of(client, "d1") == []


def _members(tag_id: int) -> list[str]:
    from chalicelib.store.tags import TARGET_TAG_MEMBERS
    return list(TARGET_TAG_MEMBERS.holders("DEFAULT", tag_id))


def test_a_tags_members_follow_every_change_and_its_lists_never_scan(client, monkeypatch):
    """Which targets hold a tag is an item per tag and target beside the target's tag list: a tag's targets,
    `q=tag==` and a tag's deletion read those, never the tenant's targets (a scan would answer 400 here)."""
    from chalicelib.services import target_lists
    lab, field = _tag(client, "lab"), _tag(client, "Field")
    _targets(client, "d1", "d2", "d3", *[f"other-{i}" for i in range(6)])
    _assign(client, lab["id"], ["d3", "d1"])
    _assign(client, field["id"], ["d2", "d3"])
    assert _members(lab["id"]) == ["d1", "d3"] and _members(field["id"]) == ["d2", "d3"]
    monkeypatch.setattr(target_lists, "SCAN_CAP", 3)  # the tenant has 9
    assert _assigned(client, lab["id"]) == ["d1", "d3"]
    assert _assigned(client, lab["id"], "?q=name==d3&sort=name:DESC") == ["d3"]
    assert helpers.listed(client, f"{TARGETS}?q=tag==FIELD", "controllerId") == ["d2", "d3"]
    assert helpers.listed(client, f"{TARGETS}?q=tag=in=(lab,field);name==d3", "controllerId") == ["d3"]

    assert _unassign(client, lab["id"], ["d1"]).status_code == 200
    assert _members(lab["id"]) == ["d3"]
    assert delete(client, f"{TARGETS}/d3").status_code == 200
    assert _members(lab["id"]) == [] and _members(field["id"]) == ["d2"]
    assert delete(client, f"{TAGS}/{field['id']}").status_code == 200
    assert _members(field["id"]) == [] and _stored_tags("d2") is None


def test_assigning_a_tag_again_writes_a_member_the_target_lacked(client):
    """Targets tagged before the members existed: assigning the tag again adds the member (nothing else moves)."""
    from chalicelib.store.tags import TARGET_TAG_MEMBERS
    from chalicelib.store.tx import Tx
    lab = _tag(client, "lab")
    _targets(client, "old")
    _assign(client, lab["id"], ["old"])
    TARGET_TAG_MEMBERS.write(Tx(), "DEFAULT", lab["id"], "old", holds=False).commit()  # as before members
    assert _members(lab["id"]) == []
    _assign(client, lab["id"], ["old"])
    assert _members(lab["id"]) == ["old"] and _stored_tags("old") == [lab["id"]]


# --- RSQL on targets ------------------------------------------------------------------------------------
def test_targets_filter_by_tag_name(client):
    lab, field = _tag(client, "lab"), _tag(client, "field")
    _targets(client, "d1", "d2", "d3")
    _assign(client, lab["id"], ["d1", "d2"])
    _assign(client, field["id"], ["d2"])

    def ids(q: str) -> list[str]:
        return helpers.listed(client, f"{TARGETS}?q={q}", "controllerId")

    assert ids("tag==lab") == ["d1", "d2"]
    assert ids("tag==field") == ["d2"]
    assert ids("tag==l*") == ["d1", "d2"]
    assert ids("tag=in=(field,none)") == ["d2"]
    assert ids("tag!=lab") == ["d3"]
    assert ids("tag==lab;tag==field") == ["d2"]
    assert ids("tag==nothing") == []
    put(client, f"{TAGS}/{lab['id']}", {"name": "laboratory"})  # a rename touches no target, queries follow it
    assert ids("tag==laboratory") == ["d1", "d2"] and ids("tag==lab") == []


def test_concurrent_assignments_to_one_target_lose_no_tag(client, monkeypatch):
    from chalicelib.services import target_tags as service
    lab, field = _tag(client, "lab"), _tag(client, "field")
    _targets(client, "d1")
    original = service.target_store.find_many
    calls = []

    def find_many(tenant, controller_ids):
        found = original(tenant, controller_ids)
        calls.append(controller_ids)
        if len(calls) == 3:  # the read the first transaction writes on (after the 404 and quota checks)
            service.TAGS.assign(tenant, field["id"], ["d1"])  # another request gets in between
        return found

    monkeypatch.setattr(service.target_store, "find_many", find_many)
    assert _assign(client, lab["id"], ["d1"]).status_code == 200
    assert sorted(_stored_tags("d1") or []) == sorted([lab["id"], field["id"]]) and len(calls) > 3
