"""Target lists that stay bounded (services/target_lists.py): the indexed orders give what an in-memory sort
gives, `q=` on an indexed field reads through its index, any other filter is capped; read units per page do
not grow with the tenant (docs/capacity.md "Target lists" turns them into the 200,000-target figures)."""
import json

import pytest

from chalicelib import clock
from chalicelib.services import target_lists
from tests.api import steps
from tests.conftest import ADMIN as AUTH

ADMIN = {**AUTH, "Content-Type": "application/json"}
NAMES = ["beta", "Alpha", "alpha", "gamma", "Beta", "delta"]


def _create(client, ids, **extra):
    resp = client.http.post("/rest/v1/targets", headers=ADMIN,
                            body=json.dumps([{"controllerId": cid, **extra} for cid in ids]))
    assert resp.status_code == 201, resp.body


def _list(client, query: str) -> dict:
    resp = client.http.get(f"/rest/v1/targets?{query}", headers=ADMIN)
    assert resp.status_code == 200, resp.body
    return json.loads(resp.body)


def _fleet(client) -> int:
    """Targets with names that tie and differ in case, created at two times, some polled, some assigned."""
    steps.enable_target_tokens(client)
    start = clock.now_ms()
    ids = []
    for i in range(18):
        clock.set_now(start + (i % 3) * 1000)
        cid = f"dev-{i:02d}"
        steps.create_target(client, cid, f"tok-{cid}", name=NAMES[i % len(NAMES)])
        ids.append(cid)
    for i, cid in enumerate(ids[:9]):
        clock.set_now(start + 100_000 + (i % 4) * 70_000)
        steps.poll(client, cid, f"tok-{cid}")
    ds_id, _ = steps.release(client)
    steps.assign(client, ds_id, *ids[4:12])
    client.http.put("/rest/v1/targets/dev-17", headers=ADMIN, body=json.dumps({"name": "Zeta"}))
    return ds_id


def _expected(everything: list[dict], field: str, descending: bool) -> list[str]:
    def value(target):
        if field == "lastControllerRequestAt":
            seen = target.get("pollStatus", {}).get("lastRequestAt")
            return (0, 0) if seen is None else (1, seen)
        raw = target[field]
        return (2, raw.lower()) if isinstance(raw, str) else (1, raw)
    ordered = sorted(everything, key=lambda t: (value(t), t["controllerId"]), reverse=descending)
    return [t["controllerId"] for t in ordered]


@pytest.mark.parametrize("field", ["name", "createdAt", "lastControllerRequestAt", "updateStatus"])
def test_indexed_orders_follow_every_write_of_their_field(client, field):
    _fleet(client)
    everything = _list(client, "limit=500")["content"]
    for direction in ("ASC", "DESC"):
        expected = _expected(everything, field, direction == "DESC")
        listed = _list(client, f"sort={field}:{direction}&limit=500")
        assert [t["controllerId"] for t in listed["content"]] == expected, direction
        assert listed["total"] == 18
        page = _list(client, f"sort={field}:{direction}&offset=5&limit=4")
        assert [t["controllerId"] for t in page["content"]] == expected[5:9]
        assert page["total"] == 18


def test_a_deleted_target_leaves_every_order(client):
    _fleet(client)
    assert client.http.delete("/rest/v1/targets/dev-03", headers=ADMIN).status_code == 200
    for field in ("name", "createdAt", "lastControllerRequestAt", "updateStatus", "controllerId"):
        listed = _list(client, f"sort={field}:ASC&limit=500")
        assert "dev-03" not in [t["controllerId"] for t in listed["content"]] and listed["total"] == 17


def test_q_on_indexed_fields_gives_what_the_filter_means(client):
    ds_id = _fleet(client)
    pending = _list(client, "q=updateStatus==PENDING&limit=3&offset=2")
    assert [t["controllerId"] for t in pending["content"]] == ["dev-06", "dev-07", "dev-08"]
    assert pending["total"] == 8
    either = _list(client, "q=updateStatus=in=(registered,unknown);name==alpha&sort=name:DESC")
    assert {t["controllerId"] for t in either["content"]} == {"dev-01", "dev-02", "dev-13", "dev-14"}
    assert _list(client, "q=name==ALPHA")["total"] == 6
    assert _list(client, "q=name==alph*")["total"] == 6  # a trailing wildcard reads the order's prefix
    assigned = _list(client, f"q=assignedDS.id=={ds_id};name==beta")
    assert [t["controllerId"] for t in assigned["content"]] == ["dev-04", "dev-06", "dev-10"]  # "Beta" too


