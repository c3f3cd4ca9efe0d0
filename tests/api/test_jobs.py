"""Scheduled jobs: action cleanup (action.cleanup.*) and overdue detection (pollingOverdueTime)."""
from chalicelib import clock
from chalicelib.domain.actions import INDEX_SHARDS
from tests.api import steps
from tests.api.jobs_queue import run_job
from tests.conftest import ADMIN

DAY = 86_400_000


def test_cleanup_disabled_by_default(client):
    start = clock.now_ms()
    clock.set_now(start)
    steps.closed_actions(client, 1)
    clock.set_now(start + 40 * DAY)
    assert run_job(client, "action_cleanup") == {"deleted": 0}


def test_cleanup_deletes_only_expired_actions_of_configured_statuses(client, dynamo_calls):
    start = clock.now_ms()
    clock.set_now(start)
    errored = steps.closed_actions(client, 2)
    ds_id, _ = steps.release(client, name="fin", version="9")
    steps.create_target(client, "fin", "tok-fin")
    finished = steps.assign(client, ds_id, "fin")["assignedActions"][0]["id"]
    steps.feedback(client, "fin", "tok-fin", finished, "closed", "success")
    steps.put_config(client, "action.cleanup.enabled", True)
    steps.put_config(client, "action.cleanup.actionExpiry", 10 * DAY)

    clock.set_now(start + 9 * DAY)
    assert run_job(client, "action_cleanup") == {"deleted": 0}
    clock.set_now(start + 11 * DAY)
    dynamo_calls.reset()
    assert run_job(client, "action_cleanup") == {"deleted": 2}
    # cost follows what is deleted: the tenants, a query per configured status and index shard, then per action
    # a history query, a batch delete, a read of the action's set and status, and the action with its target's
    # and its set's counts (one transaction)
    assert dynamo_calls.calls["Scan"] == 0
    assert dynamo_calls.total <= 1 + 2 + 2 * INDEX_SHARDS + 2 * 3
    for cid, action_id in errored:
        assert client.http.get(f"/rest/v1/targets/{cid}/actions/{action_id}", headers=ADMIN).status_code == 404
    assert steps.action(client, "fin", finished)["detailStatus"] == "finished"  # FINISHED is not configured
    steps.put_config(client, "action.cleanup.actionStatus", "FINISHED")
    # the installed action anchors installedBase: kept until a newer installation replaces it
    assert run_job(client, "action_cleanup") == {"deleted": 0}
    ds2, _ = steps.release(client, name="fin2", version="10")
    newer = steps.assign(client, ds2, "fin")["assignedActions"][0]["id"]
    steps.feedback(client, "fin", "tok-fin", newer, "closed", "success")
    clock.set_now(start + 30 * DAY)
    assert run_job(client, "action_cleanup") == {"deleted": 1}
    assert client.http.get(f"/rest/v1/targets/fin/actions/{finished}", headers=ADMIN).status_code == 404


def test_overdue_detection_reports_each_target_once(client, dynamo_calls):
    steps.enable_target_tokens(client)
    steps.put_config(client, "pollingTime", "00:05:00")
    steps.put_config(client, "pollingOverdueTime", "00:05:00")
    start = clock.now_ms()
    clock.set_now(start)
    for cid in ("o1", "o2", "o3"):
        steps.create_target(client, cid, f"tok-{cid}")
        steps.poll(client, cid, f"tok-{cid}")
    clock.set_now(start + 5 * 60_000)
    steps.poll(client, "o3", "tok-o3")  # o3 keeps polling
    clock.set_now(start + 10 * 60_000 + 1)
    dynamo_calls.reset()
    assert run_job(client, "overdue") == {"overdue": 2}
    assert dynamo_calls.calls["Scan"] == 0
    assert run_job(client, "overdue") == {"overdue": 0}
    assert steps.target(client, "o1")["pollStatus"]["overdue"] is True
    assert steps.target(client, "o3")["pollStatus"]["overdue"] is False
