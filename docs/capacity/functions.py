"""Measure each Lambda function's invocations: the change feed, the DMF consumer, the jobs worker, the schedules.

    .venv/bin/python docs/capacity/functions.py > docs/capacity/functions.json

The API function's requests are measure.py's. Here a tenant with a release and `--targets` targets (default
100) is assigned the release (the change feed reads what that writes), gateways send DMF messages (new things,
action status), and every schedule fires, its units run by the worker, all in-process against moto and through
`app.handler_map` as Lambda calls the functions (infra/launcher.py's drains, with their batch sizes). Each
invocation is recorded: the items it got (records, messages), its AWS calls by operation, and its CPU time less
moto's share (what the services' latency replaces in AWS), as measure.py splits it. A second pass, with
tracemalloc on (it slows Python down), records the peak of memory allocated during each invocation (moto's
share included: an upper bound). Then a fresh process measures the cold start: `import app`, the first client
and call (cold_start.py's probe, on the venv's compiled modules, as the zip ships them), and its peak memory.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
import tracemalloc
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import cold_start  # noqa: E402
import measure  # noqa: E402

FUNCTIONS = ("change_feed", "dmf_inbound", "jobs_worker", "action_cleanup", "overdue_detection",
             "config_task_expiry", "reaper", "auto_assignment", "rollout_check")
START_MS = measure.START_MS


class Recorder:
    """Wraps the functions of `app.handler_map`: per invocation, items, calls, app CPU ms, allocation peak."""

    def __init__(self, app, memory: bool) -> None:
        self.app, self.memory = app, memory
        self.invocations: dict[str, list[dict]] = defaultdict(list)
        self.phase = ""  # a label for the invocations that follow (`name@phase` in the report)
        self.calls: Counter[str] = Counter()
        self.moto_seconds = 0.0
        self._original = dict(app.handler_map)
        for name in FUNCTIONS:
            app.handler_map[name] = self._wrap(name, app.handler_map[name])

    def stub(self, original):
        recorder = self

        def stub(hook, event_name, *args, **kwargs):
            recorder.calls[event_name.split(".", 1)[1]] += 1  # before-send.<service>.<Operation>
            start = time.thread_time()
            try:
                return original(hook, event_name, *args, **kwargs)
            finally:
                recorder.moto_seconds += time.thread_time() - start

        return stub

    def _wrap(self, name: str, handler):
        def invoke(event, context):
            self.calls.clear()
            moto, start = self.moto_seconds, time.thread_time()
            if self.memory:
                tracemalloc.reset_peak()
                before = tracemalloc.get_traced_memory()[0]
            answer = handler(event, context)
            cpu = (time.thread_time() - start - (self.moto_seconds - moto)) * 1000
            entry = {"items": len(event.get("Records", [])) or 1, "calls": dict(self.calls), "app_cpu_ms": round(cpu, 3)}
            if self.memory:
                entry["alloc_peak_mb"] = round((tracemalloc.get_traced_memory()[1] - before) / 2 ** 20, 2)
            self.invocations[f"{name}@{self.phase}" if self.phase else name].append(entry)
            return answer

        return invoke

    def restore(self) -> None:
        self.app.handler_map.update(self._original)


def scenario(targets: int, memory: bool) -> dict[str, list[dict]]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "measure"
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        os.environ.pop(var, None)
    logging.getLogger().setLevel(logging.ERROR)
    from chalice.test import Client
    from moto import mock_aws
    from moto.core.botocore_stubber import BotocoreStubber

    from tests.api import steps
    from tests.conftest import ADMIN, reset_process_state

    reset_process_state()
    original_stub = BotocoreStubber.__call__
    with mock_aws():
        from chalice.local import LambdaContext

        from app import app
        from app import handler as app_handler
        from chalicelib import clock, config
        from chalicelib.services import tenants
        from chalicelib.store import aws, dmf_queues, event_bus, job_queue, schema
        from infra import launcher

        clock.set_now(START_MS)
        schema.ensure_tables()
        aws.s3().create_bucket(Bucket=config.settings().bucket)
        tenants.ensure_tenant(measure.TENANT)
        job_queue.ensure()
        dmf_queues.ensure()
        event_bus.ensure()
        recorder = Recorder(app, memory)
        BotocoreStubber.__call__ = recorder.stub(original_stub)
        if memory:
            tracemalloc.start()
        try:
            with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
                steps.enable_target_tokens(client)
                steps.put_config(client, "dmf.enabled", True)
                ds_id, _ = measure.release(client)
                ids = [f"fn-{i:04d}" for i in range(targets)]
                for start in range(0, len(ids), 250):
                    resp = client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "application/json"},
                                            body=json.dumps([{"controllerId": c, "name": c, "securityToken": f"tok-{c}"}
                                                             for c in ids[start:start + 250]]))
                    assert resp.status_code == 201, resp.body
                recorder.phase = "created"
                launcher.drain_changes(app)  # the targets' creation

                # The Management API's scan: a filter no index serves reads every target of the tenant (the API
                # function must scan listing.SCAN_CAP of them within API Gateway's 29 s). Per target scanned: a
                # request that scans them all less one an index answers, both finding none.
                def app_ms(query: str) -> float:
                    runs = []
                    for _ in range(7):
                        moto, start = recorder.moto_seconds, time.thread_time()
                        resp = client.http.get(f"/rest/v1/targets?q={query}&limit=50", headers=ADMIN)
                        assert resp.status_code == 200 and json.loads(resp.body)["total"] == 0, resp.body
                        runs.append((time.thread_time() - start - (recorder.moto_seconds - moto)) * 1000)
                    return statistics.median(runs)

                scanned = app_ms("description==nomatch") - app_ms("controllerId==nomatch")
                recorder.invocations["scan@targets"].append({"items": targets, "calls": {}, "app_cpu_ms": round(scanned, 3)})

                # The fleet's steady state: idle polls that write last-seen (every one at a 5-minute interval).
                context = LambdaContext("skyhawk-prod", memory_size=1024)
                for minutes in (0, 5):
                    clock.set_now(START_MS + minutes * 60_000)
                    for cid in ids:
                        answer = app_handler(measure.Device(cid, f"tok-{cid}").event("GET", ""), context)
                        assert answer["statusCode"] == 200, answer
                recorder.phase = "last_seen"
                launcher.drain_changes(app)

                clock.set_now(START_MS + 10 * 60_000)
                actions = steps.assign(client, ds_id, *ids)["assignedActions"]
                recorder.phase = "assigned"
                launcher.drain_changes(app)  # the assignment: what the feed reads in a rollout
                recorder.phase = ""

                # DMF: gateways announce new things and report the status of actions, ten messages each.
                def send(headers: dict, body: str, thing: str) -> None:
                    dmf_queues.send(dmf_queues.url(), {"tenant": measure.TENANT, **headers}, body,
                                    group_id=f"{measure.TENANT}/{thing}", deduplication_id=uuid.uuid4().hex)

                for i in range(10):
                    send({"type": "THING_CREATED", "thingId": f"dmf-{i}", "content-type": "application/json"}, "",
                         f"dmf-{i}")
                for action, cid in zip(actions[:10], ids):
                    send({"type": "EVENT", "topic": "UPDATE_ACTION_STATUS", "thingId": cid,
                          "content-type": "application/json"},
                         json.dumps({"actionId": action["id"], "actionStatus": "RUNNING"}), cid)
                launcher.drain_dmf(app)
                recorder.phase = "dmf"
                launcher.drain_changes(app)
                recorder.phase = ""

                # The schedules an hour later (the hourly jobs find something), and the worker on their units.
                clock.set_now(START_MS + 3_600_000)
                launcher.fire_schedules(app)
                launcher.drain_jobs(app)
                recorder.phase = "jobs"
                launcher.drain_changes(app)
        finally:
            BotocoreStubber.__call__ = original_stub
            recorder.restore()
            if memory:
                tracemalloc.stop()
    return dict(recorder.invocations)


def summary(timed: dict[str, list[dict]], traced: dict[str, list[dict]]) -> dict[str, dict]:
    """Per function: invocations measured, items each, calls per item, app CPU per item (p50) and per
    invocation (p50, max), the largest allocation peak of an invocation."""
    out = {}
    for name in sorted(timed):
        runs = timed[name]
        items = sum(r["items"] for r in runs)
        calls: Counter[str] = Counter()
        for r in runs:
            calls.update(r["calls"])
        out[name] = {
            "invocations": len(runs), "items": items,
            "calls_per_item": {op: round(n / items, 3) for op, n in sorted(calls.items())},
            "app_cpu_ms_per_item": round(statistics.median(r["app_cpu_ms"] / r["items"] for r in runs), 3),
            "app_cpu_ms_p50": round(statistics.median(r["app_cpu_ms"] for r in runs), 3),
            "app_cpu_ms_max": round(max(r["app_cpu_ms"] for r in runs), 3),
            "alloc_peak_mb": max((r.get("alloc_peak_mb", 0) for r in traced.get(name, [])), default=None),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="cold start probes")
    args = parser.parse_args()
    # First: a child's peak memory (ru_maxrss) starts from what this process held when it forked.
    cold = cold_start.measure(ROOT, args.runs, isolated=False)
    timed = scenario(args.targets, memory=False)
    traced = scenario(args.targets, memory=True)
    from chalicelib.domain.listing import SCAN_CAP

    report = {"python": measure.platform.python_version(), "machine": measure._cpu(), "targets": args.targets,
              "scan_cap": SCAN_CAP,
              "functions": summary(timed, traced), "cold_start": cold}
    json.dump(report, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