def test_rsql_over_sets_and_types_by_name(client, capacity_units):
    _fleet(client)
    resp = client.http.post("/rest/v1/targettypes", headers=ADMIN,
                            body=json.dumps([{"name": "Gateway", "key": "gw"}]))
    assert resp.status_code == 201, resp.body
    type_id = json.loads(resp.body)[0]["id"]
    client.http.put("/rest/v1/targets/dev-00", headers=ADMIN, body=json.dumps({"targetType": type_id}))
    assert [t["controllerId"] for t in _list(client, "q=targetType.key==gw")["content"]] == ["dev-00"]
    assert _list(client, "q=targetType.name==gate*")["total"] == 1
    assert _list(client, f"q=targetType.id=={type_id}")["total"] == 1
    assert _list(client, "q=assignedDS.name==myOs-DS;assignedDS.version==1.0")["total"] == 8
    assert _list(client, "q=installedDS.name==myOs-DS")["total"] == 0
    assert _list(client, "q=assignedDS.version==2.0")["total"] == 0
    capacity_units.reset()
    with capacity_units:
        assert _list(client, "q=assignedDS.name==MYOS-ds&limit=2")["total"] == 8
    # the set's assigned-ds keys and the page's 2 targets: no Query of the tenant's targets
    assert [(c.operation, c.where) for c in capacity_units.charges() if c.where.startswith("targets")] == \
        [("Query", "targets/assigned-ds"), ("BatchGetItem", "targets"), ("BatchGetItem", "targets")]


def test_a_filter_that_must_scan_stops_at_the_cap(client, monkeypatch):
    _create(client, [f"s{i:03d}" for i in range(30)])
    monkeypatch.setattr(target_lists, "SCAN_PAGE", 10)
    monkeypatch.setattr(target_lists, "SCAN_CAP", 30)
    assert _list(client, "q=description==nothing")["total"] == 0  # 30 items read: within the cap
    monkeypatch.setattr(target_lists, "SCAN_CAP", 29)
    resp = client.http.get("/rest/v1/targets?q=description==nothing", headers=ADMIN)
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.rest.param.rsqlTooBroad"
    # an indexed sort needs no scan however large the tenant
    assert _list(client, "sort=name:DESC&limit=2")["total"] == 30
    resp = client.http.get("/rest/v1/targets?sort=description:ASC", headers=ADMIN)  # no index: scanned
    assert resp.status_code == 400


def test_q_on_controller_id_ignores_case_and_reads_its_order_index(client, monkeypatch):
    _create(client, ["Gw-01", "gw-02", "GW-10", "sensor-1"])
    _create(client, ["gw-01"])  # differs from Gw-01 only by case: another target
    _create(client, [f"other-{i}" for i in range(10)])
    monkeypatch.setattr(target_lists, "SCAN_CAP", 4)  # a scan would answer 400: these must not scan
    assert [t["controllerId"] for t in _list(client, "q=controllerId==GW-01")["content"]] == ["Gw-01", "gw-01"]
    assert _list(client, "q=id=in=(gw-02,SENSOR-1)")["total"] == 2
    prefixed = _list(client, "q=controllerId==gw-*&sort=controllerId:DESC")
    assert [t["controllerId"] for t in prefixed["content"]] == ["GW-10", "gw-02", "gw-01", "Gw-01"]  # case ignored
    assert _list(client, "q=controllerId==gw-0*;name==gw-02")["total"] == 1
    assert _list(client, "q=controllerId==nobody")["total"] == 0
    resp = client.http.get("/rest/v1/targets?q=controllerId==*-1", headers=ADMIN)  # a leading wildcard scans
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.rest.param.rsqlTooBroad"


# --- read units: a page costs what it returns, not what the tenant holds --------------------------------------
PAGE_QUERIES = {
    "default page": "limit=50",
    "sorted page": "sort=lastControllerRequestAt:DESC&limit=50",
    "q on an indexed field": "q=name==special&limit=50",
    "q on a controllerId prefix": "q=controllerId==N000*&limit=50",
}


def _units(client, meter, query):
    """The read units the list charges to the targets table and its indexes (the login and the tenant's
    settings, cached per container, and the TARGET counter are the same for every list)."""
    _list(client, query)
    meter.reset()
    with meter:
        _list(client, query)
    charges = [c for c in meter.charges() if c.where.split("/")[0] == "targets"]
    return {"rru": sum(c.reads for c in charges), "calls": len(charges)}


