"""/ui: the management console, a static single-page app (chalicelib/console/) that calls the public Management,
DCS and DWS APIs with the operator's own Basic credentials. No credentials for the files themselves.

No build step and nothing from elsewhere: plain ES modules, CSS and inline SVG icons, sent gzip-compressed to
clients that accept it. The page's Content-Security-Policy lets it load from and talk to this service only, plus
the artifact bucket's endpoint for direct uploads (the presigned PUT URLs' origin).
"""

from __future__ import annotations

import functools
import hashlib
import html
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib import errors
from chalicelib.api.common import base_url, route
from chalicelib.api.openapi import read, static_file
from chalicelib.lazy import lazy_import

# The catalogue's services load on first use, not with the app: a device's cold start does not need them.
software_modules = lazy_import("chalicelib.services.software_modules")

bp = Blueprint(__name__)

DIR = Path(__file__).resolve().parents[1] / "console"
_JS = "text/javascript; charset=utf-8"
ASSETS = {
    "console.css": "text/css; charset=utf-8",
    "app.js": _JS,
    "api.js": _JS,
    "ui.js": _JS,
    "deployment.js": _JS,
    "upload.js": _JS,
    "configuration.js": _JS,
    "fleet.js": _JS,
    "diff.js": _JS,
}
# The app changes with each release of the service: browsers revalidate (ETag) rather than run an old module.
_CACHE = "no-cache"


@functools.cache
def _etag(path: Path) -> str:
    return '"' + hashlib.sha256(read(path)).hexdigest()[:32] + '"'


@functools.cache
def _policy(upload_origin: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        f"connect-src 'self' {upload_origin}; form-action 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


@route(bp, "/ui")
def console():
    """The console's page (at /ui and /ui/)."""
    return _page()


@route(bp, "/ui/{name}")
def console_file(name):
    if name == "index.html":
        return _page()
    if name in ASSETS:
        tag = _etag(DIR / name)
        offered = (bp.current_request.headers.get("if-none-match") or "").split(",")
        if tag in (t.strip() for t in offered):
            return Response(body="", status_code=304, headers={"ETag": tag, "Cache-Control": _CACHE})
        response = static_file(bp.current_request, DIR / name, ASSETS[name], cache=_CACHE)
        response.headers["ETag"] = tag
        return response
    raise errors.EntityNotFound.of("ConsoleFile", name[:100])


def _page() -> Response:
    root = html.escape(base_url(bp), quote=True)
    page = read(DIR / "index.html").decode("utf-8").replace("{root}", root)
    return Response(
        body=page,
        status_code=200,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": _policy(software_modules.upload_origin()),
            "Cache-Control": "no-cache",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Vary": "Host, X-Forwarded-Host, X-Forwarded-Proto",
        },
    )
