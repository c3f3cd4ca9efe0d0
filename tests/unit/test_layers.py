"""The layers of the design, checked on every import of chalicelib (ast, not a run): entry points → services →
domain, adapters behind services.

- domain/: pure Python: no AWS, no HTTP framework, no store, services or routes.
- services/ and jobs/: compose the store's repositories; never PynamoDB, boto or the models themselves.
- api/: parse, call a service, render: no store, no AWS.
- store/: adapters, below the services: never imports services or routes.

There are no exceptions: PynamoDB models, expressions and exceptions, boto3 and botocore live in store/ only.
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


def _imports(path: Path) -> set[str]:
    return _names(ast.parse(path.read_text(), str(path)))


def _names(tree: ast.AST) -> set[str]:
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


def test_every_layer_imports_only_what_its_rule_allows():
    assert _breaches() == {}, "imports across the layers' boundaries"


def test_the_rule_sees_a_breach():
    """The check itself: a service that imports the models, or the api that imports the store, is caught."""
    service = ast.parse("from chalicelib.store.tables import Target\nimport pynamodb.models\n")
    names = _names(service)
    assert {f for name in names for f in RULES["services"] if name == f or name.startswith(f + ".")} == {
        "chalicelib.store.tables", "pynamodb"}
