"""The local single-process launcher behind `make run` (README, "Three commands").

One process holds an embedded moto server, chalice's local HTTP server, a ticker that fires the
`@app.schedule` handlers and a thread that drains the jobs queue and the DMF inbound queue into their
`@app.on_sqs_message` functions, because `chalice local` never runs schedules and chalice's reloader would
restart moto and lose its state (docs/architecture.md, "Local runs"). `start()` is the same launcher for end-to-end
tests, on free ports, returning a handle to stop it.

The app's own calls to the embedded moto are answered by moto's backends in-process, not over HTTP
(infra/moto_inprocess.py); moto's port serves everyone else (devices' signed downloads, the AWS CLI) from
the same backends. With an external AWS_ENDPOINT_URL every call goes over HTTP.

    python -m infra.launcher          # PORT (8080), MOTO_PORT (4566), SKYHAWK_SCHEDULE_EVERY (60)

Everything binds 127.0.0.1: this is a development server with a well-known admin password.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import importlib
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from infra import moto_inprocess, moto_item_json

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
# The local jobs worker polls the queue this often when it is empty (a rollout's next group waits for it: Lambda's
# event source mapping, deployed, polls continuously).
DRAIN_IDLE_SECONDS = 0.1
STAGE = "local"
FAKE_ACCOUNT = "123456789012"

# Not under "skyhawk": the app's records are JSON lines (chalicelib/logs.py), the launcher's stay plain text.
log = logging.getLogger("launcher")


@dataclass
class Running:
    """A started launcher. `stop()` is idempotent and restores the environment `start()` changed."""

    url: str
    moto_url: str | None  # None when an external AWS_ENDPOINT_URL is used
    endpoint_url: str  # where the app's AWS clients go (the embedded moto or the external endpoint)
    app: Any
    inprocess: Any = None  # infra.moto_inprocess.InProcessMoto serving the embedded moto's calls; None if external
    _stoppers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _stopped: bool = field(default=False, repr=False)

    def run_schedules(self) -> dict[str, Any]:
        """Fire every scheduled handler once, now, and drain the jobs queue (tests use this instead of waiting for
        the ticker): per schedule, what its job's units counted in total (or the exception it raised)."""
        return run_schedules(self.app)

    def run_job(self, job: str, now_ms: int | None = None) -> dict[str, int]:
        """Enqueue one job's units as its schedule would (at `now_ms`), drain the queue; the job's total counts."""
        from chalicelib.jobs import fanout

        fanout.schedule(job, now_ms)
        return drain_jobs(self.app).get(job, dict(fanout.job(job).EMPTY))

    @contextlib.contextmanager
    def draining(self, idle: float = DRAIN_IDLE_SECONDS) -> Iterator[None]:
        """Drain the jobs queue (and the DMF inbound queue) in the background meanwhile, as `make run` does (for a stack started without its
        ticker and drain, around a flow that waits for queued work, such as a rollout's next group)."""
        stop = threading.Event()
        worker = threading.Thread(target=_drainer, args=(self.app, idle, stop), name="skyhawk-jobs-worker", daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join(timeout=35)

    def run_dmf(self) -> dict[str, int]:
        """Consume the DMF inbound queue now (a stack started without its drain): the counts per ending."""
        return drain_dmf(self.app)

    def run_changes(self) -> dict[str, int]:
        """Hand the change feed everything written since the last time (a stack started without its drain)."""
        return drain_changes(self.app)

    def dmf_queue_url(self) -> str:
        """Where a gateway sends its DMF messages (the embedded moto's FIFO queue, or the endpoint's)."""
        from chalicelib.store import dmf_queues

        return dmf_queues.url()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for stopper in reversed(self._stoppers):
            try:
                stopper()
            except Exception:
                log.exception("error while stopping")


# --- schedules ------------------------------------------------------------------------------------


def scheduled_event(name: str, region: str) -> dict[str, Any]:
    """The EventBridge "Scheduled Event" a deployed schedule would receive."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": FAKE_ACCOUNT,
        "time": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{FAKE_ACCOUNT}:rule/{name}"],
        "detail": {},
    }


def fire_schedules(app: Any) -> dict[str, Any]:
    """Call each `@app.schedule` handler once, as Lambda would; one failing job does not stop the others."""
    from chalice.app import ScheduledEventConfig
    from chalice.local import LambdaContext

    region = _region()
    results: dict[str, Any] = {}
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        handler = app.handler_map[source.name]
        # Same budget as the deployed function (lambda_timeout 30 s), so time-aware jobs page the same way.
        context = LambdaContext(source.name, memory_size=512, max_runtime_ms=30_000)
        try:
            results[source.name] = handler(scheduled_event(source.name, region), context)
        except Exception as exc:
            log.exception("schedule %s failed", source.name)
            results[source.name] = exc
    return results


def _ticker(app: Any, every: float, stop: threading.Event) -> None:
    # First run after one interval, not at start: startup stays fast and matches EventBridge's rate().
    while not stop.wait(every):
        for name, result in fire_schedules(app).items():
            log.info("schedule %s -> %r", name, result)


# --- the jobs queue -------------------------------------------------------------------------------

WORKER = "jobs_worker"  # app.py's @app.on_sqs_message function


def sqs_event(messages: list[dict[str, Any]], region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping hands the worker for messages received from the queue."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{region}:{FAKE_ACCOUNT}:jobs",
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def invoke_worker(app: Any, messages: list[dict[str, Any]], context: Any = None) -> dict[str, Any]:
    """Hand received messages to the worker as Lambda would (a 30 s context), then delete what it did not
    report failed (those come back after their visibility timeout, and go to the dead-letter queue at last)."""
    from chalicelib.store import job_queue

    return _hand_over(app, WORKER, sqs_event(messages, _region()), messages, job_queue.delete, context)


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _hand_over(
    app: Any,
    function: str,
    event: dict[str, Any],
    messages: list[dict[str, Any]],
    delete: Callable[[Iterable[str]], None],
    context: Any = None,
) -> dict[str, Any]:
    """Call an @app.on_sqs_message function with `event` as Lambda would (a 30 s context), then delete the
    messages it did not report failed (partial batch response)."""
    from chalice.local import LambdaContext

    context = context or LambdaContext(function, memory_size=512, max_runtime_ms=30_000)
    answer = app.handler_map[function](event, context)
    failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
    delete(m["ReceiptHandle"] for m in messages if m["MessageId"] not in failed)
    return answer


def drain_jobs(app: Any, batch: int = 5) -> dict[str, dict[str, int]]:
    """Run the queued units until the queue has none visible (continuations included); per job, the summed counts."""
    from chalicelib.store import job_queue

    totals: dict[str, dict[str, int]] = {}
    while messages := job_queue.receive(batch):
        for job, counts in invoke_worker(app, messages).get("jobs", {}).items():
            summed = totals.setdefault(job, {})
            for key, value in counts.items():
                summed[key] = summed.get(key, 0) + value
    return totals


# --- the DMF inbound queue ------------------------------------------------------------------------

DMF_CONSUMER = "dmf_inbound"  # app.py's @app.on_sqs_message function for the DMF inbound queue


def dmf_event(messages: list[dict[str, Any]], region: str) -> dict[str, Any]:
    """The event Lambda's event source mapping hands the DMF consumer: the message attributes (the DMF headers)
    in Lambda's spelling, the FIFO system attributes (MessageGroupId, MessageDeduplicationId) as received."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType")}
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{region}:{FAKE_ACCOUNT}:dmf-inbound.fifo",
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def invoke_dmf(app: Any, messages: list[dict[str, Any]], context: Any = None) -> dict[str, Any]:
    """Hand received DMF messages to the consumer as Lambda would, then delete what it did not report failed."""
    from chalicelib.store import dmf_queues

    return _hand_over(app, DMF_CONSUMER, dmf_event(messages, _region()), messages, dmf_queues.delete, context)


def drain_dmf(app: Any) -> dict[str, int]:
    """Consume the DMF inbound queue until it has no visible message; the summed counts per ending."""
    from chalicelib.store import dmf_queues

    totals: dict[str, int] = {}
    while messages := dmf_queues.receive():
        for key, value in invoke_dmf(app, messages).items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    return totals


# --- the change feed ------------------------------------------------------------------------------

CHANGE_FEED = "change_feed"  # app.py's function for the DynamoDB Streams records
FEED_ATTEMPTS = 5  # a record that fails this often is skipped, as the event source mapping's retry limit would


class FeedBacklog:
    """The event source mapping of the change feed, locally: records read from moto's streams and not yet
    delivered, handed over again (from the failed one on) until the consumer takes them."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.attempts = 0
        self.lock = threading.Lock()
        # Called after each drain with {table: last delivered sequence number} and the reader's current shard
        # iterators: the embedded moto forgets the rest (InProcessMoto.forget_stream_records); None with an
        # external endpoint.
        self.forget: Callable[[dict[str, int], set[str]], int] | None = None
        # Reads the records written since the last read: the DynamoDB Streams API (chalicelib/store/change_feed.py
        # `read`), or with the embedded moto its shards in-process (InProcessMoto.read_streams: its API is slow).
        self.read: Callable[[], list[dict[str, Any]]] | None = None

    def drain(self, app: Any, window: float = 0.0) -> dict[str, int]:
        """`window`: as the mapping's batching window, once records arrive keep gathering them until the streams
        are quiet for a fifth of it or it has passed (the background drain of `make run`; tests drain at once)."""
        from chalice.local import LambdaContext

        from chalicelib.store import change_feed

        totals: dict[str, int] = {}
        read = self.read or change_feed.read
        with self.lock:
            while True:
                self.records.extend(read())
                if not self.records:
                    self.delivered([])
                    return totals
                deadline = time.monotonic() + window
                while time.monotonic() < deadline:
                    time.sleep(window / 5)
                    more = read()
                    if not more:
                        break
                    self.records.extend(more)
                context = LambdaContext(CHANGE_FEED, memory_size=512, max_runtime_ms=30_000)
                answer = app.handler_map[CHANGE_FEED]({"Records": self.records}, context)
                for key, value in answer.items():
                    if isinstance(value, int):
                        totals[key] = totals.get(key, 0) + value
                failed = [f["itemIdentifier"] for f in answer.get("batchItemFailures", [])]
                if not failed:
                    self.delivered(self.records)
                    self.records, self.attempts = [], 0
                    continue
                at = next(i for i, r in enumerate(self.records) if r["dynamodb"]["SequenceNumber"] == failed[0])
                self.attempts = self.attempts + 1 if at == 0 else 1
                self.records = self.records[at:]
                if self.attempts >= FEED_ATTEMPTS:
                    log.error("change feed record %s skipped after %d attempts", failed[0], self.attempts)
                    self.records, self.attempts = self.records[1:], 0
                return totals

    def delivered(self, records: list[dict[str, Any]]) -> None:
        """Let the embedded moto forget what is delivered (and the iterators it handed out before)."""
        if self.forget is None:
            return
        from chalicelib.store import change_feed

        last: dict[str, int] = {}
        for record in records:
            table = change_feed.table_of(record)
            last[table] = max(last.get(table, 0), int(record["dynamodb"]["SequenceNumber"]))
        self.forget(last, change_feed.current_iterators())


FEED = FeedBacklog()


def _read_streams(inprocess: Any, after: dict[str, int]) -> list[dict[str, Any]]:
    from chalicelib.store import change_feed

    return inprocess.read_streams(change_feed.streamed_tables(), after)


FEED_WINDOW_SECONDS = 1.0  # infra/change-feed.json's MaximumBatchingWindowInSeconds
FEED_IDLE_SECONDS = 0.25  # between reads of quiet streams (five calls to moto each)


def drain_changes(app: Any, window: float = 0.0) -> dict[str, int]:
    """Hand every change written since the last drain to the change feed function; the summed counts."""
    return FEED.drain(app, window)


def run_schedules(app: Any) -> dict[str, Any]:
    from chalicelib.jobs import fanout

    fired = fire_schedules(app)
    totals = drain_jobs(app)
    return {
        name: (
            result
            if not isinstance(result, dict) or "job" not in result
            else totals.get(result["job"], dict(fanout.job(result["job"]).EMPTY))
        )
        for name, result in fired.items()
    }


def _drainer(app: Any, idle: float, stop: threading.Event) -> None:
    """The worker's event source mapping, locally: poll the queue, hand what arrives to the worker. Short polls
    (a long one would hold the in-process moto's lock), a pause when the queue is empty. The change feed has a
    thread of its own beside it (its batching window must not hold up the jobs)."""
    feed = threading.Thread(target=_feed_drainer, args=(app, stop), name="skyhawk-change-feed", daemon=True)
    feed.start()
    try:
        _drain_queues(app, idle, stop)
    finally:
        feed.join(timeout=35)


def _feed_drainer(app: Any, stop: threading.Event) -> None:
    """The change feed's event source mappings, locally: read moto's streams, hand what arrives over."""
    while not stop.is_set():
        try:
            busy = drain_changes(app, FEED_WINDOW_SECONDS).get("records")
        except Exception:
            log.exception("change feed failed")
            busy = False
        if not busy:
            stop.wait(FEED_IDLE_SECONDS)


def _drain_queues(app: Any, idle: float, stop: threading.Event) -> None:
    while not stop.is_set():
        busy = False
        try:
            from chalicelib.store import job_queue

            messages = job_queue.receive(5)
            if messages:
                invoke_worker(app, messages)
                busy = True
        except Exception:
            log.exception("jobs worker failed")
        try:
            from chalicelib.store import dmf_queues

            messages = dmf_queues.receive()
            if messages:
                invoke_dmf(app, messages)
                busy = True
        except Exception:
            log.exception("DMF consumer failed")
        if not busy:
            stop.wait(idle)


# --- environment ---------------------------------------------------------------------------------


def _fake_credentials() -> None:
    # A local run must never reach a real account, whatever the shell has configured.
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(var, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "test"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "test"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


def _quiet_telemetry() -> None:
    """A local run prints no EMF metric lines, and the app's JSON log only from WARNING up (chalice's access
    log already shows every request): POWERTOOLS_METRICS_DISABLED=false and POWERTOOLS_LOG_LEVEL=INFO in the
    shell show them."""
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def _port_free(port: int) -> bool:
    if port == 0:
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _start_moto(port: int) -> Any:
    if not _port_free(port):
        # ThreadedMotoServer.start() would wait forever for a server that failed to bind.
        raise OSError(f"moto port {LOOPBACK}:{port} is in use (set MOTO_PORT, or AWS_ENDPOINT_URL to reuse it)")
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)  # default is 0.0.0.0
    moto.start()
    return moto


def _reset_clients() -> None:
    """Drop every client that may have frozen an endpoint or settings (docs/architecture.md, "Local runs", item 1)."""
    from pynamodb.models import Model

    from chalicelib import config
    from chalicelib.store import aws, change_feed, dmf_queues, job_queue

    config.reset()
    aws.reset()
    job_queue.reset()
    dmf_queues.reset()
    change_feed.reset()
    FEED.records.clear()
    # Process-wide caches of other modules, tied to the data of the endpoint being left.
    for module, reset in (
        ("chalicelib.store.tx", "reset"),
        ("chalicelib.services.tenant_config", "invalidate"),
        ("chalicelib.auth", "forget_verified"),
        ("chalicelib.services.health", "forget"),
        ("chalicelib.services.snapshots", "forget"),
    ):
        try:
            getattr(importlib.import_module(module), reset)()
        except (ImportError, AttributeError):
            pass
    pending = list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if "_connection" in vars(model):
            model._connection = None


def _load_app(factory: Any, config: Any) -> Any:
    # config.json's stage variables are defaults: an operator's own SKYHAWK_TABLE_PREFIX/SKYHAWK_BUCKET win
    # (chalice's own loader would overwrite them). Set before `import app`: PynamoDB reads the table
    # prefix when the model classes are created.
    for name, value in config.environment_variables.items():
        os.environ.setdefault(name, value)
    return factory.load_chalice_app()


def _ensure_resources() -> None:
    """Tables, indexes, the queues, the event bus, the bucket and tenant DEFAULT with its admin: an empty endpoint
    is enough."""
    from botocore.exceptions import ClientError

    from chalicelib import config
    from chalicelib.services import tenants
    from chalicelib.store import aws, dmf_queues, event_bus, job_queue, schema

    schema.ensure_tables()
    job_queue.ensure()
    dmf_queues.ensure()
    event_bus.ensure()
    settings = config.settings()
    s3 = aws.s3()
    try:
        s3.head_bucket(Bucket=settings.bucket)
    except ClientError:
        extra = (
            {}
            if settings.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": settings.region}}
        )
        s3.create_bucket(Bucket=settings.bucket, **extra)
    tenants.ensure_tenant(settings.default_tenant, settings.admin_password)


def _request_handler() -> type:
    """chalice local's request handler, answering two things as the deployed API does.

    HEAD: chalice local sends its own `Content-Length: 0` next to the app's, and a body. A HEAD response
    keeps the app's Content-Length (the size a GET would send, which SWUpdate reads before every download)
    and carries no body.
    Unknown routes: API Gateway's 403 "Missing Authentication Token", which the deployed API's gateway
    responses (infra/api-gateway-responses.json) turn into a 404 in the API's error shape, as here.
    """
    from chalice.local import ChaliceRequestHandler, ForbiddenError

    from chalicelib import errors
    from chalicelib.api.middleware import render

    class SkyhawkRequestHandler(ChaliceRequestHandler):
        def _send_http_response_with_body(self, code: int, headers: dict, body: Any) -> None:
            if self.command != "HEAD":
                return super()._send_http_response_with_body(code, headers, body)
            self.send_response(code)
            length = next((v for k, v in headers.items() if k.lower() == "content-length"), None)
            headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
            self.send_header("Content-Length", str(length if length is not None else len(body or b"")))
            self._send_headers(headers)
            return None

        def _send_error_response(self, error: Any) -> None:
            if not isinstance(error, ForbiddenError):
                return super()._send_error_response(error)
            path = self.path.split("?", 1)[0]
            response = render(errors.RouteNotFound(f"No resource {path}."), path)
            headers = {**response.headers, "X-Content-Type-Options": "nosniff"}
            return self._send_http_response(response.status_code, headers, response.body)

    return SkyhawkRequestHandler


def _local_server(factory: Any, app: Any, config: Any, port: int) -> Any:
    from chalice import local

    # create_local_server rebases the app's class onto LocalChalice (once: doing it twice in one process,
    # a second start(), would make the class its own base); the server is built here for its handler.
    if not isinstance(app, local.LocalChalice):
        local.CustomLocalChalice.__bases__ = (local.LocalChalice, app.__class__)
        app.__class__ = local.CustomLocalChalice
    return local.LocalDevServer(app, config, LOOPBACK, port, handler_cls=_request_handler())


def start(
    port: int = 0,
    moto_port: int = 0,
    s3_public_endpoint: str | None = None,
    schedule_every: float | None = None,
    access_log: bool = True,
) -> Running:
    """Start moto (unless AWS_ENDPOINT_URL is set), the API, the schedule ticker and the jobs queue's drain;
    return when serving.

    `schedule_every` None reads SKYHAWK_SCHEDULE_EVERY (default 60 s); 0 or less disables the ticker and the
    drain (tests then call `Running.run_schedules()`, which drains the queue itself).
    """
    saved_env = dict(os.environ)
    stoppers: list[Callable[[], None]] = []

    def stop_all() -> None:
        for stopper in reversed(stoppers):
            try:
                stopper()
            except Exception:
                log.exception("error while stopping")

    try:
        return _start(port, moto_port, s3_public_endpoint, schedule_every, access_log, saved_env, stoppers)
    except BaseException:
        stop_all()
        raise


def _start(
    port: int,
    moto_port: int,
    s3_public_endpoint: str | None,
    schedule_every: float | None,
    access_log: bool,
    saved_env: dict[str, str],
    stoppers: list[Callable[[], None]],
) -> Running:
    # werkzeug logs every moto request at INFO; keep the terminal for the API's own access log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # botocore and pynamodb announce at INFO where they found credentials, endpoints and settings.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("pynamodb").setLevel(logging.WARNING)
    _fake_credentials()
    _quiet_telemetry()

    def restore_env() -> None:
        for name in set(os.environ) - set(saved_env):
            del os.environ[name]
        os.environ.update(saved_env)

    stoppers.append(restore_env)

    external = os.environ.get("AWS_ENDPOINT_URL")
    moto_url = None
    inprocess = None
    if external:
        endpoint = external
    else:
        # Service-specific endpoints would route around the embedded moto.
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        os.environ.pop("AWS_ENDPOINT_URL_S3", None)
        moto = _start_moto(moto_port)
        stoppers.append(moto.stop)
        host, bound = moto.get_host_and_port()
        endpoint = moto_url = f"http://{host}:{bound}"
        # Before the app is imported (docs/architecture.md, "Local runs", item 1).
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        # The app's own calls skip HTTP (moto_inprocess says why); moto's port keeps serving everyone else.
        inprocess = moto_inprocess.install(endpoint)
        stoppers.append(lambda: moto_inprocess.uninstall(inprocess))
        FEED.forget = inprocess.forget_stream_records  # moto would keep every stream record for ever
        FEED.read = functools.partial(_read_streams, inprocess, {})

        def keep_stream_records() -> None:
            FEED.forget = FEED.read = None

        stoppers.append(keep_stream_records)
        moto_item_json.install()
        stoppers.append(moto_item_json.uninstall)
    if s3_public_endpoint is not None:
        os.environ["SKYHAWK_S3_PUBLIC_ENDPOINT"] = s3_public_endpoint

    from chalice.cli.factory import CLIFactory
    from chalice.local import ChaliceRequestHandler

    factory = CLIFactory(project_dir=str(PROJECT_DIR))
    config = factory.create_config_obj(chalice_stage_name=STAGE)
    app = _load_app(factory, config)
    _reset_clients()
    stoppers.append(_reset_clients)  # later code in this process must not keep a dead endpoint
    _ensure_resources()

    # chalice local writes headers and body in separate send()s: with Nagle on, every keep-alive
    # request waits ~40 ms for a delayed ACK (docs/architecture.md, "Local runs", item 5).
    ChaliceRequestHandler.disable_nagle_algorithm = True
    if not access_log:
        ChaliceRequestHandler.log_message = lambda *args, **kwargs: None
    server = _local_server(factory, app, config, port)
    httpd = server.server
    # Threads must not keep a stopping process alive (chalice's ThreadedHTTPServer sets this too).
    httpd.daemon_threads = True
    # socketserver listens with a backlog of 5: concurrent e2e clients would see refused connections.
    httpd.socket.listen(128)
    serving = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="skyhawk-api", daemon=True
    )
    serving.start()

    def stop_server() -> None:
        httpd.shutdown()
        httpd.server_close()
        serving.join(timeout=5)

    stoppers.append(stop_server)

    every = float(os.environ.get("SKYHAWK_SCHEDULE_EVERY", "60")) if schedule_every is None else schedule_every
    if every > 0:
        ticking = threading.Event()
        ticker = threading.Thread(target=_ticker, args=(app, every, ticking), name="skyhawk-schedules", daemon=True)
        ticker.start()
        stoppers.append(ticking.set)
        draining = threading.Event()
        drainer = threading.Thread(
            target=_drainer, args=(app, DRAIN_IDLE_SECONDS, draining), name="skyhawk-jobs-worker", daemon=True
        )
        drainer.start()

        def stop_draining() -> None:
            draining.set()
            drainer.join(timeout=35)

        stoppers.append(stop_draining)

    api_host, api_port = httpd.server_address[:2]
    return Running(
        url=f"http://{api_host}:{api_port}",
        moto_url=moto_url,
        endpoint_url=endpoint,
        app=app,
        inprocess=inprocess,
        _stoppers=list(stoppers),
    )


def main() -> int:
    started = time.monotonic()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    port = int(os.environ.get("PORT", "8080"))
    moto_port = int(os.environ.get("MOTO_PORT", "4566"))
    try:
        running = start(port=port, moto_port=moto_port)
    except OSError as exc:
        print(f"skyhawk: cannot start: {exc}", file=sys.stderr)
        return 1
    where = f"moto on {running.moto_url}" if running.moto_url else f"AWS endpoint {running.endpoint_url}"
    print(f"skyhawk ready on {running.url} ({where})", flush=True)
    log.info("started in %.2f s (after interpreter start-up)", time.monotonic() - started)

    # The handler only flips a flag: it runs in the main thread between two bytecodes, possibly inside a lock
    # the main thread holds (an Event's set() inside its own wait() deadlocked), so it must take no lock.
    signals: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        signals.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not signals:
        time.sleep(0.2)
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
