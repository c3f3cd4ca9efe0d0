"""The change feed (issue 10): what it costs to read the streams' records, per record, in-process on moto.

    python -m bench.change_feed [targets]   # default 500

Prints one JSON document; `make bench` runs it in a process of its own (it runs the app under mock_aws).

The same flow three times, each on a fresh moto: `targets` targets created, a set assigned to all of them, every
action closed by a `closed/success` DDI feedback. The records the streams carry for it are counted (per target:
what a device's update writes to the streamed tables), then handed to app.py's `change_feed` function in
batches of 100 (the event source mapping's batch size) and timed:

- `none`: a tenant with neither `dmf.enabled` nor `sie.enabled` (the common case: each record costs a look at
  its keys, nothing is decoded);
- `sie`: `sie.enabled` on: every record decoded, its events put on the bus (moto's EventBridge);
- `dmf`: `dmf.enabled` on and every target a DMF thing (a reply queue as its address): every action change
  decoded, the target read, the commands sent to the reply queue (moto's SQS).

Lambda bills the function's duration: ms per 100 records × 100 records' share of the price gives the feed's cost
per million changes (docs/capacity.md, issue 10). moto's own cost of serving GetRecords is not in the figure (on
AWS the event source mapping reads the stream, not the function).
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.rollouts import in_process_environment

ROOT = Path(__file__).resolve().parent.parent
BATCH = 100


def _flow(mode: str, targets: int) -> dict[str, Any]:
    from chalice.test import Client
    from moto import mock_aws

    import tests.conftest as conftest  # also moto's TransactWriteItems speed-up
    from tests.api import steps
    from tests.conftest import ADMIN

    with mock_aws():
        conftest.reset_process_state()
        from app import app
        from chalicelib import config
        from chalicelib.services import tenants
        from chalicelib.store import aws, change_feed, event_bus, schema

        schema.ensure_tables()
        aws.s3().create_bucket(Bucket=config.settings().bucket)
        event_bus.ensure()
        tenants.ensure_tenant("DEFAULT")
        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            if mode == "sie":
                steps.put_config(client, "sie.enabled", True)
            if mode == "dmf":
                steps.put_config(client, "dmf.enabled", True)
            reply = aws.client("sqs").create_queue(QueueName="bench-replies")["QueueUrl"]
            steps.enable_target_tokens(client)
            ids = [f"feed-{i:05d}" for i in range(targets)]
            for start in range(0, targets, 200):
                body = [{"controllerId": cid, "name": cid, "securityToken": f"tok-{cid}",
                         **({"address": reply} if mode == "dmf" else {})} for cid in ids[start:start + 200]]
                assert client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "application/json"},
                                        body=json.dumps(body)).status_code == 201
            ds_id, _ = steps.release(client)
            change_feed.read(10_000_000)  # what set-up wrote is not the flow's
            actions = steps.assign(client, ds_id, *ids)["assignedActions"]
            for action in actions:
                cid = action["controllerId"] if "controllerId" in action else ids[actions.index(action)]
                steps.feedback(client, cid, f"tok-{cid}", action["id"], "closed", "success")
            records = []
            while batch := change_feed.read(10_000):
                records += batch
            samples = []
            handler = app.handler_map["change_feed"]
            for start in range(0, len(records), BATCH):
                chunk = records[start:start + BATCH]
                began = time.perf_counter()
                answer = handler({"Records": chunk}, None)
                samples.append((time.perf_counter() - began) * 1000 * BATCH / len(chunk))
                assert not answer["batchItemFailures"], answer
            sent = int(aws.client("sqs").get_queue_attributes(
                QueueUrl=reply, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"])
    return {"records": len(records), "records_per_target": round(len(records) / targets, 2),
            "ms_per_100_records_median": round(statistics.median(samples), 1),
            "ms_per_100_records_p90": round(sorted(samples)[int(len(samples) * 0.9)], 1),
            "dmf_messages": sent}


def measure(targets: int = 500) -> dict[str, Any]:
    in_process_environment()
    report: dict[str, Any] = {"where": "in-process: chalice test client + moto mock_aws; app.py's change_feed "
                                       "function on the streams' records in batches of 100",
                              "targets": targets}
    for mode in ("none", "sie", "dmf"):
        print(f"bench: change feed, {mode} ...", file=sys.stderr, flush=True)
        report[mode] = _flow(mode, targets)
    return report


if __name__ == "__main__":
    print(json.dumps(measure(*[int(a) for a in sys.argv[1:2]]), indent=2))
