"""Structured logs: one JSON line per record with the request's correlation id, tenant and controllerId, and no
credential in any line, whatever the request carried."""
import base64
import io
import json
import logging
import uuid

import pytest

from tests.api import steps
from tests.conftest import ADMIN, basic


@pytest.fixture
def log_lines():
    """Every line the skyhawk logger writes during the test, parsed (`.text` holds them raw)."""
    from chalicelib import logs

    handler = logs.handler()
    buffer = io.StringIO()
    original = handler.setStream(buffer)
    skyhawk = logging.getLogger("skyhawk")
    level = skyhawk.level
    skyhawk.setLevel(logging.DEBUG)  # whatever the code logs, at any level, is held to the rules

    class Lines(list):
        @property
        def text(self):
            return buffer.getvalue()

        def refresh(self):
            self[:] = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
            return self

    try:
        yield Lines()
    finally:
        skyhawk.setLevel(level)
        handler.setStream(original)


def answered(lines, route):
    return [line for line in lines.refresh() if line.get("route") == route]


def test_a_poll_is_logged_once_with_the_callers_correlation_id_tenant_and_controller(client, log_lines):
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev1", "tok1")
    resp = client.http.get("/default/controller/v1/dev1",
                           headers={**steps.device("tok1"), "X-Correlation-Id": "poll-42.a:b"})
    assert resp.status_code == 200 and resp.headers["X-Correlation-Id"] == "poll-42.a:b"
    [line] = answered(log_lines, "GET /{tenant}/controller/v1/{controller_id}")
    assert line["correlation_id"] == "poll-42.a:b"
    assert (line["tenant"], line["controllerId"], line["status"], line["service"]) == ("DEFAULT", "dev1", 200,
                                                                                       "skyhawk")
    assert line["level"] == "INFO" and line["duration_ms"] >= 0


@pytest.mark.parametrize("offered", ["has space", "a" * 129, "line\r\nX-Injected: 1", "", "-starts-with-dash"])
def test_a_correlation_id_that_is_not_a_plain_token_is_replaced(client, log_lines, offered):
    resp = client.http.get("/rest/v1/userinfo", headers={**ADMIN, "X-Correlation-Id": offered})
    given = resp.headers["X-Correlation-Id"]
    assert given != offered and uuid.UUID(given)
    [line] = answered(log_lines, "GET /rest/v1/userinfo")
    assert line["correlation_id"] == given


def test_each_request_gets_its_own_id_and_keys_do_not_leak_into_the_next(client, log_lines):
    steps.create_target(client, "dev1")
    first = client.http.get("/rest/v1/targets/dev1", headers=ADMIN).headers["X-Correlation-Id"]
    second = client.http.get("/health").headers["X-Correlation-Id"]
    assert first != second
    [target_line] = answered(log_lines, "GET /rest/v1/targets/{target_id}")
    [health_line] = answered(log_lines, "GET /health")
    assert (target_line["tenant"], target_line["user"], target_line["correlation_id"]) == ("DEFAULT", "admin", first)
    assert "tenant" not in health_line and "user" not in health_line and health_line["correlation_id"] == second


def test_a_dcs_error_names_the_correlation_id_as_its_logref(client):
    resp = client.http.get("/api/deviceconfiguration/v3/files/" + str(uuid.uuid4()),
                           headers={**ADMIN, "X-Correlation-Id": "find-me-1"})
    assert resp.status_code == 404
    assert json.loads(resp.body)["errors"][0]["logref"] == "find-me-1"


def test_an_outage_is_one_warning_line_with_the_request_keys_and_no_traceback(client, log_lines, aws_fails):
    from botocore.exceptions import EndpointConnectionError

    client.http.get("/rest/v1/userinfo", headers=ADMIN)  # the login is verified before the outage
    aws_fails(lambda service, op, params: service == "dynamodb",
              lambda: EndpointConnectionError(endpoint_url="http://dynamodb"))
    resp = client.http.get("/rest/v1/targets", headers={**ADMIN, "X-Correlation-Id": "outage-1"})
    assert resp.status_code == 503
    warnings = [line for line in log_lines.refresh() if line["level"] == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0]["correlation_id"] == "outage-1" and warnings[0]["tenant"] == "DEFAULT"
    assert "unavailable" in warnings[0]["message"] and "stack_trace" not in warnings[0]


