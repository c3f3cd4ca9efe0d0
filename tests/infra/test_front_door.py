"""The device front door (chalicelib/front_door.py): DDI requests in the payload format 2.0 events that a Lambda
function URL and an API Gateway HTTP API send, through the real app against moto, answer what the REST API
answers.

The events follow the shapes AWS documents ("Invoking Lambda function URLs": request and response payloads;
"Working with AWS Lambda proxy integrations for HTTP APIs": format 2.0). Each request is also sent through
chalice's test client (the REST API's 1.0 event) and both answers are compared.
"""
from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, unquote

import cbor2
import pytest
from chalice import Chalice, Response
from chalice.local import LambdaContext

from chalicelib import errors
from chalicelib.front_door import FrontDoor
from tests.api import steps
from tests.api.steps import TENANT
from tests.conftest import ADMIN

CID, TOKEN = "fd1", "tok-fd1"
ROOT = f"/{TENANT}/controller/v1/{CID}"
URL_ID = "a3kbk6y6zsoptxcdfdd6fktkpq0ohmvs"
URL_DOMAIN = f"{URL_ID}.lambda-url.us-east-1.on.aws"
API_ID = "r2d2c3po4u"
API_DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
DEVICE_IP = "198.51.100.7"


def function_url_event(method: str, path: str, headers: dict | None = None, body: bytes | None = None,
                       query: str = "", cookies: list[str] | None = None) -> dict:
    """A function URL request (auth type NONE) as Lambda documents it."""
    return _v2_event(method, path, headers, body, query, cookies, domain=URL_DOMAIN, api_id=URL_ID,
                     route_key="$default", stage="$default", path_parameters=None)


def http_api_event(method: str, path: str, headers: dict | None = None, body: bytes | None = None,
                   query: str = "", stage: str = "$default") -> dict:
    """An HTTP API request on the route `ANY /{tenant}/controller/v1/{proxy+}` (format 2.0)."""
    tenant, _, rest = path.lstrip("/").partition("/controller/v1/")
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    return _v2_event(method, raw_path, headers, body, query, None, domain=API_DOMAIN, api_id=API_ID,
                     route_key="ANY /{tenant}/controller/v1/{proxy+}", stage=stage,
                     path_parameters={"tenant": tenant, "proxy": rest})


def _v2_event(method, raw_path, headers, body, query, cookies, domain, api_id, route_key, stage, path_parameters):
    text = body is not None and _is_text((headers or {}).get("Content-Type", ""))
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {"host": domain, "x-forwarded-proto": "https", "x-forwarded-port": "443",
                    "x-forwarded-for": DEVICE_IP, "x-amzn-tls-version": "TLSv1.3",
                    "x-amzn-trace-id": "Root=1-6745c2f1-1a2b3c4d5e6f708192a3b4c5", "user-agent": "rauc-hawkbit",
                    **{name.lower(): value for name, value in (headers or {}).items()}},
        "requestContext": {
            "accountId": "anonymous" if route_key == "$default" else "123456789012",
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": DEVICE_IP,
                     "userAgent": "rauc-hawkbit"},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": route_key,
            "stage": stage,
            "time": "26/Nov/2026:19:03:58 +0000",
            "timeEpoch": 1795633438390,
        },
        "isBase64Encoded": body is not None and not text,
    }
    if query:
        event["queryStringParameters"] = {k: v for k, v in parse_qsl(query, keep_blank_values=True)}
    if cookies:
        event["cookies"] = cookies
    if path_parameters is not None:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body.decode() if text else base64.b64encode(body).decode()
    return event


def _is_text(content_type: str) -> bool:
    return content_type.startswith("text/") or "json" in content_type


def body_bytes(response: dict) -> bytes:
    body = response.get("body") or ""
    return base64.b64decode(body) if response["isBase64Encoded"] else body.encode()


@pytest.fixture
def door(client):
    from app import handler

    assert isinstance(handler, FrontDoor)
    context = LambdaContext("skyhawk-dev", memory_size=512)
    return lambda event: handler(event, context)


def _device(client, assign: bool = True) -> tuple[int, int, int | None]:
    steps.enable_target_tokens(client)
    steps.create_target(client, CID, TOKEN)
    ds_id, sm_id = steps.release(client)
    action_id = steps.assign(client, ds_id, CID)["assignedActions"][0]["id"] if assign else None
    return ds_id, sm_id, action_id


def _rest(client, path, **headers):
    """The same request through the REST API's event (chalice's test client), from the same host."""
    return client.http.get(path, headers={**steps.device(TOKEN), "Host": URL_DOMAIN, "X-Forwarded-Proto": "https",
                                          **headers})


