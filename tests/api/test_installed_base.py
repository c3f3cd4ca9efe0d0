"""PUT installedBase (hawkBit's EXPERIMENTAL setAssignedOfflineVersion): the device reports the set it runs.

hawkBit (DdiRootController, JpaControllerManagement.updateOfflineAssignedVersion, OfflineDsAssignmentStrategy):
the set is found by name and version (404 otherwise), assigned offline as the device (a FINISHED action,
the target IN_SYNC); 201 when that created an action, 200 when the target has the set assigned already or
an update pending (offline assignments leave such targets alone).
"""
import json

import pytest

from tests.api import steps
from tests.api.steps import TENANT, device
from tests.conftest import ADMIN

CID, TOKEN = "dev1", "tok-dev1"
URL = f"/{TENANT}/controller/v1/{CID}/installedBase"


def _device(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, CID, TOKEN)
    steps.poll(client, CID, TOKEN)


def _report(client, body, token=TOKEN, content_type="application/json"):
    return client.http.put(URL, headers={**device(token), "Content-Type": content_type},
                           body=body if isinstance(body, (str, bytes)) else json.dumps(body))


def _actions(client):
    return json.loads(client.http.get(f"/rest/v1/targets/{CID}/actions", headers=ADMIN).body)["content"]


def test_a_reported_set_becomes_installed_with_a_finished_action(client):
    _device(client)
    ds_id, _ = steps.release(client, name="linux", version="1.2.3")
    resp = _report(client, {"name": "linux-DS", "version": "1.2.3"})
    assert resp.status_code == 201 and resp.body == b""
    target = steps.target(client, CID)
    assert target["updateStatus"] == "in_sync" and isinstance(target["installedAt"], int)
    for kind in ("assignedDS", "installedDS"):
        assert json.loads(client.http.get(f"/rest/v1/targets/{CID}/{kind}", headers=ADMIN).body)["id"] == ds_id
    [action] = _actions(client)
    assert (action["status"], action["active"], action["createdBy"]) == ("finished", False, CID)
    [entry] = steps.history(client, CID, action["id"])
    assert entry["type"] == "finished"
    assert entry["messages"] == [f"Assignment initiated by user '{CID}'",
                                 "Update Server: Action reported as offline deployment"]
    links = steps.poll(client, CID, TOKEN)["_links"]
    assert links["installedBase"]["href"].endswith(f"/installedBase/{action['id']}")
    assert "deploymentBase" not in links
    installed = client.http.get(f"{URL}/{action['id']}", headers=device(TOKEN))
    assert installed.status_code == 200 and json.loads(installed.body)["id"] == str(action["id"])
    assert json.loads(client.http.get(f"/rest/v1/distributionsets/{ds_id}", headers=ADMIN).body)["locked"] is True


def test_reporting_the_assigned_set_again_is_200_and_changes_nothing(client):
    _device(client)
    steps.release(client, name="linux", version="1.0")
    assert _report(client, {"name": "linux-DS", "version": "1.0"}).status_code == 201
    assert _report(client, {"name": "linux-DS", "version": "1.0"}).status_code == 200
    assert len(_actions(client)) == 1


def test_a_newer_report_replaces_the_installed_set(client):
    _device(client)
    steps.release(client, name="linux", version="1.0")
    newer, _ = steps.release(client, name="linux", version="2.0")
    assert _report(client, {"name": "linux-DS", "version": "1.0"}).status_code == 201
    assert _report(client, {"name": "linux-DS", "version": "2.0"}).status_code == 201
    assert json.loads(client.http.get(f"/rest/v1/targets/{CID}/installedDS", headers=ADMIN).body)["id"] == newer
    assert len(_actions(client)) == 2


def test_a_target_with_a_pending_update_is_left_alone(client):
    _device(client)
    online, _ = steps.release(client, name="online", version="1.0")
    steps.release(client, name="linux", version="1.0")
    action_id = steps.assign(client, online, CID)["assignedActions"][0]["id"]
    assert _report(client, {"name": "linux-DS", "version": "1.0"}).status_code == 200
    assert [a["id"] for a in _actions(client)] == [action_id]
    assert steps.target(client, CID)["updateStatus"] == "pending"


def test_management_offline_assignment_also_skips_a_pending_target(client):
    _device(client)
    online, _ = steps.release(client, name="online", version="1.0")
    other, _ = steps.release(client, name="other", version="1.0")
    steps.assign(client, online, CID)
    resp = client.http.post(f"/rest/v1/distributionsets/{other}/assignedTargets?offline=true", headers=ADMIN,
                            body=json.dumps([{"id": CID}]))
    assert (json.loads(resp.body)["assigned"], json.loads(resp.body)["alreadyAssigned"]) == (0, 1)
    assert steps.target(client, CID)["updateStatus"] == "pending"


def test_an_unknown_set_is_404_and_nothing_is_written(client):
    _device(client)
    steps.release(client, name="linux", version="1.0")
    for body in ({"name": "linux-DS", "version": "9.9"}, {"name": "LINUX-DS", "version": "1.0"}):
        resp = _report(client, body)
        assert resp.status_code == 404
        assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.repo.entityNotFound"
    assert _actions(client) == [] and steps.target(client, CID)["updateStatus"] == "registered"


def test_a_deleted_set_is_404(client):
    _device(client)
    ds_id, _ = steps.release(client, name="linux", version="1.0")
    assert client.http.delete(f"/rest/v1/distributionsets/{ds_id}", headers=ADMIN).status_code == 200
    assert _report(client, {"name": "linux-DS", "version": "1.0"}).status_code == 404


def test_an_incomplete_set_is_400(client):
    _device(client)
    steps.create_ds(client, [], name="empty", version="1.0")
    resp = _report(client, {"name": "empty", "version": "1.0"})
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.distributionset.incomplete"
    assert _actions(client) == []


@pytest.mark.parametrize("body", ['{"name": "linux-DS"}', '{"version": "1.0"}', '{"name": 1, "version": "1.0"}',
                                  '["linux-DS", "1.0"]', "{", ""])
def test_malformed_reports_are_400(client, body):
    _device(client)
    steps.release(client, name="linux", version="1.0")
    resp = _report(client, body)
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.rest.body.notReadable"
    assert _actions(client) == []


def test_reports_need_device_credentials_and_a_known_target(client):
    _device(client)
    steps.release(client, name="linux", version="1.0")
    assert _report(client, {"name": "linux-DS", "version": "1.0"}, token="wrong").status_code == 401
    steps.enable_gateway_token(client)
    resp = client.http.put(f"/{TENANT}/controller/v1/ghost/installedBase",
                           headers={"Authorization": "GatewayToken gw-secret", "Content-Type": "application/json"},
                           body=json.dumps({"name": "linux-DS", "version": "1.0"}))
    assert resp.status_code == 404
    assert _actions(client) == []


def test_an_unsupported_content_type_is_415(client):
    _device(client)
    steps.release(client, name="linux", version="1.0")
    resp = _report(client, "name=linux-DS&version=1.0", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415
    assert _actions(client) == []
