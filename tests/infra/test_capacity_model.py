"""The capacity model's page (docs/capacity.md) shows what the model computes, and the units it was computed from
are still the code's (run `make capacity` when not)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
CAPACITY = PROJECT_DIR / "docs" / "capacity"
sys.path.insert(0, str(CAPACITY))

import model  # noqa: E402


# --- the page and the measurements ------------------------------------------------------------------------------
def test_the_page_shows_what_the_model_computes():
    doc = model.DOC.read_text()
    rendered = model.render(json.loads(model.MEASURED.read_text()))
    assert sorted(m.group("name") for m in model._MARKER.finditer(doc)) == sorted(rendered)  # each section once
    assert model.fill(doc, rendered) == doc, "docs/capacity.md is stale: run `make capacity`"


def test_the_measured_units_are_still_the_codes():
    """What measured.json says each request costs is what the code costs now (the quick run leaves out the
    1,000-target assignment, which moto makes slow). A change of the data model fails here: `make capacity`."""
    result = subprocess.run([sys.executable, str(CAPACITY / "measure.py"), "--repeat", "0", "--quick"],
                            capture_output=True, text=True, timeout=300, cwd=PROJECT_DIR)
    assert result.returncode == 0, result.stderr[-3000:]
    now = json.loads(result.stdout)
    recorded = json.loads(model.MEASURED.read_text())
    stale = []
    for op, measured in now["operations"].items():
        before = recorded["operations"].get(op)
        for field in ("units", "log_bytes", "status"):
            if before is None or before.get(field) != measured.get(field):
                stale.append(f"{op}.{field}")
        if before and abs(before.get("response_bytes", 0) - measured.get("response_bytes", 0)) > 16:
            stale.append(f"{op}.response_bytes")
    for field in ("item_sizes", "stored", "shards"):
        if now[field] != recorded[field]:
            stale.append(field)
    assert not stale, f"docs/capacity/measured.json is stale ({', '.join(stale)}): run `make capacity`"
