"""Token buckets by key: the arithmetic of request and login-failure limits (time is passed in, in ms).

A bucket holds up to `capacity` tokens and gains `capacity` tokens per `period_ms`, continuously: "N per
second" admits a burst of N and then N a second, the sustained rate hawkBit's DoS filter allows per client.
Each admitted event takes a token; without one, the caller is told how long until the next.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict


class Buckets:
    """One token bucket per key, at most `max_keys` of them: the least recently used is dropped first.

    Dropping forgets a bucket, which then starts full again: bounded memory costs at most a burst more for
    a client an attacker pushed out by cycling through keys.
    """

    def __init__(self, capacity: int, period_ms: int = 1000, max_keys: int = 10_000) -> None:
        self.capacity = float(capacity)
        self.per_ms = capacity / period_ms
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, int]] = OrderedDict()  # key -> (tokens, updated at)
        self._lock = threading.Lock()

    def take(self, key: str, now_ms: int) -> int:
        """Take a token: 0 if there was one, else the ms until there will be (nothing taken)."""
        with self._lock:
            tokens = self._refilled(key, now_ms)
            if tokens >= 1.0:
                self._store(key, tokens - 1.0, now_ms)
                return 0
            self._store(key, tokens, now_ms)
            return self._wait(tokens)

    def wait(self, key: str, now_ms: int) -> int:
        """The ms until a token is available (0: one is), taking none."""
        with self._lock:
            if key not in self._buckets:
                return 0
            return self._wait(self._refilled(key, now_ms))

    def forget(self, key: str) -> None:
        with self._lock:
            self._buckets.pop(key, None)

    def _refilled(self, key: str, now_ms: int) -> float:
        found = self._buckets.get(key)
        if found is None:
            return self.capacity
        tokens, updated = found
        return min(self.capacity, tokens + max(0, now_ms - updated) * self.per_ms)

    def _store(self, key: str, tokens: float, now_ms: int) -> None:
        self._buckets[key] = (tokens, now_ms)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def _wait(self, tokens: float) -> int:
        return 0 if tokens >= 1.0 else max(1, math.ceil((1.0 - tokens) / self.per_ms))


def retry_after_seconds(wait_ms: int) -> int:
    """`Retry-After` is whole seconds; never 0, or a client would retry at once and be refused again."""
    return max(1, math.ceil(wait_ms / 1000))
