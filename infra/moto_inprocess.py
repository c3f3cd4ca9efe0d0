"""The app's AWS calls to the embedded moto, answered by moto's backends in this process instead of over HTTP.

`make run` holds moto and the app in one process. Over HTTP every DynamoDB call paid for a TCP round trip,
werkzeug and Flask parsing, and moto's server dispatcher (which lists moto's modules on the disk to find the
service), all under the same GIL as the app: about half of an idle poll's time (issue 7). This botocore
`before-send` handler gives a request addressed to the embedded moto straight to the backend method moto's
server would call, the way moto's own `mock_aws` does, and returns its answer as the HTTP response.

The idle poll's one call, a plain GetItem (TableName, Key, ConsistentRead, ReturnConsumedCapacity), goes
further: a `before-call` handler reads the item from moto's table and hands botocore the parsed answer,
skipping the marshalling on both sides (botocore's signing, retries and parsing; moto's request parsing and
serializer), which was most of what was left of an idle poll (it doubled polls/s). Anything else about a
GetItem (a projection, a key moto would refuse, a missing table) takes the path above, so its answers and
errors stay moto's own; tests/infra/test_moto_inprocess.py checks both paths answer alike.

What stays the same:
- The clients keep `AWS_ENDPOINT_URL` (the embedded moto's URL): they sign for it, presigned URLs point at it,
  and a request this handler does not serve (a service moto lacks, an unmatched path) still goes over HTTP.
- The backends are moto's process-wide ones, which its HTTP server serves too: a second client (the AWS CLI,
  a device downloading a signed URL) sees exactly the app's data, and the app sees what it writes.
- Only requests to the embedded moto's origin are taken; an external AWS_ENDPOINT_URL is never installed here,
  so that mode (and the fault tests behind a proxy) keep real HTTP.

moto's backends are not thread-safe (a transaction deep-copies its tables to roll back, and a write from
another thread in the middle breaks the copy): the calls go through one lock, as DynamoDB isolates them.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import threading
import uuid
from typing import Any, Callable
from urllib.parse import urlsplit

log = logging.getLogger("skyhawk.launcher")

# (compiled URL pattern, backend method) in moto's order, per service; built on first use.
Route = tuple["re.Pattern[str]", Callable[..., Any]]


class InProcessMoto:
    """botocore handlers serving calls to `endpoint` from moto's backends in-process: every request at
    `before-send` (`__call__`), a plain GetItem already at `before-call` (`get_item`)."""

    def __init__(self, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.served = 0  # requests answered in-process (tests read it)
        self.read_directly = 0  # of which plain GetItems answered from the table
        self._routes: dict[str, list[Route] | None] = {}
        self._lock = threading.RLock()

    def __call__(self, request: Any, event_name: str = "", **_: Any) -> Any:
        url = request.url
        if not (url == self.origin or url.startswith(self.origin + "/") or url.startswith(self.origin + "?")):
            return None
        service = event_name.split(".")[1] if event_name.count(".") >= 2 else ""
        method = self._method(service, url[len(self.origin) :])
        if method is None:
            return None  # not one moto serves this way: over HTTP, as before
        return self._answer(method, request)

    def get_item(self, params: dict, request_signer: Any = None, **_: Any) -> tuple[Any, dict] | None:
        """botocore `before-call.dynamodb.GetItem`: a plain GetItem answered from moto's table, or None."""
        url = params.get("url", "")
        if not (url == self.origin or url.startswith(self.origin + "/")):
            return None
        try:
            body = json.loads(params.get("body") or b"{}")
        except ValueError:
            return None
        if not isinstance(body, dict) or set(body) - _PLAIN_GET_ITEM or not {"TableName", "Key"} <= set(body):
            return None
        backend = _dynamodb_backend(request_signer)
        table = backend and backend.tables.get(body["TableName"])
        key = body["Key"]
        capacity = body.get("ReturnConsumedCapacity", "NONE")
        if table is None or not _plain_key(table, key) or capacity not in _CONSUMED_CAPACITY:
            return None
        from moto.dynamodb.models.dynamo_type import DynamoType
        from moto.dynamodb.models.utilities import dynamo_to_dict

        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        with self._lock:
            item = table.get_item(hash_key, range_key)
            parsed = {"Item": dynamo_to_dict(item.attrs)} if item is not None else {}
            self.served += 1
            self.read_directly += 1
        report = _CONSUMED_CAPACITY[capacity]
        if report is not None:
            parsed["ConsumedCapacity"] = report(body["TableName"])
        return _http_ok(url), _with_metadata(parsed)

    def read_streams(self, tables: list[str], after: dict[str, int], limit: int = 100) -> list[dict[str, Any]]:
        """The stream records of `tables` after the sequence numbers in `after` (updated), at most `limit` a table,
        in the shape Lambda's event source mapping delivers (`eventSourceARN`, `ApproximateCreationDateTime` in
        epoch seconds), straight from moto's shards: through the DynamoDB Streams API moto's response serializer
        takes about 10 ms a record, which made a 1,000-device rollout's feed hold this lock for a minute."""
        from moto.dynamodb.models import dynamodb_backends

        found: list[dict[str, Any]] = []
        with self._lock:
            for account in list(dynamodb_backends.keys()):
                for backend in dynamodb_backends[account].values():
                    for name in tables:
                        table = backend.tables.get(name)
                        if table is None or table.stream_shard is None:
                            continue
                        shard = table.stream_shard
                        start = max(0, after.get(name, 0) + 1 - shard.starting_sequence_number)
                        arn = f"{table.table_arn}/stream/{table.latest_stream_label}"
                        for stream_record in shard.items[start : start + limit]:
                            record = stream_record.to_json()
                            dynamodb = dict(record["dynamodb"])
                            created = dynamodb.get("ApproximateCreationDateTime")
                            if isinstance(created, datetime.datetime):
                                dynamodb["ApproximateCreationDateTime"] = created.timestamp()
                            found.append({**record, "dynamodb": dynamodb, "eventSourceARN": arn})
                            after[name] = int(dynamodb["SequenceNumber"])
        return found

    def forget_stream_records(self, delivered: dict[str, int], iterators: set[str]) -> int:
        """Drop the stream records of `delivered` (table name -> the last sequence number the change feed
        delivered) and everything before them, and every shard iterator but `iterators` (the reader's current
        ones): moto keeps every record of a stream and every iterator it handed out for ever, so a long `make run`
        would grow by every write and every read. The shard's numbering moves on with what is dropped, so later
        reads (which ask from later sequence numbers) and new records keep their numbers. Answers how many
        records went."""
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        dropped = 0
        with self._lock:
            for account in list(dynamodbstreams_backends.keys()):
                for streams in dynamodbstreams_backends[account].values():
                    for arn in [arn for arn in streams.shard_iterators if arn not in iterators]:
                        del streams.shard_iterators[arn]
            for account in list(dynamodb_backends.keys()):
                for backend in dynamodb_backends[account].values():
                    for name, table in backend.tables.items():
                        shard = table.stream_shard
                        if shard is None or name not in delivered:
                            continue
                        count = min(len(shard.items), delivered[name] - shard.starting_sequence_number + 1)
                        if count > 0:
                            del shard.items[:count]
                            shard.starting_sequence_number += count
                            dropped += count
        return dropped

    def _method(self, service: str, path: str) -> Callable[..., Any] | None:
        service = _MOTO_NAMES.get(service, service)
        routes = self._routes.get(service, ())
        if routes == ():
            routes = self._routes[service] = _routes_of(service)
        if not routes:
            return None
        # moto's URL patterns name AWS hosts; the path decides among a service's methods.
        host = _HOSTS.get(service, service)
        aws_url = f"https://{host}.us-east-1.amazonaws.com{path.split('?', 1)[0] or '/'}"
        for pattern, method in routes:
            if pattern.match(aws_url):
                return method
        return None

    def _answer(self, method: Callable[..., Any], request: Any) -> Any:
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse
        from moto.core.exceptions import HTTPException
        from moto.core.request import normalize_request

        normalized = normalize_request(request)
        with self._lock:
            try:
                status, headers, body = method(normalized, normalized.raw_url, normalized.headers)
            except HTTPException as error:
                status, headers, body = error.code, error.get_headers(), error.get_body()
            except Exception:
                log.exception("moto failed on %s %s", request.method, request.url)
                status, headers, body = 500, {}, "moto failed"
            self.served += 1
        return AWSResponse(request.url, status, {str(k): str(v) for k, v in headers.items()}, MockRawResponse(body))


