"""Polling arithmetic: when a target is next expected, when it is overdue (hawkBit's `pollingTime` and
`pollingOverdueTime`; README, "Tenant configuration keys")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from chalicelib.domain.durations import parse_hms


@dataclass(frozen=True)
class PollStatus:
    last_request_at: int
    next_expected_request_at: int
    overdue: bool


def polling_ms(cfg: Mapping[str, Any]) -> int:
    return parse_hms(cfg["pollingTime"])


def overdue_at(last_request_at: int, cfg: Mapping[str, Any]) -> int:
    """A target is overdue once now > lastRequest + pollingTime + pollingOverdueTime."""
    return last_request_at + polling_ms(cfg) + parse_hms(cfg["pollingOverdueTime"])


def poll_status(last_request_at: int | None, cfg: Mapping[str, Any], now_ms: int) -> PollStatus | None:
    if last_request_at is None:
        return None
    next_expected = last_request_at + polling_ms(cfg)
    return PollStatus(last_request_at, next_expected, now_ms > overdue_at(last_request_at, cfg))
