"""Measure what each device and operator request costs: capacity units, item sizes, bytes, in-process time.

    .venv/bin/python docs/capacity/measure.py [--repeat N] > docs/capacity/measured.json

Runs skyhawk's real flows in-process against moto. Device requests enter through the Lambda handler the
device front door invokes (`app.handler`, a function URL's payload format 2.0 event), operator requests
through chalice's test client (the REST API). `units.Meter` prices every DynamoDB call from the items it
touches and charges its units to the key they land on.

Time: each device request is repeated; the handler's CPU time is split into the time moto spends answering
(what DynamoDB's own latency replaces in AWS) and the rest (the app, chalice, botocore on the client side),
which is what the model scales to Lambda's CPU share. CPU time, not wall time: other processes on a shared
machine do not inflate it. Times vary from machine to machine; units and sizes do not.
"""
from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import platform
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import units  # noqa: E402

TENANT = "DEFAULT"
DOMAIN = "a3kbk6y6zsoptxcdfdd6fktkpq0ohmvs.lambda-url.us-east-1.on.aws"
FIVE_MINUTES_MS = 300_000
START_MS = 1_795_633_438_391  # 2026-11-25T19:03:58.391Z


# --- requests ---------------------------------------------------------------------------------------------
class Device:
    """One device speaking DDI through the front door's handler, with a function URL's event."""

    def __init__(self, controller_id: str, token: str | None, gateway: str | None = None) -> None:
        self.controller_id, self.token, self.gateway = controller_id, token, gateway

    @property
    def root(self) -> str:
        return f"/{TENANT}/controller/v1/{self.controller_id}"

    def event(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
              query: str = "") -> dict:
        auth = f"GatewayToken {self.gateway}" if self.gateway else f"TargetToken {self.token}"
        headers = {"host": DOMAIN, "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7",
                   "accept": "application/hal+json", "authorization": auth, "user-agent": "rauc-hawkbit"}
        if content_type:
            headers["content-type"] = content_type
        event = {"version": "2.0", "routeKey": "$default", "rawPath": self.root + path, "rawQueryString": query,
                 "headers": headers, "isBase64Encoded": False,
                 "requestContext": {"accountId": "anonymous", "apiId": DOMAIN.split(".")[0], "domainName": DOMAIN,
                                    "domainPrefix": DOMAIN.split(".")[0], "requestId": "measure",
                                    "routeKey": "$default", "stage": "$default", "timeEpoch": 0,
                                    "http": {"method": method, "path": self.root + path, "protocol": "HTTP/1.1",
                                             "sourceIp": "198.51.100.7", "userAgent": "rauc-hawkbit"}}}
        if body is not None:
            event["body"] = body.decode()
        return event


def response_bytes(answer: dict) -> int:
    """Bytes on the wire of the answer: status line, the app's headers, the body (Lambda adds its own headers;
    the model adds those)."""
    body = answer.get("body") or ""
    size = len(base64.b64decode(body)) if answer.get("isBase64Encoded") else len(body.encode())
    headers = sum(len(k) + len(str(v)) + 4 for k, v in answer["headers"].items())
    return len("HTTP/1.1 200 OK\r\n\r\n") + headers + size


