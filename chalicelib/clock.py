"""The one source of time: aware UTC, stored as ms-epoch numbers. Tests move it with `set_now`."""

from __future__ import annotations

import time

_fixed_ms: int | None = None
_offset_ms: int = 0


def now_ms() -> int:
    if _fixed_ms is not None:
        return _fixed_ms
    return int(time.time() * 1000) + _offset_ms


def set_now(ms: int | None) -> None:
    """Freeze time at `ms` (None: real time again)."""
    global _fixed_ms
    _fixed_ms = ms


def advance(ms: int) -> None:
    """Move time forward, frozen or not."""
    global _fixed_ms, _offset_ms
    if _fixed_ms is not None:
        _fixed_ms += ms
    else:
        _offset_ms += ms


def reset() -> None:
    global _fixed_ms, _offset_ms
    _fixed_ms, _offset_ms = None, 0
