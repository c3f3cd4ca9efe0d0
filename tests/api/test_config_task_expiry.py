"""The configuration-task retention job: every task goes 90 days (tenant key) after its creation, an open one
closed first; it reads only what is due, and a run that stops half-way is completed by the next."""
from __future__ import annotations

import json

import pytest

from tests.api.dcs_steps import (
    DCS,
    DWS,
    bearer,
    body,
    create_task,
    file_with_head,
    head_uri,
    make_device,
    patch_task,
    poll,
    release,
)
from tests.api import jobs_queue
from tests.conftest import ADMIN

DAY = 86_400_000
T0 = 1_700_000_000_000


def expire_config_tasks(now_ms=None) -> dict:
    """The job's schedule fired at `now_ms` (default now), its queued units run to the end."""
    from chalicelib import clock
    return jobs_queue.run_job(None, "config_task_expiry", 0 if now_ms is None else now_ms - clock.now_ms())


def finish(client, token, task_id, state="CONFIGURED"):
    release(client, "dev-1", task_id)
    if state == "CANCELED":
        assert patch_task(client, "dev-1", task_id, {"state": "CANCELED", "progress": 0}).status_code == 200
        return
    patch_task(client, "dev-1", task_id, {"state": "CONFIGURING", "progress": 0}, headers=bearer(token))
    final = "CONFIGURED" if state == "CONFIGURED" else "FAILED"
    resp = patch_task(client, "dev-1", task_id, {"state": final, "progress": 1}, headers=bearer(token))
    assert resp.status_code == 200


def task_ids(client):
    return {t["id"] for t in body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks?size=100",
                                                  headers=ADMIN))["content"]}


def copies(device_id="dev-1"):
    from chalicelib.store import blobs
    from chalicelib.store import config_files as store
    return sorted(k.split("/")[-3] for k in blobs.keys_under(store.copies_prefix("DEFAULT", device_id), limit=1000))


def tasks_in_every_state(client, token, files):
    """Tasks of dev-1 in every state: CONFIGURED, FAILED, CANCELED, CONFIGURING, CONFIGURE, CREATED."""
    ids = {}
    for state in ("CONFIGURED", "FAILED", "CANCELED"):
        ids[state] = create_task(client, "dev-1", files)["id"]
        finish(client, token, ids[state], state)
    ids["CONFIGURING"] = create_task(client, "dev-1", files)["id"]
    release(client, "dev-1", ids["CONFIGURING"])
    patch_task(client, "dev-1", ids["CONFIGURING"], {"state": "CONFIGURING", "progress": 0.5}, headers=bearer(token))
    ids["CONFIGURE"] = create_task(client, "dev-1", files)["id"]
    release(client, "dev-1", ids["CONFIGURE"])
    ids["CREATED"] = create_task(client, "dev-1", files)["id"]
    return ids


def test_every_task_goes_90_days_after_its_creation_whatever_its_state(client, aws_env):
    from chalicelib import clock

    # Given tasks in every state created at T0, and one created 60 days later
    clock.set_now(T0)
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/a.json", b"v1")
    files = [{"name": "a", "uri": head_uri(f["id"])}]
    old = tasks_in_every_state(client, token, files)
    open_uri = f"{DCS}/files/{f['id']}/revisions/{f['head']}/content"
    assert len(poll(client, token)["content"]) == 2  # CONFIGURE and CONFIGURING
    clock.set_now(T0 + 60 * DAY)
    recent = create_task(client, "dev-1", files)["id"]

    # Nothing is due a millisecond before 90 days
    clock.set_now(T0 + 90 * DAY - 1)
    assert expire_config_tasks() == {"deleted": 0}

    # When the job runs at 90 days
    clock.set_now(T0 + 90 * DAY)
    result = expire_config_tasks()
    # Then every old task is gone, open ones included: the device sees none of them, downloads nothing
    assert result == {"deleted": 6}
    assert task_ids(client) == {recent}
    for task_id in old.values():
        assert client.http.get(f"{DWS}/instances/{task_id}", headers=ADMIN).status_code == 404
    assert poll(client, token)["content"] == []
    assert client.http.get(open_uri, headers=bearer(token)).status_code == 404
    # only the copies the actual configuration names (and the recent task's) stay
    assert copies() == sorted([old["CONFIGURED"], recent])
    # files, revisions and the recorded actual configuration stay, content included
    assert client.http.get(f"{DCS}/files/{f['id']}/head", headers=ADMIN).body == b"v1"
    config = body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))
    assert config["content"][0]["taskId"] == old["CONFIGURED"]
    assert client.http.get(f"{DCS}/devices/dev-1/configuration/content?path=/dev-1/a.json",
                           headers=ADMIN).body == b"v1"
    # a second run finds nothing; the recent task goes 90 days after its own creation
    assert expire_config_tasks()["deleted"] == 0
    assert expire_config_tasks(now_ms=T0 + 150 * DAY)["deleted"] == 1
    assert task_ids(client) == set()


def _due_tasks_with_others(client, token, files, others):
    from chalicelib import clock
    clock.set_now(T0)
    tasks_in_every_state(client, token, files)
    clock.set_now(T0 + 30 * DAY)
    for _ in range(others):
        release(client, "dev-1", create_task(client, "dev-1", files)["id"])


