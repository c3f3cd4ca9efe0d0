"""Service integration events (issue 10 §3): being built on the `sie` branch; until then nothing is published."""
from __future__ import annotations

from typing import Sequence

from chalicelib.store.change_feed import Change


def deliver(changes: Sequence[Change | None]) -> int | None:
    return None
