"""Pending work as the services see it: a multi-step change in progress that a retry or the reaper completes.

The store keeps it (chalicelib/store/pending.py); a repair reads only these fields.
"""

from __future__ import annotations

from typing import Any, Protocol


class PendingItem(Protocol):
    tenant: str
    key: str  # "pending#<due ms>#<kind>#<ref>": ordered by when it is due
    kind: str
    ref: str
    detail: Any  # JSON the step left for its repair (None when it needs none)
