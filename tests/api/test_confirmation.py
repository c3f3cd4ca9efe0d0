"""hawkBit's confirmation flow (user consent) through HTTP: DDI confirmationBase and the Management API.

Behaviour as in hawkBit's DdiConfirmationBaseTest, DdiRootController, JpaConfirmationManagement and
JpaDeploymentManagement (verifyAndAddConfirmationStatus), including PR #3238 (denied revokes a consent).
"""
import json

import pytest

from chalicelib.domain import confirmation as rules
from tests.api import steps
from tests.api.steps import TENANT, ddi_get, device
from tests.conftest import ADMIN

CID, TOKEN = "c1", "tok-c1"
ASSIGNED = "Assignment initiated by user 'admin'"


def _waiting(client, cid=CID, token=TOKEN, flow=True, **assignment):
    """A target with one action (waiting for confirmation while the flow is on): its id."""
    steps.enable_target_tokens(client)
    steps.enable_confirmation_flow(client, flow)
    steps.create_target(client, cid, token)
    ds_id, _ = steps.release(client)
    return steps.assign(client, ds_id, cid, **assignment)["assignedActions"][0]["id"]


def _links(client, cid=CID, token=TOKEN):
    return steps.poll(client, cid, token)["_links"]


def _error(resp):
    return json.loads(resp.body)["errorCode"]


def test_new_action_waits_and_the_poll_links_confirmation_base(client):
    action_id = _waiting(client)
    links = _links(client)
    assert "deploymentBase" not in links and "cancelAction" not in links
    assert f"/{TENANT}/controller/v1/{CID}/confirmationBase/{action_id}?c=" in links["confirmationBase"]["href"]
    action = steps.action(client, CID, action_id)
    assert (action["status"], action["active"]) == ("wait_for_confirmation", True)
    [entry] = steps.history(client, CID, action_id)
    assert entry["type"] == "wait_for_confirmation"
    assert entry["messages"] == [ASSIGNED, rules.WAITING_MESSAGE]
    assert steps.target(client, CID)["updateStatus"] == "pending"


def test_confirmation_base_of_the_waiting_action(client):
    action_id = _waiting(client)
    body = json.loads(ddi_get(client, CID, TOKEN, f"/confirmationBase/{action_id}?c=-1").body)
    assert body["id"] == str(action_id) and "actionHistory" not in body
    assert (body["confirmation"]["download"], body["confirmation"]["update"]) == ("forced", "forced")
    [chunk] = body["confirmation"]["chunks"]
    assert chunk["part"] == "os" and chunk["artifacts"][0]["filename"] == "example.file"
    history = json.loads(ddi_get(client, CID, TOKEN, f"/confirmationBase/{action_id}?actionHistory=5").body)
    # as in hawkBit's DdiConfirmationBaseAction example: newest entry first, an entry's messages in order
    assert history["actionHistory"] == {"status": "WAIT_FOR_CONFIRMATION",
                                        "messages": [ASSIGNED, rules.WAITING_MESSAGE]}
    # reading it records nothing (no RETRIEVED, unlike deploymentBase)
    assert len(steps.history(client, CID, action_id)) == 1


def test_deployment_base_and_its_feedback_are_404_while_waiting(client):
    action_id = _waiting(client)
    resp = ddi_get(client, CID, TOKEN, f"/deploymentBase/{action_id}", 404)
    assert resp.body == b""
    steps.feedback(client, CID, TOKEN, action_id, "proceeding", "none", status=404)
    assert len(steps.history(client, CID, action_id)) == 1


