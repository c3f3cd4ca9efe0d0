"""Idempotency-Key on the POSTs that create: a retry gets the first answer and creates nothing; a reused key
with another body is 422, a retry while the first runs is 409; errors are not remembered; records expire."""
import datetime
import json
import time

import pytest

from tests.api import steps
from tests.conftest import ADMIN, basic

JSON = {**ADMIN, "Content-Type": "application/json"}


def post(client, path, body, key=None, headers=None):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.http.post(path, headers={**(headers or JSON), **extra}, body=json.dumps(body))


def actions_of(client, controller_id):
    return json.loads(client.http.get(f"/rest/v1/targets/{controller_id}/actions", headers=ADMIN).body)["total"]


def records():
    from chalicelib.store.idempotency import IdempotencyRecord
    return list(IdempotencyRecord.scan())


@pytest.fixture
def released(client):
    steps.create_target(client, "dev1")
    steps.create_target(client, "dev2")
    ds_id, _ = steps.release(client)
    return ds_id


def test_a_retried_assignment_returns_the_first_answer_and_creates_no_second_action(client, released):
    path = f"/rest/v1/distributionsets/{released}/assignedTargets"
    body = [{"id": "dev1", "type": "forced"}, {"id": "dev2", "type": "soft"}]
    first = post(client, path, body, key="assign-1")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    assert json.loads(first.body)["assigned"] == 2
    retry = post(client, path, body, key="assign-1")
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert json.loads(retry.body) == json.loads(first.body)
    assert retry.headers["Content-Type"] == first.headers["Content-Type"]
    assert actions_of(client, "dev1") == 1 and actions_of(client, "dev2") == 1
    # without a key the same request runs again (and finds the set assigned already)
    again = post(client, path, body)
    assert json.loads(again.body)["alreadyAssigned"] == 2
    assert len(records()) == 1


def test_a_retried_target_assignment_and_target_creation_are_replayed(client, released):
    first = post(client, "/rest/v1/targets/dev1/assignedDS", {"id": released}, key="ds-1")
    retry = post(client, "/rest/v1/targets/dev1/assignedDS", {"id": released}, key="ds-1")
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.body == first.body
    assert actions_of(client, "dev1") == 1

    created = post(client, "/rest/v1/targets", [{"controllerId": "new-1", "name": "n"}], key="create-1")
    assert created.status_code == 201
    client.http.delete("/rest/v1/targets/new-1", headers=ADMIN)
    replayed = post(client, "/rest/v1/targets", [{"controllerId": "new-1", "name": "n"}], key="create-1")
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert json.loads(replayed.body)[0]["securityToken"] == json.loads(created.body)[0]["securityToken"]
    assert replayed.headers["Cache-Control"] == "no-store"  # a replayed token is no more cacheable than the first
    assert client.http.get("/rest/v1/targets/new-1", headers=ADMIN).status_code == 404  # not created again


def test_the_same_key_with_another_body_or_query_is_422(client, released):
    path = f"/rest/v1/distributionsets/{released}/assignedTargets"
    assert post(client, path, [{"id": "dev1"}], key="k").status_code == 200
    resp = post(client, path, [{"id": "dev2"}], key="k")
    assert resp.status_code == 422
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.idempotencyKeyReused"
    assert post(client, path + "?offline=true", [{"id": "dev1"}], key="k").status_code == 422
    assert actions_of(client, "dev2") == 0


def test_a_key_belongs_to_its_login_and_path(client, released):
    from chalicelib import auth
    from chalicelib.services import tenants

    tenants.ensure_tenant("OTHER", admin_password="other-pw")
    tenants.create_user("DEFAULT", "ops", "ops-pw", list(auth.PERMISSIONS))
    path = f"/rest/v1/distributionsets/{released}/assignedTargets"
    assert json.loads(post(client, path, [{"id": "dev1"}], key="shared").body)["assigned"] == 1
    # another user of the tenant with the same key and body: their own request
    ops = {**basic("ops", "ops-pw"), "Content-Type": "application/json"}
    resp = post(client, path, [{"id": "dev1"}], key="shared", headers=ops)
    assert "Idempotent-Replayed" not in resp.headers and json.loads(resp.body)["alreadyAssigned"] == 1
    # another tenant's login with the same key and body: its own request (the set is not theirs: 404)
    other = {**basic("admin", "other-pw", tenant="OTHER"), "Content-Type": "application/json"}
    assert post(client, path, [{"id": "dev1"}], key="shared", headers=other).status_code == 404
    # another path with the same key: its own request
    resp = post(client, "/rest/v1/targets/dev2/assignedDS", {"id": released}, key="shared")
    assert resp.status_code == 200 and "Idempotent-Replayed" not in resp.headers
    assert actions_of(client, "dev2") == 1


