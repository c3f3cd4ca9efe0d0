"""HTTP middleware: bodies as bytes for API Gateway; catalogue errors rendered in their wire format;
ETag / If-None-Match on GET JSON."""

from __future__ import annotations

import hashlib

from chalice.app import CaseInsensitiveMapping, Response

from chalicelib import errors, logs
from chalicelib.api import ddi_wire

_DCS_SERVICES = (
    ("/api/deviceconfiguration/", "deviceconfiguration"),
    ("/api/deploymentworkflow/", "deploymentworkflow"),
)


def binary_bodies(event, get_response):
    """Every body leaves as bytes, so that API Gateway can hand any content type back unchanged.

    Configuration files have any media type, and devices download them with any Accept or none.
    API Gateway (REST) turns a base64 body back into bytes only when the request's first Accept
    matches one of the API's binary media types: they are `*/*` (app.py). Chalice then base64-encodes
    every response body, which must be bytes for it (text is encoded here), and refuses with a 400 of
    its own a binary response to a request without Accept: no Accept means any type (RFC 9110), said
    explicitly here.
    """
    if event.headers.get("accept") is None:
        event.headers = CaseInsensitiveMapping({**dict(event.headers), "accept": "*/*"})
    response = get_response(event)
    if isinstance(response.body, str):
        response.body = response.body.encode("utf-8")
    return response


def render_errors(event, get_response):
    try:
        response = get_response(event)
    except errors.SkyhawkError as error:
        return render(error, event.path or "", _accept(event))
    framework_error = _framework_error(response)
    return render(framework_error, event.path or "", _accept(event)) if framework_error else response


def _accept(event) -> str | None:
    return (event.headers or {}).get("accept")


def render(error: errors.SkyhawkError, path: str, accept: str | None = None) -> Response:
    """The error in the wire format of the API the path belongs to (CBOR for a DDI client asking for it; a
    DCS/DWS `logref` is the request's correlation id: the caller can quote it, and the logs find it)."""
    for prefix, service in _DCS_SERVICES:
        if path.startswith(prefix):
            return errors.render_dcs(error, service, logref=logs.correlation_id())
    if ddi_wire.is_ddi_path(path):
        as_cbor = ddi_wire.error_response(error, accept)
        if as_cbor is not None:
            return as_cbor
    return errors.render_hawkbit(error)


# chalice answers some requests itself, as `{"Code": ..., "Message": ...}`: a method the route lacks, and a
# binary answer the request's Accept does not admit. Clients get the API's own error shape instead.
_FRAMEWORK_ERRORS = {
    "MethodNotAllowedError": errors.MethodNotAllowed,
    "BadRequest": errors.NotAcceptable,
    "UnsupportedMediaType": errors.UnsupportedMediaType,
}


def _framework_error(response: Response) -> errors.SkyhawkError | None:
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return None
    kind = _FRAMEWORK_ERRORS.get(body["Code"])
    return kind and kind(body["Message"], headers={k: v for k, v in response.headers.items() if k.lower() == "allow"})


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


# Marks of a credential in an answer: a target's security token, or a URL signed for S3 or CloudFront.
_SECRET_MARKS = ('"securityToken"', "X-Amz-Signature=", "Signature=", "Key-Pair-Id=")
_CHALLENGES = (("/api/", 'Basic realm="skyhawk", Bearer realm="skyhawk"'), ("/rest/", 'Basic realm="skyhawk"'))
_DEVICE_CHALLENGE = 'TargetToken realm="skyhawk", GatewayToken realm="skyhawk"'


def security_headers(event, get_response):
    """On every answer: no MIME sniffing; no caching of answers that carry a credential; 401 names the
    schemes that would be accepted (RFC 9110 requires WWW-Authenticate on 401)."""
    response = get_response(event)
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    body = response.body if isinstance(response.body, str) else ""
    location = headers.get("Location", "")
    if any(mark in body or mark in location for mark in _SECRET_MARKS):
        headers["Cache-Control"] = "no-store"
    if response.status_code == 401 and "WWW-Authenticate" not in headers:
        path = event.path or ""
        headers["WWW-Authenticate"] = next(
            (challenge for prefix, challenge in _CHALLENGES if path.startswith(prefix)), _DEVICE_CHALLENGE
        )
    return response
