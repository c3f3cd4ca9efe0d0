"""The OpenAPI documents skyhawk ships (chalicelib/openapi/*.json) and the app's routes describe each other:
every route is an operation of exactly one document, every operation is a route, and the committed files are
what tools/openapi_docs builds (`python -m tools.openapi_docs` rewrites them)."""
from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tests.contract.openapi_contract import DOCUMENTS
from tools import openapi_docs

SHIPPED = Path(__file__).resolve().parents[2] / "chalicelib" / "openapi"


def _documents() -> dict[str, dict]:
    return {name: json.loads((SHIPPED / name).read_text(encoding="utf-8")) for name in DOCUMENTS}


def disagreements(routes: set[tuple[str, str]], documents: dict[str, dict]) -> dict[str, list]:
    """What keeps routes and documents from describing each other (empty lists when they agree)."""
    documented: Counter[tuple[str, str]] = Counter()
    for doc in documents.values():
        documented.update(openapi_docs.operations(doc).keys())
    return {
        "routes no document describes": sorted(routes - set(documented)),
        "operations no route serves": sorted(set(documented) - routes),
        "operations in more than one document": sorted(op for op, n in documented.items() if n > 1),
    }


def test_every_route_is_in_exactly_one_document_and_every_operation_is_a_route():
    routes = openapi_docs.app_routes()
    assert disagreements(routes, _documents()) == {
        "routes no document describes": [], "operations no route serves": [],
        "operations in more than one document": []}
    assert len(routes) >= 200


def test_a_route_added_without_documenting_it_fails_and_so_does_a_document_without_its_route():
    routes, documents = openapi_docs.app_routes(), _documents()
    assert disagreements(routes | {("POST", "/rest/v1/undocumented/{}")}, documents)[
        "routes no document describes"] == [("POST", "/rest/v1/undocumented/{}")]
    assert disagreements(routes - {("GET", "/health")}, documents)["operations no route serves"] == [
        ("GET", "/health")]
    twice = copy.deepcopy(documents)
    twice["dws.json"]["paths"]["/health"] = documents["service.json"]["paths"]["/health"]
    assert disagreements(routes, twice)["operations in more than one document"] == [("GET", "/health")]


def test_hawkbit_md5sum_files_are_served_by_the_artifact_route():
    ddi = _documents()["ddi.json"]
    md5 = "/{tenant}/controller/v1/{controllerId}/softwaremodules/{softwareModuleId}/artifacts/{fileName}.MD5SUM"
    assert ddi["paths"][md5]["get"][openapi_docs.SERVED_BY] == md5.removesuffix(".MD5SUM")


def test_the_committed_documents_are_what_the_generator_builds():
    assert sorted(openapi_docs.build()) == sorted(DOCUMENTS)
    assert openapi_docs.stale() == [], "run: python -m tools.openapi_docs"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_document_is_valid_openapi(name):
    validate(_documents()[name])


def test_hawkbit_schemas_are_kept_and_its_known_bugs_patched():
    mgmt, ddi = _documents()["mgmt.json"], _documents()["ddi.json"]
    hawkbit = json.loads((openapi_docs.HAWKBIT / "hawkbit-mgmt.json").read_text(encoding="utf-8"))
    assert set(hawkbit["components"]["schemas"]) <= set(mgmt["components"]["schemas"])
    assert "type" not in mgmt["components"]["schemas"]["MgmtSystemTenantConfigurationValue"]["properties"]["value"]
    assert ddi["components"]["schemas"]["DdiPolling"]["properties"]["sleep"]["pattern"] != "HH:MM:SS"
