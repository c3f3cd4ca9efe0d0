"""Read units of the target lists (services/target_lists.py) in-process against moto, and what they come to at
200,000 targets (the TARGET quota), from the per-item cost measured here. `python -m bench.lists [targets]`
prints one JSON document; `make bench` runs it in a process of its own (it patches botocore).

What grows with what: a page in an indexed order reads the same at any tenant size; `q=` on an indexed field
reads every matching index key (to count them) and the page's targets; a filter that must scan reads every
target it passes until SCAN_CAP, then answers 400.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bench import capacity

ROOT = Path(__file__).resolve().parent.parent
QUOTA = 200_000


def _meter(prefix: str):
    return capacity.units().Meter(prefix)


def _registrations(client, headers: dict, meter) -> dict:
    """Units of a device's first poll (gateway token) without auto-assigning filters, with one it misses and
    with one that assigns it a set (the tenant's filters cached per container, as a warm Lambda has them)."""
    from tests.api import steps

    steps.enable_gateway_token(client)
    ds_id, _ = steps.release(client)

    def first_poll(controller_id: str) -> dict:
        meter.reset()
        with meter:
            client.http.get(f"/DEFAULT/controller/v1/{controller_id}",
                            headers={"Authorization": "GatewayToken gw-secret"})
        return {k: v for k, v in meter.totals().items() if k in ("rru", "wru")}

    first_poll("warm-0")
    without = first_poll("other-1")
    query = json.loads(client.http.post("/rest/v1/targetfilters", headers=headers,
                                        body=json.dumps({"name": "auto", "query": "controllerId==match-*"})).body)
    client.http.post(f"/rest/v1/targetfilters/{query['id']}/autoAssignDS", headers=headers,
                     body=json.dumps({"id": ds_id}))
    first_poll("match-0")  # the filters cached again after the change
    return {"without filters": without, "with a filter it misses": first_poll("other-2"),
            "assigned by a filter": first_poll("match-1")}


def measure(targets: int = 2_000) -> dict:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "bench"
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    sys.path.insert(0, str(ROOT))
    from chalice.test import Client
    from moto import mock_aws

    from tests.conftest import ADMIN

    with mock_aws():
        from app import app
        from chalicelib import config
        from chalicelib.services import target_lists, tenants
        from chalicelib.store import aws, job_queue, schema

        schema.ensure_tables()
        job_queue.ensure()
        aws.s3().create_bucket(Bucket=config.settings().bucket)
        tenants.ensure_tenant("DEFAULT")
        meter = _meter(config.table_prefix())
        headers = {**ADMIN, "Content-Type": "application/json"}
        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            special = 100
            for start in range(0, targets, 250):
                body = [{"controllerId": f"t{i:06d}", "name": "special" if i < special else f"name-{i}",
                         "description": "a description of a realistic length"}
                        for i in range(start, min(start + 250, targets))]
                client.http.post("/rest/v1/targets", headers=headers, body=json.dumps(body))

            def units(query: str) -> dict:
                client.http.get(f"/rest/v1/targets?{query}", headers=headers)  # login and settings cached
                meter.reset()
                with meter:
                    started = time.perf_counter()
                    resp = client.http.get(f"/rest/v1/targets?{query}", headers=headers)
                    seconds = time.perf_counter() - started
                charges = [c for c in meter.charges() if c.where.split("/")[0] == "targets"]
                return {"query": query, "status": resp.status_code, "rru": sum(c.reads for c in charges),
                        "rru_all": meter.totals()["rru"], "seconds_in_process": round(seconds, 3)}

            report: dict = {"targets": targets, "scan_cap": target_lists.SCAN_CAP, "key_cap": target_lists.KEY_CAP}
            report["default page"] = units("limit=50")
            report["sorted page"] = units("sort=lastControllerRequestAt:DESC&limit=50")
            report["sorted page, offset 1000"] = units("sort=name:ASC&offset=1000&limit=50")
            indexed = units("q=name==special&limit=50")
            report["q on one controllerId"] = units("q=controllerId==T000042")
            tag = json.loads(client.http.post("/rest/v1/targettags", headers=headers,
                                              body=json.dumps([{"name": "field"}])).body)[0]
            client.http.post(f"/rest/v1/targettags/{tag['id']}/assigned", headers=headers,
                             body=json.dumps([f"t{i:06d}" for i in range(special)]))
            report["q on a tag"] = {**units("q=tag==field&limit=50"), "matches": special}
            report["plug-and-play registration"] = _registrations(client, headers, meter)
            every_key = units("q=updateStatus==unknown&limit=50")  # every target matches
            target_lists.SCAN_CAP = max(target_lists.SCAN_CAP, targets + 1)
            scan = units("q=description==nothing")
        # per-item costs, and the 200,000-target figures they give
        page_rru = 0.5 * 50  # the page's 50 targets, one eventually consistent read each
        per_key = (every_key["rru"] - 8 - page_rru) / targets
        per_item = scan["rru"] / targets
        report["q on an indexed field"] = {**indexed, "matches": special}
        report["q matching every target"] = {**every_key, "rru_per_matching_key": round(per_key, 5),
                                             f"rru_at_{QUOTA}_matches": round(8 + page_rru + per_key * QUOTA, 1)}
        report["scan"] = {**scan, "rru_per_target_read": round(per_item, 5),
                          f"rru_at_{QUOTA}_targets": "400 after reading SCAN_CAP targets",
                          "rru_until_the_cap": round(per_item * report["scan_cap"], 1),
                          "seconds_per_target_in_process": round(scan["seconds_in_process"] / targets, 6)}
        for name in ("default page", "sorted page"):
            report[name][f"rru_at_{QUOTA}_targets"] = report[name]["rru"]  # independent of the tenant's size
    return report


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000), indent=2))