def test_a_poll_through_the_function_url_answers_what_the_rest_api_answers(client, door):
    _device(client)
    answer = door(function_url_event("GET", ROOT, steps.device(TOKEN)))
    rest = _rest(client, ROOT)
    assert answer["statusCode"] == rest.status_code == 200
    assert answer["headers"]["Content-Type"] == rest.headers["Content-Type"] == "application/hal+json"
    polled = json.loads(body_bytes(answer))
    assert polled == json.loads(rest.body)
    # Links point back at the function URL, over TLS, with no stage in the path.
    assert polled["_links"]["deploymentBase"]["href"].startswith(f"https://{URL_DOMAIN}{ROOT}/deploymentBase/")
    assert set(answer) == {"statusCode", "headers", "body", "isBase64Encoded"}  # a 2.0 response
    # The device was seen from the address the function URL reports.
    assert steps.target(client, CID)["ipAddress"] == DEVICE_IP


def test_a_poll_through_an_http_api_links_without_the_default_stage(client, door):
    _device(client)
    polled = json.loads(body_bytes(door(http_api_event("GET", ROOT, steps.device(TOKEN)))))
    assert polled["_links"]["deploymentBase"]["href"].startswith(f"https://{API_DOMAIN}{ROOT}/deploymentBase/")
    on_stage = door(http_api_event("GET", ROOT, steps.device(TOKEN), stage="prod"))
    assert on_stage["statusCode"] == 200
    href = json.loads(body_bytes(on_stage))["_links"]["deploymentBase"]["href"]
    assert href.startswith(f"https://{API_DOMAIN}/prod{ROOT}/deploymentBase/")


def test_deployment_base_with_its_query_string(client, door):
    _, _, action_id = _device(client)
    link = json.loads(body_bytes(door(function_url_event("GET", ROOT, steps.device(TOKEN)))))
    query = link["_links"]["deploymentBase"]["href"].split("?", 1)[1] + "&actionHistory=2"
    path = f"{ROOT}/deploymentBase/{action_id}"
    answer = door(function_url_event("GET", path, steps.device(TOKEN), query=query))
    rest = _rest(client, f"{path}?{query}")
    assert answer["statusCode"] == rest.status_code == 200
    deployment, over_rest = json.loads(body_bytes(answer)), json.loads(rest.body)
    # The first read recorded RETRIEVED, which the second one's history shows.
    assert deployment["deployment"] == over_rest["deployment"] and deployment["id"] == str(action_id)
    assert deployment["actionHistory"]["status"] == "RUNNING" and over_rest["actionHistory"]["status"] == "RETRIEVED"
    artifact_link = deployment["deployment"]["chunks"][0]["artifacts"][0]["_links"]["download"]["href"]
    assert artifact_link.startswith(f"https://{URL_DOMAIN}{ROOT}/softwaremodules/")


def test_feedback_with_a_json_body_closes_the_action(client, door):
    _, _, action_id = _device(client)
    feedback = {"id": str(action_id), "status": {"execution": "closed", "result": {"finished": "success"},
                                                 "details": ["installed"]}}
    answer = door(function_url_event("POST", f"{ROOT}/deploymentBase/{action_id}/feedback",
                                     {**steps.device(TOKEN), "Content-Type": "application/json"},
                                     json.dumps(feedback).encode()))
    assert answer["statusCode"] == 200, body_bytes(answer)
    assert steps.target(client, CID)["updateStatus"] == "in_sync"
    assert steps.action(client, CID, action_id)["status"] == "finished"
    assert "installed" in steps.history(client, CID, action_id)[0]["messages"]


def test_a_download_is_a_redirect_to_a_signed_url(client, door):
    _, sm_id, _ = _device(client)
    path = f"{ROOT}/softwaremodules/{sm_id}/artifacts/example.file"
    answer = door(function_url_event("GET", path, {"Authorization": f"TargetToken {TOKEN}"}))
    rest = client.http.get(path, headers={"Authorization": f"TargetToken {TOKEN}"})
    assert answer["statusCode"] == rest.status_code == 302
    location = answer["headers"]["Location"]
    assert location.startswith("https://skyhawk-artifacts.s3.amazonaws.com/")
    assert "X-Amz-Signature=" in location and "example.file" in unquote(location)
    assert answer["headers"]["Cache-Control"] == "no-store" and answer["headers"]["ETag"] == rest.headers["ETag"]
    assert body_bytes(answer) == b""
    md5sum = door(function_url_event("GET", path + ".MD5SUM", {"Authorization": f"TargetToken {TOKEN}"}))
    assert md5sum["statusCode"] == 200 and body_bytes(md5sum).endswith(b"  example.file\n")