def test_confirmed_runs_the_action_and_the_poll_shows_deployment_base(client):
    action_id = _waiting(client)
    steps.confirm(client, CID, TOKEN, action_id, "confirmed", code=10, details=["Installing at night"])
    action = steps.action(client, CID, action_id)
    assert action["detailStatus"] == "running" and action["lastStatusCode"] == 10
    newest = steps.history(client, CID, action_id)[0]
    assert newest["type"] == "running" and newest["code"] == 10
    assert newest["messages"] == ["Installing at night", rules.CONFIRMED_MESSAGE, "Confirmation status code: 10"]
    links = _links(client)
    assert "confirmationBase" not in links and f"/deploymentBase/{action_id}?c=" in links["deploymentBase"]["href"]
    ddi_get(client, CID, TOKEN, f"/confirmationBase/{action_id}", 404)
    deployment = json.loads(ddi_get(client, CID, TOKEN, f"/deploymentBase/{action_id}?actionHistory=10").body)
    assert "Installing at night" in deployment["actionHistory"]["messages"]
    assert "Confirmation status code: 10" in deployment["actionHistory"]["messages"]
    steps.feedback(client, CID, TOKEN, action_id, "closed", "success")
    assert steps.target(client, CID)["updateStatus"] == "in_sync"


def test_denied_keeps_the_action_waiting(client):
    action_id = _waiting(client)
    steps.confirm(client, CID, TOKEN, action_id, "denied", details=["Not now"])
    assert steps.action(client, CID, action_id)["detailStatus"] == "wait_for_confirmation"
    newest = steps.history(client, CID, action_id)[0]
    assert newest["type"] == "wait_for_confirmation" and "code" not in newest
    assert newest["messages"] == ["Not now", rules.DENIED_MESSAGE]
    assert "confirmationBase" in _links(client)
    ddi_get(client, CID, TOKEN, f"/deploymentBase/{action_id}", 404)
    steps.confirm(client, CID, TOKEN, action_id, "confirmed")  # consent can come later
    assert "deploymentBase" in _links(client)


def test_denied_after_confirmation_revokes_the_consent(client):
    """hawkBit PR #3238: a confirmed, not yet installed action goes back to waiting."""
    action_id = _waiting(client)
    steps.confirm(client, CID, TOKEN, action_id, "confirmed")
    ddi_get(client, CID, TOKEN, f"/deploymentBase/{action_id}")  # RETRIEVED: still not installed
    steps.confirm(client, CID, TOKEN, action_id, "denied")
    assert steps.action(client, CID, action_id)["detailStatus"] == "wait_for_confirmation"
    assert steps.history(client, CID, action_id)[0]["messages"] == [rules.REVOKED_MESSAGE]
    assert "confirmationBase" in _links(client)
    steps.confirm(client, CID, TOKEN, action_id, "confirmed")
    assert steps.action(client, CID, action_id)["detailStatus"] == "running"


def test_confirming_what_does_not_wait_is_404_and_a_closed_action_410(client):
    action_id = _waiting(client)
    steps.confirm(client, CID, TOKEN, action_id, "confirmed")
    assert steps.confirm(client, CID, TOKEN, action_id, "confirmed", status=404).body == b""
    steps.feedback(client, CID, TOKEN, action_id, "closed", "success")
    for answer in ("confirmed", "denied"):
        assert steps.confirm(client, CID, TOKEN, action_id, answer, status=410).body == b""
    assert steps.action(client, CID, action_id)["detailStatus"] == "finished"


def test_denying_an_action_being_canceled_is_404(client):
    action_id = _waiting(client)
    resp = client.http.delete(f"/rest/v1/targets/{CID}/actions/{action_id}", headers=ADMIN)
    assert resp.status_code == 200
    assert "cancelAction" in _links(client)  # canceling wins over waiting
    steps.confirm(client, CID, TOKEN, action_id, "denied", status=404)
    assert steps.action(client, CID, action_id)["detailStatus"] == "canceling"


def test_a_rejected_cancel_of_a_waiting_action_leaves_it_running(client):
    """hawkBit: CANCEL_REJECTED sets the action RUNNING, whatever it was before."""
    action_id = _waiting(client)
    client.http.delete(f"/rest/v1/targets/{CID}/actions/{action_id}", headers=ADMIN)
    steps.feedback(client, CID, TOKEN, action_id, "rejected", "none", kind="cancelAction")
    assert steps.action(client, CID, action_id)["detailStatus"] == "running"
    assert "deploymentBase" in _links(client)


