"""The confirmation flow and CBOR over real HTTP through the launcher (chalice local + embedded moto).

A device that speaks CBOR polls, reads the action waiting for its consent, confirms it in CBOR; the real
rauc-hawkbit client then installs the confirmed update. The flow key is switched off again afterwards:
the stack (and its tenant configuration) is shared by every end-to-end test.
"""
from __future__ import annotations

import asyncio
import re
from urllib.parse import urlparse

import aiohttp
import cbor2
import pytest
import requests
from rauc_hawkbit.ddi.client import DDIClient
from rauc_hawkbit.ddi.deployment_base import DeploymentStatusExecution, DeploymentStatusResult

CID = "consent-dev-1"
TOKEN = f"token-{CID}"
CBOR = "application/cbor"


@pytest.fixture
def confirmation_flow(stack):
    for key, value in (("authentication.targettoken.enabled", True), ("user.confirmation.flow.enabled", True)):
        resp = stack.admin.put(f"{stack.url}/rest/v1/system/configs/{key}", json={"value": value})
        assert resp.status_code == 200, resp.text
    try:
        yield
    finally:
        assert stack.admin.delete(f"{stack.url}/rest/v1/system/configs/user.confirmation.flow.enabled").ok


def _release_and_assign(stack):
    sm = stack.admin.post(f"{stack.url}/rest/v1/softwaremodules",
                          json=[{"name": "consent-os", "version": "1.0", "type": "os"}]).json()[0]["id"]
    resp = stack.admin.post(f"{stack.url}/rest/v1/softwaremodules/{sm}/artifacts",
                            files={"file": ("consent-os.raucb", b"consented bundle")})
    assert resp.status_code == 201, resp.text
    ds = stack.admin.post(f"{stack.url}/rest/v1/distributionsets",
                          json=[{"name": "consent-ds", "version": "1.0", "type": "os",
                                 "modules": [{"id": sm}]}]).json()[0]["id"]
    resp = stack.admin.post(f"{stack.url}/rest/v1/targets",
                            json=[{"controllerId": CID, "name": CID, "securityToken": TOKEN}])
    assert resp.status_code == 201, resp.text
    resp = stack.admin.post(f"{stack.url}/rest/v1/distributionsets/{ds}/assignedTargets", json=[{"id": CID}])
    assert resp.status_code == 200, resp.text
    return resp.json()["assignedActions"][0]["id"]


def test_a_cbor_device_confirms_and_rauc_hawkbit_installs(stack, confirmation_flow):
    action_id = _release_and_assign(stack)
    device = requests.Session()
    device.headers.update({"Authorization": f"TargetToken {TOKEN}", "Accept": CBOR})
    root = f"{stack.url}/DEFAULT/controller/v1/{CID}"

    poll = device.get(root)
    assert poll.status_code == 200 and poll.headers["Content-Type"] == CBOR
    links = cbor2.loads(poll.content)["_links"]
    assert "deploymentBase" not in links
    href = links["confirmationBase"]["href"]
    assert re.search(rf"/confirmationBase/{action_id}\?c=-?\d+$", href)

    waiting = device.get(href + "&actionHistory=5")
    body = cbor2.loads(waiting.content)
    assert body["id"] == str(action_id) and body["actionHistory"]["status"] == "WAIT_FOR_CONFIRMATION"
    assert body["confirmation"]["chunks"][0]["artifacts"][0]["filename"] == "consent-os.raucb"
    assert device.get(f"{root}/deploymentBase/{action_id}").status_code == 404

    state = cbor2.loads(device.get(f"{root}/confirmationBase").content)
    assert state["autoConfirm"] == {"active": False}

    resp = device.post(f"{root}/confirmationBase/{action_id}/feedback", headers={"Content-Type": CBOR},
                       data=cbor2.dumps({"confirmation": "confirmed", "code": 200, "details": ["user said yes"]}))
    assert resp.status_code == 200

    async def install(ddi):
        base = await ddi()
        match = re.search(r"/deploymentBase/(.+)\?c=(.+)$", base["_links"]["deploymentBase"]["href"])
        assert match and match.group(1) == str(action_id)
        info = await ddi.deploymentBase[match.group(1)](match.group(2))
        assert info["id"] == str(action_id)
        await ddi.deploymentBase[action_id].feedback(DeploymentStatusExecution.closed,
                                                     DeploymentStatusResult.success, ["Installed"])

    async def session():
        async with aiohttp.ClientSession() as http:
            await install(DDIClient(http, urlparse(stack.url).netloc, False, TOKEN, "DEFAULT", CID))

    asyncio.run(session())
    target = stack.admin.get(f"{stack.url}/rest/v1/targets/{CID}").json()
    assert target["updateStatus"] == "in_sync" and target["autoConfirmActive"] is False
    history = stack.admin.get(f"{stack.url}/rest/v1/targets/{CID}/actions/{action_id}/status").json()["content"]
    types = [entry["type"] for entry in history]
    assert types[0] == "finished" and types[-2:] == ["running", "wait_for_confirmation"]
    assert "user said yes" in history[-2]["messages"]

    # a device that accepts neither JSON nor CBOR is told so
    refused = requests.get(root, headers={"Authorization": f"TargetToken {TOKEN}", "Accept": "text/xml"})
    assert refused.status_code == 406
