"""/rest/v1/targetfilters (CRUD, autoAssignDS) and the filters of a set
(/rest/v1/distributionsets/{id}/autoAssignTargetFilters, /statistics/autoassignments)."""
from __future__ import annotations

import pytest

from chalicelib.store import target_filters as filter_store
from tests.api import steps
from tests.api.catalog_helpers import body, create_ds, delete, error_code, get, post, put, usage, user_with

FILTERS = "/rest/v1/targetfilters"
SETS = "/rest/v1/distributionsets"


def _filter(client, name: str = "all", query: str = "name==*") -> dict:
    resp = post(client, FILTERS, {"name": name, "query": query})
    assert resp.status_code == 201, resp.body
    return body(resp)


def _auto(client, filter_id: int, payload: dict, status: int = 200) -> dict:
    resp = post(client, f"{FILTERS}/{filter_id}/autoAssignDS", payload)
    assert resp.status_code == status, resp.body
    return body(resp)


def test_create_get_update_delete_with_stored_state(client):
    created = _filter(client, "blue", "attribute.colour==blue")
    assert (created["name"], created["query"], created["createdBy"]) == ("blue", "attribute.colour==blue", "admin")
    assert "autoAssignDistributionSet" not in created
    href = created["_links"]["self"]["href"]
    assert href.endswith(f"{FILTERS}/{created['id']}")
    assert created["_links"]["autoAssignDS"]["href"] == f"{href}/autoAssignDS"
    assert body(get(client, f"{FILTERS}/{created['id']}"))["query"] == "attribute.colour==blue"
    assert usage("TARGET_FILTER_QUERY") == 1

    resp = put(client, f"{FILTERS}/{created['id']}", {"query": "attribute.colour==red"})
    assert resp.status_code == 200 and body(resp)["name"] == "blue" and body(resp)["query"] == "attribute.colour==red"
    resp = put(client, f"{FILTERS}/{created['id']}", {"name": "red"})
    assert body(resp)["name"] == "red"
    stored = filter_store.get("DEFAULT", created["id"])
    assert (stored.name, stored.query_text) == ("red", "attribute.colour==red")
    assert _filter(client, "blue")["name"] == "blue"  # the old name is free again

    resp = delete(client, f"{FILTERS}/{created['id']}")
    assert resp.status_code == 204
    assert filter_store.get("DEFAULT", created["id"]) is None
    assert get(client, f"{FILTERS}/{created['id']}").status_code == 404
    assert usage("TARGET_FILTER_QUERY") == 1
    assert _filter(client, "red")["name"] == "red"  # its name went with it


def test_list_with_paging_sort_and_q(client):
    for name in ("c", "a", "b"):
        _filter(client, name, f"name=={name}*")
    page = body(get(client, f"{FILTERS}?offset=1&limit=1"))
    assert page["total"] == 3 and page["size"] == 1 and [f["name"] for f in page["content"]] == ["a"]
    assert [f["name"] for f in body(get(client, f"{FILTERS}?sort=name:DESC"))["content"]] == ["c", "b", "a"]
    assert [f["name"] for f in body(get(client, f"{FILTERS}?sort=id:DESC"))["content"]] == ["b", "a", "c"]
    found = body(get(client, f"{FILTERS}?q=name==a,name==b&sort=name:ASC"))
    assert found["total"] == 2 and [f["name"] for f in found["content"]] == ["a", "b"]
    assert "autoAssignDS" not in found["content"][0]["_links"]


def test_list_q_on_the_auto_assign_set(client):
    ds_id, _ = steps.release(client, "fw", "2.0")
    auto = _filter(client, "auto")
    _filter(client, "plain")
    _auto(client, auto["id"], {"id": ds_id})
    found = body(get(client, f"{FILTERS}?q=autoAssignDistributionSet.name==fw-DS;autoAssignDistributionSet.version==2.0"))
    assert [f["name"] for f in found["content"]] == ["auto"]


