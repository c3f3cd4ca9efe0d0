"""The OpenAPI documents skyhawk ships and serves (chalicelib/openapi/*.json), generated here.

- mgmt.json, ddi.json: hawkBit's own documents (hawkbit/, copied verbatim) with their known bugs patched
  (patches.py), the operations the app has no route for dropped, and skyhawk's extensions added (mgmt.py,
  the DDI artifact HEAD here).
- dcs.json, dws.json: the Device Configuration and Deployment Workflow services (dcs.py).
- service.json: what is neither: /health and /openapi itself.

`python -m tools.openapi_docs` writes them; `python -m tools.openapi_docs --check` fails when the committed
files differ from what this builds (tests/unit/test_openapi_documents.py runs the same check).
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from tools.openapi_docs import dcs, mgmt
from tools.openapi_docs.parts import SERVERS, errors, header_param, obj, operation, path_param, ref, response, string
from tools.openapi_docs.patches import patch_known_spec_bugs

ROOT = Path(__file__).resolve().parents[2]
HAWKBIT = Path(__file__).resolve().parent / "hawkbit"
OUTPUT = ROOT / "chalicelib" / "openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# An operation served by a wider route than its own path (hawkBit's `{fileName}.MD5SUM` is answered by the
# `{fileName}` route) names that route's path template here.
SERVED_BY = "x-skyhawk-route"
_MD5SUM = "/{tenant}/controller/v1/{controllerId}/softwaremodules/{softwareModuleId}/artifacts/{fileName}"


def shape(template: str) -> str:
    """A path template with its parameter names blanked: `/rest/v1/targets/{}` (routes and documents name them
    differently)."""
    return re.sub(r"\{[^}]+\}", "{}", template.rstrip("/"))


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(METHOD, route shape) -> path template, for every operation of a document."""
    found = {}
    for template, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                found[(method.upper(), shape(op.get(SERVED_BY, template)))] = template
    return found


def app_routes() -> set[tuple[str, str]]:
    """(METHOD, shape) of every route of the chalice app."""
    from app import app
    return {(method.upper(), shape(path)) for path, entry in app.routes.items() for method in entry}


def _hawkbit(name: str) -> dict[str, Any]:
    doc = json.loads((HAWKBIT / name).read_text(encoding="utf-8"))
    patch_known_spec_bugs(name, doc)
    return doc


def _keep_routed(doc: dict[str, Any], routed: set[tuple[str, str]]) -> None:
    """Drop the operations (and then empty paths) the app has no route for."""
    for template in list(doc["paths"]):
        item = doc["paths"][template]
        for method in [m for m in item if m in METHODS]:
            if (method.upper(), shape(item[method].get(SERVED_BY, template))) not in routed:
                del item[method]
        if not any(m in item for m in METHODS):
            del doc["paths"][template]


def _retitle(doc: dict[str, Any], title: str, description: str, schemes: dict[str, Any]) -> None:
    doc["info"] = {"title": title, "description": description + "\n\n" + doc["info"]["description"],
                   "version": doc["info"]["version"]}
    doc["servers"] = SERVERS
    doc["components"]["securitySchemes"] = schemes
    doc["security"] = [{name: []} for name in schemes]


def mgmt_document(routed: set[tuple[str, str]]) -> dict[str, Any]:
    doc = _hawkbit("hawkbit-mgmt.json")
    mgmt.extend(doc)
    _keep_routed(doc, routed)
    doc["tags"] += [{"name": "Users", "description": "skyhawk: local management users"},
                    {"name": "Roles", "description": "skyhawk: named sets of permissions"}]
    _retitle(doc, "skyhawk Management API", "hawkBit's Management API as skyhawk serves it: hawkBit's operations "
             "and schemas, plus users and roles, quotas, direct artifact uploads and rollout stop.",
             {"basicAuth": {"type": "http", "scheme": "basic", "description": "`tenant\\user` and password"}})
    return doc


def ddi_document(routed: set[tuple[str, str]]) -> dict[str, Any]:
    doc = _hawkbit("hawkbit-ddi.json")
    paths = doc["paths"]
    paths[_MD5SUM + ".MD5SUM"]["get"][SERVED_BY] = _MD5SUM
    download = paths[_MD5SUM]
    assert "head" not in download, "hawkBit's document has HEAD on an artifact now"
    head = copy.deepcopy(download["get"])
    head.update(summary="Artifact size and checksums", operationId="downloadArtifactHead",
                description="The download's headers (Content-Length, ETag, checksums) without its body.")
    head["responses"]["200"] = {"description": "The download's headers, no body"}
    download["head"] = head
    _keep_routed(doc, routed)
    _retitle(doc, "skyhawk Direct Device Integration API", "hawkBit's DDI API as skyhawk serves it.", {
        "targetToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                        "description": "`TargetToken <the target's security token>`"},
        "gatewayToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                         "description": "`GatewayToken <the tenant's gateway token>`"},
    })
    return doc


