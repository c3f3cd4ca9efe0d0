"""Maintenance windows on assignments: validation, DDI update handling, polling before the window."""
import json
from datetime import datetime, timezone

from chalicelib import clock
from tests.api import steps
from tests.api.steps import ddi_path, device
from tests.conftest import ADMIN

# Every day 03:00 (UTC+01:00) for one hour: 02:00-03:00 UTC.
WINDOW = {"schedule": "0 0 3 ? * *", "duration": "01:00:00", "timezone": "+01:00"}


def _ms(*args) -> int:
    return int(datetime(*args, tzinfo=timezone.utc).timestamp() * 1000)


def _assigned(client, window=WINDOW, status=200):
    steps.enable_target_tokens(client)
    steps.create_target(client, "mw1", "tok-mw1")
    ds_id, _ = steps.release(client)
    return steps.assign(client, ds_id, "mw1", status=status, maintenanceWindow=window)


def _deployment(client):
    href = steps.poll(client, "mw1", "tok-mw1")["_links"]["deploymentBase"]["href"]
    return href, json.loads(client.http.get(ddi_path(href), headers=device("tok-mw1")).body)["deployment"]


def test_install_waits_for_the_window(client):
    clock.set_now(_ms(2026, 11, 22, 0, 0))
    action_id = _assigned(client)["assignedActions"][0]["id"]
    before_href, before = _deployment(client)
    assert (before["download"], before["update"], before["maintenanceWindow"]) == ("forced", "skip", "unavailable")
    clock.set_now(_ms(2026, 11, 22, 2, 30))
    after_href, after = _deployment(client)
    assert (after["download"], after["update"], after["maintenanceWindow"]) == ("forced", "forced", "available")
    assert before_href != after_href  # ?c= changes when the window opens
    action = steps.action(client, "mw1", action_id)
    assert action["maintenanceWindow"]["schedule"] == "0 0 3 ? * *"
    assert action["maintenanceWindow"]["nextStartAt"] == _ms(2026, 11, 22, 2, 0)


def test_poll_sleep_shrinks_before_the_window(client):
    steps.put_config(client, "pollingTime", "12:00:00")
    steps.put_config(client, "maintenanceWindowPollCount", 4)
    clock.set_now(_ms(2026, 11, 22, 0, 0))
    _assigned(client)
    # 2 h until the window, 4 polls: every 30 minutes
    assert steps.poll(client, "mw1", "tok-mw1")["config"]["polling"]["sleep"] == "00:30:00"
    clock.set_now(_ms(2026, 11, 22, 1, 59, 30))
    steps.put_config(client, "minPollingTime", "00:01:00")
    steps.put_config(client, "pollingTime", "12:00:00")
    assert steps.poll(client, "mw1", "tok-mw1")["config"]["polling"]["sleep"] == "00:01:00"  # minPollingTime


def test_invalid_or_lapsed_windows_are_400(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, "mw2", "tok")
    ds_id, _ = steps.release(client)
    url = f"/rest/v1/distributionsets/{ds_id}/assignedTargets"
    for window in ({"schedule": "0 0 3 ? * *", "duration": "01:00:00"},
                   {"schedule": "not cron", "duration": "01:00:00", "timezone": "+01:00"},
                   {"schedule": "0 0 3 ? * *", "duration": "1h", "timezone": "+01:00"},
                   {"schedule": "0 0 3 ? * *", "duration": "01:00:00", "timezone": "Europe/Berlin"},
                   {"schedule": "0 15 10 * * ? 2018", "duration": "01:00:00", "timezone": "+00:00"},
                   "03:00"):
        resp = client.http.post(url, headers=ADMIN, body=json.dumps([{"id": "mw2", "maintenanceWindow": window}]))
        assert resp.status_code == 400, window
        assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.maintenanceScheduleInvalid"
    assert client.http.get("/rest/v1/targets/mw2/assignedDS", headers=ADMIN).status_code == 204


def test_action_whose_schedule_lapsed_is_canceled_at_the_next_poll(client):
    clock.set_now(_ms(2027, 12, 30, 0, 0))
    action_id = _assigned(client, {"schedule": "0 0 3 ? * * 2027", "duration": "01:00:00",
                                   "timezone": "+00:00"})["assignedActions"][0]["id"]
    assert "deploymentBase" in steps.poll(client, "mw1", "tok-mw1")["_links"]
    clock.set_now(_ms(2028, 1, 2, 0, 0))  # the last window (2027-12-31 03:00) is over
    assert "deploymentBase" not in steps.poll(client, "mw1", "tok-mw1")["_links"]
    action = steps.action(client, "mw1", action_id)
    assert (action["status"], action["detailStatus"], action["active"]) == ("canceled", "canceled", False)
    assert steps.history(client, "mw1", action_id)[0]["messages"] == [
        "Update Server: Maintenance window lapsed: the action was canceled."]
    assert steps.target(client, "mw1")["updateStatus"] == "in_sync"
