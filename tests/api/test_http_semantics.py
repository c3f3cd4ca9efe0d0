"""What every Management request meets before its endpoint: 405 for a method the resource lacks, 406 for an
Accept it cannot satisfy, 415 for a body it cannot read (seed 002), each in the API's own error shape."""
import json

from tests.api.catalog_helpers import user_with
from tests.conftest import ADMIN

JSON = {**ADMIN, "Content-Type": "application/json"}


def _error(resp) -> dict:
    return json.loads(resp.body)


def test_a_method_the_resource_lacks_is_405_in_hawkbits_error_shape(client):
    resp = client.http.request("PATCH", "/rest/v1/targets/dev1", headers=ADMIN)
    assert resp.status_code == 405
    assert _error(resp)["errorCode"] == "hawkbit.server.error.methodNotAllowed"
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) == {"GET", "PUT", "DELETE"}
    resp = client.http.request("DELETE", "/rest/v1/system/quota", headers=ADMIN)
    assert resp.status_code == 405 and "exceptionClass" in _error(resp)


def test_a_method_the_resource_lacks_is_405_in_the_dcs_error_shape_under_dcs(client):
    resp = client.http.request("PATCH", "/api/deviceconfiguration/v3/files", headers=ADMIN)
    assert resp.status_code == 405
    assert _error(resp)["errors"][0]["code"] == "mdsp.core.deviceconfiguration.methodNotAllowed"


def test_accept_without_json_is_406_after_authentication(client):
    resp = client.http.get("/rest/v1/targets", headers={**ADMIN, "Accept": "text/plain"})
    assert resp.status_code == 406
    assert _error(resp)["errorCode"] == "hawkbit.server.error.notAcceptable"
    # credentials first: an anonymous caller learns 401, whatever it accepts
    assert client.http.get("/rest/v1/targets", headers={"Accept": "text/plain"}).status_code == 401
    for accept in ("application/json", "application/hal+json", "*/*", "application/*",
                   "text/html, application/json;q=0.9", "application/json; charset=UTF-8"):
        assert client.http.get("/rest/v1/targets", headers={**ADMIN, "Accept": accept}).status_code == 200, accept
    assert client.http.get("/rest/v1/targets",
                           headers={**ADMIN, "Accept": "application/json;q=0, text/plain"}).status_code == 406


def test_artifact_download_accepts_binary_not_json_only(client):
    from tests.api.catalog_helpers import create_sm, upload
    sm = create_sm(client)
    artifact = json.loads(upload(client, sm["id"], b"bytes").body)
    url = f"/rest/v1/softwaremodules/{sm['id']}/artifacts/{artifact['id']}/download"
    assert client.http.get(url, headers={**ADMIN, "Accept": "application/octet-stream"}).status_code == 302
    assert client.http.get(url, headers={**ADMIN, "Accept": "application/json"}).status_code == 406


def test_a_body_that_is_not_json_is_415_and_nothing_is_written(client):
    body = json.dumps([{"controllerId": "dev1", "name": "dev1"}])
    resp = client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "text/plain"}, body=body)
    assert resp.status_code == 415
    assert _error(resp)["errorCode"] == "hawkbit.server.error.unsupportedMediaType"
    assert client.http.get("/rest/v1/targets/dev1", headers=ADMIN).status_code == 404
    # JSON with parameters, and no Content-Type at all (read as JSON), are fine
    assert client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "application/json;charset=UTF-8"},
                            body=body).status_code == 201
    assert client.http.put("/rest/v1/targets/dev1", headers=ADMIN,
                           body=json.dumps({"description": "x"})).status_code == 200


def test_an_upload_must_be_multipart(client):
    from tests.api.catalog_helpers import create_sm
    sm = create_sm(client)
    resp = client.http.post(f"/rest/v1/softwaremodules/{sm['id']}/artifacts", headers=JSON, body="{}")
    assert resp.status_code == 415


def test_media_errors_come_before_permission_errors_as_in_hawkbit(client):
    reader = user_with(client, "reader", "READ_TARGET")
    resp = client.http.post("/rest/v1/targets", headers={**reader, "Content-Type": "text/plain"}, body="x")
    assert resp.status_code == 415
    resp = client.http.post("/rest/v1/targets", headers={**reader, "Content-Type": "application/json"},
                            body=json.dumps([{"controllerId": "x"}]))
    assert resp.status_code == 403
