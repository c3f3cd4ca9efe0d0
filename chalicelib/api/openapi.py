"""/openapi: the service's OpenAPI documents (chalicelib/openapi/*.json, built by tools/openapi_docs) and a
bundled viewer (swagger-ui, chalicelib/openapi/viewer/). No credentials: they describe the API, not its data.

Every file the viewer loads comes from this service. Its two large files are kept gzip-compressed in the
package and sent so to clients that accept gzip; the others get them unpacked.
"""

from __future__ import annotations

import functools
import gzip
import html
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib import errors
from chalicelib.api.common import base_url, route

bp = Blueprint(__name__)

DIR = Path(__file__).resolve().parents[1] / "openapi"
VIEWER = DIR / "viewer"
# The documents, in the order the viewer offers them (the first is shown first).
DOCUMENTS = {
    "mgmt": "Management API",
    "ddi": "Direct Device Integration API (DDI)",
    "dcs": "Device Configuration Service (DCS)",
    "dws": "Deployment Workflow Service (DWS)",
    "service": "Service: health, these documents",
}
_TEXT = "text/plain; charset=utf-8"
# The viewer's files: name -> media type. A file kept compressed is `<name>.gz`.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "viewer.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
    "LICENSE": _TEXT,
    "NOTICE": _TEXT,
    "swagger-ui-bundle.js.LICENSE.txt": _TEXT,
}
_JSON = "application/json"
_HTML = "text/html; charset=utf-8"
# The viewer's page may load and fetch from this service only (swagger-ui styles some elements inline).
_PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_CACHE = "public, max-age=3600"


@functools.cache
def read(path: Path) -> bytes:
    return path.read_bytes()


@route(bp, "/openapi")
def viewer():
    """The viewer's page (at /openapi and /openapi/): absolute links to this service's own files."""
    return _page()


@route(bp, "/openapi/{name}")
def document(name):
    if name == "index.html":
        return _page()
    stem = name[: -len(".json")] if name.endswith(".json") else None
    if stem in DOCUMENTS:
        return _send(DIR / name, _JSON)
    if name in ASSETS:
        packed = VIEWER / f"{name}.gz"
        return _send(packed, ASSETS[name], packed=True) if packed.exists() else _send(VIEWER / name, ASSETS[name])
    raise errors.EntityNotFound.of("OpenApiFile", name[:100])


def _send(path: Path, media_type: str, packed: bool = False) -> Response:
    return static_file(bp.current_request, path, media_type, packed)


def static_file(request, path: Path, media_type: str, packed: bool = False, cache: str = _CACHE) -> Response:
    """The file, gzip-compressed for a client that accepts it (`packed`: the file is kept compressed)."""
    headers: dict[str, str | list[str]] = {
        "Content-Type": media_type,
        "Cache-Control": cache,
        "Vary": "Accept-Encoding",
    }
    if _accepts_gzip(request.headers.get("accept-encoding")):
        body = read(path) if packed else _compressed(path)
        return Response(body=body, status_code=200, headers={**headers, "Content-Encoding": "gzip"})
    return Response(body=gzip.decompress(read(path)) if packed else read(path), status_code=200, headers=headers)


@functools.cache
def _compressed(path: Path) -> bytes:
    return gzip.compress(read(path), compresslevel=6, mtime=0)


def _accepts_gzip(accept_encoding: str | None) -> bool:
    for coding in (accept_encoding or "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _page() -> Response:
    root = html.escape(base_url(bp), quote=True)
    options = "\n".join(
        f'      <option value="{root}/openapi/{key}.json" data-name="{key}">{html.escape(title)}</option>'
        for key, title in DOCUMENTS.items()
    )
    page = read(VIEWER / "index.html").decode("utf-8").replace("{options}", options).replace("{root}", root)
    return Response(
        body=page,
        status_code=200,
        headers={
            "Content-Type": _HTML,
            "Content-Security-Policy": _PAGE_POLICY,
            "Cache-Control": "no-cache",
            "Vary": "Host, X-Forwarded-Host, X-Forwarded-Proto",
        },
    )
