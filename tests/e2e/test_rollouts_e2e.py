"""A rollout of 1,000 devices over real HTTP against the launcher (issue 9): four groups of 250, success
condition THRESHOLD 100, devices that poll, fetch their deploymentBase and report closed/success as a DDI
client does (TargetToken auth), one of them the real third-party client rauc-hawkbit.

The launcher drains its jobs queue in a thread, pausing briefly whenever it is empty (infra/launcher.py); the e2e
stack starts without that thread for deterministic tests, so this test runs it (`Running.draining`) once the
devices report, and drains the queue itself where it must know the checks have run.

What it measures and prints (it asserts behaviour only; the ≤ 1 s budget is `make bench`'s, bench/rollouts.py):
the time from the feedback that completes group 1 (the request sent) to the first poll of group 2's first
device that sees a deploymentBase link, polling that device in a loop from the test's thread. The 999 other
devices poll from a small thread pool (POOL), each once when its group runs, not on a polling interval.

Threshold 100: group 1 is complete only when all its 250 devices reported success, so the one feedback that
completes it is known (the last one) and timed alone, after the 249 others were reported and their checks run.
"""
from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import aiohttp
import pytest
import requests
from rauc_hawkbit.ddi.client import DDIClient
from rauc_hawkbit.ddi.deployment_base import DeploymentStatusExecution, DeploymentStatusResult

from infra import launcher
from tests.contract.hooks import aiohttp_response_class

DEVICES = 1_000
GROUPS = 4
PER_REQUEST = 500  # targets a bulk POST creates
POOL = 8  # concurrent simulated devices
PREFIX = "ro-"
RAUC_DEVICE = f"{PREFIX}0000"  # in group 1: the groups are filled in controllerId order
DRAIN_IDLE = launcher.DRAIN_IDLE_SECONDS  # as the launcher's queue drain waits when the queue is empty
IMAGE = b"rollout image " * 512


def _token(controller_id: str) -> str:
    return f"tok-{controller_id}"


class Device:
    """A DDI client as a device runs it: plain HTTP, a session of its own (keep-alive), its target token."""

    def __init__(self, url: str, controller_id: str) -> None:
        self.base = f"{url}/DEFAULT/controller/v1/{controller_id}"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"TargetToken {_token(controller_id)}",
                                     "Accept": "application/hal+json"})

    def deployment_href(self) -> str | None:
        resp = self.session.get(self.base)
        assert resp.status_code == 200, resp.text
        return resp.json().get("_links", {}).get("deploymentBase", {}).get("href")

    def retrieve(self) -> str:
        """Poll and follow deploymentBase: the action's id."""
        href = self.deployment_href()
        assert href is not None, f"{self.base} has no deployment"
        deployment = self.session.get(href)
        assert deployment.status_code == 200, deployment.text
        return deployment.json()["id"]

    def report_success(self, action_id: str) -> None:
        feedback = self.session.post(f"{self.base}/deploymentBase/{action_id}/feedback", json={
            "id": action_id, "status": {"execution": "closed", "result": {"finished": "success"},
                                        "details": ["installed"]}})
        assert feedback.status_code == 200, feedback.text

    def update(self) -> None:
        self.report_success(self.retrieve())

    def close(self) -> None:
        self.session.close()


def _ok(resp: requests.Response, status: int = 200):
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else None


def _release(stack) -> int:
    url, admin = stack.url, stack.admin
    sm_id = _ok(admin.post(f"{url}/rest/v1/softwaremodules",
                           json=[{"name": "ro-os", "version": "1", "type": "os"}]), 201)[0]["id"]
    _ok(admin.post(f"{url}/rest/v1/softwaremodules/{sm_id}/artifacts", files={"file": ("ro.raucb", IMAGE)}), 201)
    return _ok(admin.post(f"{url}/rest/v1/distributionsets", json=[{"name": "ro-ds", "version": "1", "type": "os",
                                                                     "modules": [{"id": sm_id}]}]), 201)[0]["id"]


def _rauc_update(stack, controller_id: str, tmp_path) -> int:
    """One device's update through rauc-hawkbit: poll, deploymentBase, download (a 302 to the strict S3),
    feedback closed/success."""
    async def flow() -> int:
        checked = aiohttp_response_class(stack.url, stack.contract)
        async with aiohttp.ClientSession(response_class=checked) as session:
            ddi = DDIClient(session, urlparse(stack.url).netloc, False, _token(controller_id), "DEFAULT",
                            controller_id)
            base = await ddi()
            match = re.search(r"/deploymentBase/(.+)\?c=(.+)$", base["_links"]["deploymentBase"]["href"])
            assert match, base
            info = await ddi.deploymentBase[match.group(1)](match.group(2))
            artifact = info["deployment"]["chunks"][0]["artifacts"][0]
            md5 = await ddi.get_binary(artifact["_links"]["download-http"]["href"], str(tmp_path / "ro.raucb"))
            assert md5 == artifact["hashes"]["md5"]
            await ddi.deploymentBase[match.group(1)].feedback(DeploymentStatusExecution.closed,
                                                              DeploymentStatusResult.success, ["installed"])
            after = await ddi()
            assert "deploymentBase" not in after["_links"]
            return int(info["id"])
    return asyncio.run(flow())


def _rollout(stack, rollout_id: int) -> dict:
    return _ok(stack.admin.get(f"{stack.url}/rest/v1/rollouts/{rollout_id}"))


def _groups(stack, rollout_id: int) -> list[dict]:
    return _ok(stack.admin.get(f"{stack.url}/rest/v1/rollouts/{rollout_id}/deploygroups"))["content"]


