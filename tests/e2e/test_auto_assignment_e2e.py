"""Auto-assignment over real HTTP through the launcher: a filter's set reaches a target that exists already
(the queued job) and a device registering by plug-and-play (its first poll links the deployment)."""
from __future__ import annotations

import requests

GATEWAY_KEYS = ("authentication.gatewaytoken.enabled", "authentication.gatewaytoken.key")


def test_a_filter_assigns_existing_and_plug_and_play_targets(stack):
    url, admin = stack.url, stack.admin
    assert admin.post(f"{url}/rest/v1/targets", json=[{"controllerId": "aa-old"}]).status_code == 201
    sm_id = admin.post(f"{url}/rest/v1/softwaremodules",
                       json=[{"name": "aa-os", "version": "1", "type": "os"}]).json()[0]["id"]
    assert admin.post(f"{url}/rest/v1/softwaremodules/{sm_id}/artifacts",
                      files={"file": ("aa.img", b"auto assigned image")}).status_code == 201
    ds_id = admin.post(f"{url}/rest/v1/distributionsets", json=[{"name": "aa-ds", "version": "1", "type": "os",
                                                                 "modules": [{"id": sm_id}]}]).json()[0]["id"]
    created = admin.post(f"{url}/rest/v1/targetfilters", json={"name": "aa fleet", "query": "controllerId==aa-*"})
    assert created.status_code == 201
    filter_id = created.json()["id"]
    resp = admin.post(f"{url}/rest/v1/targetfilters/{filter_id}/autoAssignDS", json={"id": ds_id, "type": "soft"})
    assert resp.status_code == 200 and resp.json()["autoAssignDistributionSet"] == ds_id

    stack.running.run_job("auto_assignment")  # with the unit queued by autoAssignDS
    [action] = admin.get(f"{url}/rest/v1/targets/aa-old/actions").json()["content"]
    assert action["forceType"] == "soft"

    try:
        for key, value in zip(GATEWAY_KEYS, (True, "aa-gateway")):
            assert admin.put(f"{url}/rest/v1/system/configs/{key}", json={"value": value}).status_code == 200
        polled = requests.get(f"{url}/DEFAULT/controller/v1/aa-new",
                              headers={"Authorization": "GatewayToken aa-gateway", "Accept": "application/hal+json"})
        assert polled.status_code == 200 and "deploymentBase" in polled.json()["_links"]
    finally:
        for key in GATEWAY_KEYS:
            admin.delete(f"{url}/rest/v1/system/configs/{key}")
    assert len(admin.get(f"{url}/rest/v1/targets/aa-new/actions").json()["content"]) == 1
    stats = admin.get(f"{url}/rest/v1/distributionsets/{ds_id}/statistics/autoassignments").json()
    assert stats == {"totalAutoAssignments": 1}
