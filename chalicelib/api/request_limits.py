"""Request rate limits in front of every route (hawkBit's DosFilter): past one, 429 with `Retry-After`.

Counted, reads (GET, HEAD) and writes apart, in this container's memory (services/rate_limits.py says why
and what it costs):
- the client IP API Gateway saw, unless the whitelist spares it (hawkBit's filter);
- a device: for DDI the path's tenant and controllerId together with the credential presented (the
  Authorization header, or the trusted proxy's secret of certificate authentication); for the device
  configuration APIs the device token;
- a management login: the Basic credential.
Devices and logins are keyed by their credential, so a caller without it fills a bucket of its own and
cannot use up a real device's or user's budget (the IP limit and failed-login throttling meet it instead).
Nothing is read or written in DynamoDB: the idle poll stays one GetItem.
"""

from __future__ import annotations

from chalicelib import auth, clock, errors
from chalicelib.api.common import source_ip
from chalicelib.api.ddi import BASE as _DDI
from chalicelib.domain.rate_limits import retry_after_seconds
from chalicelib.services import rate_limits

_UNLIMITED = ("/health",)
_READS = ("GET", "HEAD", "OPTIONS")


def limit_requests(event, get_response):
    # chalice's request path is the route template (`/{tenant}/controller/v1/{controller_id}`), the values
    # are in its URI parameters.
    route = event.path or ""
    if route in _UNLIMITED:
        return get_response(event)
    now = clock.now_ms()
    write = event.method not in _READS
    wait = 0
    ip = source_ip(event)
    if ip and not rate_limits.ip_whitelisted(ip):
        wait = rate_limits.admit(rate_limits.IP, ip, write, now)
    caller = None if wait else counted_caller(route, event.uri_params or {}, event.headers or {})
    if caller is not None:
        wait = rate_limits.admit(*caller, write, now)
    if wait:
        raise errors.TooManyRequests(retry_after_seconds(wait))
    return get_response(event)


def counted_caller(route: str, params, headers) -> tuple[str, str] | None:
    """(kind, bucket key) of the device or login a request comes from, or None (no credential to count)."""
    authorization = headers.get("authorization") or ""
    if route.startswith(_DDI):
        proof = headers.get(auth.PROXY_SECRET_HEADER.lower()) or ""
        return rate_limits.DEVICE, rate_limits.credential_key(
            str(params.get("tenant", "")).upper(), str(params.get("controller_id", "")), authorization, proof
        )
    if not authorization:
        return None
    if authorization.split(" ", 1)[0].lower() == "basic":
        return rate_limits.LOGIN, rate_limits.credential_key(authorization)
    return rate_limits.DEVICE, rate_limits.credential_key(authorization)  # Bearer / TargetToken tokens
