"""No orphans, through the launcher over HTTP: a deleted and re-created target starts empty, and the reaper
(one of the launcher's scheduled jobs) deletes a direct upload that was never completed once its URL expired."""
from __future__ import annotations

import boto3
import requests
from botocore.config import Config

TENANT = "DEFAULT"


def _ok(resp: requests.Response, status: int = 200) -> dict | list:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else {}


def _staged_keys(stack) -> list[str]:
    from chalicelib import config
    s3 = boto3.client("s3", endpoint_url=stack.moto_url, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}))
    found = s3.list_objects_v2(Bucket=config.settings().bucket, Prefix=f"uploads/{TENANT}/")
    return [o["Key"] for o in found.get("Contents", [])]


def test_a_recreated_target_starts_empty(stack):
    base, admin = stack.url, stack.admin
    _ok(admin.put(f"{base}/rest/v1/system/configs/authentication.targettoken.enabled", json={"value": True}))
    _ok(admin.post(f"{base}/rest/v1/targets", json=[{"controllerId": "orphan-e2e", "securityToken": "tok-oe2e"}]),
        201)
    sm = _ok(admin.post(f"{base}/rest/v1/softwaremodules",
                        json=[{"name": "oe2e", "version": "1", "type": "os"}]), 201)[0]
    ds = _ok(admin.post(f"{base}/rest/v1/distributionsets", json=[{"name": "oe2e", "version": "1", "type": "os",
                                                                  "modules": [{"id": sm["id"]}]}]), 201)[0]
    _ok(admin.post(f"{base}/rest/v1/distributionsets/{ds['id']}/assignedTargets", json=[{"id": "orphan-e2e"}]))
    device = {"Authorization": "TargetToken tok-oe2e", "Accept": "application/hal+json"}
    assert "deploymentBase" in _ok(requests.get(f"{base}/{TENANT}/controller/v1/orphan-e2e", headers=device))["_links"]
    _ok(admin.post(f"{base}/api/deviceconfiguration/v3/devices/orphan-e2e/configurationTasks", json={"files": []}),
        201)

    _ok(admin.delete(f"{base}/rest/v1/targets/orphan-e2e"))
    _ok(admin.post(f"{base}/rest/v1/targets", json=[{"controllerId": "orphan-e2e", "securityToken": "tok-oe2e"}]),
        201)
    assert _ok(admin.get(f"{base}/rest/v1/targets/orphan-e2e/actions"))["total"] == 0
    tasks = _ok(admin.get(f"{base}/api/deviceconfiguration/v3/devices/orphan-e2e/configurationTasks"))
    assert tasks["content"] == []
    links = _ok(requests.get(f"{base}/{TENANT}/controller/v1/orphan-e2e", headers=device))["_links"]
    assert "deploymentBase" not in links
    assert stack.run_schedules()["reaper"]["failed"] == 0


def test_the_reaper_deletes_an_upload_never_completed(stack):
    from chalicelib import clock
    base, admin = stack.url, stack.admin
    sm = _ok(admin.post(f"{base}/rest/v1/softwaremodules",
                        json=[{"name": "abandoned-upload", "version": "1", "type": "os"}]), 201)[0]
    upload = _ok(admin.post(f"{base}/rest/v1/softwaremodules/{sm['id']}/uploads", json={"filename": "big.bin"}), 201)
    assert requests.put(upload["uploadUrl"], data=b"x" * 1000).status_code == 200  # the client's bytes, via S3
    staged = [key for key in _staged_keys(stack) if upload["uploadId"] in key]
    assert len(staged) == 1
    assert stack.run_schedules()["reaper"]["failed"] == 0
    assert [key for key in _staged_keys(stack) if upload["uploadId"] in key] == staged  # it may still complete
    clock.advance(2 * 3600 * 1000)  # its URL (valid for an hour) has expired
    try:
        assert stack.run_schedules()["reaper"]["failed"] == 0
    finally:
        clock.advance(-2 * 3600 * 1000)
    assert [key for key in _staged_keys(stack) if upload["uploadId"] in key] == []
