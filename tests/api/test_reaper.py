"""The reaper and the crash-safe multi-step changes it completes (issue 6, "no orphans").

A crash is a process dying at an AWS call (tests.api.crash_sweep): nothing after that call happens. The
tests check what every reader sees meanwhile, that a retry or the next step of someone else finishes the
change, and that the reaper does, once the change is due and not before.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.services.targets import TARGETS_PER_TRANSACTION

from tests.api import crash_sweep, dcs_steps, jobs_queue, steps
from tests.conftest import ADMIN, TENANT

JSON = {**ADMIN, "Content-Type": "application/json"}
TX = "dynamodb:TransactWriteItems"
AFTER_GRACE_MS = 5 * 60 * 1000 + 1


def body(resp):
    return json.loads(resp.body)


def reaper_run(delay_ms: int = AFTER_GRACE_MS) -> dict:
    """The reaper's schedule fired `delay_ms` from now, its queued units run to the end."""
    return jobs_queue.run_job(None, "reaper", delay_ms)


def reaper_fired(delay_ms: int = AFTER_GRACE_MS) -> None:
    """Only the schedule: its units wait in the queue."""
    from chalicelib import clock
    clock.advance(delay_ms)
    try:
        jobs_queue.fire("reaper")
    finally:
        clock.advance(-delay_ms)


def work_list() -> list:
    from chalicelib.store.tables import PendingWork
    return [(w.kind, w.ref) for w in PendingWork.query(TENANT, PendingWork.key.startswith("pending#"))]


def _drift(quota: str, delta: int) -> None:
    """A counter off by `delta` (what a bug, or a transaction applied twice, would leave)."""
    from chalicelib.store import counters
    from chalicelib.store.tx import Tx
    counters.usage_update(Tx(), TENANT, quota, delta).commit()


def quota_used(client, quota: str) -> int:
    return body(client.http.get(f"/rest/v1/system/quota/{quota}", headers=ADMIN))["used"]


def _target_with_everything(client, controller_id: str = "t1", token: str = "tok-t1") -> int:
    """A target with an open action (and its history) and a configuration task; returns the action id."""
    steps.enable_target_tokens(client)
    steps.create_target(client, controller_id, token)
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, controller_id)["assignedActions"][0]["id"]
    steps.feedback(client, controller_id, token, action_id, "proceeding", "none")
    dcs_steps.create_task(client, controller_id, [])
    return action_id


def _crash_delete_after_tombstone(client, controller_id: str = "t1") -> None:
    crash_sweep.crash_after(lambda: client.http.delete(f"/rest/v1/targets/{controller_id}", headers=ADMIN), TX)


def _leftovers(controller_id: str, action_id: int) -> tuple:
    from chalicelib.store.tables import Action, ActionStatusEntry, Target
    from chalicelib.store.workflow_tables import WorkflowInstance
    return (sum(1 for _ in Target.query(TENANT, Target.controller_id == controller_id)),
            sum(1 for _ in Action.query(f"{TENANT}#{controller_id}")),
            sum(1 for _ in ActionStatusEntry.query(f"{TENANT}#{action_id}")),
            sum(1 for _ in WorkflowInstance.by_device.query(f"{TENANT}#{controller_id}")))


# --- target delete --------------------------------------------------------------------------------
def test_a_target_whose_deletion_crashed_is_gone_for_every_reader(client):
    action_id = _target_with_everything(client)
    assert quota_used(client, "TARGET") == 1
    _crash_delete_after_tombstone(client)
    assert _leftovers("t1", action_id)[1:] == (1, 2, 1)  # the tombstoned target still owns all of it

    assert client.http.get("/rest/v1/targets/t1", headers=ADMIN).status_code == 404
    assert body(client.http.get("/rest/v1/targets", headers=ADMIN)) == {"content": [], "total": 0, "size": 0}
    assert quota_used(client, "TARGET") == 0
    assert client.http.get("/rest/v1/targets/t1/actions", headers=ADMIN).status_code == 404
    steps.poll(client, "t1", "tok-t1", status=401)
    ds_id, _ = steps.release(client, name="other", version="2")
    assert steps.assign(client, ds_id, "t1")["assigned"] == 0
    resp = client.http.post(f"{dcs_steps.DCS}/devices/t1/configurationTasks", headers=JSON,
                            body=json.dumps({"files": []}))
    assert resp.status_code == 404

    # a retry of the request finishes it
    assert client.http.delete("/rest/v1/targets/t1", headers=ADMIN).status_code == 200
    assert _leftovers("t1", action_id) == (0, 0, 0, 0)
    assert client.http.delete("/rest/v1/targets/t1", headers=ADMIN).status_code == 404
    assert work_list() == []