def service_document() -> dict[str, Any]:
    error = ref("ExceptionInfo")
    status = obj({"status": string(enum=["UP", "DOWN"])}, ["status"])
    health = obj({"status": string(enum=["UP", "DOWN"]),
                  "components": obj({}, additionalProperties=status)}, ["status"])
    name = path_param("name", string(), "A document (`mgmt.json`, `ddi.json`, `dcs.json`, `dws.json`, "
                                        "`service.json`) or one of the viewer's files")
    asset = {"type": "string", "format": "binary"}
    return {
        "openapi": "3.0.1",
        "info": {"title": "skyhawk service", "version": "v1",
                 "description": "Liveness, the API documents with their viewer, and the management console."},
        "servers": SERVERS,
        "tags": [{"name": "Service", "description": "No credentials needed"}],
        "paths": {
            "/health": {"get": operation("Service", "Liveness", "health", {
                "200": response("UP: DynamoDB and S3 answer", health, ("application/json",)),
                "503": response("DOWN, with the failing components (and Retry-After)", health,
                                ("application/json",)),
                **errors(error, ("429",))}, security=[])},
            "/openapi": {"get": operation("Service", "The API viewer (also at /openapi/)", "viewer", {
                "200": response("The viewer's page", string(), ("text/html",))}, security=[],
                description="Renders the documents below; every file it loads comes from this service.")},
            "/openapi/{name}": {"get": operation("Service", "An API document or a file of the viewer", "document", {
                "200": {"description": "The document (JSON) or the file; the viewer's large files are sent "
                                       "gzip-compressed to clients that accept it",
                        "content": {"application/json": {"schema": {"type": "object"}},
                                    "text/javascript": {"schema": asset}, "text/css": {"schema": asset},
                                    "text/html": {"schema": asset}, "text/plain": {"schema": asset}}},
                **errors(error, ("404", "429"))}, [name], security=[])},
            "/ui": {"get": operation("Service", "The management console (also at /ui/)", "console", {
                "200": response("The console's page", string(), ("text/html",))}, security=[],
                description="A single-page app calling the Management, DCS and DWS APIs with the operator's "
                            "own login; every file it loads comes from this service.")},
            "/ui/{name}": {"get": operation("Service", "A file of the management console", "consoleFile", {
                "200": {"description": "The file, gzip-compressed to clients that accept it",
                        "content": {"text/javascript": {"schema": asset}, "text/css": {"schema": asset},
                                    "text/html": {"schema": asset}}},
                "304": {"description": "Not modified: If-None-Match named the file's ETag"},
                **errors(error, ("404", "429"))}, [path_param("name", string(), "One of the console's files")],
                security=[])},
        },
        "components": {"schemas": {"ExceptionInfo": obj({
            "exceptionClass": string(), "errorCode": string(), "message": string(),
            "parameters": {"type": "array", "items": {}}})}},
    }


IDEMPOTENCY_KEY = header_param("Idempotency-Key", "A client's key for this request: a repeated request with the same "
                                                   "key and body is answered once, with the first answer")


def _name_idempotency_keys(documents: dict[str, dict[str, Any]]) -> None:
    """The Idempotency-Key header on the operations of the routes that honour it (`route(..., idempotent=True)`)."""
    from chalicelib.api.common import IDEMPOTENT
    wanted = {(method.upper(), shape(path)) for path, method in IDEMPOTENT}
    found = set()
    for doc in documents.values():
        for (method, route_shape), template in operations(doc).items():
            if (method, route_shape) in wanted:
                op = doc["paths"][template][method.lower()]
                op["parameters"] = [*op.get("parameters", []), IDEMPOTENCY_KEY]
                found.add((method, route_shape))
    assert found == wanted, f"idempotent routes without an operation: {sorted(wanted - found)}"


def build() -> dict[str, dict[str, Any]]:
    """Every shipped document by its file name."""
    routed = app_routes()
    documents = {"mgmt.json": mgmt_document(routed), "ddi.json": ddi_document(routed),
                 "dcs.json": dcs.dcs_document(), "dws.json": dcs.dws_document(), "service.json": service_document()}
    _name_idempotency_keys(documents)
    return documents


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def stale(built: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """File names whose committed text is not what build() makes (missing files included)."""
    built = build() if built is None else built
    return [name for name, doc in built.items()
            if not (OUTPUT / name).exists() or (OUTPUT / name).read_text(encoding="utf-8") != render(doc)]


def write() -> list[str]:
    OUTPUT.mkdir(exist_ok=True)
    built = build()
    changed = stale(built)
    for name in changed:
        (OUTPUT / name).write_text(render(built[name]), encoding="utf-8")
    return changed
