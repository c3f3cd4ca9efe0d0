"""Which operations of hawkBit's Management API (its OpenAPI document, tools/openapi_docs/hawkbit) the app has.

NOT_YET lists the ones still missing, by resource; it may only shrink. An operation that disappears fails the
first test, one that is built fails the second until it is taken off the list. The coverage is printed
(`pytest -s tests/unit/test_operation_coverage.py`).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

OPENAPI = Path(__file__).resolve().parents[2] / "tools" / "openapi_docs" / "hawkbit" / "hawkbit-mgmt.json"
METHODS = ("get", "post", "put", "delete", "patch")

NOT_YET: dict[str, set[str]] = {}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/"))


def _documented() -> set[str]:
    paths = json.loads(OPENAPI.read_text())["paths"]
    return {f"{method.upper()} {_shape(path)}" for path, item in paths.items() for method in item if method in METHODS}


def _routed() -> set[str]:
    from app import app
    return {f"{method.upper()} {_shape(path)}" for path, entry in app.routes.items() for method in entry}


def test_every_documented_operation_exists_or_is_listed_as_not_yet(aws_env):
    documented, routed = _documented(), _routed()
    listed: set[str] = set().union(*NOT_YET.values())
    missing = documented - routed
    print(f"\nManagement API: {len(documented - missing)} of {len(documented)} operations "
          f"({', '.join(f'{name} {len(ops)}' for name, ops in NOT_YET.items() if ops)} not yet)")
    assert missing - listed == set(), "operations the app lost"


def test_the_not_yet_list_only_shrinks(aws_env):
    built = set().union(*NOT_YET.values()) & _routed()
    assert built == set(), "built now: take these off NOT_YET"
    assert set().union(*NOT_YET.values()) <= _documented(), "NOT_YET names an operation hawkBit does not document"
