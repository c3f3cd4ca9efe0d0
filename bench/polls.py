"""Idle DDI polls/s: skyhawk's `make run` against goosebit 0.2.12, same load generator, same machine, one run.

Both servers run side by side for the whole measurement, and the rounds interleave them (round r: every
concurrency, skyhawk then goosebit, the order swapped on odd rounds), so that a drift in machine load hits
both alike. Per system and concurrency the figures pool every round: polls/s = answered 200s / measured
seconds, p50/p99 over all their latencies.

    python -m bench.polls [--devices 500] [--connections 4,16] [--rounds 3] [--seconds 8] [--only skyhawk]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from bench import load, systems

SYSTEMS = {"skyhawk": (systems.start_skyhawk, systems.register_skyhawk),
           "goosebit": (systems.start_goosebit, systems.register_goosebit)}


def measure(devices: int = 500, connections: tuple[int, ...] = (4, 16), rounds: int = 3, seconds: float = 8.0,
            only: tuple[str, ...] = tuple(SYSTEMS)) -> dict[str, Any]:
    servers: dict[str, systems.Server] = {}
    load_before = os.getloadavg()
    try:
        for name in only:
            start, register = SYSTEMS[name]
            servers[name] = start()
            register(servers[name], devices)
        results: dict[str, dict[int, list[load.Result]]] = {n: {c: [] for c in connections} for n in servers}
        for r in range(rounds):
            order = list(servers) if r % 2 == 0 else list(reversed(servers))
            for c in connections:
                for name in order:
                    server = servers[name]
                    result = load.run(server.url, server.polls, c, measure_s=seconds)
                    results[name][c].append(result)
                    print(f"bench: round {r + 1}/{rounds} {name} c={c}: {result.per_second:.0f} polls/s, "
                          f"p50 {result.percentile(50):.1f} ms, {result.errors} errors", file=sys.stderr, flush=True)
    finally:
        for server in servers.values():
            server.stop()

    report: dict[str, Any] = {
        "devices": devices, "rounds": rounds, "seconds_per_round": seconds, "load_generator":
            "bench/load.py: aiohttp, one keep-alive connection per worker, devices polled round-robin",
        "skyhawk": "python -m infra.launcher (make run)",
        "goosebit": f"goosebit {systems.GOOSEBIT_VERSION} (PyPI), uvicorn on 127.0.0.1, default settings"
                    if "goosebit" in servers else None,
        # Other work on the machine moved goosebit's figures far more than skyhawk's (110 to 310 polls/s on a
        # shared 2-core machine): the load average says how busy it was.
        "load_average_1m": {"start": round(load_before[0], 2), "end": round(os.getloadavg()[0], 2)},
        "connections": {}}
    for c in connections:
        row: dict[str, Any] = {}
        for name in servers:
            row[name] = _pooled(results[name][c]).summary()
        if "skyhawk" in row and "goosebit" in row and row["goosebit"]["polls_per_s"]:
            row["ratio"] = round(row["skyhawk"]["polls_per_s"] / row["goosebit"]["polls_per_s"], 2)
        report["connections"][str(c)] = row
    return report


def _pooled(parts: list[load.Result]) -> load.Result:
    return load.Result(requests=sum(p.requests for p in parts), errors=sum(p.errors for p in parts),
                       seconds=sum(p.seconds for p in parts),
                       latencies_ms=tuple(sorted(x for p in parts for x in p.latencies_ms)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.polls", description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--connections", default="4,16", help="comma-separated concurrencies")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per round and concurrency")
    parser.add_argument("--only", choices=sorted(SYSTEMS), action="append", help="measure one system alone")
    args = parser.parse_args(argv)
    connections = tuple(int(c) for c in args.connections.split(","))
    report = measure(args.devices, connections, args.rounds, args.seconds, tuple(args.only or SYSTEMS))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
