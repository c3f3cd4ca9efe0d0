"""The product specification's seed example "update a single device" (README, "Compatibility notes", names the
seeds), run with curl as printed (host, tenant and credentials substituted).

The artifact is the seed's own: 28 bytes, md5 b14f29fe..., sha1 d2e7291c... The only additions are
`-L` on the download (the DDI artifact URL answers 302 to a signed URL: docs/architecture.md, "Downloads") and the
feedback body, which the seed shows below its curl line.
"""
from __future__ import annotations

import hashlib
import json
import subprocess

SEED_FILE = b"This is a test update file.\n"


def curl(*args: str) -> tuple[int, dict[str, str], bytes]:
    out = subprocess.run(["curl", "-s", *args], capture_output=True, check=True, timeout=30).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 302") or head.startswith(b"HTTP/1.1 100"):
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def test_seed_update_a_single_device(stack):
    host, tenant, token = stack.url, "DEFAULT", "seed-token-device03"
    admin = stack.admin
    assert admin.put(f"{host}/rest/v1/system/configs/authentication.targettoken.enabled",
                     json={"value": True}).status_code == 200
    assert admin.post(f"{host}/rest/v1/targets", json=[{"controllerId": "device03", "name": "Device 03",
                                                        "securityToken": token}]).status_code == 201
    # the device has polled before the update exists: REGISTERED
    status, _, _ = curl(f"{host}/{tenant}/controller/v1/device03", "-i", "-H", "Accept: application/hal+json",
                        "-H", f"Authorization: TargetToken {token}")
    assert status == 200
    sm = admin.post(f"{host}/rest/v1/softwaremodules", json=[{"name": "myOs", "version": "1.0", "type": "os"}])
    sm_id = sm.json()[0]["id"]
    assert admin.post(f"{host}/rest/v1/softwaremodules/{sm_id}/artifacts",
                      files={"file": ("example.file", SEED_FILE)}).status_code == 201
    ds = admin.post(f"{host}/rest/v1/distributionsets", json=[{"name": "myOs-DS", "version": "1.0", "type": "os",
                                                                "modules": [{"id": sm_id}]}])
    ds_id = ds.json()[0]["id"]
    assert admin.get(f"{host}/rest/v1/targets/device03").json()["updateStatus"] == "registered"

    # 1: assign
    status, _, body = curl(f"{host}/rest/v1/distributionsets/{ds_id}/assignedTargets/", "-u",
                           f"{tenant}\\admin:admin", "-i", "-X", "POST", "-H",
                           "Content-Type: application/json;charset=UTF-8",
                           "-d", '[{\n"id" : "device03",\n"type" : "forced"\n}]')
    assert status == 200
    result = json.loads(body)
    assert (result["assigned"], result["alreadyAssigned"], result["total"]) == (1, 0, 1)
    assert admin.get(f"{host}/rest/v1/targets/device03").json()["updateStatus"] == "pending"

    # 2.1: poll
    status, _, body = curl(f"{host}/{tenant}/controller/v1/device03", "-i", "-H", "Accept: application/hal+json",
                           "-H", f"Authorization: TargetToken {token}")
    assert status == 200
    base = json.loads(body)
    href = base["_links"]["deploymentBase"]["href"]
    assert "?c=" in href

    # 2.2: deployment information
    status, _, body = curl(href, "-i", "-H", "Accept: application/hal+json", "-H",
                           f"Authorization: TargetToken {token}")
    assert status == 200
    deployment = json.loads(body)
    action_id = deployment["id"]
    assert deployment["deployment"]["download"] == "forced" and deployment["deployment"]["update"] == "forced"
    chunk = deployment["deployment"]["chunks"][0]
    assert (chunk["part"], chunk["version"], chunk["name"]) == ("os", "1.0", "myOs")
    artifact = chunk["artifacts"][0]
    assert artifact["filename"] == "example.file" and artifact["size"] == 28
    # md5 and sha1 are the seed's; its printed sha256 is not the digest of those 28 bytes.
    assert artifact["hashes"] == {"sha1": "d2e7291c2c52b87b2ee00983217e1bcc0909251f",
                                  "md5": "b14f29fe8cea6b25e62a8e5c48b5a3a1",
                                  "sha256": hashlib.sha256(SEED_FILE).hexdigest()}

    # 2.3: download (follows the redirect; the Authorization header is not sent to the other origin)
    status, _, body = curl(artifact["_links"]["download-http"]["href"], "-i", "-L", "-H",
                           "Accept: application/hal+json", "-H", f"Authorization: TargetToken {token}")
    assert status == 200
    assert body == SEED_FILE

    # 2.4: feedback
    feedback = json.dumps({"id": action_id, "status": {"result": {"finished": "success"}, "execution": "closed",
                                                       "details": []}})
    status, _, _ = curl(f"{href.split('?')[0]}/feedback", "-i", "-X", "POST", "-H", "Accept: application/hal+json",
                        "-H", f"Authorization: TargetToken {token}", "-H", "Content-Type: application/json",
                        "-d", feedback)
    assert status == 200
    assert admin.get(f"{host}/rest/v1/targets/device03").json()["updateStatus"] == "in_sync"