def test_recreating_a_target_finishes_its_crashed_deletion_first(client):
    action_id = _target_with_everything(client)
    _crash_delete_after_tombstone(client)
    steps.create_target(client, "t1", "tok-t1")  # same id, same token
    assert _leftovers("t1", action_id) == (1, 0, 0, 0)
    assert body(client.http.get("/rest/v1/targets/t1/actions", headers=ADMIN))["total"] == 0
    assert steps.target(client, "t1")["updateStatus"] == "unknown"
    tasks = client.http.get(f"{dcs_steps.DCS}/devices/t1/configurationTasks", headers=ADMIN)
    assert body(tasks)["content"] == []
    assert "deploymentBase" not in steps.poll(client, "t1", "tok-t1")["_links"]
    assert quota_used(client, "TARGET") == 1
    assert work_list() == []
    assert reaper_run()["repaired"] == 0


def test_a_slow_deletion_leaves_a_new_target_of_the_same_id_alone(client):
    """A DELETE request still busy while a create of the same id finished its deletion and a new target got a
    configuration task: the slow request must not take that task (the device's data is keyed by id alone)."""
    from chalicelib.services import targets
    from chalicelib.store import targets as target_store
    _target_with_everything(client)
    _crash_delete_after_tombstone(client)
    slow = target_store.find_any(TENANT, "t1")  # the tombstone the slow request read
    steps.create_target(client, "t1", "tok-2")
    task = dcs_steps.create_task(client, "t1", [])
    targets._purge(slow)  # the slow request goes on
    listed = body(client.http.get(f"{dcs_steps.DCS}/devices/t1/configurationTasks", headers=ADMIN))["content"]
    assert [t["id"] for t in listed] == [task["id"]]
    assert steps.target(client, "t1")["controllerId"] == "t1"


def test_a_plug_and_play_poll_finishes_a_crashed_deletion_first(client):
    action_id = _target_with_everything(client)
    steps.enable_gateway_token(client, "gw")
    _crash_delete_after_tombstone(client)
    resp = client.http.get(f"/{TENANT}/controller/v1/t1", headers={"Authorization": "GatewayToken gw"})
    assert resp.status_code == 200 and "deploymentBase" not in body(resp).get("_links", {})
    assert _leftovers("t1", action_id) == (1, 0, 0, 0)
    assert steps.target(client, "t1")["updateStatus"] == "registered"


def test_the_reaper_finishes_a_crashed_deletion_once_due_and_recounts_the_targets(client):
    action_id = _target_with_everything(client)
    _crash_delete_after_tombstone(client)
    assert reaper_run(delay_ms=0) == {"repaired": 0, "failed": 0}  # not due yet
    assert _leftovers("t1", action_id)[0] == 1
    _drift("TARGET", 5)
    assert reaper_run()["repaired"] == 1
    assert _leftovers("t1", action_id) == (0, 0, 0, 0)
    # the repaired deletion marked the TARGET counter: the next run counts the targets (none) and fixes it
    assert work_list() == [("recount", "TARGET")]
    assert quota_used(client, "TARGET") == 5
    assert reaper_run()["repaired"] == 1
    assert quota_used(client, "TARGET") == 0 and work_list() == []