@pytest.mark.parametrize("payload, code", [
    ({"query": "name==*"}, "hawkbit.server.error.repo.constraintViolation"),
    ({"name": "x"}, "hawkbit.server.error.repo.constraintViolation"),
    ({"name": "x", "query": "name=="}, "hawkbit.server.error.rest.param.rsqlParamSyntax"),
    ({"name": "x", "query": "colour==blue"}, "hawkbit.server.error.rest.param.rsqlInvalidField"),
    ({"name": "x" * 129, "query": "name==*"}, "hawkbit.server.error.repo.constraintViolation"),
    ({"name": "x", "query": "name==" + "a" * 1024}, "hawkbit.server.error.repo.constraintViolation"),
])
def test_bad_filters_are_refused_and_nothing_is_stored(client, payload, code):
    resp = post(client, FILTERS, payload)
    assert resp.status_code == 400 and error_code(resp) == code, resp.body
    assert usage("TARGET_FILTER_QUERY") == 0 and filter_store.all_of("DEFAULT") == []


def test_bad_update_and_unknown_filters(client):
    item = _filter(client, "one")
    _filter(client, "two")
    resp = put(client, f"{FILTERS}/{item['id']}", {"query": "nope==1"})
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.param.rsqlInvalidField"
    resp = put(client, f"{FILTERS}/{item['id']}", {"name": "two"})
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert filter_store.get("DEFAULT", item["id"]).name == "one"
    for resp in (get(client, f"{FILTERS}/999"), put(client, f"{FILTERS}/999", {"name": "x"}),
                 delete(client, f"{FILTERS}/999"), get(client, f"{FILTERS}/999/autoAssignDS"),
                 post(client, f"{FILTERS}/999/autoAssignDS", {"id": 1}),
                 delete(client, f"{FILTERS}/999/autoAssignDS")):
        assert resp.status_code == 404 and error_code(resp) == "hawkbit.server.error.repo.entityNotFound", resp.body
    assert get(client, f"{FILTERS}/abc").status_code == 400


def test_duplicate_name_is_409(client):
    _filter(client, "same")
    resp = post(client, FILTERS, {"name": "same", "query": "id==*"})
    assert resp.status_code == 409 and error_code(resp) == "hawkbit.server.error.repo.entityAlreadyExists"
    assert usage("TARGET_FILTER_QUERY") == 1