@pytest.mark.parametrize("body, field", [
    ({}, "confirmation"),
    ({"confirmation": "maybe"}, "confirmation"),
    ({"confirmation": "CONFIRMED"}, "confirmation"),
    ({"confirmation": "confirmed", "code": "ten"}, "code"),
    ({"confirmation": "confirmed", "details": "text"}, "details"),
    ({"confirmation": "confirmed", "details": [1]}, "details"),
    ([], None),
])
def test_malformed_confirmation_feedback_is_400_and_changes_nothing(client, body, field):
    action_id = _waiting(client)
    resp = client.http.post(f"/{TENANT}/controller/v1/{CID}/confirmationBase/{action_id}/feedback",
                            headers={**device(TOKEN), "Content-Type": "application/json"}, body=json.dumps(body))
    assert resp.status_code == 400 and _error(resp) == "hawkbit.server.error.rest.body.notReadable"
    if field:
        assert json.loads(resp.body)["parameters"] == [field]
    assert len(steps.history(client, CID, action_id)) == 1


def test_confirmation_of_an_unknown_or_foreign_action_is_404(client):
    action_id = _waiting(client)
    steps.create_target(client, "c2", "tok-c2")
    resp = steps.confirm(client, "c2", "tok-c2", action_id, status=404)
    assert _error(resp) == "hawkbit.server.error.repo.entityNotFound"
    assert json.loads(resp.body)["message"] == f"Not a valid action ({action_id}) for target: c2"
    steps.confirm(client, CID, TOKEN, 999999, status=404)
    ddi_get(client, "c2", "tok-c2", f"/confirmationBase/{action_id}", 404)
    assert steps.action(client, CID, action_id)["detailStatus"] == "wait_for_confirmation"


def test_confirmation_endpoints_need_device_credentials(client):
    action_id = _waiting(client)
    wrong = {"Authorization": "TargetToken nope", "Content-Type": "application/json"}
    root = f"/{TENANT}/controller/v1/{CID}/confirmationBase"
    assert client.http.get(root, headers=wrong).status_code == 401
    assert client.http.get(f"{root}/{action_id}", headers=wrong).status_code == 401
    assert client.http.post(f"{root}/{action_id}/feedback", headers=wrong,
                            body=json.dumps({"confirmation": "confirmed"})).status_code == 401
    assert client.http.post(f"{root}/activateAutoConfirm", headers=wrong).status_code == 401
    assert client.http.post(f"{root}/deactivateAutoConfirm", headers=wrong).status_code == 401
    assert steps.action(client, CID, action_id)["detailStatus"] == "wait_for_confirmation"
    assert json.loads(client.http.get(f"/rest/v1/targets/{CID}/autoConfirm", headers=ADMIN).body)["active"] is False


def test_assignment_can_waive_the_confirmation(client):
    action_id = _waiting(client, confirmationRequired=False)
    assert steps.action(client, CID, action_id)["detailStatus"] == "running"
    [entry] = steps.history(client, CID, action_id)
    assert entry["type"] == "wait_for_confirmation"  # hawkBit's first entry while the flow is on
    assert entry["messages"] == [ASSIGNED, "Assignment confirmed by initiator [admin]."]
    assert "deploymentBase" in _links(client)


def test_assignment_to_a_target_can_waive_the_confirmation(client):
    steps.enable_target_tokens(client)
    steps.enable_confirmation_flow(client)
    steps.create_target(client, CID, TOKEN)
    ds_id, _ = steps.release(client)
    resp = client.http.post(f"/rest/v1/targets/{CID}/assignedDS", headers=ADMIN,
                            body=json.dumps({"id": ds_id, "confirmationRequired": False}))
    action_id = json.loads(resp.body)["assignedActions"][0]["id"]
    assert steps.action(client, CID, action_id)["detailStatus"] == "running"


def test_confirmation_required_must_be_a_boolean(client):
    steps.enable_confirmation_flow(client)
    steps.create_target(client, CID)
    ds_id, _ = steps.release(client)
    result = steps.assign(client, ds_id, CID, status=400, confirmationRequired="no")
    assert result["errorCode"] == "hawkbit.server.error.repo.constraintViolation"
    assert steps.target(client, CID)["updateStatus"] == "unknown"


