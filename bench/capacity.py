"""docs/capacity/units.py (the Meter that prices DynamoDB calls, and moto's item lookup) for the benches: the
capacity scripts are not a package, so the module is loaded from its file once."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

UNITS = Path(__file__).resolve().parent.parent / "docs" / "capacity" / "units.py"


def units() -> Any:
    loaded = sys.modules.get("capacity_units")
    if loaded is None:
        spec = importlib.util.spec_from_file_location("capacity_units", UNITS)
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules["capacity_units"] = loaded
        spec.loader.exec_module(loaded)
    return loaded
