"""The OpenAPI documents and their viewer over HTTP: /openapi/<name>.json and /openapi/, without credentials,
every file the viewer loads coming from the service itself."""
from __future__ import annotations

import gzip
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import basic

SHIPPED = Path(__file__).resolve().parents[2] / "chalicelib" / "openapi"
NAMES = ("mgmt", "ddi", "dcs", "dws", "service")
ROOT = "http://localhost"  # chalice's test client sends no Host: the service's own base URL


def _header(resp, name: str) -> str | None:
    return {k.lower(): v for k, v in resp.headers.items()}.get(name.lower())


@pytest.mark.parametrize("name", NAMES)
def test_each_document_is_served_without_credentials_as_json(client, name):
    resp = client.http.get(f"/openapi/{name}.json")
    assert resp.status_code == 200
    assert _header(resp, "Content-Type") == "application/json"
    assert resp.body == (SHIPPED / f"{name}.json").read_bytes()
    assert json.loads(resp.body)["openapi"].startswith("3.")
    # a wrong login does not matter either: the documents are public
    assert client.http.get(f"/openapi/{name}.json", headers=basic("admin", "wrong")).status_code == 200


def test_documents_go_compressed_to_clients_that_accept_gzip(client):
    resp = client.http.get("/openapi/mgmt.json", headers={"Accept-Encoding": "gzip, deflate"})
    assert resp.status_code == 200 and _header(resp, "Content-Encoding") == "gzip"
    assert gzip.decompress(resp.body) == (SHIPPED / "mgmt.json").read_bytes()
    assert len(resp.body) < len((SHIPPED / "mgmt.json").read_bytes()) / 5
    refused = client.http.get("/openapi/mgmt.json", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert _header(refused, "Content-Encoding") is None and refused.body == (SHIPPED / "mgmt.json").read_bytes()


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") or (tag == "option" and name == "value"):
                self.urls.append((tag, value or ""))


def _references(page: bytes) -> list[tuple[str, str]]:
    parser = _References()
    parser.feed(page.decode("utf-8"))
    return parser.urls


@pytest.mark.parametrize("path", ["/openapi/", "/openapi", "/openapi/index.html"])
def test_the_viewer_loads_only_the_services_own_files(client, path):
    resp = client.http.get(path)
    assert resp.status_code == 200
    assert _header(resp, "Content-Type") == "text/html; charset=utf-8"
    assert "default-src 'self'" in _header(resp, "Content-Security-Policy")
    urls = [(tag, url) for tag, url in _references(resp.body) if url != "data:,"]  # the empty favicon: inline
    assert {tag for tag, _ in urls} >= {"script", "link", "option"}
    assert [url for _, url in urls if not url.startswith(f"{ROOT}/openapi/")] == []
    assert [url for tag, url in urls if tag == "option"] == [f"{ROOT}/openapi/{name}.json" for name in NAMES]
    for _, url in urls:
        got = client.http.get(url.removeprefix(ROOT))
        assert got.status_code == 200 and got.body, url
    scripts = [url for tag, url in urls if tag == "script"]
    assert [url.rsplit("/", 1)[1] for url in scripts] == ["swagger-ui-bundle.js", "viewer.js"]
    bundle = client.http.get("/openapi/swagger-ui-bundle.js")
    assert _header(bundle, "Content-Type").startswith("text/javascript")
    assert b"SwaggerUIBundle" in bundle.body
    own = client.http.get("/openapi/viewer.js").body.decode()
    assert "http" not in own and "validatorUrl: null" in own  # swagger-ui's default validator is elsewhere


def test_the_viewers_large_files_are_kept_compressed_and_unpacked_for_clients_without_gzip(client):
    packed = client.http.get("/openapi/swagger-ui-bundle.js", headers={"Accept-Encoding": "br, gzip"})
    plain = client.http.get("/openapi/swagger-ui-bundle.js", headers={"Accept-Encoding": "identity"})
    assert _header(packed, "Content-Encoding") == "gzip" and _header(plain, "Content-Encoding") is None
    assert gzip.decompress(packed.body) == plain.body
    assert _header(plain, "Vary") == "Accept-Encoding"
    css = client.http.get("/openapi/swagger-ui.css")
    assert _header(css, "Content-Type") == "text/css; charset=utf-8" and b".swagger-ui" in css.body


def test_a_forwarded_host_cannot_put_markup_into_the_page(client):
    resp = client.http.get("/openapi/", headers={"X-Forwarded-Host": 'evil"><script>alert(1)</script>'})
    assert b"<script>alert" not in resp.body
    assert [tag for tag, _ in _references(resp.body) if tag == "script"] == ["script", "script"]


@pytest.mark.parametrize("name", ["nope.json", "mgmt", "..%2Fapi%2Fopenapi.py", "index.htm"])
def test_anything_else_under_openapi_is_not_found(client, name):
    resp = client.http.get(f"/openapi/{name}")
    assert resp.status_code == 404
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.repo.entityNotFound"