def test_with_the_flow_off_actions_run_at_once_and_nothing_waits(client):
    action_id = _waiting(client, flow=False, confirmationRequired=True)
    assert steps.action(client, CID, action_id)["detailStatus"] == "running"
    assert [e["messages"] for e in steps.history(client, CID, action_id)] == [[ASSIGNED]]
    assert "deploymentBase" in _links(client)
    ddi_get(client, CID, TOKEN, f"/confirmationBase/{action_id}", 404)
    steps.confirm(client, CID, TOKEN, action_id, "confirmed", status=404)


def test_switching_the_flow_off_leaves_waiting_actions_waiting(client):
    """hawkBit's verifyConfirmationBaseEndpointsArePresentAfterDisablingConfirmationFlow."""
    action_id = _waiting(client)
    steps.enable_confirmation_flow(client, False)
    assert "confirmationBase" in _links(client)
    ddi_get(client, CID, TOKEN, f"/confirmationBase/{action_id}")
    steps.confirm(client, CID, TOKEN, action_id, "denied")
    assert "confirmationBase" in _links(client)
    steps.confirm(client, CID, TOKEN, action_id, "confirmed")
    assert "deploymentBase" in _links(client)
    ds2, _ = steps.release(client, name="next", version="2.0")
    newer = steps.assign(client, ds2, CID)["assignedActions"][0]["id"]
    assert steps.action(client, CID, newer)["detailStatus"] == "running"


def test_a_superseded_waiting_action_is_canceled_first(client):
    old = _waiting(client)
    ds2, _ = steps.release(client, name="next", version="2.0")
    new = steps.assign(client, ds2, CID)["assignedActions"][0]["id"]
    assert steps.action(client, CID, old)["detailStatus"] == "canceling"
    assert _links(client)["cancelAction"]["href"].endswith(f"/cancelAction/{old}")
    steps.feedback(client, CID, TOKEN, old, "closed", "success", kind="cancelAction")
    assert f"/confirmationBase/{new}?c=" in _links(client)["confirmationBase"]["href"]


# --- auto-confirmation through DDI --------------------------------------------------------------------
def test_confirmation_base_shows_the_auto_confirm_state_and_the_waiting_action(client):
    action_id = _waiting(client)
    body = json.loads(ddi_get(client, CID, TOKEN, "/confirmationBase").body)
    assert body["autoConfirm"] == {"active": False}
    assert body["_links"]["activateAutoConfirm"]["href"].endswith(
        f"/{TENANT}/controller/v1/{CID}/confirmationBase/activateAutoConfirm")
    assert f"/confirmationBase/{action_id}?c=" in body["_links"]["confirmationBase"]["href"]
    assert "deactivateAutoConfirm" not in body["_links"]


def test_activating_auto_confirm_confirms_waiting_actions_and_later_ones(client):
    action_id = _waiting(client)
    resp = client.http.post(f"/{TENANT}/controller/v1/{CID}/confirmationBase/activateAutoConfirm",
                            headers={**device(TOKEN), "Content-Type": "application/json"},
                            body=json.dumps({"initiator": "owner", "remark": "always fine"}))
    assert resp.status_code == 200 and resp.body == b""
    message = "Assignment automatically confirmed by initiator ''owner'' \nRemark: always fine"
    assert steps.action(client, CID, action_id)["detailStatus"] == "running"
    newest = steps.history(client, CID, action_id)[0]
    assert (newest["type"], newest["messages"]) == ("running", [message])
    body = json.loads(ddi_get(client, CID, TOKEN, "/confirmationBase").body)
    auto = body["autoConfirm"]
    assert (auto["active"], auto["initiator"], auto["remark"]) == (True, "owner", "always fine")
    assert isinstance(auto["activatedAt"], int)
    assert set(body["_links"]) == {"deactivateAutoConfirm"}
    assert "deploymentBase" in _links(client)
    # a later assignment is confirmed at once, with hawkBit's message in its first entry
    ds2, _ = steps.release(client, name="next", version="2.0")
    newer = steps.assign(client, ds2, CID)["assignedActions"][0]["id"]
    assert steps.action(client, CID, newer)["detailStatus"] == "running"
    [entry] = steps.history(client, CID, newer)
    assert (entry["type"], entry["messages"]) == ("wait_for_confirmation", [ASSIGNED, message])


