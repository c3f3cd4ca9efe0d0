"""Response bodies checked against the OpenAPI documents skyhawk ships and serves (chalicelib/openapi/*.json).

The Management and DDI documents are hawkBit's own with its known bugs patched and skyhawk's extensions
added; the DCS, DWS and service documents are skyhawk's (tools/openapi_docs builds them all). A response is
checked when its request matches an operation of a document (path template + method) and the document
declares a schema for its status code and a JSON media type: undeclared status codes, and empty or non-JSON
bodies pass unchecked. tests/unit/test_openapi_documents.py holds the documents and the app's routes to each
other, so every route's responses are checked.

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

SPEC_DIR = Path(__file__).resolve().parents[2] / "chalicelib" / "openapi"
DOCUMENTS = ("mgmt.json", "ddi.json", "dcs.json", "dws.json", "service.json")
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


class ContractViolation(AssertionError):
    """A response that the OpenAPI documents do not allow."""


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
    """One per process: the documents are parsed once, validators compiled once per schema."""
    return OpenApiContract({f"urn:skyhawk:contract:{name}": json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
                            for name in DOCUMENTS})
