"""The device front door: a Lambda function URL in front of the same Chalice app (docs/capacity.md says why).

A function URL (and an API Gateway HTTP API) sends API Gateway's payload format 2.0; Chalice reads the REST
API's proxy event (1.0), whose route API Gateway has already matched. `FrontDoor` matches a 2.0 request's
path against the app's DDI routes as the REST API would (a literal segment wins over a `{parameter}`),
hands the app the 1.0 event the REST API would have sent, and turns the app's 1.0 answer into a 2.0
response. Any other event (the REST API's own) goes to the app unchanged, so one function serves both.

Only DDI paths (`/{tenant}/controller/v1/...`) pass: the Management and DCS/DWS APIs stay behind the REST
API, the one place where an operator adds a WAF, a resource policy or a stage throttle. Anything else
answers 404 as an unknown route does there (in the error shape of the API the path belongs to).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

_DDI_PREFIX = "/{tenant}/controller/v1/"
_DEFAULT_STAGE = "$default"


class FrontDoor:
    """The Lambda handler: `handler = FrontDoor(app)`; `handler(event, context)`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._routes: list[tuple[tuple[bool, ...], list[str], str]] | None = None

    def __call__(self, event: dict, context: Any) -> dict:
        if event.get("version") != "2.0":
            return self.app(event, context)
        path = _path_without_stage(event)
        matched = self._match(path)
        if matched is None:
            return _to_v2(_route_not_found(path, self.app.api.binary_types))
        resource_path, path_parameters = matched
        return _to_v2(self.app(_to_v1(event, path, resource_path, path_parameters), context))

    def _match(self, path: str) -> tuple[str, dict[str, str]] | None:
        if path != "/" and path.endswith("/"):
            path = path[:-1]  # API Gateway's REST API ignores one trailing slash
        segments = path.split("/")
        for _, template, resource_path in self._ddi_routes():
            if len(template) != len(segments):
                continue
            captured = {}
            for given, expected in zip(segments, template):
                if expected.startswith("{") and expected.endswith("}"):
                    if not given:
                        break
                    captured[expected[1:-1]] = given
                elif given != expected:
                    break
            else:
                return resource_path, captured
        return None

    def _ddi_routes(self) -> list[tuple[tuple[bool, ...], list[str], str]]:
        """The app's DDI route templates, most specific first: segment by segment, literal before parameter."""
        if self._routes is None:
            routes = []
            for resource_path in self.app.routes:
                if resource_path.startswith(_DDI_PREFIX):
                    template = resource_path.split("/")
                    routes.append((tuple(s.startswith("{") for s in template), template, resource_path))
            self._routes = sorted(routes)
        return self._routes


def _path_without_stage(event: dict) -> str:
    """The request path; on a named HTTP API stage `rawPath` starts with the stage, which no route names."""
    path = event.get("rawPath") or "/"
    stage = (event.get("requestContext") or {}).get("stage") or _DEFAULT_STAGE
    if stage != _DEFAULT_STAGE and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1 :]
    return path


def _to_v1(event: dict, path: str, resource_path: str, path_parameters: dict[str, str]) -> dict:
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    headers = dict(event.get("headers") or {})
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])  # 2.0 moves the Cookie header into `cookies`
    query = parse_qs(event.get("rawQueryString") or "", keep_blank_values=True)
    return {
        "resource": resource_path,
        "path": path,
        "httpMethod": http.get("method"),
        "headers": headers,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": event.get("stageVariables"),
        "body": event.get("body"),
        "isBase64Encoded": bool(event.get("isBase64Encoded")),
        "requestContext": {
            "accountId": context.get("accountId"),
            "apiId": context.get("apiId"),
            "domainName": context.get("domainName"),
            "domainPrefix": context.get("domainPrefix"),
            "httpMethod": http.get("method"),
            "identity": {"sourceIp": http.get("sourceIp"), "userAgent": http.get("userAgent")},
            "path": event.get("rawPath") or path,
            "protocol": http.get("protocol"),
            "requestId": context.get("requestId"),
            "requestTimeEpoch": context.get("timeEpoch"),
            "resourcePath": resource_path,
            "stage": context.get("stage", _DEFAULT_STAGE),
        },
    }


def _to_v2(response: dict) -> dict:
    """Chalice's 1.0 answer as a 2.0 response: no multiValueHeaders (values joined), Set-Cookie as `cookies`."""
    headers = dict(response.get("headers") or {})
    cookies = []
    for name, values in (response.get("multiValueHeaders") or {}).items():
        if name.lower() == "set-cookie":
            cookies.extend(values)
        else:
            headers[name] = ",".join(str(v) for v in values)
    for name in [n for n in headers if n.lower() == "set-cookie"]:
        cookies.append(headers.pop(name))
    answer = {
        "statusCode": response["statusCode"],
        "headers": headers,
        "body": response.get("body") or "",
        "isBase64Encoded": bool(response.get("isBase64Encoded")),
    }
    if cookies:
        answer["cookies"] = cookies
    return answer


def _route_not_found(path: str, binary_types: list[str]) -> dict:
    from chalicelib import errors
    from chalicelib.api.middleware import render

    response = render(errors.RouteNotFound(f"No resource {path}."), path)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.to_dict(binary_types)
