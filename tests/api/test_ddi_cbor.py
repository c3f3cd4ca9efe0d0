"""DDI in CBOR (application/cbor) both ways, and hawkBit's content negotiation (hal+json, json, cbor; else 406).

Every DDI body hawkBit produces is asked for in CBOR and compared with its JSON twin; every body it
consumes is sent in CBOR and its effect checked. The chalice test client carries the bytes as API Gateway
does for a binary type (base64), so this also proves app.py lists application/cbor among them.
"""
import json

import cbor2
import pytest

from tests.api import steps
from tests.api.steps import TENANT, device
from tests.conftest import ADMIN

CID, TOKEN = "cb1", "tok-cb1"
ROOT = f"/{TENANT}/controller/v1/{CID}"
CBOR = {"Accept": "application/cbor"}


def _device(client, flow=False):
    steps.enable_target_tokens(client)
    steps.enable_confirmation_flow(client, flow)
    steps.create_target(client, CID, TOKEN)
    ds_id, sm_id = steps.release(client)
    return ds_id, sm_id


def _get(client, path, **hdrs):
    return client.http.get(f"{ROOT}{path}", headers={**device(TOKEN), **hdrs})


def _both(client, path):
    """The same resource as JSON and as CBOR: (json value, cbor value)."""
    as_json = _get(client, path)
    as_cbor = _get(client, path, **CBOR)
    assert as_json.status_code == as_cbor.status_code == 200, (as_json.body, as_cbor.body)
    assert as_cbor.headers["Content-Type"] == "application/cbor"
    return json.loads(as_json.body), cbor2.loads(as_cbor.body)


def _send(client, method, path, value, status=200):
    resp = getattr(client.http, method)(f"{ROOT}{path}", body=cbor2.dumps(value),
                                        headers={**device(TOKEN), "Content-Type": "application/cbor"})
    assert resp.status_code == status, resp.body
    return resp


def test_poll_in_cbor_equals_the_json_poll_and_has_an_etag(client):
    ds_id, _ = _device(client)
    steps.assign(client, ds_id, CID)
    as_json, as_cbor = _both(client, "")
    assert as_cbor == as_json and "deploymentBase" in as_cbor["_links"]
    first = _get(client, "", **CBOR)
    tag = first.headers["ETag"]
    again = _get(client, "", **{**CBOR, "If-None-Match": tag})
    assert again.status_code == 304 and again.body == b""


def test_deployment_artifacts_and_cancel_in_cbor(client):
    ds_id, sm_id = _device(client)
    action_id = steps.assign(client, ds_id, CID)["assignedActions"][0]["id"]
    as_json, as_cbor = _both(client, f"/deploymentBase/{action_id}")
    assert as_cbor == as_json and as_cbor["id"] == str(action_id)
    as_json, as_cbor = _both(client, f"/softwaremodules/{sm_id}/artifacts")
    assert as_cbor == as_json and as_cbor[0]["filename"] == "example.file"
    client.http.delete(f"/rest/v1/targets/{CID}/actions/{action_id}", headers=ADMIN)
    as_json, as_cbor = _both(client, f"/cancelAction/{action_id}")
    assert as_cbor == as_json == {"id": str(action_id), "cancelAction": {"stopId": str(action_id)}}


def test_confirmation_resources_in_cbor(client):
    ds_id, _ = _device(client, flow=True)
    action_id = steps.assign(client, ds_id, CID)["assignedActions"][0]["id"]
    as_json, as_cbor = _both(client, "/confirmationBase")
    assert as_cbor == as_json and as_cbor["autoConfirm"] == {"active": False}
    as_json, as_cbor = _both(client, f"/confirmationBase/{action_id}?actionHistory=2")
    assert as_cbor == as_json and as_cbor["actionHistory"]["status"] == "WAIT_FOR_CONFIRMATION"


def test_cbor_request_bodies_take_effect(client):
    ds_id, _ = _device(client, flow=True)
    action_id = steps.assign(client, ds_id, CID)["assignedActions"][0]["id"]
    _send(client, "post", f"/confirmationBase/{action_id}/feedback",
          {"confirmation": "confirmed", "code": 7, "details": ["from CBOR"]})
    assert steps.history(client, CID, action_id)[0]["messages"][0] == "from CBOR"
    _send(client, "put", "/configData", {"mode": "merge", "data": {"hwRevision": "2"}})
    attributes = json.loads(client.http.get(f"/rest/v1/targets/{CID}/attributes", headers=ADMIN).body)
    assert attributes == {"hwRevision": "2"}
    _send(client, "post", f"/deploymentBase/{action_id}/feedback",
          {"id": action_id, "status": {"execution": "closed", "result": {"finished": "success"}}})
    assert steps.target(client, CID)["updateStatus"] == "in_sync"
    _send(client, "post", "/confirmationBase/activateAutoConfirm", {"initiator": "cbor", "remark": "r"})
    assert json.loads(client.http.get(f"/rest/v1/targets/{CID}/autoConfirm", headers=ADMIN).body)[
        "initiator"] == "cbor"
    other, _ = steps.release(client, name="other", version="2.0")
    _send(client, "put", "/installedBase", {"name": "other-DS", "version": "2.0"}, status=201)
    assert json.loads(client.http.get(f"/rest/v1/targets/{CID}/installedDS", headers=ADMIN).body)["id"] == other


