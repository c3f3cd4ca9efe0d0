"""Auto-assignment: a filter's set reaches the targets that match it, when they register or change (events) and
through the job that walks the existing targets in pages; never twice, never to a target that had the set."""
from __future__ import annotations

import json

from chalicelib import clock
from chalicelib.store import targets as target_store
from chalicelib.store.tx import Tx
from tests.api import jobs_queue, steps
from tests.api.catalog_helpers import body, delete, get, post, put

FILTERS = "/rest/v1/targetfilters"
TARGETS = "/rest/v1/targets"
GATEWAY = {"Authorization": "GatewayToken gw-secret", "Accept": "application/hal+json"}


def _auto_filter(client, query: str, ds_id: int, name: str = "auto", run_job: bool = True, **assignment) -> dict:
    resp = post(client, FILTERS, {"name": name, "query": query})
    assert resp.status_code == 201, resp.body
    item = body(resp)
    resp = post(client, f"{FILTERS}/{item['id']}/autoAssignDS", {"id": ds_id, **assignment})
    assert resp.status_code == 200, resp.body
    if run_job:
        jobs_queue.drain()  # the unit queued for the targets that exist already
    return body(resp)


def _actions(client, controller_id: str) -> list[dict]:
    resp = get(client, f"{TARGETS}/{controller_id}/actions")
    assert resp.status_code == 200, resp.body
    return body(resp)["content"]


def _only_action(client, controller_id: str) -> dict:
    [action] = _actions(client, controller_id)
    return action


def _first_poll(client, controller_id: str) -> dict:
    resp = client.http.get(f"/DEFAULT/controller/v1/{controller_id}", headers=GATEWAY)
    assert resp.status_code == 200, resp.body
    return json.loads(resp.body)


def test_plug_and_play_registration_gets_the_set_on_its_first_poll(client):
    steps.enable_gateway_token(client)
    ds_id, _ = steps.release(client)
    _auto_filter(client, "controllerId==edge-*", ds_id, name="edge devices", type="soft", weight=500)
    polled = _first_poll(client, "edge-1")
    assert "deploymentBase" in polled["_links"]  # assigned while it registered
    action = _only_action(client, "edge-1")
    assert (action["forceType"], action["weight"], action["active"]) == ("soft", 500, True)
    assert steps.target(client, "edge-1")["updateStatus"] == "pending"
    messages = [m for entry in steps.history(client, "edge-1", action["id"]) for m in entry.get("messages", [])]
    assert "Auto assignment by target filter: edge devices" in messages
    assert "Assignment initiated by user 'admin'" in messages  # who set the filter's set (hawkBit initiatedBy)

    assert "deploymentBase" not in _first_poll(client, "core-1")["_links"]  # does not match
    assert _actions(client, "core-1") == []
    _first_poll(client, "edge-1")
    assert len(_actions(client, "edge-1")) == 1  # a later poll assigns nothing more


def test_management_create_is_evaluated(client):
    ds_id, _ = steps.release(client)
    _auto_filter(client, "name==lab-*", ds_id)
    resp = post(client, TARGETS, [{"controllerId": "lab-1"}, {"controllerId": "prod-1"}])
    assert resp.status_code == 201
    assert _only_action(client, "lab-1")["forceType"] == "forced"
    assert _actions(client, "prod-1") == []


def test_an_attribute_update_triggers_it(client):
    steps.enable_target_tokens(client)
    ds_id, _ = steps.release(client)
    steps.create_target(client, "dev-1", "tok-1")
    _auto_filter(client, "attribute.hw==v2", ds_id)

    def config_data(value: str) -> None:
        resp = client.http.put("/DEFAULT/controller/v1/dev-1/configData",
                               headers={**steps.device("tok-1"), "Content-Type": "application/json"},
                               body=json.dumps({"mode": "merge", "data": {"hw": value}}))
        assert resp.status_code == 200, resp.body

    config_data("v1")
    assert _actions(client, "dev-1") == []
    config_data("v2")
    assert _only_action(client, "dev-1")["active"] is True
    assert "deploymentBase" in steps.poll(client, "dev-1", "tok-1")["_links"]


