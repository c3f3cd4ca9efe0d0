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


def test_each_function_has_the_memory_the_capacity_model_chooses():
    """.chalice/config.json sets every function's memory (in every deployed stage) to the model's choice: the least
    memory its constraints allow ("The functions' memory"); `make capacity` shows the choice after a measurement."""
    chosen = model.memory_choice(json.loads(model.FUNCTIONS_MEASURED.read_text()), json.loads(model.MEASURED.read_text()))
    config = json.loads(model.CHALICE_CONFIG.read_text())
    from app import app
    functions = {source.name for source in app.event_sources} | {fn.name for fn in app.pure_lambda_functions}
    assert set(chosen) == {"api_handler", *functions}  # every function of the app, and only those
    for stage in ("dev", "prod"):
        settings = config["stages"][stage]
        assert "lambda_memory_size" not in settings, stage  # no stage-wide size a new function would fall back on
        configured = {name: fn["lambda_memory_size"] for name, fn in settings["lambda_functions"].items()}
        assert configured == chosen, stage


def test_less_memory_costs_less_for_every_function_the_fleet_runs():
    """The rule's premise, on the measured durations: every function waits on AWS, so for the same work less memory
    bills fewer GB-s (memory x (CPU / share + waits)); the least memory the constraints allow is the cheapest."""
    measured = json.loads(model.MEASURED.read_text())
    fns = model.Functions(model.Model(measured), json.loads(model.FUNCTIONS_MEASURED.read_text()))
    for name in model.FUNCTION_NAMES:
        if fns.per_month(name):
            costs = [fns.cost(name, memory) for memory in (256, 512, 1024, 1536)]
            assert costs == sorted(costs) and costs[0] < costs[-1], (name, costs)
