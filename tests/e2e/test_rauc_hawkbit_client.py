"""A real third-party DDI client (rauc-hawkbit, PyPI) against the launcher over HTTP.

The client sends `Authorization: TargetToken ...` with every request, artifact downloads included.
Downloads go through a strict fake S3 that, like real S3, refuses a presigned request that also
carries an Authorization header: the update only works because the DDI artifact URL answers 302 and
aiohttp drops the header on the cross-origin redirect.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
from urllib.parse import urlparse

import aiohttp
import pytest
from rauc_hawkbit.ddi.cancel_action import CancelStatusExecution, CancelStatusResult
from rauc_hawkbit.ddi.client import ConfigStatusExecution, ConfigStatusResult, DDIClient
from rauc_hawkbit.ddi.deployment_base import DeploymentStatusExecution, DeploymentStatusResult

from tests.contract.hooks import aiohttp_response_class

BUNDLE = b"rauc bundle bytes " * 4096


def _put_config(stack, key, value):
    resp = stack.admin.put(f"{stack.url}/rest/v1/system/configs/{key}", json={"value": value})
    assert resp.status_code == 200, resp.text


def _release(stack, name, version, data):
    resp = stack.admin.post(f"{stack.url}/rest/v1/softwaremodules",
                            json=[{"name": name, "version": version, "type": "os"}])
    assert resp.status_code == 201, resp.text
    sm_id = resp.json()[0]["id"]
    resp = stack.admin.post(f"{stack.url}/rest/v1/softwaremodules/{sm_id}/artifacts",
                            files={"file": (f"{name}.raucb", data)})
    assert resp.status_code == 201, resp.text
    resp = stack.admin.post(f"{stack.url}/rest/v1/distributionsets",
                            json=[{"name": f"{name}-ds", "version": version, "type": "os",
                                   "modules": [{"id": sm_id}]}])
    assert resp.status_code == 201, resp.text
    return resp.json()[0]["id"], sm_id


def _assign(stack, ds_id, controller_id):
    resp = stack.admin.post(f"{stack.url}/rest/v1/distributionsets/{ds_id}/assignedTargets",
                            json=[{"id": controller_id, "type": "forced"}])
    assert resp.status_code == 200, resp.text
    return resp.json()["assignedActions"][0]["id"]


def _target(stack, controller_id):
    return stack.admin.get(f"{stack.url}/rest/v1/targets/{controller_id}").json()


@pytest.fixture
def device(stack):
    _put_config(stack, "authentication.targettoken.enabled", True)

    def make(controller_id):
        token = f"token-{controller_id}"
        resp = stack.admin.post(f"{stack.url}/rest/v1/targets",
                                json=[{"controllerId": controller_id, "name": controller_id,
                                       "securityToken": token}])
        assert resp.status_code == 201, resp.text
        return token
    return make


def _run(coro):
    return asyncio.run(coro)


async def _client_session(stack, controller_id, token, body):
    host = urlparse(stack.url).netloc
    checked = aiohttp_response_class(stack.url, stack.contract)  # its answers meet the OpenAPI contract
    async with aiohttp.ClientSession(response_class=checked) as session:
        ddi = DDIClient(session, host, False, token, "DEFAULT", controller_id)
        return await body(ddi)


def test_full_update_with_rauc_hawkbit(stack, device, tmp_path):
    token = device("rauc-dev-1")
    ds_id, sm_id = _release(stack, "rauc-os", "1.0", BUNDLE)
    stack.s3.clear()

    async def flow(ddi):
        base = await ddi()
        assert "configData" in base["_links"]
        await ddi.configData(ConfigStatusExecution.closed, ConfigStatusResult.success, hwRevision="2")
        assert _target(stack, "rauc-dev-1")["updateStatus"] == "registered"

        action_id = _assign(stack, ds_id, "rauc-dev-1")
        assert _target(stack, "rauc-dev-1")["updateStatus"] == "pending"
        base = await ddi()
        href = base["_links"]["deploymentBase"]["href"]
        match = re.search(r"/deploymentBase/(.+)\?c=(.+)$", href)  # what RaucDBUSDDIClient requires
        assert match and match.group(1) == str(action_id)
        info = await ddi.deploymentBase[match.group(1)](match.group(2))
        assert info["id"] == str(action_id)
        artifact = info["deployment"]["chunks"][0]["artifacts"][0]
        await ddi.deploymentBase[action_id].feedback(DeploymentStatusExecution.proceeding,
                                                     DeploymentStatusResult.none, ["Downloading"])
        # The app downloads from the href it was given ...
        md5 = await ddi.get_binary(artifact["_links"]["download-http"]["href"], str(tmp_path / "a.raucb"))
        assert md5 == artifact["hashes"]["md5"] == hashlib.md5(BUNDLE).hexdigest()
        # ... and the library's own resource rebuilds the canonical URL from its configured host.
        md5 = await ddi.softwaremodules[sm_id].artifacts[artifact["filename"]](str(tmp_path / "b.raucb"))
        assert md5 == hashlib.md5(BUNDLE).hexdigest()
        assert (tmp_path / "b.raucb").read_bytes() == BUNDLE
        await ddi.deploymentBase[action_id].feedback(DeploymentStatusExecution.closed,
                                                     DeploymentStatusResult.success, ["Software bundle installed"])
        base = await ddi()
        assert "deploymentBase" not in base["_links"]
        return action_id

    action_id = _run(_client_session(stack, "rauc-dev-1", token, flow))
    target = _target(stack, "rauc-dev-1")
    assert target["updateStatus"] == "in_sync"
    assert stack.admin.get(f"{stack.url}/rest/v1/targets/rauc-dev-1/installedDS").json()["id"] == ds_id
    assert stack.admin.get(f"{stack.url}/rest/v1/targets/rauc-dev-1/attributes").json() == {"hwRevision": "2"}
    history = stack.admin.get(f"{stack.url}/rest/v1/targets/rauc-dev-1/actions/{action_id}/status").json()
    assert history["content"][0]["type"] == "finished"
    downloads = [s for s in stack.s3.seen() if s.method == "GET"]
    assert len(downloads) == 2
    assert all(s.query_auth and not s.had_authorization and s.status == 200 for s in downloads)


def test_strict_s3_refuses_the_presigned_url_with_the_device_header(stack, device):
    """Control: the same signed URL, sent with the device's Authorization header, fails as on real S3."""
    import requests
    token = device("rauc-dev-2")
    ds_id, sm_id = _release(stack, "rauc-os2", "1.0", b"x" * 100)
    _assign(stack, ds_id, "rauc-dev-2")
    resp = requests.get(f"{stack.url}/DEFAULT/controller/v1/rauc-dev-2/softwaremodules/{sm_id}/artifacts/"
                        f"rauc-os2.raucb", headers={"Authorization": f"TargetToken {token}"},
                        allow_redirects=False)
    assert resp.status_code == 302
    refused = requests.get(resp.headers["Location"], headers={"Authorization": f"TargetToken {token}"})
    assert refused.status_code == 400 and b"Only one auth mechanism allowed" in refused.content