def test_a_tag_triggers_it(client):
    ds_id, _ = steps.release(client)
    steps.create_target(client, "dev-1")
    steps.create_target(client, "dev-2")
    _auto_filter(client, "tag==beta", ds_id)
    resp = post(client, "/rest/v1/targettags", [{"name": "beta"}])
    tag_id = body(resp)[0]["id"]
    assert put(client, f"/rest/v1/targettags/{tag_id}/assigned", ["dev-1"]).status_code == 200
    assert _only_action(client, "dev-1")["active"] is True
    assert _actions(client, "dev-2") == []


def test_metadata_and_target_updates_trigger_it(client):
    ds_id, _ = steps.release(client)
    steps.create_target(client, "dev-1")
    steps.create_target(client, "dev-2")
    _auto_filter(client, "metadata.ring==canary", ds_id, name="canaries")
    _auto_filter(client, "description==kiosk", ds_id, name="kiosks")
    assert _actions(client, "dev-1") == [] and _actions(client, "dev-2") == []
    assert post(client, f"{TARGETS}/dev-1/metadata", [{"key": "ring", "value": "canary"}]).status_code == 201
    assert len(_actions(client, "dev-1")) == 1
    assert put(client, f"{TARGETS}/dev-2", {"description": "kiosk"}).status_code == 200
    assert len(_actions(client, "dev-2")) == 1


def test_incompatible_types_are_skipped_until_the_type_fits(client):
    ds_id, _ = steps.release(client)  # an `os` set
    resp = post(client, "/rest/v1/targettypes", [{"name": "sensor"}])  # lists no distribution set type
    type_id = body(resp)[0]["id"]
    steps.create_target(client, "typed", targetType=type_id)
    steps.create_target(client, "untyped")
    _auto_filter(client, "name==*", ds_id)
    assert _actions(client, "typed") == []
    assert len(_actions(client, "untyped")) == 1
    assert delete(client, f"{TARGETS}/typed/targettype").status_code == 200  # a change of type is an event
    assert len(_actions(client, "typed")) == 1


def test_targets_that_have_or_had_the_set_are_left_alone(client):
    steps.enable_target_tokens(client)
    ds_id, _ = steps.release(client)
    other_ds, _ = steps.release(client, "other")
    for cid in ("has", "had", "new"):
        steps.create_target(client, cid, f"tok-{cid}")
    steps.assign(client, ds_id, "has")
    first = steps.assign(client, ds_id, "had")["assignedActions"][0]["id"]
    steps.feedback(client, "had", "tok-had", first, "closed", "success")
    steps.assign(client, other_ds, "had")  # now assigned another set; the first is in its history
    _auto_filter(client, "name==*", ds_id)
    assert len(_actions(client, "has")) == 1
    assert len(_actions(client, "had")) == 2
    assert len(_actions(client, "new")) == 1
    assert jobs_queue.run_job(client, "auto_assignment") == {"targets": 3, "assigned": 0}


def test_the_job_walks_existing_targets_in_pages_and_assigns_each_once(client, monkeypatch):
    monkeypatch.setenv("SKYHAWK_JOBS_PAGE_SIZE", "2")
    monkeypatch.setenv("SKYHAWK_JOBS_PAGES_PER_MESSAGE", "1")
    from chalicelib import config
    config.reset()
    ds_id, _ = steps.release(client)
    ids = [f"t{i}" for i in range(7)]
    resp = post(client, TARGETS, [{"controllerId": cid, "description": "odd" if i % 2 else "even"}
                                  for i, cid in enumerate(ids)])
    assert resp.status_code == 201
    _auto_filter(client, "description==odd", ds_id, run_job=False)
    from app import app
    from chalicelib.store import job_queue
    from infra import launcher
    units = 0
    totals = {"targets": 0, "assigned": 0}
    while messages := job_queue.receive(1):
        units += 1
        answer = launcher.invoke_worker(app, messages)
        for key, value in answer["jobs"].get("auto_assignment", {}).items():
            totals[key] += value
    assert units == 4  # 7 targets, 2 a page, 1 page a unit: the queued unit and 3 continuations
    assert totals == {"targets": 7, "assigned": 3}
    assert [cid for cid in ids if _actions(client, cid)] == ["t1", "t3", "t5"]
    # the schedule's net finds nothing more to do
    assert jobs_queue.run_job(client, "auto_assignment") == {"targets": 7, "assigned": 0}
    assert all(len(_actions(client, cid)) == 1 for cid in ("t1", "t3", "t5"))