def _members(stack, rollout_id: int, group_id: int) -> list[str]:
    found: list[str] = []
    while True:
        page = _ok(stack.admin.get(f"{stack.url}/rest/v1/rollouts/{rollout_id}/deploygroups/{group_id}/targets",
                                   params={"offset": len(found), "limit": 500}))
        found += [t["controllerId"] for t in page["content"]]
        if len(found) >= page["total"] or not page["content"]:
            return found


def _wait(what, condition, timeout: float = 120.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


@pytest.fixture
def fleet(stack):
    """DEVICES targets with known tokens, created in bulk; target tokens on for the test."""
    url, admin = stack.url, stack.admin
    _ok(admin.put(f"{url}/rest/v1/system/configs/authentication.targettoken.enabled", json={"value": True}))
    ids = [f"{PREFIX}{i:04d}" for i in range(DEVICES)]
    for start in range(0, DEVICES, PER_REQUEST):
        _ok(admin.post(f"{url}/rest/v1/targets", json=[
            {"controllerId": cid, "name": cid, "securityToken": _token(cid)} for cid in ids[start:start + PER_REQUEST]]),
            201)
    devices = {cid: Device(url, cid) for cid in ids}
    try:
        yield devices
    finally:
        for device in devices.values():
            device.close()
        admin.delete(f"{url}/rest/v1/system/configs/authentication.targettoken.enabled")


def test_a_rollout_of_1000_devices_runs_its_four_groups_on_device_feedback(stack, fleet, tmp_path):
    url, admin, app = stack.url, stack.admin, stack.running.app
    from infra import launcher

    started = time.monotonic()
    ds_id = _release(stack)
    created = _ok(admin.post(f"{url}/rest/v1/rollouts", json={
        "name": "ro-1000", "distributionSetId": ds_id, "targetFilterQuery": f"controllerId=={PREFIX}*",
        "amountGroups": GROUPS, "successCondition": {"condition": "THRESHOLD", "expression": "100"},
        "errorCondition": {"condition": "THRESHOLD", "expression": "50"}}), 201)
    rollout_id = created["id"]
    assert created["status"] == "creating"
    launcher.drain_jobs(app)  # the creation's unit
    rollout = _rollout(stack, rollout_id)
    assert (rollout["status"], rollout["totalTargets"], rollout["totalGroups"]) == ("ready", DEVICES, GROUPS)
    groups = _groups(stack, rollout_id)
    assert [g["totalTargets"] for g in groups] == [DEVICES // GROUPS] * GROUPS
    members = [_members(stack, rollout_id, g["id"]) for g in groups]
    assert sorted(sum(members, [])) == sorted(fleet) and RAUC_DEVICE in members[0]
    created_s = time.monotonic() - started
    _ok(admin.post(f"{url}/rest/v1/rollouts/{rollout_id}/start"))
    launcher.drain_jobs(app)  # the start: group 1's actions
    assert [g["status"] for g in _groups(stack, rollout_id)] == ["running"] + ["scheduled"] * (GROUPS - 1)
    assert fleet[members[1][0]].deployment_href() is None

    # The launcher's drain runs from here on: the checks that the devices' feedback queues run as they come.
    with ThreadPoolExecutor(POOL) as pool, stack.running.draining(DRAIN_IDLE):
        # Group 1 but its last device: the real client for one, plain HTTP for the others.
        first, last = members[0][:-1], members[0][-1]
        _rauc_update(stack, RAUC_DEVICE, tmp_path)
        list(pool.map(lambda cid: fleet[cid].update(), [cid for cid in first if cid != RAUC_DEVICE]))
        launcher.drain_jobs(app)  # their checks have run: 249 of 250 is below the threshold
        assert [g["status"] for g in _groups(stack, rollout_id)] == ["running"] + ["scheduled"] * (GROUPS - 1)
        watcher = fleet[members[1][0]]  # the first target group 2 starts
        assert watcher.deployment_href() is None

        action_id = fleet[last].retrieve()
        sent = time.monotonic()
        fleet[last].report_success(action_id)
        answered = time.monotonic()
        _wait("group 2's first action", watcher.deployment_href, every=0.01)
        seen = time.monotonic()
        print(f"\nrollout of {DEVICES} devices in {GROUPS} groups: created in {created_s:.2f} s; "
              f"feedback completing group 1 -> group 2's first action visible to a poll: "
              f"{seen - sent:.3f} s (the feedback request {answered - sent:.3f} s; queue drain idles "
              f"{DRAIN_IDLE} s; polled in a loop from one thread while {POOL} others idle)")

        for position in range(1, GROUPS):
            _wait(f"group {position + 1} running",
                  lambda p=position: _groups(stack, rollout_id)[p]["status"] == "running", every=0.2)
            _wait(f"group {position + 1}'s actions", lambda p=position: _rollout(stack, rollout_id)[
                "totalTargetsPerStatus"]["running"] == len(members[p]), every=0.2)
            list(pool.map(lambda cid: fleet[cid].update(), members[position]))
        _wait("the rollout finished", lambda: _rollout(stack, rollout_id)["status"] == "finished", every=0.2)

    rollout = _rollout(stack, rollout_id)
    assert rollout["totalTargetsPerStatus"]["finished"] == DEVICES
    assert [g["status"] for g in _groups(stack, rollout_id)] == ["finished"] * GROUPS
    action = _ok(admin.get(f"{url}/rest/v1/targets/{RAUC_DEVICE}/actions"))["content"][0]
    assert action["status"] == "finished"
    assert _ok(admin.get(f"{url}/rest/v1/targets/{members[-1][-1]}"))["updateStatus"] == "in_sync"
    print(f"whole rollout: {time.monotonic() - started:.1f} s")
