"""Capacity-unit budgets of the device hot path and of assignment: read and write units priced from the items
the requests really touch (their sizes, the indexes they move), not only call counts. docs/capacity.md turns
these units into the cost of 10 million devices; a change that makes a request dearer fails here first.

RRU: 0.5 an eventually consistent read of up to 4 KB, 1 a consistent one. WRU: 1 per KB written, 2 in a
transaction, plus index entries moved."""
import json

from chalicelib import clock
from tests.api import steps

ATTRIBUTES = {f"attribute-{i}": f"value of a realistic length {i}" for i in range(5)}


def _registered_device(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, "cu1", "tok-cu1")
    steps.poll(client, "cu1", "tok-cu1")
    resp = client.http.put("/DEFAULT/controller/v1/cu1/configData",
                           headers={**steps.device("tok-cu1"), "Content-Type": "application/json"},
                           body=json.dumps({"mode": "merge", "data": ATTRIBUTES}))
    assert resp.status_code == 200, resp.body


def test_idle_poll_reads_half_a_unit_and_writes_last_seen_at_most_once_an_interval(client, capacity_units):
    _registered_device(client)
    start = clock.now_ms()
    clock.set_now(start + 61_000)
    due = capacity_units.measure(lambda: steps.poll(client, "cu1", "tok-cu1"))
    # one eventually consistent read of the target (< 4 KB); last-seen: the target (1 KB), its overdue entry
    # and its lastControllerRequestAt list-order entry moved (delete + put each; docs/capacity.md "Target lists")
    assert due["rru"] == 0.5 and due["wru"] <= 5 and due["index_wru"] <= 4, due
    clock.set_now(start + 61_000 + 30_000)
    idle = capacity_units.measure(lambda: steps.poll(client, "cu1", "tok-cu1"))
    assert idle == {"rru": 0.5, "wru": 0, "index_wru": 0, "calls": {"GetItem": 1}}


def test_deployment_requests_stay_within_their_units(client, capacity_units):
    _registered_device(client)
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, "cu1")["assignedActions"][0]["id"]

    poll = capacity_units.measure(lambda: steps.poll(client, "cu1", "tok-cu1"))
    assert poll["rru"] == 0.5 and poll["wru"] == 0, poll  # the open action rides on the target's summary

    base = {}
    base.update(capacity_units.measure(lambda: base.setdefault("body", steps.body_of(
        steps.ddi_get(client, "cu1", "tok-cu1", f"/deploymentBase/{action_id}")))))
    # target + action (eventually consistent), the snapshot from the container's cache; RETRIEVED noted: the
    # action (< 1 KB, no index moved) and a history entry, in one transaction, with the set's action counts
    # (RUNNING -> RETRIEVED: one small counter item)
    assert base["rru"] <= 1 and base["wru"] <= 6 and base["index_wru"] == 0, base

    href = base["body"]["deployment"]["chunks"][0]["artifacts"][0]["_links"]["download-http"]["href"]
    download = capacity_units.measure(lambda: client.http.get(steps.ddi_path(href),
                                                               headers=steps.device("tok-cu1")))
    assert download["rru"] <= 1 and download["wru"] <= 4 and download["index_wru"] == 0, download

    proceeding = capacity_units.measure(lambda: steps.feedback(client, "cu1", "tok-cu1", action_id,
                                                                 "proceeding", "none"))
    assert proceeding["rru"] <= 1 and proceeding["wru"] <= 4 and proceeding["index_wru"] == 0, proceeding

    closed = capacity_units.measure(lambda: steps.feedback(client, "cu1", "tok-cu1", action_id,
                                                             "closed", "success"))
    # and the target (installed set, status) with its assigned/installed and cleanup index entries, and its
    # updateStatus list-order entry moved; the action leaves the open-by-ds index (an invalidation's walk of the
    # set's open actions); the set's action counts move
    assert closed["rru"] <= 1 and closed["wru"] <= 13 and closed["index_wru"] <= 5, closed


