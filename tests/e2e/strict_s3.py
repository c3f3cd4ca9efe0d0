"""A reverse proxy in front of moto that refuses what real S3 refuses and moto accepts.

Real S3 answers 400 InvalidArgument to a presigned request that also carries an `Authorization`
header; moto 5.2.5 serves it. DDI clients send `Authorization:
TargetToken ...` with every download unless a cross-origin redirect drops it, so a moto-only suite
would not notice a download href that points straight at S3. Everything else is passed through
unchanged (method, path, query, headers including Range, body) and the answer streamed back
(200/206/416 ...). Every request is recorded for assertions.
"""
from __future__ import annotations

import http.client
import threading
import uuid
from dataclasses import dataclass
from typing import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

# Any of these in the query string means the request authenticates by query string.
QUERY_AUTH_PARAMS = frozenset({"X-Amz-Algorithm", "X-Amz-Signature", "Signature"})
ONLY_ONE_AUTH = ("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
                 "string parameter or the Authorization header should be specified")
# Connection-level headers are not forwarded (RFC 9110 §7.6.1); the proxy frames its own messages.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                        "upgrade"})
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # path and query as received
    had_authorization: bool
    query_auth: bool
    status: int


def query_auth(target: str) -> bool:
    return any(name in QUERY_AUTH_PARAMS for name, _ in parse_qsl(urlsplit(target).query, keep_blank_values=True))


def only_one_auth_error(authorization: str) -> bytes:
    """The body real S3 sends (request/host ids are random there too)."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code>'
            f"<Message>{escape(ONLY_ONE_AUTH)}</Message><ArgumentName>Authorization</ArgumentName>"
            f"<ArgumentValue>{escape(authorization)}</ArgumentValue>"
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId><HostId>strict-s3</HostId></Error>").encode()


class StrictS3Proxy:
    """`StrictS3Proxy(moto_url).start()`; `.url` goes into signed URLs; `.requests` is the log."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StrictS3Proxy:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="strict-s3", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def seen(self, path_part: str = "") -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if path_part in r.path]

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
                pass  # the request log is `proxy.requests`

            def _relay(self) -> None:
                authorization = self.headers.get("Authorization")
                by_query = query_auth(self.path)
                body = self._read_body()

                def record(status: int) -> None:
                    # Before the answer is written: a client that got its answer finds itself in the log.
                    proxy._record(Seen(self.command, self.path, authorization is not None, by_query, status))

                if authorization is not None and by_query:
                    record(400)
                    self._send_error_xml(400, only_one_auth_error(authorization))
                else:
                    self._forward(body, record)

            def _read_body(self) -> bytes | None:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    # De-chunk and forward with a Content-Length: same bytes, simpler framing.
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            break
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(parts)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else None

            def _send_error_xml(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _forward(self, body: bytes | None, record: Callable[[int], None]) -> None:
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                try:
                    upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    for name, value in self.headers.items():
                        if name.lower() in HOP_BY_HOP or name.lower() == "content-length":
                            continue
                        upstream.putheader(name, value)
                    if body is not None:
                        upstream.putheader("Content-Length", str(len(body)))
                    upstream.endheaders(body)
                    response = upstream.getresponse()
                    record(response.status)
                    # send_response_only: upstream's own Date/Server are copied below, not doubled.
                    self.send_response_only(response.status, response.reason)
                    length = response.getheader("Content-Length")
                    for name, value in response.getheaders():
                        if name.lower() in HOP_BY_HOP:
                            continue
                        self.send_header(name, value)
                    no_body = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
                    if length is None and not no_body:
                        # Unknown length upstream: delimit by closing, as HTTP/1.1 allows.
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    if not no_body:
                        while chunk := response.read(CHUNK):
                            self.wfile.write(chunk)
                finally:
                    upstream.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = _relay

        return Handler
