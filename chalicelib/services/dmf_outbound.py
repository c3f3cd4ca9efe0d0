"""Outbound DMF messages from the change feed (issue 10): being built."""
from __future__ import annotations

from typing import Sequence

from chalicelib.store.change_feed import Change


def deliver(changes: Sequence[Change | None]) -> int | None:
    return None
