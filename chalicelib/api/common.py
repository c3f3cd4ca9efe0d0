"""Request parsing and response rendering shared by every blueprint (no business rules here)."""

from __future__ import annotations

import functools
import json
import logging
import re
from typing import Any, Callable, Mapping

from chalice import Blueprint, Response

from chalicelib import auth, errors, faults, logs
from chalicelib.domain.numbers import is_int64

log = logging.getLogger("skyhawk")

HAL_JSON = "application/hal+json"
ANY_CONTENT = ["*/*"]  # content types are validated here, so errors keep the documented shape


JSON_MEDIA = ("application/json", "application/hal+json")
MULTIPART = ("multipart/form-data",)
BINARY = ("application/octet-stream",)
# (route template, method) -> (media types the body may have, media types the answer may have)
_MEDIA: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}
# (route template, method) of the routes answering an Idempotency-Key once (their OpenAPI documents name it)
IDEMPOTENT: set[tuple[str, str]] = set()


def route(
    bp: Blueprint,
    path: str,
    methods: list[str] | None = None,
    consumes: tuple[str, ...] = JSON_MEDIA,
    produces: tuple[str, ...] = JSON_MEDIA,
    idempotent: bool = False,
    **kwargs: Any,
) -> Callable:
    """`bp.route` accepting any content type, turning unexpected exceptions into the catalogue's 500.

    `consumes`/`produces` are what the Management API checks (415/406) once the caller is authenticated.
    `idempotent`: a request carrying an Idempotency-Key is answered once per key (chalicelib/api/idempotency.py);
    the module, and Powertools' idempotency utility, load only when one does.
    """
    for method in methods or ["GET"]:
        _MEDIA[(path, method)] = (consumes, produces)
        if idempotent:
            IDEMPOTENT.add((path, method))

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args: Any, **kw: Any) -> Any:
            try:
                if idempotent and "idempotency-key" in bp.current_request.headers:
                    from chalicelib.api import idempotency

                    return idempotency.answer_once(bp.current_request, path, lambda: view(*args, **kw))
                return view(*args, **kw)
            except errors.SkyhawkError:
                raise
            except Exception as exc:
                if faults.unavailable(exc):
                    log.warning("unavailable: %s %s: %s", bp.current_request.method, path, faults.describe(exc))
                    raise errors.ServiceUnavailable() from exc
                log.exception("unhandled error on %s", path)
                raise errors.InternalError() from exc

        return bp.route(path, methods=methods or ["GET"], content_types=ANY_CONTENT, **kwargs)(guarded)

    return decorate


def request(bp: Blueprint):
    return bp.current_request


def headers(bp: Blueprint) -> dict[str, str]:
    return dict(bp.current_request.headers or {})


def query(bp: Blueprint) -> dict[str, str]:
    return dict(bp.current_request.query_params or {})


def principal(bp: Blueprint, *permissions: str) -> auth.Principal:
    """Authenticate the management caller (HTTP Basic) and check the endpoint's permissions.

    In hawkBit's order: credentials (401), then content negotiation (406/415, Spring's handler mapping), then
    the endpoint's permissions (403).
    """
    request = bp.current_request
    who = auth.authenticate_basic(request.headers.get("authorization"), source_ip(request))
    logs.append_keys(tenant=who.tenant, user=who.username)
    if request.path.startswith("/rest/v1/"):
        negotiate(request)
    who.require(*permissions)
    return who


def source_ip(request: Any) -> str | None:
    """The client address API Gateway saw (`X-Forwarded-For` is not read: a client writes what it likes there)."""
    identity = (request.context or {}).get("identity") or {}
    return identity.get("sourceIp")


