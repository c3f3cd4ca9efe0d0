"""The layers of the design, checked on every import of chalicelib (ast, not a run): entry points → services →
domain, adapters behind services.

- domain/: pure Python: no AWS, no HTTP framework, no store, services or routes.
- services/ and jobs/: compose the store's repositories; never PynamoDB, boto or the models themselves.
- api/: parse, call a service, render: no store, no AWS.
- store/: adapters, below the services: never imports services or routes.

KNOWN lists what still breaks a rule while the persistence boundary moves into the store (issue 7). It may
only shrink: an entry that no longer breaks its rule fails the test until it is deleted here.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"
AWS = ("boto3", "botocore", "pynamodb")
MODELS = ("chalicelib.store.tables", "chalicelib.store.workflow_tables")

RULES = {
    "domain": AWS + ("chalice", "chalicelib.store", "chalicelib.services", "chalicelib.api", "chalicelib.jobs"),
    "services": AWS + MODELS + ("chalice", "chalicelib.api"),
    "jobs": AWS + MODELS + ("chalice", "chalicelib.api"),
    "api": AWS + ("chalicelib.store", "chalicelib.jobs"),
    "store": ("chalicelib.services", "chalicelib.api", "chalicelib.jobs"),
}

KNOWN: dict[str, set[str]] = {
    "chalicelib.services.bulk_creates": {'chalicelib.store.tables'},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_import" and node.args \
                and isinstance(node.args[0], ast.Constant):
            names.add(node.args[0].value)
    return names


def _breaches() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for layer, forbidden in RULES.items():
        for path in sorted((PACKAGE / layer).glob("*.py")):
            module = f"chalicelib.{layer}.{path.stem}"
            # the rule broken (`from chalicelib.store import tables` breaks `chalicelib.store.tables`)
            bad = {f for name in _imports(path) for f in forbidden if name == f or name.startswith(f + ".")}
            if bad:
                found[module] = bad
    return found


def test_layers_hold_except_the_known_breaches():
    breaches = _breaches()
    new = {m: sorted(names - KNOWN.get(m, set())) for m, names in breaches.items() if names - KNOWN.get(m, set())}
    assert new == {}, "imports across the layers' boundaries"


def test_the_known_breaches_only_shrink():
    breaches = _breaches()
    healed = {m: sorted(names - breaches.get(m, set())) for m, names in KNOWN.items()
              if names - breaches.get(m, set())}
    assert healed == {}, "delete these from KNOWN: they hold the rule now"
