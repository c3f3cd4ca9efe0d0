"""hawkBit's `HH:mm:ss` durations (polling times), as milliseconds."""

from __future__ import annotations

import re

_HMS = re.compile(r"^(\d{2}):([0-5]\d):([0-5]\d)$")


def parse_hms(text: str) -> int:
    """'00:05:00' -> 300000; ValueError on anything else."""
    match = _HMS.match(text or "")
    if not match:
        raise ValueError(f"'{text}' is not a duration of the form HH:mm:ss")
    hours, minutes, seconds = (int(g) for g in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000


def format_hms(ms: int) -> str:
    seconds = max(0, int(ms // 1000))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"