# botocore's event names spell some services otherwise than moto's backends, whose URL patterns name other hosts.
_MOTO_NAMES = {"dynamodb-streams": "dynamodbstreams"}
_HOSTS = {"dynamodbstreams": "streams.dynamodb"}

_PLAIN_GET_ITEM = frozenset({"TableName", "Key", "ConsistentRead", "ReturnConsumedCapacity"})
# What moto 5.2's GetItem reports (always half a unit, whatever the item's size or consistency).
_GET_ITEM_UNITS = 0.5
_CONSUMED_CAPACITY: dict[str, Callable[[str], dict] | None] = {
    "NONE": None,
    "TOTAL": lambda table: {"TableName": table, "CapacityUnits": _GET_ITEM_UNITS},
    "INDEXES": lambda table: {
        "TableName": table,
        "CapacityUnits": _GET_ITEM_UNITS,
        "Table": {"CapacityUnits": _GET_ITEM_UNITS},
    },
}


def _plain_key(table: Any, key: Any) -> bool:
    """Exactly the table's key attributes, each one non-empty value of its declared type (else moto refuses)."""
    expected = {table.hash_key_attr: table.hash_key_type}
    if table.range_key_attr:
        expected[table.range_key_attr] = table.range_key_type
    if not isinstance(key, dict) or set(key) != set(expected):
        return False
    for name, value in key.items():
        if not isinstance(value, dict) or len(value) != 1:
            return False
        kind, raw = next(iter(value.items()))
        if kind != expected[name] or not isinstance(raw, str) or raw == "":
            return False
    return True


