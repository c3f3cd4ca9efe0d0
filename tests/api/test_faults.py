"""AWS failures a request can meet, injected at botocore's one call seam: throttling, timeouts and dead
endpoints answer 503 + Retry-After in the API's error shape with one log line; contention is retried inside."""
import json
import logging

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from tests.api import steps
from tests.conftest import ADMIN


def throttled(operation="GetItem"):
    return ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)


def dynamodb(service, operation, params):
    return service == "dynamodb"


@pytest.mark.parametrize("error", [
    lambda: EndpointConnectionError(endpoint_url="http://dynamodb"),
    lambda: ReadTimeoutError(endpoint_url="http://dynamodb"),
    throttled,
], ids=["unreachable", "read-timeout", "throttled"])
def test_dynamodb_failures_are_503_with_retry_after_in_each_apis_shape(client, aws_fails, error, caplog):
    client.http.get("/rest/v1/userinfo", headers=ADMIN)  # the login is verified (and remembered) first
    aws_fails(dynamodb, error)
    with caplog.at_level(logging.WARNING, logger="skyhawk"):
        resp = client.http.get("/rest/v1/targets", headers=ADMIN)
    assert resp.status_code == 503 and int(resp.headers["Retry-After"]) > 0
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.serviceUnavailable"
    # every answer also leaves an INFO line (chalicelib/telemetry.py): the failure is the one warning
    failures = [r for r in caplog.records if r.name == "skyhawk" and r.levelno >= logging.WARNING]
    assert len(failures) == 1 and failures[0].exc_info is None  # one line, no traceback
    resp = client.http.get("/api/deviceconfiguration/v3/files", headers=ADMIN)
    assert resp.status_code == 503
    assert json.loads(resp.body)["errors"][0]["code"] == "mdsp.core.deviceconfiguration.serviceUnavailable"
    resp = client.http.get("/DEFAULT/controller/v1/dev1", headers=steps.device("tok"))
    assert resp.status_code == 503


def test_a_throttled_transaction_is_503_and_writes_nothing(client, aws_fails):
    def transaction_throttled():
        return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "canceled"},
                            "CancellationReasons": [{"Code": "ThrottlingError"}],
                            "ResponseMetadata": {"HTTPStatusCode": 400}}, "TransactWriteItems")
    aws_fails(lambda s, op, p: op == "TransactWriteItems", transaction_throttled)
    resp = client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "application/json"},
                            body=json.dumps([{"controllerId": "dev1", "name": "dev1"}]))
    assert resp.status_code == 503 and "Retry-After" in resp.headers


def test_s3_failures_are_503(client, aws_fails):
    from tests.api.catalog_helpers import create_sm, upload
    sm = create_sm(client)
    aws_fails(lambda s, op, p: s == "s3", lambda: EndpointConnectionError(endpoint_url="http://s3"))
    resp = upload(client, sm["id"], b"bytes")
    assert resp.status_code == 503


def test_a_throttled_last_seen_write_does_not_fail_the_poll(client, aws_fails):
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev1", "tok1")
    aws_fails(lambda s, op, p: op == "UpdateItem", throttled)
    assert steps.poll(client, "dev1", "tok1", status=200) is not None


def test_first_polls_meeting_on_the_usage_counter_retry_until_registered(client, monkeypatch):
    from chalicelib import errors
    from chalicelib.store import tx
    steps.enable_gateway_token(client)
    commit, conflicts = tx.Tx.commit, []

    def conflicting(self):
        if len(conflicts) < 4:  # four other first polls get in first
            conflicts.append(1)
            raise errors.ConcurrentModification()
        return commit(self)
    monkeypatch.setattr(tx.Tx, "commit", conflicting)
    monkeypatch.setattr(tx, "BACKOFF_CAP_SECONDS", 0.0)
    resp = client.http.get("/DEFAULT/controller/v1/new-dev", headers={"Authorization": "GatewayToken gw-secret"})
    assert resp.status_code == 200 and len(conflicts) == 4
    assert steps.target(client, "new-dev")["updateStatus"] == "registered"


def test_health_is_down_with_the_failing_dependency(client, aws_fails):
    from chalicelib.services import health
    assert client.http.get("/health").status_code == 200
    health.forget()
    aws_fails(lambda s, op, p: s == "s3", lambda: EndpointConnectionError(endpoint_url="http://s3"))
    resp = client.http.get("/health")
    assert resp.status_code == 503 and "Retry-After" in resp.headers
    assert resp.json_body == {"status": "DOWN", "components": {"dynamodb": {"status": "UP"},
                                                               "s3": {"status": "DOWN"}}}


def test_a_device_write_that_meets_a_concurrent_one_is_retried_inside_and_loses_neither(client, monkeypatch):
    """Two writers on one target: the second's commit finds the version moved, reads again and applies."""
    from chalicelib.services import controller
    from chalicelib.store import tx
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev1", "tok1")
    commit, interleaved = tx.Tx.commit, []

    def commit_after_a_rival(self):
        if not interleaved:  # the rival's write lands between this request's read and its commit
            interleaved.append(1)
            device = controller.authenticate("DEFAULT", "dev1", {"Authorization": "TargetToken tok1"})
            controller.config_data(device, {"mode": "merge", "data": {"rival": "1"}})
        return commit(self)
    monkeypatch.setattr(tx.Tx, "commit", commit_after_a_rival)
    resp = client.http.put("/DEFAULT/controller/v1/dev1/configData",
                           headers={**steps.device("tok1"), "Content-Type": "application/json"},
                           body=json.dumps({"mode": "merge", "data": {"mine": "2"}}))
    assert resp.status_code == 200 and interleaved
    attributes = json.loads(client.http.get("/rest/v1/targets/dev1/attributes", headers=ADMIN).body)
    assert attributes == {"rival": "1", "mine": "2"}
