"""An unknown route answers 404 in the API's error shape through the launcher, as the deployed API's gateway
responses do (infra/api-gateway-responses.json), not API Gateway's 403 "Missing Authentication Token"."""
from __future__ import annotations

import requests


def test_unknown_management_route_is_404_in_hawkbits_shape(stack):
    for session in (requests, stack.admin):  # with and without credentials
        resp = session.get(f"{stack.url}/rest/v1/nothing/here")
        assert resp.status_code == 404
        assert resp.json()["errorCode"] == "hawkbit.server.error.notFound"
        assert resp.json()["exceptionClass"].endswith("NoHandlerFoundException")


def test_unknown_device_configuration_route_is_404_in_the_dcs_shape(stack):
    resp = stack.admin.get(f"{stack.url}/api/deviceconfiguration/v3/nothing/here")
    assert resp.status_code == 404 and resp.json()["errors"][0]["code"] == "mdsp.core.deviceconfiguration.notFound"
