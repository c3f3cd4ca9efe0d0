"""Request and failed-login limits held in this container's memory (hawkBit's DosFilter is the anchor).

Requests: a token bucket per client IP (hawkBit: 200 reads and 50 writes a second, addresses on the
whitelist spared), per device and per management login (the same numbers, so a device behind a shared NAT
address or a login used from many places is still held to them). Failed logins: a bucket per source IP.

Why memory and not DynamoDB: the limits sit in front of every request, and an idle device poll is one GetItem
(docs/architecture.md, "Hot path"); a shared counter would add a write to each. Cost per request: one BLAKE2 hash of
the credential, up to two dictionary lookups and a little arithmetic under a lock, no I/O. The price: every Lambda
container counts for itself, so a client spread over k concurrent containers gets up to k times the limit, and a new
container starts with full buckets. Failed logins per user are counted in DynamoDB instead (services/logins.py),
where every container sees them.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass

from chalicelib import config
from chalicelib.domain.rate_limits import Buckets

READ, WRITE = "read", "write"
IP, DEVICE, LOGIN = "ip", "device", "login"


@dataclass
class _Limits:
    settings: config.Settings
    requests: dict[tuple[str, str], Buckets | None]  # (kind, read|write) -> buckets, None: no limit
    whitelist: re.Pattern | None
    login_failures_by_ip: Buckets | None


_state: _Limits | None = None
_lock = threading.Lock()


def _limits() -> _Limits:
    """Buckets for the current settings; new (empty) ones when the settings were reloaded."""
    global _state
    settings = config.settings()
    state = _state
    if state is not None and state.settings is settings:
        return state
    with _lock:
        if _state is None or _state.settings is not settings:
            per_second = {
                (IP, READ): settings.reads_per_ip,
                (IP, WRITE): settings.writes_per_ip,
                (DEVICE, READ): settings.reads_per_device,
                (DEVICE, WRITE): settings.writes_per_device,
                (LOGIN, READ): settings.reads_per_login,
                (LOGIN, WRITE): settings.writes_per_login,
            }
            failures = settings.login_failures_per_ip
            _state = _Limits(
                settings=settings,
                requests={kind: Buckets(limit) if limit > 0 else None for kind, limit in per_second.items()},
                whitelist=re.compile(settings.ip_whitelist) if settings.ip_whitelist else None,
                login_failures_by_ip=Buckets(failures, settings.login_failure_window_seconds * 1000)
                if failures > 0
                else None,
            )
        return _state


def reset() -> None:
    """Forget every count (tests; a settings reload starts fresh by itself)."""
    global _state
    with _lock:
        _state = None


def credential_key(*parts: str) -> str:
    """Buckets are keyed by a digest of what identifies the caller (never the secret itself)."""
    return hashlib.blake2b("\0".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def admit(kind: str, key: str, write: bool, now_ms: int) -> int:
    """Take one request from `key`'s bucket of this kind: 0 if admitted, else the ms to wait."""
    buckets = _limits().requests[(kind, WRITE if write else READ)]
    return buckets.take(key, now_ms) if buckets is not None else 0


def ip_whitelisted(ip: str) -> bool:
    """hawkBit searches its pattern anywhere in the address (`210.1.2.3` would pass as `10.1.2.3`); the whole
    address must match here."""
    whitelist = _limits().whitelist
    return bool(whitelist and whitelist.fullmatch(ip))


# --- failed logins ---------------------------------------------------------------------------------------
def login_wait(ip: str | None, now_ms: int) -> int:
    """ms until a login from this IP may be tried again (0: now)."""
    buckets = _limits().login_failures_by_ip
    return buckets.wait(ip, now_ms) if ip and buckets is not None else 0


def note_login_failure(ip: str | None, now_ms: int) -> None:
    buckets = _limits().login_failures_by_ip
    if ip and buckets is not None:
        buckets.take(ip, now_ms)
