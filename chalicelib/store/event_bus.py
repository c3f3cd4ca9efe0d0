"""The EventBridge bus of the service integration events (docs/integration-events.md): PutEvents in order.

The bus is named (or given by ARN) in the settings (`SKYHAWK_EVENT_BUS`): deployed, the data stack creates it
(infra/skyhawk-data.yaml, `skyhawk-<stage>-events`); locally and in tests `ensure()` creates it in moto.

`put` sends entries in their order, at most 10 per call and 256 KB per call (EventBridge's limits), retries the
entries a call reported failed once, and answers how many leading entries got through: the caller re-sends from
there (what got through after the first failure is sent again, as at-least-once allows). It never raises for
AWS's errors: an outage is a short count.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import config, faults
from chalicelib.store import aws

log = logging.getLogger("skyhawk.event_bus")

MAX_ENTRIES = 10  # PutEvents: entries per call
MAX_BYTES = 256 * 1024  # PutEvents: the entries' summed size per call (and so the largest entry)
TIME_BYTES = 14  # what an entry's Time counts (EventBridge's size calculation)


def _events() -> Any:
    return aws.client("events")


def name() -> str:
    return config.settings().event_bus


def ensure() -> str:
    """Create the bus if missing (local runs and tests); its ARN."""
    bus = name()
    events = _events()
    try:
        return events.describe_event_bus(Name=bus)["Arn"]
    except events.exceptions.ResourceNotFoundException:
        return events.create_event_bus(Name=bus)["EventBusArn"]


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it against the 256 KB of a call."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    for field in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(field) or "").encode())
    return size + sum(len(resource.encode()) for resource in entry.get("Resources") or ())


def _chunks(entries: Sequence[dict[str, Any]]) -> list[tuple[int, list[dict[str, Any]]]]:
    """(first index, entries) per call, in order: at most MAX_ENTRIES and MAX_BYTES each."""
    chunks: list[tuple[int, list[dict[str, Any]]]] = []
    start, size = 0, 0
    current: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        cost = entry_size(entry)
        if current and (len(current) == MAX_ENTRIES or size + cost > MAX_BYTES):
            chunks.append((start, current))
            start, current, size = index, [], 0
        current.append(entry)
        size += cost
    if current:
        chunks.append((start, current))
    return chunks


def put(entries: Sequence[dict[str, Any]]) -> int:
    """Put `entries` (Source, DetailType, Detail, Time) on the bus in order; how many leading ones got through."""
    bus = name()
    for start, chunk in _chunks(entries):
        sent = _put_chunk(bus, chunk)
        if sent < len(chunk):
            return start + sent
    return len(entries)


def _put_chunk(bus: str, chunk: list[dict[str, Any]]) -> int:
    """One call (and one retry of the entries it refused): how many leading entries of `chunk` got through."""
    pending = list(range(len(chunk)))
    for attempt in (1, 2):
        try:
            answer = _events().put_events(Entries=[{**chunk[i], "EventBusName": bus} for i in pending])
        except (BotoCoreError, ClientError) as exc:  # refused, throttled, unreachable: a short count
            log.warning("PutEvents failed (attempt %d): %s", attempt, faults.describe(exc))
            return pending[0]
        failed = [i for i, result in zip(pending, answer.get("Entries") or []) if result.get("ErrorCode")]
        if len(answer.get("Entries") or []) < len(pending):  # an answer without a result per entry: not trusted
            failed = pending
        if not failed:
            return len(chunk)
        log.warning(
            "PutEvents refused %d of %d entries (attempt %d): %s",
            len(failed),
            len(pending),
            attempt,
            sorted({str(r.get("ErrorCode")) for r in answer.get("Entries") or [] if r.get("ErrorCode")}),
        )
        pending = failed
    return pending[0]
