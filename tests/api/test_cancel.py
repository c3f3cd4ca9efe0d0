"""hawkBit's cancel semantics (docs/architecture.md, "Action state machine"): CANCELING until the device closes it;
rejected keeps the update running."""
import json

from tests.api import steps
from tests.api.steps import ddi_path, device
from tests.conftest import ADMIN


def _running(client, cid="dev-c", token="tok-c"):
    steps.enable_target_tokens(client)
    steps.create_target(client, cid, token)
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, cid)["assignedActions"][0]["id"]
    return cid, token, ds_id, action_id


def _cancel(client, cid, action_id, force=False, status=200):
    resp = client.http.delete(f"/rest/v1/targets/{cid}/actions/{action_id}" + ("?force=true" if force else ""),
                              headers=ADMIN)
    assert resp.status_code == status, resp.body
    return resp


def test_accepted_cancel_closes_action_and_target_in_sync(client):
    cid, token, _, action_id = _running(client)
    _cancel(client, cid, action_id)
    assert steps.action(client, cid, action_id)["detailStatus"] == "canceling"
    base = steps.poll(client, cid, token)
    assert "deploymentBase" not in base["_links"]
    href = base["_links"]["cancelAction"]["href"]
    assert href.endswith(f"/cancelAction/{action_id}")
    resp = client.http.get(ddi_path(href), headers=device(token))
    assert json.loads(resp.body) == {"id": str(action_id), "cancelAction": {"stopId": str(action_id)}}
    resp = client.http.get(f"/DEFAULT/controller/v1/{cid}/deploymentBase/{action_id}", headers=device(token))
    assert resp.status_code == 404

    steps.feedback(client, cid, token, action_id, "closed", "success", kind="cancelAction")
    assert steps.action(client, cid, action_id)["detailStatus"] == "canceled"
    assert steps.target(client, cid)["updateStatus"] == "in_sync"
    assert "cancelAction" not in steps.poll(client, cid, token)["_links"]


def test_action_json_says_canceled_as_hawkbit_does(client):
    """Clients written against hawkBit read `status == "canceled"` (and `active`), not pending/finished."""
    cid, token, _, action_id = _running(client)
    running = steps.action(client, cid, action_id)
    assert (running["type"], running["status"], running["detailStatus"], running["active"]) == (
        "update", "running", "running", True)
    assert "canceledaction" not in running["_links"]
    _cancel(client, cid, action_id)
    canceling = steps.action(client, cid, action_id)
    assert (canceling["type"], canceling["status"], canceling["active"]) == ("cancel", "canceling", True)
    assert canceling["_links"]["canceledaction"]["href"].endswith(f"/rest/v1/targets/{cid}/actions/{action_id}")
    steps.feedback(client, cid, token, action_id, "closed", "success", kind="cancelAction")
    canceled = steps.action(client, cid, action_id)
    assert (canceled["type"], canceled["status"], canceled["detailStatus"], canceled["active"]) == (
        "cancel", "canceled", "canceled", False)
    listed = json.loads(client.http.get(f"/rest/v1/targets/{cid}/actions?q=active==false", headers=ADMIN).body)
    assert [a["id"] for a in listed["content"]] == [action_id]
    listed = json.loads(client.http.get(f"/rest/v1/targets/{cid}/actions?q=status==canceled", headers=ADMIN).body)
    assert [a["status"] for a in listed["content"]] == ["canceled"]


def test_canceled_execution_is_only_a_warning(client):
    cid, token, _, action_id = _running(client)
    _cancel(client, cid, action_id)
    steps.feedback(client, cid, token, action_id, "canceled", "success", kind="cancelAction")
    assert steps.action(client, cid, action_id)["detailStatus"] == "canceling"
    assert steps.history(client, cid, action_id)[0]["type"] == "warning"


def test_rejected_cancel_resumes_the_update(client):
    cid, token, _, action_id = _running(client)
    _cancel(client, cid, action_id)
    steps.feedback(client, cid, token, action_id, "rejected", "none", kind="cancelAction")
    assert steps.action(client, cid, action_id)["detailStatus"] == "running"
    assert steps.history(client, cid, action_id)[0]["type"] == "cancel_rejected"
    assert "deploymentBase" in steps.poll(client, cid, token)["_links"]


def test_cancel_feedback_on_non_canceling_action_is_405(client):
    cid, token, _, action_id = _running(client)
    resp = client.http.post(f"/DEFAULT/controller/v1/{cid}/cancelAction/{action_id}/feedback",
                            headers={**device(token), "Content-Type": "application/json"},
                            body=json.dumps({"status": {"execution": "closed", "result": {"finished": "success"}}}))
    assert resp.status_code == 405
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.action.notCancelable"
    assert client.http.get(f"/DEFAULT/controller/v1/{cid}/cancelAction/{action_id}",
                           headers=device(token)).status_code == 404


def test_force_quit_only_when_canceling(client):
    cid, token, _, action_id = _running(client)
    resp = _cancel(client, cid, action_id, force=True, status=405)
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.action.notForceQuitable"
    _cancel(client, cid, action_id)
    _cancel(client, cid, action_id, status=405)  # already canceling
    _cancel(client, cid, action_id, force=True)
    assert steps.action(client, cid, action_id)["detailStatus"] == "canceled"
    assert steps.target(client, cid)["updateStatus"] == "in_sync"
    steps.feedback(client, cid, token, action_id, "closed", "success", kind="cancelAction", status=405)


def test_new_assignment_cancels_previous_unless_autoclose(client):
    cid, token, _, first = _running(client)
    ds2, _ = steps.release(client, name="myOs2", version="2.0")
    second = steps.assign(client, ds2, cid)["assignedActions"][0]["id"]
    assert steps.action(client, cid, first)["detailStatus"] == "canceling"
    assert steps.poll(client, cid, token)["_links"]["cancelAction"]["href"].endswith(f"/{first}")
    steps.feedback(client, cid, token, first, "closed", "success", kind="cancelAction")
    assert steps.target(client, cid)["updateStatus"] == "pending"
    assert steps.poll(client, cid, token)["_links"]["deploymentBase"]["href"].split("?")[0].endswith(f"/{second}")

    steps.put_config(client, "repository.actions.autoclose.enabled", True)
    ds3, _ = steps.release(client, name="myOs3", version="3.0")
    third = steps.assign(client, ds3, cid)["assignedActions"][0]["id"]
    assert steps.action(client, cid, second)["detailStatus"] == "canceled"
    assert steps.poll(client, cid, token)["_links"]["deploymentBase"]["href"].split("?")[0].endswith(f"/{third}")


def test_cancel_unknown_action_is_404(client):
    cid, _, _, _ = _running(client)
    _cancel(client, cid, 424242, status=404)
    _cancel(client, "ghost", 1, status=404)