def test_assigning_many_targets_costs_a_fixed_number_of_units_each(client, capacity_units):
    steps.create_target(client, "warm")
    ds_id, _ = steps.release(client)
    ids = [f"cap-{i:03d}" for i in range(100)]
    resp = client.http.post("/rest/v1/targets", headers={"Content-Type": "application/json", **steps.ADMIN},
                            body=json.dumps([{"controllerId": cid} for cid in ids]))
    assert resp.status_code == 201
    steps.assign(client, ds_id, "warm")  # the set's snapshot is written at its first assignment
    assigned = capacity_units.measure(lambda: steps.assign(client, ds_id, *ids))
    per_target = {k: assigned[k] / len(ids) for k in ("rru", "wru", "index_wru")}
    # a consistent batch read of the target, and in a transaction: the target, the new action and its first
    # history entry (2 WRU each); index entries: assigned-ds, by-tenant, open-by-ds and the updateStatus list
    # order (moved); once a transaction of 32 targets, the set's action counts and its guard (a condition check)
    assert per_target["rru"] <= 0.6 and per_target["wru"] <= 11.2 and per_target["index_wru"] <= 5.1, per_target


def test_a_rollout_costs_a_fixed_number_of_units_a_target(client, capacity_units):
    """What a rollout adds per target to a manual assignment's units: its member item at creation (1 WRU, 25 a
    request), the member's note and the group's counter in the transactions that start the group, and the
    group's counter item in the closing feedback's transaction. Printed for docs/capacity.md."""
    from tests.api import jobs_queue
    steps.enable_target_tokens(client)
    targets = [f"ro{i:03d}" for i in range(100)]
    resp = client.http.post("/rest/v1/targets", headers={**steps.ADMIN, "Content-Type": "application/json"},
                            body=json.dumps([{"controllerId": c, "securityToken": f"tok-{c}"} for c in targets]))
    assert resp.status_code == 201, resp.body
    ds_id, _ = steps.release(client)
    body = {"name": "cap", "distributionSetId": ds_id, "targetFilterQuery": "controllerId==ro*", "amountGroups": 1}

    def create() -> None:
        resp = client.http.post("/rest/v1/rollouts", headers={**steps.ADMIN, "Content-Type": "application/json"},
                                body=json.dumps(body))
        assert resp.status_code == 201, resp.body
        jobs_queue.drain()

    created = capacity_units.measure(create)
    rollout_id = json.loads(client.http.get("/rest/v1/rollouts", headers=steps.ADMIN).body)["content"][0]["id"]

    def start() -> None:
        assert client.http.post(f"/rest/v1/rollouts/{rollout_id}/start", headers=steps.ADMIN).status_code == 200
        jobs_queue.drain()

    started = capacity_units.measure(start)
    deployment = steps.poll(client, "ro000", "tok-ro000")
    action_id = int(deployment["_links"]["deploymentBase"]["href"].split("/deploymentBase/")[1].split("?")[0])
    closing = capacity_units.measure(lambda: steps.feedback(client, "ro000", "tok-ro000", action_id, "closed",
                                                            "success"))
    per_target = {name: round(m["wru"] / len(targets), 3) for name, m in (("create", created), ("start", started))}
    print(f"\nrollout of 100 targets, WRU a target: {per_target}, closing feedback {closing['wru']} WRU; calls: "
          f"create {created['calls']}, start {started['calls']}")
    assert created["calls"].get("BatchWriteItem", 0) <= 100 // 25 + 1  # the members, 25 a request
    assert per_target["create"] <= 1.3  # one small member item a target, and the rollout's own items
    assert per_target["start"] <= 14  # an assignment's ~11 WRU, the member's note (2) and the counters
    assert closing["wru"] <= 17  # the closing feedback's 13 WRU and the group's counter item (2)
