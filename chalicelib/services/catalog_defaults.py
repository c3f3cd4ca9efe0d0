"""Default software module and distribution set types every tenant starts with (hawkBit's defaults)."""
from __future__ import annotations


def ensure_default_types(tenant: str) -> None:
    """Placeholder until the catalogue service lands: creates nothing."""
    return None