def test_quota(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_QUOTA_TARGET_FILTER_QUERY", "2")
    _filter(client, "a")
    _filter(client, "b")
    resp = post(client, FILTERS, {"name": "c", "query": "name==*"})
    assert resp.status_code == 403 and error_code(resp) == "hawkbit.server.error.quota.tooManyEntries"
    assert usage("TARGET_FILTER_QUERY") == 2 and len(filter_store.all_of("DEFAULT")) == 2
    assert body(get(client, "/rest/v1/system/quota/TARGET_FILTER_QUERY"))["used"] == 2


def test_auto_assign_ds_set_read_and_removed(client):
    ds_id, _ = steps.release(client)
    item = _filter(client)
    assert get(client, f"{FILTERS}/{item['id']}/autoAssignDS").status_code == 204
    updated = _auto(client, item["id"], {"id": ds_id, "type": "soft", "weight": 300})
    assert (updated["autoAssignDistributionSet"], updated["autoAssignActionType"], updated["autoAssignWeight"]) == \
        (ds_id, "soft", 300)
    assert "confirmationRequired" not in updated  # shown only while the confirmation flow is on
    ds = body(get(client, f"{FILTERS}/{item['id']}/autoAssignDS"))
    assert ds["id"] == ds_id and ds["locked"] is True  # auto-assigning locks the set, as hawkBit does
    [copy] = filter_store.auto_assignments("DEFAULT")
    assert (copy.id, copy.ds_id, copy.action_type, copy.weight, copy.initiated_by) == \
        (item["id"], ds_id, "soft", 300, "admin")

    listed = body(get(client, FILTERS))["content"][0]
    assert listed["autoAssignDistributionSet"] == ds_id

    assert delete(client, f"{FILTERS}/{item['id']}/autoAssignDS").status_code == 204
    plain = body(get(client, f"{FILTERS}/{item['id']}"))
    assert "autoAssignDistributionSet" not in plain and "autoAssignActionType" not in plain
    assert filter_store.auto_assignments("DEFAULT") == []
    assert get(client, f"{FILTERS}/{item['id']}/autoAssignDS").status_code == 204


def test_auto_assign_defaults_and_confirmation(client):
    ds_id, _ = steps.release(client)
    item = _filter(client)
    updated = _auto(client, item["id"], {"id": ds_id})
    assert (updated["autoAssignActionType"], updated["autoAssignWeight"]) == ("forced", 1000)
    steps.enable_confirmation_flow(client)
    assert body(get(client, f"{FILTERS}/{item['id']}"))["confirmationRequired"] is False  # stored while off
    assert _auto(client, item["id"], {"id": ds_id})["confirmationRequired"] is True  # the flow's default
    assert _auto(client, item["id"], {"id": ds_id, "confirmationRequired": False})["confirmationRequired"] is False


def test_a_query_change_keeps_the_auto_assignment_copy_current(client):
    ds_id, _ = steps.release(client)
    item = _filter(client, "f", "name==a*")
    _auto(client, item["id"], {"id": ds_id})
    put(client, f"{FILTERS}/{item['id']}", {"name": "g", "query": "name==b*"})
    [copy] = filter_store.auto_assignments("DEFAULT")
    assert (copy.name, copy.query_text) == ("g", "name==b*")
    delete(client, f"{FILTERS}/{item['id']}")
    assert filter_store.auto_assignments("DEFAULT") == []


@pytest.mark.parametrize("payload, status, code", [
    ({"id": 1, "type": "timeforced"}, 400, "hawkbit.server.error.repo.invalidAutoAssignActionType"),
    ({"id": 1, "type": "sometimes"}, 400, "hawkbit.server.error.rest.body.notReadable"),
    ({"id": 1, "weight": 1001}, 400, "hawkbit.server.error.repo.constraintViolation"),
    ({"id": 1, "weight": -1}, 400, "hawkbit.server.error.repo.constraintViolation"),
    ({"type": "forced"}, 400, "hawkbit.server.error.repo.constraintViolation"),
    ({"id": "one"}, 400, "hawkbit.server.error.rest.body.notReadable"),
    ({"id": 1, "confirmationRequired": "yes"}, 400, "hawkbit.server.error.rest.body.notReadable"),
    ({"id": 999}, 404, "hawkbit.server.error.repo.entityNotFound"),
])
def test_bad_auto_assignments_are_refused(client, payload, status, code):
    item = _filter(client)
    if payload.get("id") == 1:
        payload = {**payload, "id": steps.release(client)[0]}
    resp = post(client, f"{FILTERS}/{item['id']}/autoAssignDS", payload)
    assert resp.status_code == status and error_code(resp) == code, resp.body
    assert filter_store.get("DEFAULT", item["id"]).auto_assign_ds is None
    assert filter_store.auto_assignments("DEFAULT") == []


def test_incomplete_invalid_and_deleted_sets_cannot_be_auto_assigned(client):
    item = _filter(client)
    incomplete = create_ds(client, "empty", "1", type_key="os")["id"]
    resp = post(client, f"{FILTERS}/{item['id']}/autoAssignDS", {"id": incomplete})
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.distributionset.incomplete"
    ds_id, _ = steps.release(client, "gone")
    _auto(client, item["id"], {"id": ds_id})
    other = _filter(client, "other")
    _auto(client, other["id"], {"id": ds_id})
    assert body(get(client, f"{SETS}/{ds_id}/statistics/autoassignments")) == {"totalAutoAssignments": 2}
    assert delete(client, f"{SETS}/{ds_id}").status_code == 200
    # hawkBit takes a deleted set off the filters auto-assigning it
    assert "autoAssignDistributionSet" not in body(get(client, f"{FILTERS}/{item['id']}"))
    assert filter_store.auto_assignments("DEFAULT") == []
    resp = post(client, f"{FILTERS}/{item['id']}/autoAssignDS", {"id": ds_id})
    assert resp.status_code == 404


def test_filters_of_a_set_and_their_count(client):
    ds_id, _ = steps.release(client, "one")
    other_ds, _ = steps.release(client, "two")
    for name, target_ds in (("x1", ds_id), ("x2", other_ds), ("x3", ds_id)):
        _auto(client, _filter(client, name)["id"], {"id": target_ds})
    _filter(client, "plain")
    found = body(get(client, f"{SETS}/{ds_id}/autoAssignTargetFilters"))
    assert found["total"] == 2 and [f["name"] for f in found["content"]] == ["x1", "x3"]
    found = body(get(client, f"{SETS}/{ds_id}/autoAssignTargetFilters?q=name==x3&limit=1"))
    assert [f["name"] for f in found["content"]] == ["x3"]
    assert body(get(client, f"{SETS}/{ds_id}/autoAssignTargetFilters?sort=name:DESC"))["content"][0]["name"] == "x3"
    assert body(get(client, f"{SETS}/{other_ds}/statistics/autoassignments"))["totalAutoAssignments"] == 1
    third, _ = steps.release(client, "three")
    assert body(get(client, f"{SETS}/{third}/autoAssignTargetFilters"))["total"] == 0
    assert body(get(client, f"{SETS}/{third}/statistics/autoassignments"))["totalAutoAssignments"] == 0
    for path in (f"{SETS}/999/autoAssignTargetFilters", f"{SETS}/999/statistics/autoassignments"):
        resp = get(client, path)
        assert resp.status_code == 404 and error_code(resp) == "hawkbit.server.error.repo.entityNotFound"


def test_auto_assignment_count_and_drop_for_other_services(client):
    from chalicelib.services import target_filters
    ds_id, _ = steps.release(client)
    item = _filter(client)
    _auto(client, item["id"], {"id": ds_id})
    assert target_filters.auto_assignment_count("DEFAULT", ds_id) == 1
    assert target_filters.drop_auto_assignments("DEFAULT", ds_id) == 1
    assert target_filters.drop_auto_assignments("DEFAULT", ds_id) == 0  # a retry finds none left
    assert target_filters.auto_assignment_count("DEFAULT", ds_id) == 0
    assert filter_store.get("DEFAULT", item["id"]).auto_assign_ds is None


def test_permissions(client):
    ds_id, _ = steps.release(client)
    item = _filter(client)
    reader = user_with(client, "reader", "READ_TARGET")
    target_writer = user_with(client, "writer", "READ_TARGET", "UPDATE_TARGET")
    repo_reader = user_with(client, "repo", "READ_REPOSITORY")
    assert get(client, FILTERS, reader).status_code == 200
    assert get(client, f"{FILTERS}/{item['id']}", reader).status_code == 200
    assert post(client, FILTERS, {"name": "n", "query": "name==*"}, {**reader, "Content-Type": "application/json"}
                ).status_code == 403
    assert put(client, f"{FILTERS}/{item['id']}", {"name": "n"}, {**reader, "Content-Type": "application/json"}
               ).status_code == 403
    assert delete(client, f"{FILTERS}/{item['id']}", target_writer).status_code == 403
    # setting the auto-assign set takes READ_REPOSITORY besides UPDATE_TARGET (hawkBit)
    assert post(client, f"{FILTERS}/{item['id']}/autoAssignDS", {"id": ds_id},
                {**target_writer, "Content-Type": "application/json"}).status_code == 403
    assert filter_store.get("DEFAULT", item["id"]).auto_assign_ds is None
    assert delete(client, f"{FILTERS}/{item['id']}/autoAssignDS", reader).status_code == 403
    assert get(client, f"{SETS}/{ds_id}/autoAssignTargetFilters", repo_reader).status_code == 403
    assert get(client, f"{SETS}/{ds_id}/autoAssignTargetFilters", reader).status_code == 403
    assert get(client, f"{SETS}/{ds_id}/statistics/autoassignments", repo_reader).status_code == 200
    assert get(client, f"{SETS}/{ds_id}/statistics/autoassignments", reader).status_code == 403
    assert get(client, FILTERS, repo_reader).status_code == 403
