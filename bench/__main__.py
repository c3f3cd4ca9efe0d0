"""Run with `python -m bench` (or `make bench`). Prints one JSON document; asserts nothing (budgets live in tests).

1. cold_import: `python -c "import app"` against `python -c "import boto3"` (median of N fresh processes).
2. hot_path, in-process (chalice test client + moto): DynamoDB calls and latency of an idle poll,
   a poll with an open action, deploymentBase and feedback; assigning one distribution set to 1,000 targets:
   DynamoDB calls by operation and wall time.
3. polls: idle DDI polls/s of `make run` against goosebit 0.2.12 from PyPI, side by side (bench/polls.py).
4. target_lists: read units of a default, a sorted and a `q=` page (name, controllerId, tag) of the target
   list, of a capped scan, and of a plug-and-play registration with and without auto-assigning filters,
   with the 200,000-target figures their per-item costs give (bench/lists.py).
5. rollouts: creating a rollout of 10,000 targets (4 groups) and starting all its groups, in DynamoDB requests,
   units and seconds on moto, extrapolated to 100,000 targets; the next group's latency (the feedback that
   completes group 1 to group 2's first action visible to a poll) on the launcher, budget 1 s (bench/rollouts.py).
6. change_feed: the streams' records of an assignment and its feedback, per target, and the change feed
   function's time per 100 records for a tenant without DMF or events, with `sie.enabled`, with `dmf.enabled`
   (bench/change_feed.py).

    python -m bench [--only cold_import|hot_path|polls|target_lists|rollouts|change_feed ...] [--no-goosebit]
                    [--rollout-targets N]

Progress goes to stderr, the JSON to stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cold_import(runs: int = 15) -> dict:
    """Fresh interpreters, alternating the two imports so machine load drifts hit both alike."""
    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        return time.perf_counter() - start

    samples: dict[str, list[float]] = {"import boto3": [], "import app": []}
    for _ in range(runs):
        for code in samples:
            samples[code].append(once(code))
    boto3_s, app_s = (statistics.median(samples[c]) for c in ("import boto3", "import app"))
    return {"runs": runs, "boto3_ms": round(boto3_s * 1000), "app_ms": round(app_s * 1000),
            "ratio": round(app_s / boto3_s, 2), "budget_ratio": 1.5}


def hot_path() -> dict:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "bench"
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    sys.path.insert(0, str(ROOT))
    import botocore.client
    from chalice.test import Client
    from moto import mock_aws

    from tests.api import steps
    from tests.conftest import ADMIN, DynamoCalls

    calls = DynamoCalls()
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.calls[operation] += 1
        return original(self, operation, params)

    botocore.client.BaseClient._make_api_call = counting
    report: dict = {"where": "in-process: chalice test client + moto mock_aws"}
    with mock_aws():
        from app import app
        from chalicelib import config
        from chalicelib.services import tenants
        from chalicelib.store import aws, schema

        schema.ensure_tables()
        aws.s3().create_bucket(Bucket=config.settings().bucket)
        tenants.ensure_tenant("DEFAULT")
        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            steps.enable_target_tokens(client)
            steps.create_target(client, "bench-1", "tok")
            steps.poll(client, "bench-1", "tok")

            def measure(label, fn, n=200):
                calls.reset()
                fn()
                first = dict(calls.calls)
                samples = []
                for _ in range(n):
                    start = time.perf_counter()
                    fn()
                    samples.append((time.perf_counter() - start) * 1000)
                samples.sort()
                report[label] = {"dynamodb_calls": first, "p50_ms": round(samples[len(samples) // 2], 2),
                                 "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 2)}

            measure("idle poll", lambda: steps.poll(client, "bench-1", "tok"))
            ds_id, _ = steps.release(client)
            action_id = steps.assign(client, ds_id, "bench-1")["assignedActions"][0]["id"]
            measure("poll with open action", lambda: steps.poll(client, "bench-1", "tok"))
            measure("deploymentBase", lambda: client.http.get(
                f"/DEFAULT/controller/v1/bench-1/deploymentBase/{action_id}", headers=steps.device("tok")))
            measure("feedback (proceeding)", lambda: steps.feedback(client, "bench-1", "tok", action_id,
                                                                   "proceeding", "none"), n=100)

            ids = [f"bulk-{i:04d}" for i in range(1000)]
            for start in range(0, 1000, 250):
                client.http.post("/rest/v1/targets", headers=ADMIN, body=json.dumps(
                    [{"controllerId": cid, "name": cid} for cid in ids[start:start + 250]]))
            calls.reset()
            started = time.perf_counter()
            result = steps.assign(client, ds_id, *ids)
            elapsed = time.perf_counter() - started
            report["assign 1 set to 1,000 targets"] = {"assigned": result["assigned"],
                                                       "dynamodb_calls": dict(calls.calls),
                                                       "seconds": round(elapsed, 2)}
    return report


def polls(goosebit: bool = True) -> dict:
    from bench import polls as side_by_side

    return side_by_side.measure(only=("skyhawk", "goosebit") if goosebit else ("skyhawk",))


def capacity_units() -> dict:
    """DynamoDB read and write capacity units per operation, priced from the items the real flows store
    (docs/capacity/measure.py, in a process of its own: it runs the app under moto)."""
    done = subprocess.run([sys.executable, "docs/capacity/measure.py", "--repeat", "0"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    operations = json.loads(done.stdout)["operations"]
    return {name: {"rru": op["current"]["rru"], "wru": op["current"]["wru"]}
            for name, op in sorted(operations.items())}


def target_lists() -> dict:
    """bench/lists.py in a process of its own (it runs the app under moto)."""
    done = subprocess.run([sys.executable, "-m", "bench.lists"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def rollouts(targets: int) -> dict:
    """bench/rollouts.py, each part in a process of its own (creation runs the app under moto, latency the
    launcher)."""
    report = {}
    for name, argv in (("creation", ["creation", str(targets)]), ("next_group_latency", ["latency"])):
        done = subprocess.run([sys.executable, "-m", "bench.rollouts", *argv], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True, check=True)
        report[name] = json.loads(done.stdout)
    return report


def change_feed() -> dict:
    """bench/change_feed.py in a process of its own (it runs the app under moto)."""
    done = subprocess.run([sys.executable, "-m", "bench.change_feed"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                          check=True)
    return json.loads(done.stdout)


# In this order: polls' servers are processes of their own, hot_path changes this process (mock_aws, a
# patched botocore) for good.
SECTIONS = {"polls": lambda args: polls(goosebit=not args.no_goosebit), "cold_import": lambda args: cold_import(),
            "capacity_units": lambda args: capacity_units(), "target_lists": lambda args: target_lists(),
            "rollouts": lambda args: rollouts(args.rollout_targets), "change_feed": lambda args: change_feed(),
            "hot_path": lambda args: hot_path()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=list(SECTIONS), help="run these sections (default: all)")
    parser.add_argument("--no-goosebit", action="store_true", help="polls: measure skyhawk alone")
    parser.add_argument("--rollout-targets", type=int, default=10_000, help="rollouts: targets of the creation run")
    args = parser.parse_args(argv)
    report = {}
    for name in [n for n in SECTIONS if n in (args.only or SECTIONS)]:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        report[name] = SECTIONS[name](args)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
