"""The one load generator for idle DDI polls: N keep-alive connections, each looping GETs over the devices.

Every system under test gets exactly this client (same code, same process, same machine), so the ratio
compares servers, not clients. aiohttp is already in requirements-dev.txt (the e2e DDI client needs it).
Only loopback URLs are accepted: a load test here never leaves the machine.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


@dataclass(frozen=True)
class Poll:
    """One device's poll request: the path and the headers the device sends."""
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Result:
    requests: int
    errors: int  # non-200 answers and failed requests
    seconds: float
    latencies_ms: tuple[float, ...]  # sorted

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        index = min(len(self.latencies_ms) - 1, max(0, round(p / 100 * len(self.latencies_ms)) - 1))
        return self.latencies_ms[index]

    def summary(self) -> dict[str, float | int]:
        return {"polls_per_s": round(self.per_second, 1), "p50_ms": round(self.percentile(50), 2),
                "p99_ms": round(self.percentile(99), 2), "requests": self.requests, "errors": self.errors}


def check_loopback(base_url: str) -> None:
    host = urlsplit(base_url).hostname or ""
    if host not in {h.strip("[]") for h in LOOPBACK_HOSTS} and not host.startswith("127."):
        raise ValueError(f"load is only sent to loopback addresses, not {base_url}")


async def _drive(base_url: str, polls: Sequence[Poll], connections: int, warmup_s: float,
                 measure_s: float) -> Result:
    import aiohttp

    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    next_device = [0]
    measuring = [False]
    stop_at = [float("inf")]
    # One connection per worker, reused (keep-alive) for its whole loop: what a fleet of devices behind a
    # proxy, or a load balancer, presents to the server.
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)

    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:
        async def worker() -> None:
            while time.perf_counter() < stop_at[0]:
                poll = polls[next_device[0] % len(polls)]
                next_device[0] += 1
                started = time.perf_counter()
                try:
                    async with session.get(poll.path, headers=poll.headers) as resp:
                        await resp.read()
                        ok = resp.status == 200
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok = False
                if measuring[0]:
                    if ok:
                        counts["ok"] += 1
                        latencies.append((time.perf_counter() - started) * 1000)
                    else:
                        counts["errors"] += 1

        stop_at[0] = time.perf_counter() + warmup_s + measure_s
        tasks = [asyncio.create_task(worker()) for _ in range(connections)]
        await asyncio.sleep(warmup_s)
        measuring[0] = True
        began = time.perf_counter()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    latencies.sort()
    return Result(requests=counts["ok"], errors=counts["errors"], seconds=elapsed, latencies_ms=tuple(latencies))


def run(base_url: str, polls: Sequence[Poll], connections: int, warmup_s: float = 1.0,
        measure_s: float = 8.0) -> Result:
    """Poll for `warmup_s` unmeasured, then `measure_s` measured, with `connections` concurrent connections.

    Bounded in time (the workers stop by themselves), and a request in flight at the end is still counted
    only if it was answered: a server never gets credit for unanswered requests.
    """
    check_loopback(base_url)
    if not polls:
        raise ValueError("no devices to poll")
    return asyncio.run(_drive(base_url, polls, connections, warmup_s, measure_s))
