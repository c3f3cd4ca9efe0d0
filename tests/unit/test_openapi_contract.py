"""The OpenAPI response contract the api and e2e tests run under (tests/contract): it must refuse drift."""
from __future__ import annotations

import asyncio
import http.server
import json
import threading

import aiohttp
import pytest
import requests

from tests.contract.hooks import ViolationLog, aiohttp_response_class, checking_requests
from tests.contract.openapi_contract import ContractViolation, contract

HAL = {"Content-Type": "application/hal+json"}
JSON = {"Content-Type": "application/json"}
TARGET = {"controllerId": "dev-1", "name": "dev-1", "updateStatus": "registered", "createdAt": 1,
          "_links": {"self": {"href": "http://h/rest/v1/targets/dev-1"}}}


def check(method, path, status, headers, body):
    contract().check(method, path, status, headers, json.dumps(body) if not isinstance(body, bytes) else body)


def test_a_body_that_matches_passes_with_fields_hawkbit_does_not_know():
    check("GET", "/rest/v1/targets/dev-1", 200, HAL, {**TARGET, "skyhawkOnly": {"x": 1}})


@pytest.mark.parametrize("drift, complaint", [
    ({"name": None}, "$.name"),                          # null where hawkBit omits or sends a string
    ({"createdAt": "yesterday"}, "$.createdAt"),         # wrong type
    ({"createdAt": 2 ** 63}, "$.createdAt"),             # int64 format
    ({"pollStatus": {"overdue": "no"}}, "$.pollStatus.overdue"),
])
def test_wrong_types_are_refused(drift, complaint):
    with pytest.raises(ContractViolation) as refused:
        check("GET", "/rest/v1/targets/dev-1", 200, HAL, {**TARGET, **drift})
    assert complaint in str(refused.value)


def test_missing_required_fields_are_refused():
    body = {k: v for k, v in TARGET.items() if k != "name"}
    with pytest.raises(ContractViolation, match="'name' is a required property"):
        check("GET", "/rest/v1/targets/dev-1", 200, HAL, body)


def test_lists_and_nested_items_are_checked():
    page = {"content": [TARGET, {**TARGET, "controllerId": 7}], "total": 2, "size": 2}
    with pytest.raises(ContractViolation, match=r"\$\.content\[1\]\.controllerId"):
        check("GET", "/rest/v1/targets?offset=0&limit=2", 200, HAL, page)


def test_a_map_where_an_array_is_declared_is_refused():
    entry = {"value": "00:10:00", "global": False}
    check("PUT", "/rest/v1/system/configs", 200, HAL, [entry])
    with pytest.raises(ContractViolation, match="is not of type 'array'"):
        check("PUT", "/rest/v1/system/configs", 200, HAL, {"pollingTime": entry})


def test_a_media_type_the_operation_does_not_produce_is_refused():
    metadata = {"key": "k", "value": "v"}
    check("GET", "/rest/v1/distributionsets/1/metadata/k", 200, JSON, metadata)
    with pytest.raises(ContractViolation, match="application/hal\\+json is not one of"):
        check("GET", "/rest/v1/distributionsets/1/metadata/k", 200, HAL, metadata)


def test_a_json_content_type_with_a_body_that_is_not_json_is_refused():
    with pytest.raises(ContractViolation, match="not JSON"):
        check("GET", "/rest/v1/targets/dev-1", 200, HAL, b"<html>")


def test_error_bodies_are_exception_info_and_may_carry_parameters():
    error = {"exceptionClass": "x.Y", "errorCode": "hawkbit.server.error.rest.param.invalid",
             "message": "bad", "parameters": ["limit"]}
    check("GET", "/rest/v1/targets", 400, JSON, error)
    with pytest.raises(ContractViolation, match=r"\$\.message"):
        check("GET", "/rest/v1/targets", 400, JSON, {**error, "message": ["bad"]})


def test_ddi_bodies_are_checked_too():
    base = {"config": {"polling": {"sleep": "00:05:00"}}, "_links": {}}
    check("GET", "/DEFAULT/controller/v1/dev-1", 200, HAL, base)
    with pytest.raises(ContractViolation, match=r"\$\.config\.polling\.sleep"):
        check("GET", "/DEFAULT/controller/v1/dev-1", 200, HAL, {"config": {"polling": {"sleep": "5 minutes"}}})


@pytest.mark.parametrize("value", [True, "00:05:00", 30])
def test_tenant_config_values_are_any_json_value_as_hawkbit_sends_them(value):
    check("GET", "/rest/v1/system/configs/pollingTime", 200, HAL, {"value": value, "global": True})