def test_cancel_feedback_in_cbor(client):
    ds_id, _ = _device(client)
    action_id = steps.assign(client, ds_id, CID)["assignedActions"][0]["id"]
    client.http.delete(f"/rest/v1/targets/{CID}/actions/{action_id}", headers=ADMIN)
    _send(client, "post", f"/cancelAction/{action_id}/feedback",
          {"status": {"execution": "closed", "result": {"finished": "success"}}})
    assert steps.action(client, CID, action_id)["detailStatus"] == "canceled"


@pytest.mark.parametrize("raw", [
    b"\xa1\x66status",                   # truncated map
    cbor2.dumps({"status": {}}) + b"\x00",  # data after the item
    cbor2.dumps(["a list"]),             # not a map
    b"\xff",                             # a break code alone
    b"",                                 # nothing
])
def test_malformed_cbor_is_400_and_nothing_changes(client, raw):
    ds_id, _ = _device(client)
    action_id = steps.assign(client, ds_id, CID)["assignedActions"][0]["id"]
    resp = client.http.post(f"{ROOT}/deploymentBase/{action_id}/feedback", body=raw,
                            headers={**device(TOKEN), "Content-Type": "application/cbor"})
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.rest.body.notReadable"
    assert len(steps.history(client, CID, action_id)) == 1


def test_errors_come_in_cbor_when_cbor_is_asked_for(client):
    _device(client)
    resp = _get(client, "/deploymentBase/424242", **CBOR)
    assert resp.status_code == 404 and resp.headers["Content-Type"] == "application/cbor"
    assert cbor2.loads(resp.body)["errorCode"] == "hawkbit.server.error.repo.entityNotFound"
    bare = _get(client, "/confirmationBase/424242", **CBOR)  # hawkBit's bare 404 stays bare
    assert bare.status_code == 404


@pytest.mark.parametrize("accept, expected", [
    (None, "application/hal+json"),
    ("*/*", "application/hal+json"),
    ("application/*", "application/hal+json"),
    ("application/json", "application/json"),
    ("application/json;charset=UTF-8", "application/json"),
    ("application/hal+json", "application/hal+json"),
    ("text/html, application/cbor;q=0.5", "application/cbor"),
    ("application/cbor;q=0, application/json;q=0.1", "application/json"),
    ("application/cbor;q=0.4, application/json;q=0.9", "application/json"),
])
def test_the_representation_follows_the_accept_header(client, accept, expected):
    _device(client)
    hdrs = {"Authorization": f"TargetToken {TOKEN}"} | ({"Accept": accept} if accept else {})
    resp = client.http.get(ROOT, headers=hdrs)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == expected


@pytest.mark.parametrize("path", ["", "/confirmationBase", "/deploymentBase/1", "/installedBase/1",
                                  "/cancelAction/1", "/confirmationBase/1", "/softwaremodules/1/artifacts"])
def test_an_unacceptable_accept_is_a_bare_406_before_any_effect(client, path):
    _device(client)
    resp = _get(client, path, Accept="text/plain")
    assert resp.status_code == 406 and resp.body == b""
    assert steps.target(client, CID)["updateStatus"] == "unknown"  # the poll did not register the device
    assert client.http.get(f"{ROOT}{path}", headers={"Authorization": "TargetToken wrong",
                                                     "Accept": "text/plain"}).status_code == 401


def test_accept_does_not_matter_where_nothing_is_returned(client):
    ds_id, _ = _device(client)
    action_id = steps.assign(client, ds_id, CID)["assignedActions"][0]["id"]
    resp = client.http.post(f"{ROOT}/deploymentBase/{action_id}/feedback",
                            headers={**device(TOKEN), "Accept": "text/plain", "Content-Type": "application/json"},
                            body=json.dumps({"status": {"execution": "proceeding", "result": {"finished": "none"}}}))
    assert resp.status_code == 200


def test_an_unsupported_request_type_is_415(client):
    ds_id, _ = _device(client)
    action_id = steps.assign(client, ds_id, CID)["assignedActions"][0]["id"]
    resp = client.http.post(f"{ROOT}/deploymentBase/{action_id}/feedback", body="status=closed",
                            headers={**device(TOKEN), "Content-Type": "text/plain"})
    assert resp.status_code == 415
    assert len(steps.history(client, CID, action_id)) == 1