def test_a_deletion_interrupted_in_its_actions_goes_on_where_it_stopped(client, monkeypatch):
    from chalicelib.services import targets
    monkeypatch.setattr(targets, "PURGE_CHUNK", 2)
    steps.create_target(client, "many")
    ds_ids = [steps.release(client, name=f"n{i}", version="1")[0] for i in range(5)]
    for ds_id in ds_ids:
        steps.assign(client, ds_id, "many")
    # dies after the first two actions were deleted and the progress noted (UpdateItem on the work item)
    crash_sweep.crash_after(lambda: client.http.delete("/rest/v1/targets/many", headers=ADMIN),
                            "dynamodb:UpdateItem")
    from chalicelib.store.tables import Action
    assert sum(1 for _ in Action.query(f"{TENANT}#many")) == 3
    with crash_sweep.aws_calls() as retry:
        assert client.http.delete("/rest/v1/targets/many", headers=ADMIN).status_code == 200
    assert sum(1 for _ in Action.query(f"{TENANT}#many")) == 0
    # the retry went on with the 3 actions left: history Queries for those, not for all 5
    assert retry.calls.count("dynamodb:Query") == 3 + 2  # + the device's instances and configuration


def test_the_reaper_goes_on_with_a_long_deletion_at_its_next_run(client, monkeypatch):
    from chalicelib.services import targets
    from chalicelib.store.tables import Action
    monkeypatch.setattr(targets, "PURGE_CHUNK", 2)
    steps.create_target(client, "many")
    for i in range(5):
        steps.assign(client, steps.release(client, name=f"n{i}", version="1")[0], "many")
    _crash_delete_after_tombstone(client, "many")
    reaper_fired()
    # the unit takes the deletion, and runs low after its first chunk: it goes on in a continuation
    answer = jobs_queue.work_once(jobs_queue.LowOnTime(30_000, 30_000))
    assert answer["jobs"] == {"reaper": {"repaired": 0, "failed": 0}} and answer["batchItemFailures"] == []
    assert sum(1 for _ in Action.query(f"{TENANT}#many")) == 3
    [continuation] = jobs_queue.queued()
    assert (continuation["job"], continuation["part"]) == ("reaper", 1)
    assert jobs_queue.drain() == {"reaper": {"repaired": 1, "failed": 0}}
    assert _leftovers("many", 0)[:2] == (0, 0)


# --- software modules and artifacts ---------------------------------------------------------------
def _objects(sm_id: int) -> list[str]:
    return crash_sweep.object_keys(f"artifacts/{TENANT}/{sm_id}/")


def test_a_module_purge_that_crashed_is_finished_by_a_retry_or_the_reaper(client):
    sm_id = steps.create_module(client, "mod", "1")
    steps.upload_artifact(client, sm_id, "a.bin", b"a" * 100)
    steps.upload_artifact(client, sm_id, "b.bin", b"b" * 50)
    assert quota_used(client, "ARTIFACT_STORAGE") == 150
    # dies after the module was marked deleted and the first artifact's bytes went
    crash_sweep.crash_after(lambda: client.http.delete(f"/rest/v1/softwaremodules/{sm_id}", headers=ADMIN),
                            "s3:DeleteObject")
    shown = body(client.http.get(f"/rest/v1/softwaremodules/{sm_id}", headers=ADMIN))
    assert shown["deleted"] is True
    assert body(client.http.get("/rest/v1/softwaremodules", headers=ADMIN))["total"] == 0
    assert quota_used(client, "SOFTWARE_MODULE") == 0
    steps.create_module(client, "mod", "1")  # its name is free again
    assert len(_objects(sm_id)) == 1 and quota_used(client, "ARTIFACT_STORAGE") == 150

    assert reaper_run()["repaired"] == 1
    assert client.http.get(f"/rest/v1/softwaremodules/{sm_id}", headers=ADMIN).status_code == 404
    assert _objects(sm_id) == [] and quota_used(client, "ARTIFACT_STORAGE") == 0
    assert client.http.delete(f"/rest/v1/softwaremodules/{sm_id}", headers=ADMIN).status_code == 404


def test_a_crashed_artifact_delete_leaves_bytes_the_reaper_deletes(client):
    sm_id = steps.create_module(client, "mod", "1")
    artifact = steps.upload_artifact(client, sm_id, "a.bin", b"a" * 100)
    path = f"/rest/v1/softwaremodules/{sm_id}/artifacts/{artifact['id']}"
    crash_sweep.crash_after(lambda: client.http.delete(path, headers=ADMIN), TX)
    assert client.http.get(path, headers=ADMIN).status_code == 404
    assert quota_used(client, "ARTIFACT_STORAGE") == 0 and len(_objects(sm_id)) == 1
    reaper_run()
    assert _objects(sm_id) == [] and work_list() == []