def test_an_error_is_not_remembered_and_the_retry_runs_again(client):
    steps.create_target(client, "taken")
    assert post(client, "/rest/v1/targets", [{"controllerId": "taken"}], key="c-1").status_code == 409
    client.http.delete("/rest/v1/targets/taken", headers=ADMIN)
    resp = post(client, "/rest/v1/targets", [{"controllerId": "taken"}], key="c-1")
    assert resp.status_code == 201 and "Idempotent-Replayed" not in resp.headers


def test_a_retry_while_the_first_is_running_is_409(client, released, monkeypatch):
    from chalicelib.services import deployment

    path = f"/rest/v1/distributionsets/{released}/assignedTargets"
    assign, during = deployment.assign, []

    def slow_assign(*args, **kwargs):
        during.append(post(client, path, [{"id": "dev1"}], key="busy"))  # the client retries meanwhile
        return assign(*args, **kwargs)
    monkeypatch.setattr(deployment, "assign", slow_assign)
    assert post(client, path, [{"id": "dev1"}], key="busy").status_code == 200
    [duplicate] = during
    assert duplicate.status_code == 409 and int(duplicate.headers["Retry-After"]) > 0
    assert json.loads(duplicate.body)["errorCode"] == "hawkbit.server.error.idempotentRequestInProgress"
    assert actions_of(client, "dev1") == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\there", "é"])
def test_a_malformed_key_is_400(client, released, key):
    resp = post(client, f"/rest/v1/distributionsets/{released}/assignedTargets", [{"id": "dev1"}], key=key)
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.idempotencyKeyInvalid"
    assert actions_of(client, "dev1") == 0


def test_without_a_valid_login_the_key_changes_nothing(client, released):
    path = f"/rest/v1/distributionsets/{released}/assignedTargets"
    resp = post(client, path, [{"id": "dev1"}], key="k", headers={"Content-Type": "application/json"})
    assert resp.status_code == 401 and "WWW-Authenticate" in resp.headers
    wrong = {**basic("admin", "wrong"), "Content-Type": "application/json"}
    assert post(client, path, [{"id": "dev1"}], key="k", headers=wrong).status_code == 401
    assert records() == []


def test_records_expire(client, released, monkeypatch):
    """Stored with the configured lifetime (TTL attribute `expiration`); past it the key is new again."""
    from chalicelib import config
    from chalicelib.store import aws
    from chalicelib.store.idempotency import IdempotencyRecord

    monkeypatch.setenv("SKYHAWK_IDEMPOTENCY_EXPIRY_SECONDS", "120")
    config.reset()
    assert post(client, "/rest/v1/targets", [{"controllerId": "t-1"}], key="exp").status_code == 201
    [record] = records()
    remaining = record.expiration.timestamp() - time.time()
    assert 0 < remaining <= 120
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=IdempotencyRecord.Meta.table_name)
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    # expired (DynamoDB deletes it some time later): the key counts as new
    client.http.delete("/rest/v1/targets/t-1", headers=ADMIN)
    record.update(actions=[IdempotencyRecord.expiration.set(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))])
    resp = post(client, "/rest/v1/targets", [{"controllerId": "t-1"}], key="exp")
    assert resp.status_code == 201 and "Idempotent-Replayed" not in resp.headers
    assert steps.target(client, "t-1")["controllerId"] == "t-1"


def test_an_answer_too_large_to_store_is_returned_and_not_remembered(client, monkeypatch):
    from chalicelib.api import idempotency

    monkeypatch.setattr(idempotency, "MAX_REMEMBERED_BYTES", 100)
    first = post(client, "/rest/v1/targets", [{"controllerId": "big-1"}], key="big")
    assert first.status_code == 201
    assert records() == []
    assert post(client, "/rest/v1/targets", [{"controllerId": "big-1"}], key="big").status_code == 409


def test_an_unreachable_idempotency_table_is_503_and_creates_nothing(client, released, aws_fails):
    from botocore.exceptions import EndpointConnectionError

    aws_fails(lambda service, op, params: params.get("TableName", "").endswith("idempotency"),
              lambda: EndpointConnectionError(endpoint_url="http://dynamodb"))
    resp = post(client, f"/rest/v1/distributionsets/{released}/assignedTargets", [{"id": "dev1"}], key="k")
    assert resp.status_code == 503 and "Retry-After" in resp.headers
    assert actions_of(client, "dev1") == 0



def test_a_retried_configuration_task_create_makes_one_task(client):
    from tests.api.dcs_steps import DCS, make_device
    make_device("dev-c")
    files = {"files": [{"name": "app", "uri": "https://example.com/app.json"}]}
    path = f"{DCS}/devices/dev-c/configurationTasks"
    first = post(client, path, files, key="task-1")
    again = post(client, path, files, key="task-1")
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert json.loads(again.body)["id"] == json.loads(first.body)["id"]
    listed = json.loads(client.http.get(path, headers=ADMIN).body)["content"]
    assert len(listed) == 1
    reused = post(client, path, {"files": []}, key="task-1")
    assert reused.status_code == 422
    assert json.loads(reused.body)["errors"][0]["code"] == "mdsp.core.deviceconfiguration.idempotencyKeyReused"