def test_accepted_cancel_with_rauc_hawkbit(stack, device):
    token = device("rauc-dev-3")
    ds_id, _ = _release(stack, "rauc-os3", "1.0", b"y" * 1000)

    async def flow(ddi):
        await ddi()
        action_id = _assign(stack, ds_id, "rauc-dev-3")
        resp = stack.admin.delete(f"{stack.url}/rest/v1/targets/rauc-dev-3/actions/{action_id}")
        assert resp.status_code == 200
        base = await ddi()
        href = base["_links"]["cancelAction"]["href"]
        cancel_id = re.search(r"/cancelAction/(.+)$", href).group(1)
        stop_info = await ddi.cancelAction[cancel_id]()
        stop_id = stop_info["cancelAction"]["stopId"]
        assert stop_id == str(action_id)
        await ddi.cancelAction[stop_id].feedback(CancelStatusExecution.closed, CancelStatusResult.success,
                                                 ["Action canceled."])
        base = await ddi()
        assert "cancelAction" not in base["_links"] and "deploymentBase" not in base["_links"]
        return action_id

    action_id = _run(_client_session(stack, "rauc-dev-3", token, flow))
    action = stack.admin.get(f"{stack.url}/rest/v1/targets/rauc-dev-3/actions/{action_id}").json()
    assert (action["status"], action["detailStatus"], action["active"]) == ("canceled", "canceled", False)
    assert _target(stack, "rauc-dev-3")["updateStatus"] == "in_sync"