class Bench:
    def __init__(self, repeat: int) -> None:
        self.repeat = repeat
        self.results: dict[str, dict] = {}
        self.sizes: dict[str, int] = {}
        self.moto_seconds = 0.0
        self.log = _LogBytes()

    # -- pricing
    def priced(self, name: str, meter: units.Meter, fn, per=1, sizes: bool = True) -> object:
        """Price one request (or a batch: `per` is how many it stands for, or a function of its answer); its
        items' sizes go into the size report unless `sizes` is false."""
        meter.reset()
        self.log.bytes = 0
        answer = fn()
        logged = self.log.bytes
        per = per(answer) if callable(per) else per
        totals = meter.totals()
        result = {"units": {"rru": round(totals["rru"] / per, 4), "wru": round(totals["wru"] / per, 4),
                            "index_wru": round(totals["index_wru"] / per, 4),
                            "calls": {op: round(n / per, 4) for op, n in totals["calls"].items()},
                            "keys": _keys(meter.charges(), per)}}
        for call in meter.calls[units.AS_IS.name] if sizes else ():
            for kind, size in call.sizes:
                self.sizes[kind] = max(size, self.sizes.get(kind, 0))
        if isinstance(answer, dict) and "statusCode" in answer:
            result["response_bytes"] = response_bytes(answer)
            result["status"] = answer["statusCode"]
            result["log_bytes"] = logged
        self.results[name] = result
        return answer

    def moto_timer(self, stub):
        """moto's botocore hook, counting the CPU time moto spends answering into this bench."""
        bench = self

        def timed_stub(hook, *args, **kwargs):
            start = time.thread_time()
            try:
                return stub(hook, *args, **kwargs)
            finally:
                bench.moto_seconds += time.thread_time() - start

        return timed_stub

    # -- timing (device requests through the handler)
    def timed(self, name: str, fn) -> None:
        """CPU time of this thread (other processes on a shared machine do not inflate it), split into moto's
        and the rest; wall time of the whole request for reference."""
        if self.repeat <= 0:
            return
        walls, totals, aws = [], [], []
        for _ in range(self.repeat):
            before_moto = self.moto_seconds
            wall, start = time.perf_counter(), time.thread_time()
            fn()
            totals.append((time.thread_time() - start) * 1000)
            walls.append((time.perf_counter() - wall) * 1000)
            aws.append((self.moto_seconds - before_moto) * 1000)
        app = sorted(t - a for t, a in zip(totals, aws))
        self.results[name]["time_ms"] = {
            "runs": self.repeat, "wall_p50": round(statistics.median(walls), 3),
            "cpu_p50": round(statistics.median(totals), 3), "aws_p50": round(statistics.median(aws), 3),
            "app_p50": round(statistics.median(app), 3), "app_p90": round(app[int(len(app) * 0.9) - 1], 3)}