def test_a_page_reads_the_same_units_at_any_tenant_size(client, capacity_units):
    _create(client, [f"a{i:04d}" for i in range(120)])
    _create(client, [f"n{i:04d}" for i in range(60)], name="special")
    small = {name: _units(client, capacity_units, q) for name, q in PAGE_QUERIES.items()}
    _create(client, [f"b{i:04d}" for i in range(400)])
    large = {name: _units(client, capacity_units, q) for name, q in PAGE_QUERIES.items()}
    assert large == small
    # one Query page of 50 targets of about 300 bytes
    assert large["default page"] == {"rru": 2.5, "calls": 1}
    # 16 shards of the order's keys (one Query each, 0.5 RRU), then the 50 targets (one BatchGet, 0.5 each)
    assert large["sorted page"] == {"rru": 8 + 25, "calls": 16 + 50}
    # 16 shards of the matching keys (all read: they count the total), then the page's 50 targets
    assert large["q on an indexed field"] == {"rru": 8 + 25, "calls": 16 + 50}
    # 16 shards of the keys starting so, then their 10 targets (matched, sorted and paged in memory)
    assert large["q on a controllerId prefix"] == {"rru": 8 + 5, "calls": 16 + 10}


def test_a_capped_scan_reads_at_most_the_cap(client, capacity_units, monkeypatch):
    _create(client, [f"c{i:04d}" for i in range(300)])
    monkeypatch.setattr(target_lists, "SCAN_PAGE", 50)
    monkeypatch.setattr(target_lists, "SCAN_CAP", 100)
    capacity_units.reset()
    with capacity_units:
        resp = client.http.get("/rest/v1/targets?q=description==x", headers=ADMIN)
    assert resp.status_code == 400
    used = capacity_units.totals()
    # 100 items of ~300 bytes in pages of 50, plus the page that found the 101st: 3 Query pages
    assert used["calls"]["Query"] == 3 and used["rru"] <= 3 * 2.5, used


def test_a_type_in_use_is_found_without_reading_the_tenant(client, capacity_units):
    _create(client, [f"x{i:04d}" for i in range(300)])
    resp = client.http.post("/rest/v1/targettypes", headers=ADMIN, body=json.dumps([{"name": "Gw", "key": "gw"}]))
    type_id = json.loads(resp.body)[0]["id"]
    for cid in ("x0007", "x0123"):
        client.http.put(f"/rest/v1/targets/{cid}", headers=ADMIN, body=json.dumps({"targetType": type_id}))
    capacity_units.reset()
    with capacity_units:
        resp = client.http.delete(f"/rest/v1/targettypes/{type_id}", headers=ADMIN)
    assert resp.status_code == 409
    on_targets = [c for c in capacity_units.charges() if c.where.split("/")[0] == "targets"]
    # one Query of the type's key in the by-type index, one BatchGet of the 2 targets it names
    assert sum(c.reads for c in on_targets) <= 0.5 + 2 * 0.5, on_targets
    for cid in ("x0007", "x0123"):
        assert client.http.delete(f"/rest/v1/targets/{cid}/targettype", headers=ADMIN).status_code == 200
    assert client.http.delete(f"/rest/v1/targettypes/{type_id}", headers=ADMIN).status_code == 200


def test_the_actions_list_reads_its_page_and_counts_keys(client, capacity_units, monkeypatch):
    ds_id, _ = steps.release(client)

    def units(query):
        client.http.get(f"/rest/v1/actions?{query}", headers=ADMIN)
        capacity_units.reset()
        with capacity_units:
            resp = client.http.get(f"/rest/v1/actions?{query}", headers=ADMIN)
        assert resp.status_code == 200, resp.body
        on_actions = [c for c in capacity_units.charges() if c.where.split("/")[0] == "actions"]
        return json.loads(resp.body), sum(c.reads for c in on_actions), len(on_actions)

    _create(client, [f"act{i:03d}" for i in range(60)])
    steps.assign(client, ds_id, *[f"act{i:03d}" for i in range(60)])
    small_body, small_rru, small_calls = units("limit=20&offset=5")
    _create(client, [f"act{i:03d}" for i in range(60, 360)])
    steps.assign(client, ds_id, *[f"act{i:03d}" for i in range(60, 360)])
    body, rru, calls = units("limit=20&offset=5")
    assert body["total"] == 360 and small_body["total"] == 60
    ids = [a["id"] for a in body["content"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 20
    everything = [a["id"] for a in json.loads(client.http.get("/rest/v1/actions?limit=500", headers=ADMIN).body)
                  ["content"]]
    assert ids == sorted(everything, reverse=True)[5:25]
    ascending = json.loads(client.http.get("/rest/v1/actions?sort=id:ASC&limit=3", headers=ADMIN).body)
    assert [a["id"] for a in ascending["content"]] == sorted(everything)[:3]
    # 16 shards of keys for the page and 16 counted (0.5 each while they are small), the page's 20 actions
    assert calls == small_calls and rru == small_rru == 16 * 0.5 * 2 + 20 * 0.5, (small_rru, rru)
    monkeypatch.setattr("chalicelib.domain.listing.SCAN_CAP", 100)
    resp = client.http.get("/rest/v1/actions?q=status==running", headers=ADMIN)
    assert resp.status_code == 400 and json.loads(resp.body)["errorCode"].endswith("rsqlTooBroad")