def test_cost_follows_what_is_due_never_the_table(client, aws_env, dynamo_calls, monkeypatch):
    from chalicelib import clock, config

    # a warm container keeps the tenant's configuration cached (its expiry is wall-clock time: not counted here)
    monkeypatch.setenv("SKYHAWK_TENANT_CONFIG_CACHE_SECONDS", "86400")
    config.reset()
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/a.json", b"v1")
    files = [{"name": "a", "uri": head_uri(f["id"])}]
    clock.set_now(T0 + 91 * DAY)
    expire_config_tasks()  # loads the tenant's configuration into the cache
    measured = []
    for others in (0, 30):  # 30 more tasks that are not due must not make the run dearer
        _due_tasks_with_others(client, token, files, others)
        clock.set_now(T0 + 91 * DAY)
        dynamo_calls.reset()
        assert expire_config_tasks()["deleted"] == 6
        measured.append(dict(dynamo_calls.calls))
    assert measured[0] == measured[1]
    # the tenants and one page of the retention index; the six tasks, then the configured one's entries,
    # in two batch reads; each of the three open ones (CREATED, CONFIGURE, CONFIGURING) read, closed and
    # read again; one batch of deletes. No Scan.
    assert measured[0] == {"Query": 2, "BatchGetItem": 2, "GetItem": 6, "TransactWriteItems": 3, "BatchWriteItem": 1}


def test_a_run_that_stops_half_way_is_completed_by_the_next(client, aws_env, monkeypatch):
    from chalicelib import clock
    from chalicelib.store import blobs

    clock.set_now(T0)
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/a.json", b"v1")
    task = create_task(client, "dev-1", [{"name": "a", "uri": head_uri(f["id"])}])["id"]
    release(client, "dev-1", task)
    # When the run crashes after closing the open task, while releasing its copy
    clock.set_now(T0 + 91 * DAY)
    original = blobs.delete

    def crash(key):
        raise RuntimeError("the Lambda timed out")

    monkeypatch.setattr(blobs, "delete", crash)
    jobs_queue.fire("config_task_expiry")
    answer = jobs_queue.work_once(None)
    assert answer["failed"] == 1 and len(answer["batchItemFailures"]) == 1  # SQS delivers it again later
    monkeypatch.setattr(blobs, "delete", original)
    # Then the device no longer sees the task, which is closed and still there
    assert poll(client, token)["content"] == []
    got = body(client.http.get(f"{DCS}/devices/dev-1/configurationTasks/{task}", headers=ADMIN))
    assert got["currentState"]["state"] == "CANCELED" and got["currentState"]["message"].startswith("Expired")
    assert copies() == [task]
    # and the next run completes the work
    assert expire_config_tasks()["deleted"] == 1
    assert task_ids(client) == set() and copies() == []


def test_tenant_retention_override(client, aws_env):
    from chalicelib import clock

    clock.set_now(T0)
    token = make_device("dev-1")
    done = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])["id"]
    finish(client, token, done)
    resp = client.http.put("/rest/v1/system/configs/deviceconfiguration.task.retentionDays", headers=ADMIN,
                           body=json.dumps({"value": 7}))
    assert resp.status_code == 200
    assert client.http.put("/rest/v1/system/configs/deviceconfiguration.task.retentionDays", headers=ADMIN,
                           body=json.dumps({"value": 0})).status_code == 400
    assert expire_config_tasks(now_ms=T0 + 6 * DAY)["deleted"] == 0
    assert expire_config_tasks(now_ms=T0 + 8 * DAY)["deleted"] == 1


def test_schedule_is_registered_and_invocable(client, aws_env):
    from chalicelib import clock
    from chalicelib.services import workflow

    clock.set_now(T0)
    token = make_device("dev-1")
    done = create_task(client, "dev-1", [{"name": "a", "uri": "https://x.example/a"}])["id"]
    finish(client, token, done)
    clock.set_now(T0 + 100 * DAY)
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=["arn:aws:events:us-east-1:123456789012:rule/x"])
    resp = client.lambda_.invoke("config_task_expiry", event)
    assert resp.payload == {"job": "config_task_expiry", "enqueued": 1}  # one unit: the one tenant
    [unit] = jobs_queue.queued()
    assert (unit["job"], unit["tenant"], unit["now"]) == ("config_task_expiry", "DEFAULT", T0 + 100 * DAY)
    sqs_event = client.events.generate_sqs_event(message_bodies=[json.dumps(unit)])
    answer = client.lambda_.invoke("jobs_worker", sqs_event).payload  # the worker, as Lambda calls it
    assert answer["jobs"] == {"config_task_expiry": {"deleted": 1}} and answer["batchItemFailures"] == []
    assert workflow.task_retention_days("DEFAULT") == 90


def test_a_unit_stops_at_its_budget_and_a_continuation_deletes_the_rest(client, aws_env, monkeypatch):
    from chalicelib import clock, config
    from chalicelib.services import workflow

    monkeypatch.setattr(workflow, "RETENTION_BATCH", 2)
    monkeypatch.setenv("SKYHAWK_JOBS_PAGES_PER_MESSAGE", "1")
    config.reset()
    clock.set_now(T0)
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/a.json", b"v1")
    tasks_in_every_state(client, token, [{"name": "a", "uri": head_uri(f["id"])}])
    clock.set_now(T0 + 90 * DAY)

    assert jobs_queue.fire("config_task_expiry")["enqueued"] >= 1
    first = jobs_queue.work_once(None)  # one batch of 2, then the budget is spent
    assert len(task_ids(client)) == 4
    continuation = [b for b in jobs_queue.queued() if b.get("job") == "config_task_expiry"]
    assert len(continuation) == 1 and continuation[0]["part"] == 1, (first, continuation)
    assert jobs_queue.drain()["config_task_expiry"] == {"deleted": 4}
    assert task_ids(client) == set() and jobs_queue.queued() == []
