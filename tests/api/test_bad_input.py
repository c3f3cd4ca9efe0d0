"""Inputs that were 500s (fuzzing, field trials) answer 400/403 in the documented error shape, nothing written."""
import json

import pytest

from tests.api import steps
from tests.api.catalog_helpers import SM, body, bucket_keys, create_sm, error_code, get, post, upload
from tests.conftest import ADMIN

JSON = {**ADMIN, "Content-Type": "application/json"}
LONE_SURROGATE = '"x\\ud800"'  # as a client's JSON text carries it


def test_a_lone_surrogate_in_a_management_body_is_400_and_nothing_is_written(client):
    raw = '[{"controllerId": "dev1", "name": ' + LONE_SURROGATE + '}]'
    resp = client.http.post("/rest/v1/targets", headers=JSON, body=raw)
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.body.notReadable"
    assert client.http.get("/rest/v1/targets/dev1", headers=ADMIN).status_code == 404
    sm = create_sm(client)
    resp = client.http.post(f"{SM}/{sm['id']}/metadata", headers=JSON,
                            body='[{"key": "k", "value": ' + LONE_SURROGATE + '}]')
    assert resp.status_code == 400 and body(get(client, f"{SM}/{sm['id']}/metadata"))["total"] == 0
    resp = client.http.put("/rest/v1/system/configs/authentication.gatewaytoken.key", headers=JSON,
                           body='{"value": ' + LONE_SURROGATE + '}')
    assert resp.status_code == 400
    # a surrogate *pair* is a real character (an emoji) and is fine
    resp = client.http.post("/rest/v1/targets", headers=JSON,
                            body='[{"controllerId": "dev2", "name": "\\ud83d\\ude00"}]')
    assert resp.status_code == 201 and json.loads(resp.body)[0]["name"] == "\U0001F600"


def test_a_lone_surrogate_in_device_feedback_is_400_and_the_action_is_unchanged(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev1", "tok1")
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, "dev1")["assignedActions"][0]["id"]
    before = steps.history(client, "dev1", action_id)
    raw = ('{"status": {"execution": "proceeding", "result": {"finished": "none"}, "details": ['
           + LONE_SURROGATE + ']}}')
    resp = client.http.post(f"/DEFAULT/controller/v1/dev1/deploymentBase/{action_id}/feedback",
                            headers={**steps.device("tok1"), "Content-Type": "application/json"}, body=raw)
    assert resp.status_code == 400
    assert steps.history(client, "dev1", action_id) == before


def test_feedback_messages_are_counted_as_stored_after_splitting(client, monkeypatch):
    from chalicelib.domain import quotas
    monkeypatch.setattr(quotas, "MAX_MESSAGES_PER_ACTION_STATUS", 3)
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev1", "tok1")
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, "dev1")["assignedActions"][0]["id"]
    # one detail of 2,000 characters is four stored messages of at most 512
    steps.feedback(client, "dev1", "tok1", action_id, "proceeding", "none", details=["x" * 2000], status=403)
    steps.feedback(client, "dev1", "tok1", action_id, "proceeding", "none", details=["x" * 1536])
    assert [len(m) for m in steps.history(client, "dev1", action_id)[0]["messages"]] == [512, 512, 512]


@pytest.mark.parametrize("filename", [5, True, ["a"], {"a": 1}])
def test_an_upload_session_filename_that_is_not_text_is_400(client, filename):
    sm = create_sm(client)
    resp = post(client, f"{SM}/{sm['id']}/uploads", {"filename": filename})
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.rest.body.notReadable"


@pytest.mark.parametrize("filename", [".", ".."])
def test_dot_artifact_names_no_url_could_name_are_400(client, filename):
    sm = create_sm(client)
    assert post(client, f"{SM}/{sm['id']}/uploads", {"filename": filename}).status_code == 400
    resp = upload(client, sm["id"], b"bytes", filename=filename)
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.repo.constraintViolation"
    assert bucket_keys() == []


def test_tenant_config_values_are_bounded_as_in_hawkbit(client):
    key = "/rest/v1/system/configs/authentication.gatewaytoken.key"
    resp = client.http.put(key, headers=JSON, body=json.dumps({"value": "k" * 513}))
    assert resp.status_code == 400 and error_code(resp) == "hawkbit.server.error.configValueInvalid"
    assert client.http.put(key, headers=JSON, body=json.dumps({"value": "k" * 512})).status_code == 200
    resp = client.http.put("/rest/v1/system/configs", headers=JSON,
                           body=json.dumps({"action.cleanup.actionExpiry": 10 ** 30, "pollingTime": "00:10:00"}))
    assert resp.status_code == 400
    got = json.loads(client.http.get("/rest/v1/system/configs/pollingTime", headers=ADMIN).body)
    assert got["value"] == "12:00:00"  # all or nothing