class _LogBytes(logging.Handler):
    """Bytes the app logs (INFO and up) while a request runs: CloudWatch Logs ingests them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.bytes += len(self.format(record)) + 1


_CONTROLLER = re.compile(r"^(cap|bulk|pnp)-\d+$")
# Partition keys whose last part is a shard number (`tenant#shard`, `tenant#STATUS#shard`, `tenant#dsId#shard`),
# and the sort key prefixes of sharded counters (`usage#TARGET#<shard>`, a set's `dsactions#<dsId>#<shard>`):
# shown as `{shard}`, not as an id.
SHARDED_KEYS = frozenset({"list_shard", "tenant_shard", "cleanup_key", "open_ds_key"})
SHARDED_SORT_PREFIX = ("usage#", "dsactions#")


def _pattern(value: str, sharded: bool = False) -> str:
    """A key value with its variable parts named (`{tenant}`, `{controllerId}`, `{n}` for a time, `{id}`,
    `{shard}` for the last part of a sharded key, `{order}` for a target list order's key: a value and a
    controllerId), so the same key range reads the same in every request."""
    if "\x00" in value:  # domain/targets.py ORDER_SEPARATOR
        return "{order}"
    split = value.split("#")
    parts = []
    for i, part in enumerate(split):
        if sharded and i == len(split) - 1 and part.isdigit():
            parts.append("{shard}")
        elif part == TENANT:
            parts.append("{tenant}")
        elif _CONTROLLER.match(part):
            parts.append("{controllerId}")
        elif part.isdigit():
            parts.append("{n}" if len(part) >= 12 else "{id}")  # times are 13 digits
        elif re.fullmatch(r"[0-9a-f]{32,}", part):
            parts.append("{hash}")
        else:
            parts.append(part)
    return "#".join(parts)


def _keys(charges, per: int) -> list[dict]:
    """Units by table/index and partition key pattern (`{tenant}`: every device of a tenant lands there)."""
    grouped: dict[tuple[str, str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for charge in charges:
        entry = grouped[(charge.where, charge.key_name, _pattern(charge.key, charge.key_name in SHARDED_KEYS),
                         _pattern(charge.sort_key, charge.sort_key.startswith(SHARDED_SORT_PREFIX)))]
        entry[0] += charge.reads
        entry[1] += charge.writes
    return [{"where": where, "key_name": name, "key": key, "sort": sort, "rru": round(r / per, 4),
             "wru": round(w / per, 4)} for (where, name, key, sort), (r, w) in sorted(grouped.items())]


# --- the flows ----------------------------------------------------------------------------------------------
OS_BUNDLE = "skyhawk-imx8mp-2026.11.0.raucb"


def release(client) -> tuple[int, int]:
    """A set as fleets ship them: an OS bundle, and an application module with its archive and signature
    (hawkBit's default type os_app). Returns (dsId, smId of the OS module)."""
    from tests.api import steps

    os_id = steps.create_module(client, "skyhawk-os", "2026.11.0", "os")
    steps.upload_artifact(client, os_id, OS_BUNDLE, b"rauc bundle")
    app_id = steps.create_module(client, "fleet-agent", "2.3.1", "application")
    for name in ("fleet-agent-2.3.1.tar.gz", "fleet-agent-2.3.1.tar.gz.sig"):
        steps.upload_artifact(client, app_id, name, name.encode())
    return steps.create_ds(client, [os_id, app_id], "skyhawk-os", "2026.11.0", "os_app"), os_id


def run(repeat: int, quick: bool = False) -> dict:
    """Units and sizes from one pass; times (if `repeat`) from a second one, in fresh state, so that repeating
    requests (history entries, sequence numbers) cannot change what the first pass priced."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "measure"
    # The steady state: a container answers thousands of polls per tenant configuration read (10 s cache).
    os.environ["SKYHAWK_TENANT_CONFIG_CACHE_SECONDS"] = "3600"
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")  # stdout is the report: no log lines of the app
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        os.environ.pop(var, None)
    from moto.core.botocore_stubber import BotocoreStubber

    stub = BotocoreStubber.__call__
    priced = Bench(0)
    try:
        stored = _flow(priced, quick)
        if repeat:
            timed = Bench(repeat)
            BotocoreStubber.__call__ = timed.moto_timer(stub)
            _flow(timed, quick=True)
            for op, result in timed.results.items():
                if "time_ms" in result:
                    priced.results[op]["time_ms"] = result["time_ms"]
    finally:
        BotocoreStubber.__call__ = stub
    return {"repeat": repeat, "python": platform.python_version(), "machine": _cpu(), "operations": priced.results,
            "item_sizes": dict(sorted(priced.sizes.items())), "stored": stored, "shards": _shards()}


def _flow(bench: Bench, quick: bool) -> dict:
    """The requests, priced (and timed if the bench repeats); returns the stored sizes of the device's items."""
    import boto3
    from chalice.local import LambdaContext
    from chalice.test import Client
    from moto import mock_aws

    from tests.api import steps
    from tests.conftest import ADMIN, reset_process_state

    logging.getLogger().addHandler(bench.log)
    logging.getLogger().setLevel(logging.INFO)
    reset_process_state()
    with mock_aws():
        from app import app, handler
        from chalicelib import clock, config
        from chalicelib.services import tenants
        from chalicelib.store import aws, schema

        # A fixed time: DynamoDB trims a number's trailing zeros, so sizes would vary with the clock. Every step
        # below is whole seconds, so every time stored ends in ...391: 13 significant digits, as most do.
        now = START_MS
        clock.set_now(now)
        schema.ensure_tables()
        aws.s3().create_bucket(Bucket=config.settings().bucket)
        tenants.ensure_tenant(TENANT)
        context = LambdaContext("skyhawk-prod", memory_size=1024)
        meter = units.Meter(config.table_prefix(), lookup=units.moto_lookup(config.region()))

        def later(ms: int) -> None:
            nonlocal now
            now += ms
            clock.set_now(now)

        with Client(app, stage_name="local", project_dir=str(ROOT)) as client, meter:
            def call(device: Device, method: str, path: str = "", **kw) -> dict:
                answer = handler(device.event(method, path, **kw), context)
                assert answer["statusCode"] in (200, 302), (path, answer)
                return answer

            # A fleet of this size has handed out millions of action ids: ids of 8 digits, as there (and the
            # same sizes whether or not the 1,000-target assignment below runs first).
            boto3.client("dynamodb").update_item(TableName=config.table_prefix() + "tenants",
                                                 Key={"tenant": {"S": TENANT}, "key": {"S": "seq#action"}},
                                                 UpdateExpression="ADD #v :n", ExpressionAttributeNames={"#v": "value"},
                                                 ExpressionAttributeValues={":n": {"N": "10000000"}})
            steps.enable_target_tokens(client)
            steps.enable_gateway_token(client)
            steps.put_config(client, "pollingTime", "00:05:00")  # the fleet of the model
            steps.put_config(client, "pollingOverdueTime", "00:05:00")
            ds_id, sm_id = release(client)

            # Registration: by an operator, and plug-and-play (a gateway token vouches for a new device). The
            # container's cache of auto-assigning filters is warm, as in the steady state the model prices (a
            # miss, one Query, comes once per tenant and container in the tenant configuration's life).
            from chalicelib.services import auto_assignment
            auto_assignment.active(TENANT)
            bench.priced("create_target", meter, lambda: steps.create_target(client, "cap-1", "tok-cap-1"))
            bench.priced("plug_and_play_first_poll", meter,
                         lambda: call(Device("pnp-1", None, gateway="gw-secret"), "GET"))
            device = Device("cap-1", "tok-cap-1")
            call(device, "GET")  # first poll: UNKNOWN -> REGISTERED
            # Its attributes, as rauc-hawkbit sends them when the poll asks for configData.
            attributes = {"mac": "02:42:ac:11:00:02", "hw_revision": "rev-c", "serial": "SH-2026-000001",
                          "rauc_compatible": "skyhawk-imx8mp", "sw_version": "2026.11.0"}
            bench.priced("config_data", meter, lambda: call(
                device, "PUT", "/configData", content_type="application/json",
                body=json.dumps({"mode": "merge", "data": attributes}).encode()))

            # The idle poll: last-seen written at most once a minute, so at a 5-minute polling interval on
            # every poll; both halves are priced and timed apart.
            later(1_000)
            bench.priced("idle_poll", meter, lambda: call(device, "GET"))
            bench.timed("idle_poll", lambda: call(device, "GET"))
            later(FIVE_MINUTES_MS)
            bench.priced("idle_poll_with_last_seen_write", meter, lambda: call(device, "GET"))

            def poll_due():
                later(FIVE_MINUTES_MS)
                call(device, "GET")

            bench.timed("idle_poll_with_last_seen_write", poll_due)

            # Assignment: one set to 1,000 targets (per target), as the Management API does it (moto makes it
            # the slow part of a run: --quick leaves it out).
            ids = [f"bulk-{i:04d}" for i in range(0 if quick else 1000)]
            for start in range(0, len(ids), 250):
                resp = client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "application/json"},
                                        body=json.dumps([{"controllerId": cid, "name": cid}
                                                         for cid in ids[start:start + 250]]))
                assert resp.status_code == 201, resp.body
            if ids:
                bench.priced("assign_per_target_of_1000", meter, lambda: steps.assign(client, ds_id, *ids), per=1000,
                             sizes=False)  # the size report is the measured device's items
            action_id = steps.assign(client, ds_id, "cap-1")["assignedActions"][0]["id"]

            # The device's update: poll, deploymentBase, download, feedback, closing feedback.
            later(1_000)
            bench.priced("poll_with_open_action", meter, lambda: call(device, "GET"))
            bench.timed("poll_with_open_action", lambda: call(device, "GET"))
            href = json.loads(base64.b64decode(call(device, "GET")["body"]))["_links"]["deploymentBase"]["href"]
            base_query = href.split("?", 1)[1]
            base = f"/deploymentBase/{action_id}"
            bench.priced("deployment_base", meter, lambda: call(device, "GET", base, query=base_query))
            bench.timed("deployment_base", lambda: call(device, "GET", base, query=base_query))
            download = f"/softwaremodules/{sm_id}/artifacts/{OS_BUNDLE}"
            bench.priced("download_redirect", meter, lambda: call(device, "GET", download))
            bench.timed("download_redirect", lambda: call(device, "GET", download))

            def feedback(execution: str, finished: str) -> dict:
                body = {"id": str(action_id), "status": {"execution": execution, "result": {"finished": finished},
                                                         "details": ["measured"]}}
                return call(device, "POST", f"{base}/feedback", body=json.dumps(body).encode(),
                            content_type="application/json")

            bench.priced("feedback_proceeding", meter, lambda: feedback("proceeding", "none"))
            bench.timed("feedback_proceeding", lambda: feedback("proceeding", "none"))
            bench.priced("feedback_closed_success", meter, lambda: feedback("closed", "success"))

            # Overdue detection: the queued units of a run (every shard of the tenant) that find one overdue
            # device (their cost per device found; the queue's own cost is SQS's, not DynamoDB's).
            from chalicelib.domain.targets import OVERDUE_SHARDS
            from chalicelib.jobs import overdue
            from chalicelib.jobs.budget import Budget

            def overdue_units() -> dict:
                now = clock.now_ms()
                return {"overdue": sum(overdue.work(TENANT, shard, now, None, Budget.of())[0]["overdue"]
                                       for shard in range(OVERDUE_SHARDS))}

            later(3600_000)
            bench.priced("overdue_job_per_device_found", meter, overdue_units, per=lambda found: found["overdue"])

        stored = _stored_items(config.table_prefix())
    logging.getLogger().removeHandler(bench.log)
    return stored


