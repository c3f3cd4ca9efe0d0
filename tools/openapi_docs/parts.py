"""Small builders for the OpenAPI 3.0 pieces the documents repeat (responses, parameters, schemas)."""
from __future__ import annotations

from typing import Any, Iterable

JSON = "application/json"
HAL = ("application/hal+json", JSON)
Schema = dict[str, Any]
# The service itself: `..` is relative to the document's own URL (`<service>/openapi/<name>.json`), so the
# viewer's requests go to the service (and stage) that served the document.
SERVERS = [{"url": "..", "description": "this service"}]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], required: Iterable[str] = (), description: str | None = None,
        **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return {**schema, **extra}


def array(items: Schema, description: str | None = None) -> Schema:
    return {"type": "array", "items": items, **({"description": description} if description else {})}


def string(description: str | None = None, **extra: Any) -> Schema:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def integer(description: str | None = None, fmt: str = "int64", **extra: Any) -> Schema:
    return {"type": "integer", "format": fmt, **({"description": description} if description else {}), **extra}


def nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


def content(schema: Schema, media: Iterable[str] = HAL) -> dict[str, Any]:
    return {m: {"schema": schema} for m in media}


def response(description: str, schema: Schema | None = None, media: Iterable[str] = HAL,
             headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = content(schema, media)
    if headers:
        answer["headers"] = headers
    return answer


def body(schema: Schema, media: Iterable[str] = HAL, required: bool = True,
         description: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"content": content(schema, media), "required": required}
    if description:
        request["description"] = description
    return request


def path_param(name: str, schema: Schema | None = None, description: str | None = None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema or string()}
    if description:
        param["description"] = description
    return param


def query_param(name: str, schema: Schema | None = None, description: str | None = None,
                required: bool = False) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "required": required, "schema": schema or string()}
    if description:
        param["description"] = description
    return param


def header_param(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "schema": string(), "description": description}


ERROR_TEXT = {
    "400": "Bad Request - e.g. invalid parameters or body",
    "401": "The request requires authentication.",
    "403": "Insufficient permissions.",
    "404": "Not Found - e.g. the entity does not exist.",
    "405": "The http request method is not allowed on the resource.",
    "406": "The Accept header names no media type the operation produces.",
    "409": "Conflict - e.g. the entity changed or the state does not allow it.",
    "410": "Gone - e.g. the upload session expired.",
    "412": "Precondition Failed - e.g. If-Match names another revision.",
    "413": "Payload Too Large.",
    "415": "The request body's media type is not one the operation reads.",
    "429": "Too many requests: wait Retry-After seconds.",
    "500": "Internal error.",
    "503": "A backing service is unavailable: retry after Retry-After seconds.",
}


def errors(schema: Schema, statuses: Iterable[str], media: Iterable[str] = (JSON,)) -> dict[str, Any]:
    return {status: response(ERROR_TEXT[status], schema, media) for status in statuses}


def operation(tag: str, summary: str, operation_id: str, responses: dict[str, Any],
              parameters: Iterable[dict[str, Any]] = (), request_body: dict[str, Any] | None = None,
              description: str | None = None, security: list[dict[str, list[str]]] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"tags": [tag], "summary": summary, "operationId": operation_id}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = list(parameters)
    if request_body is not None:
        op["requestBody"] = request_body
    op["responses"] = dict(sorted(responses.items()))
    if security is not None:
        op["security"] = security
    return op
