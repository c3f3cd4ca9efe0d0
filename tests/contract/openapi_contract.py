"""Response bodies checked against hawkBit's OpenAPI documents (the DDI and Management API contract).

The documents in `openapi/` are hawkBit's own, copied verbatim; `_patch_known_spec_bugs` corrects the
places where they contradict hawkBit's behaviour (see openapi/README.md). A response is checked when its
request matches an operation of either document (path template + method) and the document declares a
schema for its status code and a JSON media type: routes hawkBit does not have (skyhawk extensions,
DCS/DWS, /health), undeclared status codes, and empty or non-JSON bodies pass unchecked.

What fails, where a schema is declared: a media type the operation does not produce for that status, a body
that is not JSON although it says so, a missing required field, a wrong type or format. Extra fields pass
(responses may add fields).
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

SPEC_DIR = Path(__file__).resolve().parent / "openapi"
DOCUMENTS = ("hawkbit-ddi.json", "hawkbit-mgmt.json")
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


class ContractViolation(AssertionError):
    """A response that hawkBit's OpenAPI documents do not allow."""


def _patch_known_spec_bugs(name: str, doc: dict[str, Any]) -> None:
    """Correct what the generated documents get wrong; fails loudly when a refreshed copy no longer has the bug,
    so each patch is looked at again instead of silently loosening the contract."""
    schemas = doc["components"]["schemas"]
    if name == "hawkbit-mgmt.json":
        # MgmtSystemTenantConfigurationValue.value is a Java `Serializable`: a boolean, number or string on the
        # wire (`{"value": true}`, `{"value": "00:05:00"}`), never an object. springdoc renders it as object.
        value = schemas["MgmtSystemTenantConfigurationValue"]["properties"]["value"]
        assert value.get("type") == "object", "hawkbit-mgmt.json: tenant config value patch no longer applies"
        del value["type"]
        # The target tag operations' error responses (401, 403, 405, 406, 409, 415, 429) declare the success
        # body (MgmtTag, a list of them, a page of targets): springdoc's default for an @ApiResponse without
        # content. hawkBit answers every error with ExceptionInfo, as its other resources declare.
        patched = 0
        for template, item in doc["paths"].items():
            if not template.startswith("/rest/v1/targettags"):
                continue
            for operation in item.values():
                for status, response in operation.get("responses", {}).items():
                    declared = json.dumps(response.get("content", {}))
                    if status.startswith("4") and "Mgmt" in declared and "ExceptionInfo" not in declared:
                        response["content"] = {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ExceptionInfo"}}}
                        patched += 1
        assert patched, "hawkbit-mgmt.json: target tag error body patch no longer applies"
        # A rollout group's success action PAUSE (hawkBit since PR #2867, 2026-01) is newer than the document.
        success = schemas["MgmtRolloutSuccessAction"]["properties"]["action"]
        assert success.get("enum") == ["NEXTGROUP"], "hawkbit-mgmt.json: success action PAUSE patch no longer applies"
        success["enum"] = ["NEXTGROUP", "PAUSE"]
    if name == "hawkbit-ddi.json":
        # DdiPolling.sleep's `pattern` is the literal text "HH:MM:SS" (meant as notation, not a regex): read
        # as a regex it refuses every real value such as "00:05:00".
        sleep = schemas["DdiPolling"]["properties"]["sleep"]
        assert sleep.get("pattern") == "HH:MM:SS", "hawkbit-ddi.json: sleep pattern patch no longer applies"
        sleep["pattern"] = r"^[0-9]{2}:[0-5][0-9]:[0-5][0-9]$"


def _pointer_token(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Route:
    template: str
    pattern: re.Pattern
    specificity: tuple[int, int]  # (literal segments, literal characters): Spring prefers the most specific
    operations: Mapping[str, tuple[str, Mapping[str, Any]]]  # METHOD -> (document uri, operation)


def _route(uri: str, template: str, path_item: Mapping[str, Any]) -> _Route:
    parts, literal_segments, literal_chars = [], 0, 0
    for segment in template.strip("/").split("/"):
        pieces = re.split(r"(\{[^}]+\})", segment)
        parts.append("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in pieces if p))
        literals = "".join(p for p in pieces if not p.startswith("{"))
        literal_segments += literals == segment
        literal_chars += len(literals)
    operations = {method.upper(): (uri, op) for method, op in path_item.items() if method in _HTTP_METHODS}
    return _Route(template, re.compile("/" + "/".join(parts)), (literal_segments, literal_chars), operations)


def _media_type(headers: Mapping[str, Any]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            value = value[0] if isinstance(value, (list, tuple)) else value
            return str(value).split(";")[0].strip().lower()
    return ""


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


@dataclass
class OpenApiContract:
    """The loaded documents, their routes, and one compiled validator per response schema (built on first use)."""

    documents: dict[str, dict[str, Any]]
    routes: list[_Route] = field(init=False)
    registry: Registry = field(init=False)
    _validators: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.registry = Registry().with_resources(
            (uri, DRAFT4.create_resource(doc)) for uri, doc in self.documents.items())
        self.routes = sorted((_route(uri, template, item) for uri, doc in self.documents.items()
                              for template, item in doc["paths"].items()),
                             key=lambda r: r.specificity, reverse=True)

    def operation(self, method: str, path: str) -> tuple[str, str, Mapping[str, Any]] | None:
        """(document uri, path template, operation) of the most specific route serving `method path`."""
        path = urlsplit(path).path
        for route in self.routes:
            if method.upper() in route.operations and route.pattern.fullmatch(path):
                uri, op = route.operations[method.upper()]
                return uri, route.template, op
        return None

    def check(self, method: str, path: str, status: int, headers: Mapping[str, Any], body: bytes | str) -> None:
        """Raise ContractViolation if the response breaks the contract; return quietly when nothing applies."""
        found = self.operation(method, path)
        if found is None or method.upper() == "HEAD" or not body:
            return
        uri, template, op = found
        declared = (op.get("responses") or {}).get(str(status))
        content = (declared or {}).get("content") or {}
        media_type = _media_type(headers)
        where = f"{method.upper()} {path} -> {status} ({uri} {template})"
        described = any("schema" in declared_type for declared_type in content.values())
        if described and "*/*" not in content and media_type not in content:
            raise ContractViolation(f"{where}: Content-Type {media_type or '(none)'} is not one of {sorted(content)}")
        schema_at = next((m for m in (media_type, *content) if m in content and _is_json(m)
                          and "schema" in content[m]), None)
        if schema_at is None or not _is_json(media_type):
            return
        try:
            instance = json.loads(body)
        except ValueError as exc:
            raise ContractViolation(f"{where}: body is not JSON: {exc}") from exc
        pointer = "/".join(("#", "paths", _pointer_token(template), method.lower(), "responses", str(status),
                            "content", _pointer_token(schema_at), "schema"))
        errors = sorted(self._validator(f"{uri}{pointer}").iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            details = "\n".join(f"  {e.json_path}: {e.message}" for e in errors[:10])
            raise ContractViolation(f"{where}: body does not match the schema:\n{details}")

    def _validator(self, ref: str) -> Any:
        validator = self._validators.get(ref)
        if validator is None:
            validator = OAS30ReadValidator({"$ref": ref}, registry=self.registry,
                                           format_checker=oas30_format_checker)
            self._validators[ref] = validator
        return validator


@functools.cache
def contract() -> OpenApiContract:
    """One per process: the documents are parsed and patched once, validators compiled once per schema."""
    documents = {}
    for name in DOCUMENTS:
        doc = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
        _patch_known_spec_bugs(name, doc)
        documents[f"urn:skyhawk:contract:{name}"] = doc
    return OpenApiContract(documents)