@pytest.mark.parametrize("method, path, status, headers, body", [
    ("DELETE", "/rest/v1/targets/dev-1/actions", 200, HAL, {"x": 1}),                # no such operation
    ("GET", "/rest/v1/targets/dev-1", 404, JSON, {"message": 1}),                     # no schema declared
    ("GET", "/rest/v1/targets/dev-1", 405, {"Content-Type": "text/plain"}, b"nope"),  # nor here
    ("GET", "/rest/v1/targets/dev-1", 200, HAL, b""),                                 # empty body
    ("HEAD", "/rest/v1/targets/dev-1", 200, HAL, {"name": 1}),
    ("GET", "/DEFAULT/controller/v1/d/softwaremodules/1/artifacts/f.bin", 200,
     {"Content-Type": "application/octet-stream"}, b"\x00\x01"),
    ("GET", "/api/deviceconfiguration/v3/files/f/head", 200, JSON, b"not json: any content"),  # raw content
])
def test_what_the_documents_do_not_describe_is_not_checked(method, path, status, headers, body):
    check(method, path, status, headers, body)


@pytest.mark.parametrize("method, path, status, headers, body, complaint", [
    ("GET", "/health", 200, JSON, {"status": 5}, r"\$\.status"),                                     # service
    ("GET", "/rest/v1/system/quota/targets", 200, HAL, {"limit": "many", "used": 1, "_links": {}},  # extension
     r"\$\.limit"),
    ("GET", "/rest/v1/users", 200, HAL, {"content": [{"username": "u"}], "total": 1, "size": 1},
     "'roles' is a required property"),
    ("GET", "/api/deviceconfiguration/v3/files", 200, JSON, {"content": 1}, "'page' is a required property"),  # DCS
    ("GET", "/api/deviceconfiguration/v3/files/f", 404, JSON, {"message": "x"},                               # DCS error
     "'errors' is a required property"),
    ("GET", "/api/deploymentworkflow/v3/models/m", 200, JSON, {"key": "m", "states": {}, "transitions": [],  # DWS
                                                               "groups": []}, r"\$\.states"),
])
def test_skyhawk_routes_hawkbit_lacks_are_checked_against_skyhawk_documents(method, path, status, headers, body,
                                                                             complaint):
    with pytest.raises(ContractViolation, match=complaint):
        check(method, path, status, headers, body)


def test_the_most_specific_path_template_wins():
    _, template, _ = contract().operation("GET", "/T/controller/v1/d/softwaremodules/3/artifacts/f.bin.MD5SUM")
    assert template.endswith("/artifacts/{fileName}.MD5SUM")
    _, template, _ = contract().operation("GET", "/T/controller/v1/d/softwaremodules/3/artifacts/f.bin")
    assert template.endswith("/artifacts/{fileName}")
    _, template, _ = contract().operation("GET", "/rest/v1/distributionsets/4/statistics/actions")
    assert template == "/rest/v1/distributionsets/{distributionSetId}/statistics/actions"
    assert contract().operation("GET", "/rest/v1/targets/a/b/c/d/e") is None


def test_documents_are_parsed_once_per_process():
    assert contract() is contract()


# --- the e2e hooks: requests and aiohttp against a server on loopback ------------------------------------
class _DriftingTargets(http.server.BaseHTTPRequestHandler):
    """Answers any GET with a target that lost its required `name`."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = json.dumps({k: v for k, v in TARGET.items() if k != "name"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/hal+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def drifting_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DriftingTargets)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_requests_calls_to_the_stack_are_checked_and_logged(drifting_server):
    log = ViolationLog()
    with checking_requests(drifting_server, log):
        with pytest.raises(ContractViolation, match="'name' is a required property"):
            requests.get(f"{drifting_server}/rest/v1/targets/dev-1", timeout=10)
        assert len(log.take()) == 1
        log.enabled = False  # what the no_contract marker does in tests/e2e
        assert requests.get(f"{drifting_server}/rest/v1/targets/dev-1", timeout=10).status_code == 200
        assert log.take() == []
    with checking_requests("http://elsewhere.invalid", ViolationLog()):  # other hosts are not judged
        assert requests.get(f"{drifting_server}/rest/v1/targets/dev-1", timeout=10).status_code == 200


def test_aiohttp_bodies_are_checked_once_read(drifting_server):
    log = ViolationLog()

    async def fetch():
        async with aiohttp.ClientSession(response_class=aiohttp_response_class(drifting_server, log)) as session:
            async with session.get(f"{drifting_server}/rest/v1/targets/dev-1") as resp:
                await resp.json(content_type=None)

    with pytest.raises(ContractViolation, match="'name' is a required property"):
        asyncio.run(fetch())
    assert len(log.take()) == 1
