"""DDI representations: hawkBit's DDI reads and writes JSON and CBOR (`application/cbor`, RFC 8949).

Responses follow the Accept header the way Spring negotiates hawkBit's `produces` (hal+json, json, cbor):
no Accept, `*/*` or `application/*` get hal+json; an Accept that none of them meets is a bare 406.
Request bodies are CBOR when their Content-Type says so and JSON when it says JSON or nothing; any other
type is 415 (hawkBit's `consumes`). cbor2 is imported on first use, so a JSON-only device never loads it.
"""

from __future__ import annotations

import io
import re
from typing import Any

from chalice import Blueprint, Response

from chalicelib import errors
from chalicelib.api.common import json_body, json_response
from chalicelib.lazy import lazy_import

cbor2 = lazy_import("cbor2")

HAL_JSON = "application/hal+json"
JSON = "application/json"
CBOR = "application/cbor"
_PRODUCED = (HAL_JSON, JSON, CBOR)
_DDI_PATH = re.compile(r"^/[^/]+/controller/v1/")


def is_ddi_path(path: str) -> bool:
    return bool(_DDI_PATH.match(path or ""))


def _media(value: str) -> tuple[str, dict[str, str]]:
    media, _, rest = value.partition(";")
    params = {}
    for param in rest.split(";"):
        key, _, val = param.partition("=")
        if key.strip():
            params[key.strip().lower()] = val.strip().strip('"')
    return media.strip().lower(), params


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or None (406). Ranges in order of quality, then specificity, then as
    given; q=0 excludes a range."""
    if accept is None or not accept.strip():
        return HAL_JSON
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media, params = _media(part)
        if not media:
            continue
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 1.0
        if quality <= 0:
            continue
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        ranges.append((-quality, -specificity, position, media))
    for *_, media in sorted(ranges):
        if media in _PRODUCED:
            return media
        if media in ("*/*", "application/*", "application/*+json"):
            return HAL_JSON
    return None


def respond(body: Any, media: str, status: int = 200) -> Response:
    if media == CBOR:
        return Response(body=cbor2.dumps(body), status_code=status, headers={"Content-Type": CBOR})
    return json_response(body, status=status, content_type=media)


def body(bp: Blueprint, expect: type = dict, optional: bool = False) -> Any:
    """The request body as JSON-like values, decoded from CBOR or JSON by its Content-Type."""
    content_type = bp.current_request.headers.get("content-type")
    media = _media(content_type)[0] if content_type else ""
    if media in ("", JSON) or media.endswith("+json"):
        return json_body(bp, expect, optional)
    if media != CBOR:
        raise errors.UnsupportedMediaType(f"Content type '{media}' is not supported; send {JSON} or {CBOR}.", [media])
    raw = bp.current_request.raw_body
    if not raw:
        if optional:
            return None
        raise errors.BodyNotReadable("The request body is missing.")
    value = decode_cbor(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
    if not isinstance(value, expect):
        raise errors.BodyNotReadable(
            "The request body must be a CBOR map."
            if expect is dict
            else f"The request body must be a CBOR {expect.__name__}."
        )
    return value


def decode_cbor(raw: bytes) -> Any:
    """One complete CBOR data item; trailing bytes or a malformed item are 400."""
    stream = io.BytesIO(raw)
    try:
        value = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
        raise errors.BodyNotReadable(f"The given CBOR body is not well formed: {exc}") from exc
    if stream.tell() != len(raw):
        raise errors.BodyNotReadable("The given CBOR body has data after its first item.")
    return value


def error_response(error: errors.SkyhawkError, accept: str | None) -> Response | None:
    """A catalogue error in CBOR for a device that asked for CBOR; None: render it as JSON."""
    if error.empty_body or negotiate(accept) != CBOR:
        return None
    return Response(
        body=cbor2.dumps(errors.hawkbit_body(error)),
        status_code=error.status,
        headers={**error.headers, "Content-Type": CBOR},
    )