def test_no_credential_reaches_the_log(client, log_lines, monkeypatch):
    """Every kind of secret a request can carry, on answered and on failing requests: none is written."""
    from chalicelib import config
    from chalicelib.services import tenants

    monkeypatch.setenv("SKYHAWK_TRUSTED_PROXY_SECRET", "proxy-Secret-4")
    config.reset()
    tenants.ensure_tenant("OTHER", admin_password="pw-Secret-3")
    other_login = basic("admin", "pw-Secret-3", tenant="OTHER")
    secrets = {"security token": "tok-Secret-1", "gateway key": "gw-Secret-2", "password": "pw-Secret-3",
               "basic credentials": other_login["Authorization"].split()[1],
               "admin credentials": ADMIN["Authorization"].split()[1], "proxy secret": "proxy-Secret-4"}

    steps.enable_target_tokens(client)
    steps.create_target(client, "dev1", "tok-Secret-1")  # the token in the request and the answer
    steps.enable_gateway_token(client, "gw-Secret-2")  # the key in a configuration body
    assert client.http.get("/rest/v1/system/configs/authentication.gatewaytoken.key",
                           headers=ADMIN).status_code == 200  # ... and in an answer
    assert client.http.get("/rest/v1/userinfo", headers=other_login).status_code == 200
    assert client.http.get("/rest/v1/userinfo", headers=basic("admin", "pw-Secret-3")).status_code == 401
    assert steps.poll(client, "dev1", "tok-Secret-1") is not None
    resp = client.http.get("/DEFAULT/controller/v1/gw-dev", headers={"Authorization": "GatewayToken gw-Secret-2"})
    assert resp.status_code == 200
    client.http.get("/DEFAULT/controller/v1/dev1", headers={"X-Skyhawk-Proxy-Secret": "proxy-Secret-4",
                                                           "X-Controller-Id": "dev1", "X-Authority": "x"})
    # a signed download URL in a 302
    ds_id, sm_id = steps.release(client)
    steps.assign(client, ds_id, "dev1")
    resp = client.http.get(f"/DEFAULT/controller/v1/dev1/softwaremodules/{sm_id}/artifacts/example.file",
                           headers=steps.device("tok-Secret-1"))
    assert resp.status_code == 302
    location = resp.headers["Location"]
    signature = location.split("X-Amz-Signature=")[1].split("&")[0]
    secrets.update({"signed URL": location, "URL signature": signature})

    # A careless failure: the exception's message holds the request's headers and body (500 with traceback).
    from chalicelib.services import targets as target_service

    def careless(tenant, specs, user):
        raise RuntimeError(f"cannot create {specs!r} for headers {client_headers!r} and url {location}")
    client_headers = {**ADMIN, "Content-Type": "application/json"}
    monkeypatch.setattr(target_service, "create", careless)
    resp = client.http.post("/rest/v1/targets", headers=client_headers,
                            body=json.dumps([{"controllerId": "x", "securityToken": "tok-Secret-1"}]))
    assert resp.status_code == 500
    # ... and a log call that names its secrets outright
    logging.getLogger("skyhawk").warning("proxy header X-Skyhawk-Proxy-Secret: %s, password=%s",
                                         "proxy-Secret-4", "pw-Secret-3",
                                         extra={"securityToken": "tok-Secret-1", "details": {"password": "pw-Secret-3"}})

    output = log_lines.text
    leaked = {kind: value for kind, value in secrets.items() if value in output}
    assert not leaked, leaked
    # the lines are there, masked, not missing
    lines = log_lines.refresh()
    [failure] = [line for line in lines if line["level"] == "ERROR"]
    assert "cannot create" in failure["exception"] and "'Authorization': '***" in failure["exception"]
    assert "X-Amz-Signature=***" in failure["stack_trace"]["value"] and "security_token='***'" in failure["exception"]
    assert lines[-1]["securityToken"] == "***" and lines[-1]["details"] == {"password": "***"}
    assert len([line for line in lines if line.get("route")]) >= 12


def test_the_redaction_patterns():
    from chalicelib.logs import redact

    assert redact("Authorization: Bearer abc.def") == "Authorization: *** ***"
    assert redact('{"securityToken": "s3cr3t", "name": "dev"}') == '{"securityToken": "***", "name": "dev"}'
    assert redact("https://cdn/x?Expires=1&Signature=a~b_c&Key-Pair-Id=K1") == \
        "https://cdn/x?Expires=1&Signature=***&Key-Pair-Id=***"
    assert redact("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----") == \
        "-----PRIVATE KEY ***-----"
    assert redact({"Authorization": "TargetToken t", "path": "/a", "n": 3}) == {
        "Authorization": "***", "path": "/a", "n": 3}
    assert redact("SKYHAWK_TRUSTED_PROXY_SECRET=abc X-Skyhawk-Proxy-Secret: def") == \
        "SKYHAWK_TRUSTED_PROXY_SECRET=*** X-Skyhawk-Proxy-Secret: ***"
    assert redact({"cloudfront_private_key": "k", "security_token": "t", "tokens_left": 3}) == {
        "cloudfront_private_key": "***", "security_token": "***", "tokens_left": 3}
    assert redact("3 targets, token bucket of 5") == "3 targets, token bucket of 5"  # words, not values