def test_bytes_without_an_artifact_are_deleted_and_an_artifacts_bytes_kept(client):
    from chalicelib import clock
    from chalicelib.store import pending
    sm_id = steps.create_module(client, "mod", "1")
    payload, content_type = steps.multipart({}, "a.bin", b"a" * 100)
    crash_sweep.crash_after(lambda: client.http.post(f"/rest/v1/softwaremodules/{sm_id}/artifacts",
                                                     headers={**ADMIN, "Content-Type": content_type},
                                                     body=payload), "s3:PutObject")
    assert body(client.http.get(f"/rest/v1/softwaremodules/{sm_id}/artifacts", headers=ADMIN)) == []
    assert len(_objects(sm_id)) == 1
    kept = steps.upload_artifact(client, sm_id, "kept.bin", b"k")
    kept_key = _objects(sm_id)[-1]
    # a work item naming bytes whose artifact exists (its transaction committed, its answer was lost)
    pending.put(pending.new(TENANT, "s3-object", kept_key, clock.now_ms()))
    reaper_run()
    assert _objects(sm_id) == [kept_key] and work_list() == []
    assert body(client.http.get(f"/rest/v1/softwaremodules/{sm_id}/artifacts/{kept['id']}", headers=ADMIN))


def test_an_abandoned_direct_upload_is_deleted_once_its_url_has_expired(client):
    from chalicelib import config
    from chalicelib.store import aws
    sm_id = steps.create_module(client, "mod", "1")
    resp = client.http.post(f"/rest/v1/softwaremodules/{sm_id}/uploads", headers=JSON,
                            body=json.dumps({"filename": "big.bin"}))
    assert resp.status_code in (200, 201), resp.body
    upload_id = body(resp)["uploadId"]
    staged = f"uploads/{TENANT}/{sm_id}/{upload_id}/big.bin"
    aws.s3().put_object(Bucket=config.settings().bucket, Key=staged, Body=b"x" * 10)  # the client's PUT
    reaper_run(delay_ms=50 * 60 * 1000)  # the URL (1 h) is still valid: the upload may still complete
    assert crash_sweep.object_keys("uploads/") == [staged]
    reaper_run(delay_ms=66 * 60 * 1000)
    assert crash_sweep.object_keys("uploads/") == [] and work_list() == []


# --- bulk creates -----------------------------------------------------------------------------------
def _bulk(count: int, prefix: str = "bulk-") -> str:
    return json.dumps([{"controllerId": f"{prefix}{i:03d}"} for i in range(count)])


def test_a_bulk_create_that_crashed_half_way_is_taken_back_by_the_reaper(client):
    crash_sweep.crash_after(lambda: client.http.post("/rest/v1/targets", headers=JSON, body=_bulk(150)), TX)
    assert body(client.http.get("/rest/v1/targets", headers=ADMIN))["total"] == TARGETS_PER_TRANSACTION  # the first
    # meanwhile one of them is deleted and created again by someone else: that target is not the request's
    assert client.http.delete("/rest/v1/targets/bulk-000", headers=ADMIN).status_code == 200
    steps.create_target(client, "bulk-000")
    assert reaper_run(delay_ms=0)["repaired"] == 0  # within the grace period the request might still run
    assert reaper_run()["repaired"] == 2  # the create's journal: its header, its first step's record
    listed = body(client.http.get("/rest/v1/targets", headers=ADMIN))
    assert [t["controllerId"] for t in listed["content"]] == ["bulk-000"] and listed["total"] == 1
    reaper_run()  # the recount the rollback asked for
    assert quota_used(client, "TARGET") == 1 and work_list() == []
    assert client.http.post("/rest/v1/targets", headers=JSON, body=_bulk(150, "again-")).status_code == 201


