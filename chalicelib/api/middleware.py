"""HTTP middleware: catalogue errors rendered in their wire format; ETag / If-None-Match on GET JSON."""
from __future__ import annotations

import hashlib

from chalice.app import Response

from chalicelib import errors
from chalicelib.api import ddi_wire

_DCS_SERVICES = (("/api/deviceconfiguration/", "deviceconfiguration"),
                 ("/api/deploymentworkflow/", "deploymentworkflow"))


def render_errors(event, get_response):
    try:
        return get_response(event)
    except errors.SkyhawkError as error:
        path = event.path or ""
        for prefix, service in _DCS_SERVICES:
            if path.startswith(prefix):
                return errors.render_dcs(error, service)
        if ddi_wire.is_ddi_path(path):
            as_cbor = ddi_wire.error_response(error, (event.headers or {}).get("accept"))
            if as_cbor is not None:
                return as_cbor
        return errors.render_hawkbit(error)


def etags(event, get_response):
    """hawkBit's ShallowEtagHeaderFilter: MD5 of a JSON (or CBOR) body as ETag; a matching If-None-Match gets 304."""
    response = get_response(event)
    if event.method != "GET" or response.status_code != 200 or not isinstance(response.body, (str, bytes)):
        return response
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
    if "json" not in content_type and "cbor" not in content_type:
        return response
    payload = response.body.encode() if isinstance(response.body, str) else response.body
    # A route's own ETag (e.g. a configuration file's head revision hash) is kept: clients send it back in If-Match.
    tag = response.headers.get("ETag") or '"0' + hashlib.md5(payload).hexdigest() + '"'
    response.headers["ETag"] = tag
    if_none_match = (event.headers or {}).get("if-none-match")
    offered = [t.strip() for t in (if_none_match or "").split(",")]
    if tag in offered or "*" in offered:
        return Response(body="", status_code=304, headers={"ETag": tag})
    return response