def test_cbor_both_ways(client, door):
    _, _, action_id = _device(client)
    answer = door(function_url_event("GET", ROOT, {**steps.device(TOKEN), "Accept": "application/cbor"}))
    assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is True
    assert answer["headers"]["Content-Type"] == "application/cbor"
    as_json = json.loads(body_bytes(door(function_url_event("GET", ROOT, steps.device(TOKEN)))))
    assert cbor2.loads(body_bytes(answer)) == as_json
    feedback = {"id": str(action_id), "status": {"execution": "proceeding", "result": {"finished": "none"},
                                                 "details": ["downloading"]}}
    sent = door(http_api_event("POST", f"{ROOT}/deploymentBase/{action_id}/feedback",
                               {**steps.device(TOKEN), "Content-Type": "application/cbor"}, cbor2.dumps(feedback)))
    assert sent["statusCode"] == 200, body_bytes(sent)
    assert steps.history(client, CID, action_id)[0]["messages"][-1] == "downloading"


def test_a_literal_segment_wins_over_a_parameter(client, door):
    """`confirmationBase/activateAutoConfirm` is its own route, not `confirmationBase/{actionId}`."""
    _device(client, assign=False)
    answer = door(function_url_event("POST", f"{ROOT}/confirmationBase/activateAutoConfirm",
                                     {**steps.device(TOKEN), "Content-Type": "application/json"},
                                     json.dumps({"initiator": "fd", "remark": "ok"}).encode()))
    assert answer["statusCode"] == 200, body_bytes(answer)
    state = json.loads(body_bytes(door(function_url_event("GET", f"{ROOT}/confirmationBase",
                                                          steps.device(TOKEN)))))
    assert state["autoConfirm"]["active"] is True and state["autoConfirm"]["initiator"] == "fd"


@pytest.mark.parametrize("path", ["/rest/v1/targets", "/health", f"{ROOT}/nothing/here", f"/{TENANT}/controller/v1/"])
def test_anything_but_a_ddi_route_is_a_404_in_hawkbits_shape(client, door, path):
    answer = door(function_url_event("GET", path, ADMIN))
    assert answer["statusCode"] == 404
    error = json.loads(body_bytes(answer))
    assert error["errorCode"] == "hawkbit.server.error.notFound" and error["message"] == f"No resource {path}."
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"


def test_the_device_configuration_api_is_not_behind_the_function_url(client, door):
    """Unknown there, in that API's own error shape (as an unknown route of it is on the REST API)."""
    answer = door(function_url_event("GET", "/api/deviceconfiguration/v3/files", ADMIN))
    assert answer["statusCode"] == 404
    assert json.loads(body_bytes(answer))["errors"][0]["code"] == "mdsp.core.deviceconfiguration.notFound"


def test_errors_of_the_app_keep_their_shape(client, door):
    _device(client, assign=False)
    unauthorized = door(function_url_event("GET", ROOT, steps.device("wrong")))
    assert unauthorized["statusCode"] == 401
    assert "TargetToken" in unauthorized["headers"]["WWW-Authenticate"]
    wrong_method = door(function_url_event("DELETE", ROOT, steps.device(TOKEN)))
    assert wrong_method["statusCode"] == 405 and "GET" in wrong_method["headers"]["Allow"]
    assert json.loads(body_bytes(wrong_method))["errorCode"] == errors.MethodNotAllowed.code


def test_the_rest_apis_events_reach_the_app_unchanged(client):
    from app import app, handler

    event = {"requestContext": {"httpMethod": "GET", "resourcePath": "/health", "path": "/api/health",
                                "identity": {"sourceIp": DEVICE_IP}, "stage": "api"},
             "headers": {"accept": "application/json", "x-correlation-id": "rest-1"},
             "multiValueQueryStringParameters": None,
             "pathParameters": None, "stageVariables": None, "body": None}
    context = LambdaContext("skyhawk-dev", memory_size=512)
    answer = handler(event, context)
    assert answer == app(event, context)
    assert answer["statusCode"] == 200 and "multiValueHeaders" in answer  # the 1.0 response, untouched


def test_cookies_cross_in_both_directions():
    """The 2.0 payload carries cookies apart from the headers, both ways (none of skyhawk's routes uses one)."""
    echo = Chalice(app_name="echo")

    @echo.route(_DDI_ECHO)
    def cookies(tenant, controller_id):
        return Response(body=echo.current_request.headers.get("cookie", ""), status_code=200,
                        headers={"Set-Cookie": ["a=1; Secure", "b=2; HttpOnly"], "X-Tags": ["x", "y"]})

    answer = FrontDoor(echo)(function_url_event("GET", f"/{TENANT}/controller/v1/{CID}",
                                                cookies=["session=s1", "theme=dark"]), None)
    assert answer["statusCode"] == 200 and answer["body"] == "session=s1; theme=dark"
    assert answer["cookies"] == ["a=1; Secure", "b=2; HttpOnly"] and answer["headers"]["X-Tags"] == "x,y"
    assert "Set-Cookie" not in answer["headers"]


_DDI_ECHO = "/{tenant}/controller/v1/{controller_id}"