def test_redelivered_and_concurrent_evaluations_create_one_action(client):
    from chalicelib.jobs import auto_assignment as job
    from chalicelib.jobs.budget import Budget
    from chalicelib.services import auto_assignment
    ds_id, _ = steps.release(client)
    post(client, TARGETS, [{"controllerId": "a"}, {"controllerId": "b"}])
    _auto_filter(client, "name==*", ds_id, run_job=False)
    stale = list(target_store.find_many("DEFAULT", ["a", "b"]).values())  # read before any assignment
    filters = auto_assignment.fresh("DEFAULT")
    assert auto_assignment.evaluate("DEFAULT", stale, filters) == 2
    assert auto_assignment.evaluate("DEFAULT", stale, filters) == 0  # a concurrent evaluation on the same reads
    counts, more = job.work("DEFAULT", None, clock.now_ms(), None, Budget.of())
    assert (counts, more) == ({"targets": 2, "assigned": 0}, None)
    assert jobs_queue.drain()["auto_assignment"] == {"targets": 2, "assigned": 0}  # the queued unit, delivered late
    assert len(_actions(client, "a")) == 1 and len(_actions(client, "b")) == 1


def test_multi_assignment_gives_the_filters_weight(client):
    steps.put_config(client, "multi.assignments.enabled", True)
    ds_id, _ = steps.release(client)
    other, _ = steps.release(client, "other")
    steps.create_target(client, "dev-1")
    _auto_filter(client, "name==*", ds_id, name="one")
    _auto_filter(client, "name==*", other, name="two", weight=10)
    weights = sorted((a["weight"] for a in _actions(client, "dev-1")))
    assert weights == [10, 1000]  # both open at once; hawkBit's weight when none is given is 1000


def test_the_job_skips_tenants_without_auto_assigning_filters(client):
    post(client, FILTERS, {"name": "plain", "query": "name==*"})
    steps.create_target(client, "dev-1")
    assert jobs_queue.fire("auto_assignment")["enqueued"] == 0


def test_a_deleted_set_stops_its_filters(client):
    ds_id, _ = steps.release(client)
    item = _auto_filter(client, "name==*", ds_id)
    assert delete(client, f"/rest/v1/distributionsets/{ds_id}").status_code == 200
    steps.create_target(client, "late")
    assert _actions(client, "late") == []
    assert "autoAssignDistributionSet" not in body(get(client, f"{FILTERS}/{item['id']}"))


def test_a_set_that_cannot_be_assigned_does_not_fail_the_registration(client):
    from chalicelib.domain.catalog_entities import DistributionSet
    from chalicelib.store import catalog
    steps.enable_gateway_token(client)
    ds_id, _ = steps.release(client)
    _auto_filter(client, "name==*", ds_id)
    stored = catalog.get(DistributionSet, "DEFAULT", ds_id)
    catalog.update(stored, {"valid": False})  # invalidated behind the filter's back (the invalidation drops it)
    assert "deploymentBase" not in _first_poll(client, "dev-1")["_links"]
    assert steps.target(client, "dev-1")["updateStatus"] == "registered" and _actions(client, "dev-1") == []
    assert jobs_queue.run_job(client, "auto_assignment") == {"targets": 1, "assigned": 0}


def test_a_new_query_reaches_the_targets_that_exist_already(client):
    ds_id, _ = steps.release(client)
    steps.create_target(client, "b1")
    item = _auto_filter(client, "name==a*", ds_id)
    assert _actions(client, "b1") == []
    assert put(client, f"{FILTERS}/{item['id']}", {"query": "name==b*"}).status_code == 200
    assert jobs_queue.drain()["auto_assignment"] == {"targets": 1, "assigned": 1}  # the unit the change queued
    assert len(_actions(client, "b1")) == 1


