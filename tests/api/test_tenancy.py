"""Tenant isolation, and the authority-header device authentication mode."""
import json

from tests.api import steps
from tests.api.steps import device
from tests.conftest import basic

OTHER = basic("admin", "other-pw", tenant="OTHER")


def _other_tenant():
    from chalicelib.services import tenants
    tenants.ensure_tenant("OTHER", admin_password="other-pw")


def test_management_sees_only_its_tenant(client):
    _other_tenant()
    steps.create_target(client, "shared-name")
    ds_id, sm_id = steps.release(client)
    assert client.http.get("/rest/v1/targets/shared-name", headers=OTHER).status_code == 404
    assert json.loads(client.http.get("/rest/v1/targets", headers=OTHER).body)["total"] == 0
    assert client.http.get(f"/rest/v1/softwaremodules/{sm_id}", headers=OTHER).status_code == 404
    assert client.http.get(f"/rest/v1/distributionsets/{ds_id}", headers=OTHER).status_code == 404
    resp = client.http.post(f"/rest/v1/distributionsets/{ds_id}/assignedTargets", headers=OTHER,
                            body=json.dumps([{"id": "shared-name"}]))
    assert resp.status_code == 404
    # the same controllerId may exist in both tenants, independently
    resp = client.http.post("/rest/v1/targets", headers=OTHER,
                            body=json.dumps([{"controllerId": "shared-name", "name": "theirs"}]))
    assert resp.status_code == 201
    assert steps.target(client, "shared-name")["name"] == "shared-name"
    assert json.loads(client.http.get("/rest/v1/userinfo", headers=OTHER).body)["tenant"] == "OTHER"
    assert client.http.get("/rest/v1/userinfo", headers=basic("admin", "admin", tenant="OTHER")).status_code == 401


def test_configuration_is_per_tenant(client):
    _other_tenant()
    steps.put_config(client, "pollingTime", "00:01:00")
    other = json.loads(client.http.get("/rest/v1/system/configs/pollingTime", headers=OTHER).body)
    assert other["value"] == "12:00:00" and other["global"] is True


def test_device_token_is_bound_to_its_tenant(client):
    _other_tenant()
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev", "tok-dev")
    assert client.http.get("/OTHER/controller/v1/dev", headers=device("tok-dev")).status_code == 401
    assert client.http.get("/default/controller/v1/dev", headers=device("tok-dev")).status_code == 200


def test_gateway_token_of_one_tenant_does_not_open_another(client):
    _other_tenant()
    steps.enable_gateway_token(client, "gw-default")
    resp = client.http.get("/OTHER/controller/v1/x", headers={"Authorization": "GatewayToken gw-default"})
    assert resp.status_code == 401


def test_authority_header_mode(client, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("SKYHAWK_TRUSTED_PROXY_SECRET", "proxy-secret")
    config.reset()
    steps.create_target(client, "cert-dev")
    proxy = {"X-Skyhawk-Proxy-Secret": "proxy-secret"}
    headers = {**proxy, "X-Controller-Id": "cert-dev", "X-Authority": "ABC123"}
    # enabled by default, but no accepted issuer hash configured: refused
    assert client.http.get("/DEFAULT/controller/v1/cert-dev", headers=headers).status_code == 401
    steps.put_config(client, "authentication.header.authority", "abc123,def456")
    assert client.http.get("/DEFAULT/controller/v1/cert-dev", headers=headers).status_code == 200
    assert client.http.get("/DEFAULT/controller/v1/cert-dev",
                           headers={**proxy, "X-Controller-Id": "cert-dev", "X-Authority-0": "zzz",
                                    "X-Authority-1": "DEF456"}).status_code == 200
    # hawkBit counts the numbered headers from 1: X-Authority-1 alone is read
    assert client.http.get("/DEFAULT/controller/v1/cert-dev",
                           headers={**proxy, "X-Controller-Id": "cert-dev", "X-Authority-1": "DEF456"}
                           ).status_code == 200
    # ... and stops at the first gap
    assert client.http.get("/DEFAULT/controller/v1/cert-dev",
                           headers={**proxy, "X-Controller-Id": "cert-dev", "X-Authority-1": "zzz",
                                    "X-Authority-3": "DEF456"}).status_code == 401
    # hawkBit's own header names, as a proxy configured for hawkBit sends them
    assert client.http.get("/DEFAULT/controller/v1/cert-dev",
                           headers={**proxy, "X-Ssl-Client-Cn": "cert-dev", "X-Ssl-Issuer-Hash-1": "zzz",
                                    "X-Ssl-Issuer-Hash-2": "abc123"}).status_code == 200
    # two common-name headers that disagree: refused
    assert client.http.get("/DEFAULT/controller/v1/cert-dev",
                           headers={**proxy, "X-Ssl-Client-Cn": "cert-dev", "X-Controller-Id": "other",
                                    "X-Ssl-Issuer-Hash-1": "abc123"}).status_code == 401
    # the header names another controller: refused
    assert client.http.get("/DEFAULT/controller/v1/cert-dev",
                           headers={**proxy, "X-Controller-Id": "someone-else", "X-Authority": "abc123"}
                           ).status_code == 401
    # without the proxy's secret the same headers prove nothing (any client can send them)
    forged = {"X-Controller-Id": "cert-dev", "X-Authority": "ABC123"}
    assert client.http.get("/DEFAULT/controller/v1/cert-dev", headers=forged).status_code == 401
    assert client.http.get("/DEFAULT/controller/v1/cert-dev",
                           headers={**forged, "X-Skyhawk-Proxy-Secret": "guess"}).status_code == 401
    steps.put_config(client, "authentication.header.enabled", False)
    assert client.http.get("/DEFAULT/controller/v1/cert-dev", headers=headers).status_code == 401
