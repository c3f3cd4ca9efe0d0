"""The management console under /ui: its page and files without credentials, nothing loaded from elsewhere, every
module it imports served, a strict Content-Security-Policy that lets uploads reach the artifact bucket only."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from chalicelib.api import console
from chalicelib.store import blobs
from tests.api.test_openapi_served import ROOT, _header, _references

SHIPPED = Path(__file__).resolve().parents[2] / "chalicelib" / "console"


@pytest.mark.parametrize("path", ["/ui/", "/ui", "/ui/index.html"])
def test_the_page_loads_only_the_services_own_files(client, path):
    resp = client.http.get(path)
    assert resp.status_code == 200
    assert _header(resp, "Content-Type") == "text/html; charset=utf-8"
    urls = [url for _, url in _references(resp.body) if url != "data:," and not url.startswith("#")]  # in-page
    assert sorted(urls) == [f"{ROOT}/ui/app.js", f"{ROOT}/ui/console.css"]
    assert f'data-root="{ROOT}"'.encode() in resp.body


def test_the_policy_allows_this_service_and_the_upload_endpoint_only(client):
    policy = _header(client.http.get("/ui/"), "Content-Security-Policy")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["connect-src"] == f"'self' {blobs.upload_origin()}"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert re.match(r"^https?://[^/]+$", blobs.upload_origin())
    assert blobs.presigned_put("k", 60).startswith(blobs.upload_origin() + "/")


def test_every_module_the_app_imports_is_served_and_nothing_else_is_fetched(client):
    seen, todo = set(), ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        resp = client.http.get(f"/ui/{name}", headers={"Accept-Encoding": "identity"})
        assert resp.status_code == 200, name
        assert _header(resp, "Content-Type") == "text/javascript; charset=utf-8"
        source = resp.body.decode()
        assert source == (SHIPPED / name).read_text()
        todo += re.findall(r"from '\./([\w.-]+\.js)'", source)
        assert "http://" not in source.replace("http://www.w3.org/2000/svg", "") and "https://" not in source
    assert seen == {n for n in console.ASSETS if n.endswith(".js")}
    assert seen == {p.name for p in SHIPPED.glob("*.js")}


def test_files_go_compressed_to_clients_that_accept_gzip(client):
    packed = client.http.get("/ui/deployment.js", headers={"Accept-Encoding": "gzip"})
    assert _header(packed, "Content-Encoding") == "gzip" and _header(packed, "Cache-Control") == "no-cache"
    assert gzip.decompress(packed.body) == (SHIPPED / "deployment.js").read_bytes()
    css = client.http.get("/ui/console.css", headers={"Accept-Encoding": "identity"})
    assert _header(css, "Content-Type") == "text/css; charset=utf-8" and css.body == (SHIPPED / "console.css").read_bytes()


def test_a_forwarded_host_cannot_put_markup_into_the_page(client):
    resp = client.http.get("/ui/", headers={"X-Forwarded-Host": 'evil"><script>alert(1)</script>'})
    assert b"<script>alert" not in resp.body
    assert [tag for tag, _ in _references(resp.body) if tag == "script"] == ["script"]


@pytest.mark.parametrize("name", ["nope.js", "app", "..%2Fapi%2Fconsole.py", "index.htm"])
def test_anything_else_under_ui_is_not_found(client, name):
    resp = client.http.get(f"/ui/{name}")
    assert resp.status_code == 404
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.repo.entityNotFound"


def test_browsers_revalidate_the_files_by_etag(client):
    first = client.http.get("/ui/app.js")
    tag = _header(first, "ETag")
    assert tag and _header(first, "Cache-Control") == "no-cache"
    again = client.http.get("/ui/app.js", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.body == b"" and _header(again, "ETag") == tag
    assert client.http.get("/ui/app.js", headers={"If-None-Match": '"other"'}).status_code == 200
    assert _header(client.http.get("/ui/ui.js"), "ETag") != tag