def test_a_removed_auto_assignment_assigns_no_more(client):
    ds_id, _ = steps.release(client)
    item = _auto_filter(client, "name==*", ds_id)
    assert delete(client, f"{FILTERS}/{item['id']}/autoAssignDS").status_code == 204
    steps.create_target(client, "late")
    assert _actions(client, "late") == []


# --- cost -------------------------------------------------------------------------------------------------------
def test_plug_and_play_registration_units_with_and_without_filters(client, capacity_units):
    steps.enable_gateway_token(client)
    ds_id, _ = steps.release(client)
    _first_poll(client, "warm-0")  # the container's caches (tenant configuration, auto-assigning filters)
    without = capacity_units.measure(lambda: _first_poll(client, "other-1"))
    # GetItem of the unknown target, the TARGET usage (Query of its shards), one transaction (target, token
    # guard, usage shard), the last-seen write
    assert without["rru"] == 1.5 and without["calls"]["Query"] == 1, without

    _auto_filter(client, "controllerId==match-*", ds_id)
    _first_poll(client, "match-0")  # the caches filled after the filter changed; the set's snapshot written
    unmatched = capacity_units.measure(lambda: _first_poll(client, "other-2"))
    assert unmatched == without  # the filters come from the container's cache: a target they miss costs nothing
    matched = capacity_units.measure(lambda: _first_poll(client, "match-1"))
    assert len(_actions(client, "match-1")) == 1
    # plus one assignment: the set (GetItem; its snapshot from the container's cache), the target read again
    # (BatchGet, and once more for the poll's answer), an action id (UpdateItem) and one transaction (the target,
    # the action and its first history entry, with the set's action counts and its guard; the target's
    # status-order index entry moves and the action's open-by-ds index entry is written)
    assert matched["rru"] <= without["rru"] + 2.5 and matched["wru"] <= without["wru"] + 16, (matched, without)
    assert matched["calls"]["Query"] == without["calls"]["Query"], matched
    print(f"\nplug-and-play registration: without filters {without}, with a filter it misses {unmatched}, "
          f"assigned by a filter {matched}")


def test_a_cold_cache_costs_one_query_of_the_auto_assigning_filters(client, capacity_units):
    from chalicelib.services import auto_assignment
    steps.enable_gateway_token(client)
    _first_poll(client, "warm-0")
    warm = capacity_units.measure(lambda: _first_poll(client, "other-1"))
    auto_assignment.forget()
    cold = capacity_units.measure(lambda: _first_poll(client, "other-2"))
    assert cold["calls"]["Query"] == warm["calls"]["Query"] + 1 and cold["rru"] == warm["rru"] + 0.5, (cold, warm)


def test_the_safety_net_costs_a_fraction_of_a_read_unit_per_target_it_walks(client, capacity_units):
    """A unit reads the tenant's targets a page at a time (one eventually consistent Query per 100): what a run
    costs per target, and so at the TARGET quota (200,000 targets), is printed."""
    ds_id, _ = steps.release(client)
    attributes = {f"attribute-{i}": f"value of a realistic length {i}" for i in range(5)}
    resp = post(client, TARGETS, [{"controllerId": f"walk-{i:03d}", "description": "a device in the field"}
                                  for i in range(200)])
    assert resp.status_code == 201
    for i in range(0, 200, 50):  # attributes as devices report them, on some of the targets
        target = target_store.find("DEFAULT", f"walk-{i:03d}")
        Tx().update(target, {"attributes": attributes}).commit()
    _auto_filter(client, "attribute.hw==none", ds_id)  # matches none: the cost of the walk alone
    walked = capacity_units.measure(lambda: jobs_queue.run_job(client, "auto_assignment"))
    per_target = walked["rru"] / 200
    # the schedule's page of tenants, the tenant's filters (the fan-out's check and the unit's), 2 pages of targets
    assert walked["calls"] == {"Query": 5} and walked["wru"] == 0, walked
    assert per_target <= 0.1, walked
    print(f"\nauto-assignment safety net: {walked}; {per_target:.3f} RRU per target, "
          f"{per_target * 200_000:,.0f} RRU a run at 200,000 targets")