def _stored_items(prefix: str) -> dict:
    """Bytes the measured device's target and its (closed) action take in storage: item and index entries, each
    with DynamoDB's 100 bytes."""
    import boto3

    client = boto3.client("dynamodb")
    meter = units.Meter(prefix)
    stored = {}
    for suffix, key in (("targets", {"tenant": {"S": TENANT}, "controller_id": {"S": "cap-1"}}),
                        ("actions", None)):
        table = meter.table(client, prefix + suffix)
        if key is None:
            item = client.query(TableName=table.name, KeyConditionExpression="target_key = :k",
                                ExpressionAttributeValues={":k": {"S": f"{TENANT}#cap-1"}})["Items"][0]
        else:
            item = client.get_item(TableName=table.name, Key=key)["Item"]
        entries = [units.index_entry(table, index, item) for index in table.indexes]
        stored[suffix] = {"item": units.item_size(item) + units.STORAGE_OVERHEAD,
                          "indexes": sum(units.item_size(e) + units.STORAGE_OVERHEAD for e in entries if e)}
    return stored


def _shards() -> dict[str, int]:
    """Key ranges per tenant the code spreads its shared keys over: the actions indexes (`by-tenant`, `cleanup`,
    `open-by-ds`), the overdue index, the usage counter items of a sharded quota, a set's action counts."""
    from chalicelib.domain.actions import INDEX_SHARDS
    from chalicelib.domain.targets import OVERDUE_SHARDS
    from chalicelib.store.action_counts import SHARDS as DS_COUNT_SHARDS
    from chalicelib.store.counters import USAGE_SHARDS

    return {"actions": INDEX_SHARDS, "overdue": OVERDUE_SHARDS, "usage": USAGE_SHARDS, "ds_counts": DS_COUNT_SHARDS}


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed runs per device request (0: no timing)")
    parser.add_argument("--quick", action="store_true", help="leave out the assignment to 1,000 targets")
    args = parser.parse_args()
    json.dump(run(args.repeat, args.quick), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