def test_activating_twice_is_409_with_hawkbits_error_code(client):
    _waiting(client)
    url = f"/{TENANT}/controller/v1/{CID}/confirmationBase/activateAutoConfirm"
    assert client.http.post(url, headers=device(TOKEN)).status_code == 200
    resp = client.http.post(url, headers={**device(TOKEN), "Content-Type": "application/json"},
                            body=json.dumps({"initiator": "x"}))
    assert resp.status_code == 409
    body = json.loads(resp.body)
    assert body["errorCode"] == "hawkbit.server.error.repo.autoConfAlreadyActive"
    assert body["message"] == f"Auto confirmation is already active for device {CID}"
    assert "initiator" not in json.loads(client.http.get(f"/rest/v1/targets/{CID}/autoConfirm", headers=ADMIN).body)


def test_activation_without_a_body_gets_hawkbits_remark(client):
    _waiting(client)
    client.http.post(f"/{TENANT}/controller/v1/{CID}/confirmationBase/activateAutoConfirm", headers=device(TOKEN))
    auto = json.loads(ddi_get(client, CID, TOKEN, "/confirmationBase").body)["autoConfirm"]
    assert auto["remark"] == rules.DDI_FALLBACK_REMARK and "initiator" not in auto


def test_activation_with_an_empty_object_has_no_remark(client):
    action_id = _waiting(client)
    client.http.post(f"/{TENANT}/controller/v1/{CID}/confirmationBase/activateAutoConfirm",
                     headers={**device(TOKEN), "Content-Type": "application/json"}, body="{}")
    auto = json.loads(ddi_get(client, CID, TOKEN, "/confirmationBase").body)["autoConfirm"]
    assert set(auto) == {"active", "activatedAt"}
    assert steps.history(client, CID, action_id)[0]["messages"] == [
        "Assignment automatically confirmed by initiator ''null'' \nRemark: n/a"]


def test_malformed_activation_is_400(client):
    _waiting(client)
    url = f"/{TENANT}/controller/v1/{CID}/confirmationBase/activateAutoConfirm"
    for body in ("[]", '{"initiator": 5}', "{not json"):
        resp = client.http.post(url, headers={**device(TOKEN), "Content-Type": "application/json"}, body=body)
        assert resp.status_code == 400 and _error(resp) == "hawkbit.server.error.rest.body.notReadable", body
    assert json.loads(ddi_get(client, CID, TOKEN, "/confirmationBase").body)["autoConfirm"] == {"active": False}


def test_deactivating_auto_confirm_makes_new_actions_wait_again(client):
    _waiting(client)
    root = f"/{TENANT}/controller/v1/{CID}/confirmationBase"
    client.http.post(f"{root}/activateAutoConfirm", headers=device(TOKEN))
    assert client.http.post(f"{root}/deactivateAutoConfirm", headers=device(TOKEN)).status_code == 200
    assert client.http.post(f"{root}/deactivateAutoConfirm", headers=device(TOKEN)).status_code == 200  # idempotent
    assert json.loads(ddi_get(client, CID, TOKEN, "/confirmationBase").body)["autoConfirm"] == {"active": False}
    ds2, _ = steps.release(client, name="next", version="2.0")
    newer = steps.assign(client, ds2, CID)["assignedActions"][0]["id"]
    assert steps.action(client, CID, newer)["detailStatus"] == "wait_for_confirmation"


def test_confirmation_base_registers_an_unknown_device_like_a_poll(client):
    steps.enable_gateway_token(client)
    resp = client.http.get(f"/{TENANT}/controller/v1/newdev/confirmationBase",
                           headers={"Authorization": "GatewayToken gw-secret"})
    assert resp.status_code == 200 and json.loads(resp.body)["autoConfirm"] == {"active": False}
    target = steps.target(client, "newdev")
    assert target["updateStatus"] == "registered" and "lastControllerRequestAt" in target
    resp = client.http.post(f"/{TENANT}/controller/v1/other/confirmationBase/activateAutoConfirm",
                            headers={"Authorization": "GatewayToken gw-secret"})
    assert resp.status_code == 404 and _error(resp) == "hawkbit.server.error.repo.entityNotFound"


