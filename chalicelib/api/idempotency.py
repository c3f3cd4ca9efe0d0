"""`Idempotency-Key` on the POSTs that create (`route(..., idempotent=True)`): the HTTP side of
chalicelib/services/idempotency.py (Powertools' `idempotent_function` on a DynamoDB table).

A key is scoped to the login (tenant and user), the method and the path as requested; the body and query are
the payload it was first used with. The first successful (2xx) answer is stored and replayed to every retry
for SKYHAWK_IDEMPOTENCY_EXPIRY_SECONDS (1 h), marked `Idempotent-Replayed: true`, without running the request
again. Errors are not stored: the retry runs anew. As in the IETF draft "The Idempotency-Key HTTP Header
Field": the same key with another body or query is 422, a retry while the first is still running is 409 (with
Retry-After), a malformed key 400; each in the API's own error shape.

Only logins present a key: a request whose Authorization is not a valid management login is answered by the
route as without one (401, or 403 for a device), in the route's own order of checks.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, Callable

from chalice import Response

from chalicelib import auth, errors
from chalicelib.services import idempotency as service

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# One stored answer is one DynamoDB item (400 KB at most, with the record's own attributes): a larger answer is
# returned but not remembered, and a retry then runs again.
MAX_REMEMBERED_BYTES = 300_000
_PARAM = re.compile(r"\{(\w+)\}")


def answer_once(request: Any, route_path: str, respond: Callable[[], Response]) -> Response:
    """`respond()` once per key: the stored answer to a retry, 422/409 for a misused or busy key."""
    try:
        who = auth.authenticate_basic(request.headers.get("authorization"))
    except errors.SkyhawkError:
        return respond()
    key = request.headers.get(HEADER.lower()) or ""
    if not _KEY.match(key):
        raise errors.IdempotencyKeyInvalid()

    def run() -> tuple[Response, dict[str, Any] | None]:
        response = respond()
        return response, _stored(response)

    path = _PARAM.sub(lambda match: str((request.uri_params or {}).get(match.group(1), match.group(0))), route_path)
    raw = request.raw_body or b""
    query = request.query_params or {}
    fingerprint = {
        "scope": {"key": key, "tenant": who.tenant, "user": who.username, "method": request.method, "path": path},
        "payload": {
            "body": hashlib.sha256(raw if isinstance(raw, bytes) else raw.encode()).hexdigest(),
            "query": {name: sorted(_values(query, name)) for name in sorted(query)},
        },
    }
    stored, fresh = service.once(fingerprint, request.lambda_context, run)
    return fresh if stored is None else _response(stored)


def _values(query: Any, name: str) -> list[str]:
    """Every value of a query parameter (chalice's MultiDict; a plain dict has one)."""
    return list(query.getlist(name)) if hasattr(query, "getlist") else [query[name]]


def _stored(response: Response) -> dict[str, Any] | None:
    if not 200 <= response.status_code < 300:
        return None
    body = response.body
    if isinstance(body, bytes):
        text, encoded = base64.b64encode(body).decode(), True
    elif isinstance(body, str):
        text, encoded = body, False
    else:
        return None
    if len(text.encode()) > MAX_REMEMBERED_BYTES:
        return None
    return {"status": response.status_code, "headers": dict(response.headers or {}), "body": text, "base64": encoded}


def _response(stored: dict[str, Any]) -> Response:
    body: str | bytes = base64.b64decode(stored["body"]) if stored["base64"] else stored["body"]
    headers = dict(stored["headers"])
    if stored.get("replayed"):
        headers[REPLAYED_HEADER] = "true"
    return Response(body=body, status_code=int(stored["status"]), headers=headers)