def _dynamodb_backend(request_signer: Any) -> Any:
    """The backend moto's handler would pick: the account of the access key (or MOTO_ACCOUNT_ID), the region."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.iam.models import get_account_id_from

    region = getattr(request_signer, "region_name", None)
    credentials = getattr(request_signer, "_credentials", None)
    access_key = getattr(credentials, "access_key", None)
    if not region or not access_key:
        return None
    account = os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(access_key)
    return dynamodb_backends[account][region]


def _http_ok(url: str) -> Any:
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    return AWSResponse(url, 200, {"Content-Type": "application/x-amz-json-1.0"}, MockRawResponse(b""))


def _with_metadata(parsed: dict) -> dict:
    request_id = uuid.uuid4().hex
    parsed["ResponseMetadata"] = {
        "RequestId": request_id,
        "HTTPStatusCode": 200,
        "RetryAttempts": 0,
        "HTTPHeaders": {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": request_id},
    }
    return parsed


def _routes_of(service: str) -> list[Route] | None:
    import moto.backends as backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict

    try:
        backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
    except (KeyError, ValueError, ImportError, AttributeError):
        return None
    if isinstance(backend_dict, BackendDict):
        regions = backend_dict[DEFAULT_ACCOUNT_ID]
        backend = regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
    else:
        backend = backend_dict["global"]
    return [(re.compile(url), method) for url, method in backend.urls.items()]


def install(endpoint: str) -> InProcessMoto:
    """Serve calls to `endpoint` in-process for every botocore session created from now on; `uninstall()` ends it.

    Sessions copy botocore's built-in handlers when they are created, so this runs before the app builds its
    clients (the launcher resets them right after).
    """
    from botocore import handlers

    handler = InProcessMoto(endpoint)
    handlers.BUILTIN_HANDLERS.append(("before-send", handler))
    handlers.BUILTIN_HANDLERS.append(("before-call.dynamodb.GetItem", handler.get_item))
    return handler


def uninstall(handler: InProcessMoto) -> None:
    from botocore import handlers

    for spec in (("before-send", handler), ("before-call.dynamodb.GetItem", handler.get_item)):
        if spec in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.remove(spec)
    handler.origin = "\0"  # clients created meanwhile go over HTTP again