# --- Management API -------------------------------------------------------------------------------------
def test_target_shows_auto_confirm_only_while_the_flow_is_on(client):
    steps.create_target(client, CID)
    target = steps.target(client, CID)
    assert "autoConfirmActive" not in target and "autoConfirm" not in target["_links"]
    steps.enable_confirmation_flow(client)
    target = steps.target(client, CID)
    assert target["autoConfirmActive"] is False
    assert target["_links"]["autoConfirm"]["href"].endswith(f"/rest/v1/targets/{CID}/autoConfirm")
    assert client.http.post(f"/rest/v1/targets/{CID}/autoConfirm/activate", headers=ADMIN).status_code == 200
    assert steps.target(client, CID)["autoConfirmActive"] is True
    listed = json.loads(client.http.get("/rest/v1/targets", headers=ADMIN).body)["content"]
    assert listed[0]["autoConfirmActive"] is True


def test_management_auto_confirm_state_activate_and_deactivate(client):
    action_id = _waiting(client)
    url = f"/rest/v1/targets/{CID}/autoConfirm"
    state = json.loads(client.http.get(url, headers=ADMIN).body)
    assert state == {"active": False, "_links": {"activate": {"href": f"http://localhost{url}/activate"}}}
    resp = client.http.post(f"{url}/activate", headers=ADMIN,
                            body=json.dumps({"initiator": "ops", "remark": "fleet policy"}))
    assert resp.status_code == 200
    state = json.loads(client.http.get(url, headers=ADMIN).body)
    assert (state["active"], state["initiator"], state["remark"]) == (True, "ops", "fleet policy")
    assert isinstance(state["activatedAt"], int)
    assert state["_links"] == {"deactivate": {"href": f"http://localhost{url}/deactivate"}}
    assert steps.action(client, CID, action_id)["detailStatus"] == "running"
    again = client.http.post(f"{url}/activate", headers=ADMIN)
    assert again.status_code == 409 and _error(again) == "hawkbit.server.error.repo.autoConfAlreadyActive"
    assert client.http.post(f"{url}/deactivate", headers=ADMIN).status_code == 200
    assert json.loads(client.http.get(url, headers=ADMIN).body)["active"] is False
    assert steps.target(client, CID)["lastModifiedBy"] == "admin"


def test_management_auto_confirm_without_a_body_has_no_initiator_nor_remark(client):
    steps.create_target(client, CID)
    assert client.http.post(f"/rest/v1/targets/{CID}/autoConfirm/activate", headers=ADMIN).status_code == 200
    assert set(json.loads(client.http.get(f"/rest/v1/targets/{CID}/autoConfirm", headers=ADMIN).body)) == {
        "active", "activatedAt", "_links"}


def test_management_auto_confirm_of_an_unknown_target_is_404(client):
    for method, path in (("get", ""), ("post", "/activate"), ("post", "/deactivate")):
        resp = getattr(client.http, method)(f"/rest/v1/targets/ghost/autoConfirm{path}", headers=ADMIN)
        assert resp.status_code == 404 and _error(resp) == "hawkbit.server.error.repo.entityNotFound", path


def test_management_auto_confirm_needs_credentials_and_a_body_object(client):
    steps.create_target(client, CID)
    assert client.http.get(f"/rest/v1/targets/{CID}/autoConfirm").status_code == 401
    assert client.http.post(f"/rest/v1/targets/{CID}/autoConfirm/activate").status_code == 401
    resp = client.http.post(f"/rest/v1/targets/{CID}/autoConfirm/activate", headers=ADMIN, body="[1]")
    assert resp.status_code == 400
    assert json.loads(client.http.get(f"/rest/v1/targets/{CID}/autoConfirm", headers=ADMIN).body)["active"] is False


def _operator_confirms(client, action_id, answer, status=200, cid=CID, **extra):
    return client.http.put(f"/rest/v1/targets/{cid}/actions/{action_id}/confirmation", headers=ADMIN,
                           body=json.dumps({"confirmation": answer, **extra}))