def test_a_bulk_create_whose_undo_fails_is_taken_back_by_the_reaper(client, monkeypatch):
    """The second transaction is refused (a concurrent create took a controllerId), then AWS fails while
    undoing the first: the journal is left for the reaper."""
    from chalicelib.store import targets as target_store
    steps.create_target(client, "bulk-060")
    real = target_store.find_many_any
    monkeypatch.setattr(target_store, "find_many_any",  # the concurrent create happened after this check
                        lambda tenant, ids: {k: v for k, v in real(tenant, ids).items() if k != "bulk-060"})
    crash_sweep.crash_after(lambda: client.http.post("/rest/v1/targets", headers=JSON, body=_bulk(150)), TX, 2)
    monkeypatch.undo()
    assert body(client.http.get("/rest/v1/targets", headers=ADMIN))["total"] == TARGETS_PER_TRANSACTION + 1
    reaper_run()
    listed = body(client.http.get("/rest/v1/targets", headers=ADMIN))
    assert [t["controllerId"] for t in listed["content"]] == ["bulk-060"]
    reaper_run()
    assert quota_used(client, "TARGET") == 1 and work_list() == []


def test_a_bulk_create_whose_undo_meets_an_aws_failure_answers_its_own_error(client, monkeypatch):
    """As above, but AWS fails (an error the code sees, not a dead process): the request still answers the
    409 that made it fail, and leaves the journal to the reaper."""
    from chalicelib.store import targets as target_store
    steps.create_target(client, "bulk-060")
    real = target_store.find_many_any
    monkeypatch.setattr(target_store, "find_many_any",
                        lambda tenant, ids: {k: v for k, v in real(tenant, ids).items() if k != "bulk-060"})
    with crash_sweep.aws_calls(fail_after=(TX, 2), error=crash_sweep.aws_error):
        resp = client.http.post("/rest/v1/targets", headers=JSON, body=_bulk(150))
    monkeypatch.undo()
    assert resp.status_code == 409 and body(resp)["errorCode"] == "hawkbit.server.error.repo.entityAlreadyExists"
    assert body(client.http.get("/rest/v1/targets", headers=ADMIN))["total"] == TARGETS_PER_TRANSACTION + 1
    assert [kind for kind, _ in work_list()] == ["create", "create-part"]
    reaper_run()
    assert [t["controllerId"] for t in body(client.http.get("/rest/v1/targets", headers=ADMIN))["content"]] == [
        "bulk-060"]


def test_a_completed_bulk_create_leaves_no_journal(client, dynamo_calls):
    assert client.http.post("/rest/v1/targets", headers=JSON, body=_bulk(150)).status_code == 201
    assert work_list() == []
    resp = client.http.post("/rest/v1/softwaremodules", headers=JSON, body=json.dumps(
        [{"name": f"m{i}", "version": "1", "type": "os"} for i in range(70)]))
    assert resp.status_code == 201 and work_list() == []


def test_journal_records_without_their_header_are_dropped(client):
    """A create that committed its last step (deleting the header) and died before its housekeeping."""
    last = -(-150 // TARGETS_PER_TRANSACTION)  # the create's last transaction
    crash_sweep.crash_after(lambda: client.http.post("/rest/v1/targets", headers=JSON, body=_bulk(150)), TX, last)
    assert [kind for kind, _ in work_list()] == ["create-part"] * (last - 1)
    reaper_run()
    assert work_list() == [] and body(client.http.get("/rest/v1/targets", headers=ADMIN))["total"] == 150


# --- counters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("quota", ["SOFTWARE_MODULE", "ARTIFACT_STORAGE", "DISTRIBUTION_SET", "TARGET",
                                   "SOFTWARE_MODULE_TYPE", "DISTRIBUTION_SET_TYPE"])
def test_a_marked_counter_is_recounted_from_its_items(client, quota):
    from chalicelib import clock
    from chalicelib.services import usage_recount
    ds_id, sm_id = steps.release(client)
    steps.create_target(client, "c1")
    sm2 = steps.create_module(client, "gone", "1")
    steps.upload_artifact(client, sm2, "x.bin", b"x" * 7)
    assert client.http.delete(f"/rest/v1/softwaremodules/{sm2}", headers=ADMIN).status_code == 200
    right = quota_used(client, quota)
    _drift(quota, 3)
    usage_recount.mark(TENANT, [quota], clock.now_ms())
    assert reaper_run(delay_ms=0)["repaired"] == 1
    assert quota_used(client, quota) == right and work_list() == []


