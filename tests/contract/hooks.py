"""Where responses pass through the tests' HTTP clients, so every one of them meets the OpenAPI documents:
chalice's test client (tests/api), `requests` and aiohttp against the launcher (tests/e2e)."""
from __future__ import annotations

import contextlib
import gzip
from typing import Any, Iterator
from urllib.parse import urlsplit

from tests.contract.openapi_contract import ContractViolation, contract

# A test that deliberately provokes a malformed response opts out with this marker (none does today).
OPT_OUT_MARKER = "no_contract"


def check_chalice_client(http: Any) -> None:
    """Wrap a `chalice.test.TestHTTPClient`: its get/put/post/... all go through `request`."""
    send = http.request

    def request(method: str, path: str, headers: dict | None = None, body: bytes = b"") -> Any:
        response = send(method, path, headers=headers, body=body)
        answer = response.body
        if {k.lower(): v for k, v in response.headers.items()}.get("content-encoding") == "gzip":
            answer = gzip.decompress(answer)  # requests and aiohttp hand over decoded bodies; chalice does not
        contract().check(method, path, response.status_code, response.headers, answer)
        return response

    http.request = request


class ViolationLog:
    """Violations seen on the wire, for the ones a worker thread's caller never re-raises."""

    def __init__(self) -> None:
        self.seen: list[ContractViolation] = []
        self.enabled = True  # off for a test marked OPT_OUT_MARKER

    def check(self, method: str, url: str, base_url: str, status: int, headers: Any, body: bytes) -> None:
        if not self.enabled or not url.startswith(base_url):
            return  # the strict S3 proxy, moto: not ours to judge
        path = urlsplit(url)
        try:
            contract().check(method, path.path, status, headers, body)
        except ContractViolation as violation:
            self.seen.append(violation)
            raise

    def take(self) -> list[ContractViolation]:
        seen, self.seen = self.seen, []
        return seen


@contextlib.contextmanager
def checking_requests(base_url: str, log: ViolationLog) -> Iterator[None]:
    """Every `requests` call (sessions and module functions alike end in Session.send) to `base_url`."""
    import requests

    send = requests.Session.send

    def checked_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        response = send(self, request, **kwargs)
        if not kwargs.get("stream"):
            log.check(request.method or "GET", request.url or "", base_url, response.status_code,
                      response.headers, response.content)
        return response

    requests.Session.send = checked_send
    try:
        yield
    finally:
        requests.Session.send = send


def aiohttp_response_class(base_url: str, log: ViolationLog) -> type:
    """A `ClientSession(response_class=...)` whose bodies are checked once read (rauc-hawkbit reads each)."""
    import aiohttp

    class ContractCheckedResponse(aiohttp.ClientResponse):
        async def read(self) -> bytes:
            body = await super().read()
            log.check(self.method, str(self.url), base_url, self.status, self.headers, body)
            return body

    return ContractCheckedResponse