def negotiate(request: Any) -> None:
    """406 when Accept admits nothing the route produces; 415 when a body's Content-Type is not one it reads.

    A request without Content-Type is read as JSON (curl users); seed 002 lists both errors.
    """
    consumes, produces = _MEDIA.get((request.path, request.method), (JSON_MEDIA, JSON_MEDIA))
    accept = request.headers.get("accept")
    if accept and not any(media_matches(offered, produces) for offered in accepted_media(accept)):
        raise errors.NotAcceptable(
            f"None of the accepted media types ({accept}) can be produced; this resource answers {', '.join(produces)}."
        )
    content_type = request.headers.get("content-type")
    if request.method in ("POST", "PUT", "PATCH") and content_type and request.raw_body:
        media = content_type.split(";", 1)[0].strip().lower()
        if media not in consumes:
            raise errors.UnsupportedMediaType(
                f"Content type '{media}' is not supported; this resource reads {', '.join(consumes)}."
            )


def accepted_media(accept: str) -> list[str]:
    """The media ranges of an Accept header, without those refused with q=0."""
    ranges = []
    for part in accept.split(","):
        media, *params = [p.strip().lower() for p in part.split(";")]
        if media and not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            ranges.append(media)
    return ranges


def media_matches(offered: str, produced: tuple[str, ...]) -> bool:
    if offered == "*/*":
        return True
    kind, _, sub = offered.partition("/")
    return any(offered == media or (sub == "*" and media.startswith(kind + "/")) for media in produced)


def json_body(bp: Blueprint, expect: type | tuple[type, ...] | None = None, optional: bool = False) -> Any:
    raw = bp.current_request.raw_body
    if not raw or not raw.strip():
        if optional:
            return None
        raise errors.BodyNotReadable("The request body is missing.")
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise errors.BodyNotReadable(f"The given request body is not well formed: {exc}") from exc
    refuse_lone_surrogates(raw, body)
    if expect is not None and not isinstance(body, expect):
        names = expect.__name__ if isinstance(expect, type) else "/".join(t.__name__ for t in expect)
        want = {"list": "a JSON array", "dict": "a JSON object"}.get(names, names)
        raise errors.BodyNotReadable(f"The request body must be {want}.")
    return body


def base_url(bp: Blueprint) -> str:
    """Scheme, host and (on an API Gateway default domain) the stage, for absolute HAL links."""
    req = bp.current_request
    hdrs: Mapping[str, str] = req.headers or {}
    host = hdrs.get("x-forwarded-host") or hdrs.get("host") or "localhost"
    proto = hdrs.get("x-forwarded-proto") or ("https" if host.endswith("amazonaws.com") else "http")
    stage = ""
    if host.endswith("amazonaws.com"):
        name = (req.context or {}).get("stage", "api")
        stage = "" if name == "$default" else "/" + name  # an HTTP API's $default stage is not in its URLs
    return f"{proto}://{host}{stage}"


def json_response(
    body: Any, status: int = 200, content_type: str = HAL_JSON, extra_headers: dict[str, str] | None = None
) -> Response:
    return Response(
        body=json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": content_type, **(extra_headers or {})},
    )


def empty(status: int = 200) -> Response:
    return Response(body="", status_code=status, headers={})


def int_param(value: Any, name: str) -> int:
    """A path or query number: hawkBit ids are 64-bit (DynamoDB numbers beyond 38 digits would fail)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise errors.BadRequest(f"'{name}' must be a number, got '{value}'.", [name]) from exc
    if not is_int64(number):
        raise errors.BadRequest(f"'{name}' is out of range.", [name])
    return number


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def refuse_lone_surrogates(raw: bytes | str, body: Any) -> None:
    """JSON may escape half of a UTF-16 pair (`"x\\ud800"`); no UTF-8 store can hold it (DynamoDB: 500).

    Pairs are joined by the parser, so only a lone half is left over; the raw text says cheaply whether
    any escape could be one.
    """
    raw_bytes = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not _SURROGATE_ESCAPE.search(raw_bytes):
        return
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise errors.BodyNotReadable(
            "The request body holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text."
        ) from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def link(href: str, **extra: Any) -> dict[str, Any]:
    return {"href": href, **extra}
