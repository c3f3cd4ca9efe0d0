"""The configuration-task retention job: deletes only final tasks past the retention, reading only what is due."""
from __future__ import annotations

import json

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
    release,
)
from tests.conftest import ADMIN

DAY = 86_400_000
T0 = 1_700_000_000_000


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


def test_expiry_removes_only_final_tasks_older_than_90_days(client, aws_env, dynamo_calls):
    from chalicelib import clock
    from chalicelib.jobs.config_task_expiry import expire_config_tasks

    clock.set_now(T0)
    token = make_device("dev-1")
    f = file_with_head(client, "/dev-1/a.json", b"v1")
    files = [{"name": "a", "uri": head_uri(f["id"])}]
    old_done = create_task(client, "dev-1", files)["id"]
    finish(client, token, old_done)
    old_failed = create_task(client, "dev-1", files)["id"]
    finish(client, token, old_failed, "FAILED")
    old_open = create_task(client, "dev-1", files)["id"]
    release(client, "dev-1", old_open)
    old_created = create_task(client, "dev-1", files)["id"]
    clock.advance(60 * DAY)
    recent_canceled = create_task(client, "dev-1", files)["id"]
    finish(client, token, recent_canceled, "CANCELED")

    # Nothing is due at 89 days
    clock.set_now(T0 + 89 * DAY)
    assert expire_config_tasks() == {"deleted": 0, "tenants": {}}

    # When the job runs 91 days after the first tasks closed
    clock.set_now(T0 + 91 * DAY)
    dynamo_calls.reset()
    result = expire_config_tasks()
    # Then only the two old final tasks are gone; open, created and recent ones stay
    assert result == {"deleted": 2, "tenants": {"DEFAULT": 2}}
    assert dynamo_calls.calls["Scan"] == 0 and dynamo_calls.calls["BatchWriteItem"] == 1
    assert task_ids(client) == {old_open, old_created, recent_canceled}
    assert client.http.get(f"{DWS}/instances/{old_done}", headers=ADMIN).status_code == 404
    # files, revisions and the recorded actual configuration stay
    assert client.http.get(f"{DCS}/files/{f['id']}/head", headers={**ADMIN, "Accept": "*/*"}).body == b"v1"
    config = body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))
    assert config["content"][0]["taskId"] == old_done
    # a second run finds nothing
    assert expire_config_tasks()["deleted"] == 0

    # And at 60 + 91 days the canceled one goes too (explicit time argument)
    assert expire_config_tasks(now_ms=T0 + 151 * DAY)["deleted"] == 1
    assert task_ids(client) == {old_open, old_created}


def test_tenant_retention_override(client, aws_env):
    from chalicelib import clock
    from chalicelib.jobs.config_task_expiry import expire_config_tasks

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
    assert resp.payload == {"deleted": 1, "tenants": {"DEFAULT": 1}}
    assert workflow.task_retention_days("DEFAULT") == 90
