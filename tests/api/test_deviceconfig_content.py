"""Configuration file content leaves as the exact bytes, whatever its media type and whatever Accept the client
sends (or none): locally through chalice, and behind API Gateway as a base64 body flagged isBase64Encoded.
Content-Type is the one stored with the revision; X-Content-Type-Options: nosniff. A device that may not read
a file gets a 404 that names no revision hash."""
from __future__ import annotations

import base64
import json

import pytest

from tests.api.dcs_steps import (
    DCS,
    bearer,
    body,
    content_uri,
    create_file,
    create_task,
    error_code,
    file_with_head,
    make_device,
    release,
)
from tests.conftest import ADMIN

BINARY = bytes(range(256))  # not UTF-8


def _revision(client, file_id: str, data: bytes, content_type: str) -> str:
    resp = client.http.post(f"{DCS}/files/{file_id}/revisions", headers={**ADMIN, "Content-Type": content_type},
                            body=data)
    assert resp.status_code == 201, resp.body
    return body(resp)["hash"]


@pytest.mark.parametrize("content_type", ["application/octet-stream", "application/x-custom-config",
                                          "text/plain; charset=iso-8859-1", "image/png"])
@pytest.mark.parametrize("accept", [None, "*/*", "application/json, */*;q=0.1"])
def test_any_content_type_downloads_as_exact_bytes_without_an_exact_accept(client, content_type, accept):
    f = create_file(client, "/d/blob")
    sha = _revision(client, f["id"], BINARY, content_type)
    headers = dict(ADMIN) if accept is None else {**ADMIN, "Accept": accept}
    resp = client.http.get(f"{DCS}/files/{f['id']}/revisions/{sha}/content", headers=headers)
    assert resp.status_code == 200, resp.body[:200]
    assert resp.body == BINARY
    assert resp.headers["Content-Type"] == content_type
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["ETag"] == f'"{sha}"'


def test_an_accept_that_excludes_the_stored_type_is_406_in_the_dcs_shape(client):
    f = create_file(client, "/d/blob")
    sha = _revision(client, f["id"], BINARY, "application/octet-stream")
    resp = client.http.get(f"{DCS}/files/{f['id']}/revisions/{sha}/content", headers={**ADMIN, "Accept": "text/plain"})
    assert resp.status_code == 406 and error_code(resp) == "mdsp.core.deviceconfiguration.notAcceptable"


def _api_gateway_event(path: str, resource: str, params: dict, headers: dict) -> dict:
    """A REST API (v1) Lambda proxy event as API Gateway sends it."""
    return {"resource": resource, "path": path, "httpMethod": "GET", "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": params, "stageVariables": None,
            "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": f"/api{path}", "stage": "api",
                               "identity": {"sourceIp": "203.0.113.9"}},
            "body": None, "isBase64Encoded": False}


def test_behind_api_gateway_content_is_a_base64_body_and_json_stays_readable(client):
    """API Gateway hands a body back as bytes when the Lambda flags it isBase64Encoded and the API's binary media
    types match the request's Accept; they are */* (app.api.binary_types), so any Accept and none will do."""
    from app import app

    assert app.api.binary_types == ["*/*"]
    token = make_device("dev-1")
    f = create_file(client, "/dev-1/blob")
    sha = _revision(client, f["id"], BINARY, "application/x-custom-config")
    task = create_task(client, "dev-1", [{"name": "blob", "uri": content_uri(f["id"], sha)}])
    release(client, "dev-1", task["id"])
    resource = f"{DCS}/files/{{file_id}}/revisions/{{sha}}/content"
    path = f"{DCS}/files/{f['id']}/revisions/{sha}/content"
    # the device, without any Accept header
    response = app(_api_gateway_event(path, resource, {"file_id": f["id"], "sha": sha},
                                      {"Authorization": f"Bearer {token}", "Host": "abc.execute-api.amazonaws.com"}),
                   None)
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True and base64.b64decode(response["body"]) == BINARY
    assert response["headers"]["Content-Type"] == "application/x-custom-config"
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
    # JSON answers are base64 too; API Gateway decodes them for every Accept the same way
    meta = app(_api_gateway_event(f"{DCS}/files/{f['id']}", f"{DCS}/files/{{file_id}}", {"file_id": f["id"]},
                                  {"Authorization": ADMIN["Authorization"], "Accept": "application/json"}), None)
    assert meta["statusCode"] == 200 and meta["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(meta["body"]))["id"] == f["id"]


def test_device_404_for_a_file_it_may_not_read_names_no_hash(client):
    token = make_device("dev-1")
    granted = file_with_head(client, "/dev-1/a.json", b'{"a":1}')
    hidden = file_with_head(client, "/other/b.json", b'{"b":2}')
    task = create_task(client, "dev-1", [{"name": "a", "uri": content_uri(granted["id"], granted["head"])}])
    release(client, "dev-1", task["id"])
    for url in (f"{DCS}/files/{hidden['id']}/head", f"{DCS}/files/{hidden['id']}/revisions/{hidden['head']}",
                f"{DCS}/files/{hidden['id']}/revisions/{hidden['head']}/content",
                f"{DCS}/files/{granted['id']}/revisions/{hidden['head']}/content"):
        resp = client.http.get(url, headers=bearer(token))
        assert resp.status_code == 404, url
        assert error_code(resp) == "mdsp.core.deviceconfiguration.notFound"
        message = body(resp)["errors"][0]["message"]
        assert hidden["head"] not in message and granted["head"] not in message, message
    # a file without any head looks the same to the device
    empty = create_file(client, "/dev-1/empty")
    resp = client.http.get(f"{DCS}/files/{empty['id']}/head", headers=bearer(token))
    assert resp.status_code == 404 and "head" not in body(resp)["errors"][0]["message"].lower()


@pytest.mark.parametrize("content_type", ["text/plain\x01", "text", "a/" + "b" * 300, "text/plain; x=é",
                                          "text/plain; charset", "text/plain\r\nX-Injected: 1"])
def test_a_content_type_that_is_no_media_type_is_400_and_nothing_is_stored(client, content_type):
    f = create_file(client, "/d/typed")
    for resp in (client.http.post(f"{DCS}/files/{f['id']}/revisions", headers={**ADMIN, "Content-Type": content_type},
                                  body=b"data"),
                 client.http.patch(f"{DCS}/files/{f['id']}/head", headers={**ADMIN, "Content-Type": content_type},
                                   body=b"data")):
        assert resp.status_code == 400 and error_code(resp) == "mdsp.core.deviceconfiguration.invalidRequest"
    assert body(client.http.get(f"{DCS}/files/{f['id']}/revisions", headers=ADMIN))["page"]["totalElements"] == 0
    # parameters, quoted or not, are media type syntax
    assert _revision(client, f["id"], b"data", 'text/plain; charset=utf-8; note="a b"')
