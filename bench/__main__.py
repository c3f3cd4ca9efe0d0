"""Run with `python -m bench` (or `make bench`). Prints figures; asserts nothing (budgets live in tests).

1. Cold start: `python -c "import app"` against `python -c "import boto3"` (median of N fresh processes).
2. Device hot path in-process (chalice test client + moto): DynamoDB calls and latency of an idle poll,
   a poll with an open action, deploymentBase and feedback.
3. Assigning one distribution set to 1,000 targets: DynamoDB calls by operation and wall time.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cold_import(runs: int = 15) -> None:
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
    print(f"cold import ({runs} runs, median): boto3 {boto3_s * 1000:.0f} ms, app {app_s * 1000:.0f} ms, "
          f"ratio {app_s / boto3_s:.2f} (budget 1.5)")


def hot_path() -> None:
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
                print(f"{label}: DynamoDB {first or 'none'}; p50 {samples[len(samples) // 2]:.2f} ms, "
                      f"p99 {samples[int(len(samples) * 0.99) - 1]:.2f} ms (in-process, moto)")

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
            print(f"assign 1 set to 1,000 targets: assigned {result['assigned']}, DynamoDB {dict(calls.calls)}, "
                  f"{elapsed:.2f} s (in-process, moto)")


if __name__ == "__main__":
    cold_import()
    hot_path()