def test_a_recount_is_tried_again_when_the_counter_moved_while_counting(client, monkeypatch):
    from chalicelib import clock
    from chalicelib.services import usage_recount
    from chalicelib.store import targets as target_store
    from chalicelib.store import usage_counts
    steps.create_target(client, "c1")
    _drift("TARGET", 3)
    usage_recount.mark(TENANT, ["TARGET"], clock.now_ms())
    real = usage_counts.count

    def counting_while_a_target_is_created(tenant, quota, after=None):
        weights = list(real(tenant, quota, after))
        steps.create_target(client, "c2")  # moves the counter between reading it and writing the count
        return weights

    monkeypatch.setattr(usage_counts, "count", counting_while_a_target_is_created)
    reaper_run(delay_ms=0)
    monkeypatch.undo()
    assert quota_used(client, "TARGET") == 5 and work_list() == [("recount", "TARGET")]
    reaper_run(delay_ms=0)
    assert quota_used(client, "TARGET") == 2 == len(list(target_store.query_all(TENANT))) and work_list() == []


def test_a_recount_that_runs_out_of_time_goes_on_at_the_next_run(client, monkeypatch):
    from chalicelib import clock
    from chalicelib.jobs import budget
    from chalicelib.services import usage_recount
    from chalicelib.store import usage_counts
    monkeypatch.setattr(usage_counts, "PAGE", 2)
    client.http.post("/rest/v1/targets", headers=JSON, body=_bulk(5))
    _drift("TARGET", 10)
    usage_recount.mark(TENANT, ["TARGET"], clock.now_ms())
    from chalicelib.store import pending
    reaper_fired(delay_ms=0)
    # the unit starts the recount, and runs low after two targets
    assert jobs_queue.work_once(jobs_queue.LowOnTime(30_000, 30_000, 30_000))["jobs"] == {
        "reaper": {"repaired": 0, "failed": 0}}
    detail = next(iter(pending.due(TENANT, clock.now_ms()))).detail
    assert detail["total"] == 2 and detail["after"]
    assert quota_used(client, "TARGET") == 15
    assert [m["part"] for m in jobs_queue.queued()] == [1]  # the continuation
    jobs_queue.drain()
    assert quota_used(client, "TARGET") == 5 and work_list() == []
    assert budget.RESERVE_MS > 1_000


# --- the job ----------------------------------------------------------------------------------------
def test_a_run_reads_only_what_is_due(client, dynamo_calls):
    sm_id = steps.create_module(client, "mod", "1")
    client.http.post(f"/rest/v1/softwaremodules/{sm_id}/uploads", headers=JSON,
                     body=json.dumps({"filename": "big.bin"}))  # due in an hour
    dynamo_calls.reset()
    assert reaper_run() == {"repaired": 0, "failed": 0}
    assert dynamo_calls.calls == {"Query": 2}  # the tenant registry, the tenant's due work
    assert len(work_list()) == 1


def test_a_run_stops_taking_work_when_its_time_runs_low(client):
    action_id = _target_with_everything(client)
    _crash_delete_after_tombstone(client)
    reaper_fired()
    answer = jobs_queue.work_once(jobs_queue.LowOnTime(5_000, then=5_000))
    assert answer["jobs"] == {"reaper": {"repaired": 0, "failed": 0}}
    assert _leftovers("t1", action_id)[0] == 1
    [continuation] = jobs_queue.queued()  # from where it stopped: before the first item
    assert jobs_queue.drain() == {"reaper": {"repaired": 1, "failed": 0}}


def test_the_reaper_is_a_scheduled_job_the_launcher_fires(client):
    from app import app
    from infra import launcher
    assert launcher.fire_schedules(app)["reaper"] == {"job": "reaper", "enqueued": 1}  # one tenant
    assert launcher.run_schedules(app)["reaper"] == {"repaired": 0, "failed": 0}
