"""DDI over real HTTP through the launcher: what SWUpdate and reverse-proxy set-ups send."""
from __future__ import annotations

import hashlib
import http.client
from urllib.parse import urlparse

import requests

DATA = b"swupdate image " * 5000


def _release_and_assign(stack, controller_id: str, token: str) -> tuple[int, int]:
    admin, url = stack.admin, stack.url
    assert admin.post(f"{url}/rest/v1/targets", json=[{"controllerId": controller_id, "name": controller_id,
                                                        "securityToken": token}]).status_code == 201
    sm_id = admin.post(f"{url}/rest/v1/softwaremodules",
                       json=[{"name": f"{controller_id}-os", "version": "1", "type": "os"}]).json()[0]["id"]
    assert admin.post(f"{url}/rest/v1/softwaremodules/{sm_id}/artifacts",
                      files={"file": ("image.swu", DATA)}).status_code == 201
    ds_id = admin.post(f"{url}/rest/v1/distributionsets",
                       json=[{"name": f"{controller_id}-ds", "version": "1", "type": "os",
                              "modules": [{"id": sm_id}]}]).json()[0]["id"]
    resp = admin.post(f"{url}/rest/v1/distributionsets/{ds_id}/assignedTargets",
                      json=[{"id": controller_id, "type": "forced"}])
    return resp.json()["assignedActions"][0]["id"], sm_id


def test_head_then_get_download_as_swupdate_does(stack):
    resp = stack.admin.put(f"{stack.url}/rest/v1/system/configs/authentication.targettoken.enabled",
                           json={"value": True})
    assert resp.status_code == 200
    action_id, sm_id = _release_and_assign(stack, "swu-dev", "tok-swu")
    path = f"/DEFAULT/controller/v1/swu-dev/softwaremodules/{sm_id}/artifacts/image.swu"
    auth = {"Authorization": "TargetToken tok-swu", "Accept": "*/*"}

    # HEAD: the size, one Content-Length header, no body, no redirect
    conn = http.client.HTTPConnection(urlparse(stack.url).netloc, timeout=10)
    conn.request("HEAD", path, headers=auth)
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b""
    lengths = [v for k, v in head.getheaders() if k.lower() == "content-length"]
    assert lengths == [str(len(DATA))]
    assert head.getheader("Location") is None
    conn.close()

    # GET: a 302 to the signed URL; the client drops Authorization on the cross-origin redirect
    stack.s3.clear()
    got = requests.get(stack.url + path, headers=auth)
    assert got.status_code == 200 and got.content == DATA
    assert hashlib.sha1(got.content).hexdigest() == got.history[0].headers["ETag"].strip('"')
    assert [s.status for s in stack.s3.seen() if s.method == "GET"] == [200]
    history = stack.admin.get(f"{stack.url}/rest/v1/targets/swu-dev/actions/{action_id}/status").json()
    downloads = [e["messages"] for e in history["content"] if e["type"] == "download"]
    assert downloads == [[f"Update Server: Target downloads {path}"]]


def test_authority_header_numbered_from_one_behind_the_trusted_proxy(stack, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("SKYHAWK_TRUSTED_PROXY_SECRET", "proxy-secret")
    config.reset()
    try:
        assert stack.admin.post(f"{stack.url}/rest/v1/targets",
                                json=[{"controllerId": "cert-dev", "name": "cert-dev"}]).status_code == 201
        assert stack.admin.put(f"{stack.url}/rest/v1/system/configs/authentication.header.authority",
                               json={"value": "ae:11:f5"}).status_code == 200
        proxied = {"X-Skyhawk-Proxy-Secret": "proxy-secret", "X-Controller-Id": "cert-dev",
                   "X-Authority-1": "AE:11:F5"}
        resp = requests.get(f"{stack.url}/DEFAULT/controller/v1/cert-dev", headers=proxied)
        assert resp.status_code == 200 and "configData" in resp.json()["_links"]
        forged = {k: v for k, v in proxied.items() if k != "X-Skyhawk-Proxy-Secret"}
        assert requests.get(f"{stack.url}/DEFAULT/controller/v1/cert-dev", headers=forged).status_code == 401
    finally:
        monkeypatch.undo()
        config.reset()