def test_operator_confirms_and_denies_for_the_device(client):
    action_id = _waiting(client)
    resp = _operator_confirms(client, action_id, "denied", code=3, details=["asked the owner"])
    assert resp.status_code == 200
    newest = steps.history(client, CID, action_id)[0]
    assert newest["messages"] == ["asked the owner", rules.DENIED_MESSAGE, "Confirmation status code: 3"]
    assert _operator_confirms(client, action_id, "confirmed").status_code == 200
    action = steps.action(client, CID, action_id)
    assert action["detailStatus"] == "running" and action["lastModifiedBy"] == "admin"
    assert "deploymentBase" in _links(client)
    resp = _operator_confirms(client, action_id, "confirmed")
    assert resp.status_code == 404 and resp.body == b""


def test_operator_confirmation_errors(client):
    action_id = _waiting(client)
    bad = client.http.put(f"/rest/v1/targets/{CID}/actions/{action_id}/confirmation", headers=ADMIN,
                          body=json.dumps({"confirmation": "yes"}))
    assert bad.status_code == 400 and _error(bad) == "hawkbit.server.error.rest.body.notReadable"
    missing = _operator_confirms(client, 424242, "confirmed")
    assert missing.status_code == 404 and _error(missing) == "hawkbit.server.error.repo.entityNotFound"
    steps.create_target(client, "c2")
    assert _operator_confirms(client, action_id, "confirmed", cid="c2").status_code == 404
    assert _operator_confirms(client, action_id, "confirmed", cid="ghost").status_code == 404
    unauthenticated = client.http.put(f"/rest/v1/targets/{CID}/actions/{action_id}/confirmation",
                                      body=json.dumps({"confirmation": "confirmed"}))
    assert unauthenticated.status_code == 401
    steps.confirm(client, CID, TOKEN, action_id, "confirmed")
    steps.feedback(client, CID, TOKEN, action_id, "closed", "failure")
    gone = _operator_confirms(client, action_id, "denied")
    assert gone.status_code == 410 and gone.body == b""


# --- no lost updates ------------------------------------------------------------------------------------
def test_a_stale_confirmation_is_retried_on_fresh_state(client, monkeypatch):
    """The operator confirms while the device, having read the action before, denies: the device's write
    is refused (version) and retried on what the operator wrote, so it revokes the fresh consent."""
    action_id = _waiting(client)
    from chalicelib.services import confirmation
    from chalicelib.store import actions as action_store
    real_find = action_store.find
    stale = real_find("DEFAULT", CID, action_id)
    assert _operator_confirms(client, action_id, "confirmed").status_code == 200
    reads = []

    def stale_first(tenant, controller_id, wanted):
        reads.append(wanted)
        return stale if len(reads) == 1 else real_find(tenant, controller_id, wanted)

    monkeypatch.setattr(confirmation.action_store, "find", stale_first)
    steps.confirm(client, CID, TOKEN, action_id, "denied")
    assert len(reads) == 2
    types = [e["type"] for e in steps.history(client, CID, action_id)]
    assert types == ["wait_for_confirmation", "running", "wait_for_confirmation"]
    assert steps.history(client, CID, action_id)[0]["messages"] == [rules.REVOKED_MESSAGE]
    assert "confirmationBase" in _links(client)


def test_a_stale_activation_sees_the_concurrent_one(client, monkeypatch):
    """Two activations race: the one that read the target before the other wrote is refused, re-reads, 409."""
    _waiting(client)
    from chalicelib.store import targets as target_store
    real_find = target_store.find
    stale = real_find("DEFAULT", CID)
    assert client.http.post(f"/rest/v1/targets/{CID}/autoConfirm/activate", headers=ADMIN,
                            body=json.dumps({"initiator": "first"})).status_code == 200
    reads = []

    def stale_first(tenant, controller_id):
        reads.append(controller_id)
        return stale if len(reads) == 1 else real_find(tenant, controller_id)

    monkeypatch.setattr(target_store, "find", stale_first)
    resp = client.http.post(f"/rest/v1/targets/{CID}/autoConfirm/activate", headers=ADMIN,
                            body=json.dumps({"initiator": "second"}))
    assert resp.status_code == 409 and len(reads) == 2
    state = json.loads(client.http.get(f"/rest/v1/targets/{CID}/autoConfirm", headers=ADMIN).body)
    assert state["initiator"] == "first"
