"""Is the service able to serve: each AWS dependency probed, the answer kept briefly per container.

A load balancer or uptime check may ask every second; each container probes at most once per
CACHE_SECONDS, so health costs one GetItem and one HeadBucket per container and interval, not per probe.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, NamedTuple

from chalicelib import faults
from chalicelib.store import health as probes

log = logging.getLogger("skyhawk")
CACHE_SECONDS = 5.0


class Health(NamedTuple):
    up: bool
    components: dict[str, bool]


_lock = threading.Lock()
_last: tuple[float, Health] | None = None


def _probe(check: Callable[[], None]) -> bool:
    try:
        check()
        return True
    except Exception as exc:  # noqa: BLE001 - any failure of a probe means DOWN, never a 500
        log.warning("health: %s", faults.describe(exc))
        return False


def current() -> Health:
    global _last
    now = time.monotonic()
    with _lock:
        if _last is not None and now - _last[0] < CACHE_SECONDS:
            return _last[1]
    components = {"dynamodb": _probe(probes.dynamodb_reachable), "s3": _probe(probes.s3_reachable)}
    health = Health(all(components.values()), components)
    with _lock:
        _last = (now, health)
    return health


def forget() -> None:
    global _last
    with _lock:
        _last = None
