"""Rollouts (issue 9): what creating and starting one costs in DynamoDB, and how soon the next group starts.

    python -m bench.rollouts creation [targets]   # default 10,000
    python -m bench.rollouts latency [devices]    # default 400 (4 groups of 100), 3 rollouts

Each prints one JSON document; `make bench` runs both, each in a process of its own (creation patches botocore
and runs the app under mock_aws, latency starts the launcher).

creation, in-process (chalice test client + moto mock_aws, the jobs queue drained as the worker function
would): a rollout of the targets in 4 groups, from its POST until READY (the count and place passes), then
every group started (start, then triggerNextGroup for the others, each drained: the groups' activation).
DynamoDB requests are counted and priced as docs/capacity/units.py `Meter` does (write requests: PutItem,
UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems; units as DynamoDB bills them). The same runs at a
fifth of the size: the difference gives the figures per target, the rest the fixed ones, and both the
extrapolation to 100,000 targets (which needs at least 5 groups: maxTargetsPerRolloutGroup is 20,000; a
group adds a few requests, not per-target ones).

latency, on the launcher (infra.launcher.start, its jobs queue drained in a thread as `make run`
does; the measuring devices are HTTP clients in the same process): a rollout of N devices in 4 groups with
successCondition THRESHOLD 100; all of group 1 but one report closed/success from a thread pool, the queue
settles, then the time from sending the last device's feedback to the first poll of group 2's first device
that finds a deploymentBase (that device polls in a loop). Repeated on new rollouts (a new set each); the
budget is 1 s for the slowest.

Both run on moto with tests/conftest.py's speed-up of its TransactWriteItems (a copy of the items it writes
for rollback, instead of deep copies of whole tables); `make run` has not got it (see the report's note).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from bench import capacity

ROOT = Path(__file__).resolve().parent.parent
GROUPS = 4
EXTRAPOLATE_TO = 100_000
LATENCY_BUDGET_S = 1.0


def _figures(meter: Any, seconds: float) -> dict[str, Any]:
    totals = meter.totals()
    calls = totals["calls"]
    writes = capacity.units().Meter.WRITES
    return {"seconds": round(seconds, 2), "write_requests": sum(n for op, n in calls.items() if op in writes),
            "read_requests": sum(n for op, n in calls.items() if op not in writes),
            "wru": totals["wru"], "rru": totals["rru"], "calls": dict(sorted(calls.items()))}


def in_process_environment() -> None:
    """A bench that runs the app under mock_aws in this process: fake credentials, no real endpoint, quiet logs."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "bench"
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # stdout carries the JSON
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    sys.path.insert(0, str(ROOT))


def _run_creation(targets: int) -> dict[str, Any]:
    """One rollout of `targets` targets on a fresh moto: its creation and every group's start."""
    from chalice.test import Client
    from moto import mock_aws

    from tests.conftest import ADMIN, reset_process_state

    reset_process_state()
    with mock_aws():
        from app import app
        from chalicelib import config
        from chalicelib.services import tenants
        from chalicelib.store import aws, job_queue, schema
        from infra import launcher
        from tests.api import steps

        schema.ensure_tables()
        job_queue.ensure()
        aws.s3().create_bucket(Bucket=config.settings().bucket)
        tenants.ensure_tenant("DEFAULT")
        units = capacity.units()
        meter = units.Meter(config.table_prefix(), lookup=units.moto_lookup(config.region()))
        headers = {**ADMIN, "Content-Type": "application/json"}
        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            started = time.perf_counter()
            for start in range(0, targets, 500):
                body = [{"controllerId": f"r{i:06d}", "name": f"r{i:06d}"} for i in range(start, min(start + 500,
                                                                                                     targets))]
                resp = client.http.post("/rest/v1/targets", headers=headers, body=json.dumps(body))
                assert resp.status_code == 201, resp.body
            made_s = time.perf_counter() - started
            ds_id, _ = steps.release(client)

            def call(method: str, path: str, payload: Any = None) -> dict:
                resp = getattr(client.http, method)(path, headers=headers,
                                                    **({"body": json.dumps(payload)} if payload is not None else {}))
                assert resp.status_code in (200, 201), (path, resp.status_code, resp.body)
                return json.loads(resp.body) if resp.body else {}

            def metered(step: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
                meter.reset()
                with meter:
                    began = time.perf_counter()
                    result = step()
                    launcher.drain_jobs(app)
                    seconds = time.perf_counter() - began
                print(f"bench: rollout of {targets} targets: a step took {seconds:.1f} s", file=sys.stderr, flush=True)
                return result, _figures(meter, seconds)

            created, creation = metered(lambda: call("post", "/rest/v1/rollouts", {
                "name": "bench", "distributionSetId": ds_id, "targetFilterQuery": "controllerId==r*",
                "amountGroups": GROUPS, "successCondition": {"condition": "THRESHOLD", "expression": "100"}}))
            rollout_id = created["id"]
            rollout = call("get", f"/rest/v1/rollouts/{rollout_id}")
            assert (rollout["status"], rollout["totalTargets"]) == ("ready", targets), rollout
            starts = [metered(lambda: call("post", f"/rest/v1/rollouts/{rollout_id}/start"))[1]]
            for _ in range(GROUPS - 1):
                starts.append(metered(lambda: call("post", f"/rest/v1/rollouts/{rollout_id}/triggerNextGroup"))[1])
            rollout = call("get", f"/rest/v1/rollouts/{rollout_id}")
            assert rollout["totalTargetsPerStatus"]["running"] == targets, rollout
        activation = {key: sum(s[key] for s in starts) for key in ("seconds", "write_requests", "read_requests",
                                                                   "wru", "rru")}
        activation["seconds"] = round(activation["seconds"], 2)
        return {"targets": targets, "groups": GROUPS, "targets_created_in_s": round(made_s, 1),
                "creation": creation, "activation_all_groups": activation,
                "activation_by_group": [{k: s[k] for k in ("seconds", "write_requests", "wru", "calls")}
                                        for s in starts]}


def creation(targets: int = 10_000) -> dict[str, Any]:
    in_process_environment()
    small = _run_creation(max(targets // 5, 100))
    large = _run_creation(targets)
    report: dict[str, Any] = {"where": "in-process: chalice test client + moto mock_aws, queue drained in turn",
                              "small": small, "large": large}
    for phase in ("creation", "activation_all_groups"):
        extrapolated = {}
        for key in ("write_requests", "wru", "read_requests", "rru", "seconds"):
            per_target = (large[phase][key] - small[phase][key]) / (large["targets"] - small["targets"])
            fixed = large[phase][key] - per_target * large["targets"]
            extrapolated[key] = {"per_target": round(per_target, 4), "fixed": round(fixed, 1),
                                 f"at_{EXTRAPOLATE_TO}": round(fixed + per_target * EXTRAPOLATE_TO, 1)}
        report[f"{phase}_extrapolated"] = extrapolated
    return report


# --- latency ----------------------------------------------------------------------------------------------------
def _ok(resp: Any, status: int = 200) -> Any:
    if resp.status_code != status:
        raise RuntimeError(f"{resp.request.method} {resp.url} answered {resp.status_code}: {resp.text[:300]}")
    return resp.json() if resp.content else None


def _device_session(controller_id: str) -> Any:
    import requests

    session = requests.Session()
    session.headers.update({"Authorization": f"TargetToken tok-{controller_id}", "Accept": "application/hal+json"})
    return session


def _deployment(session: Any, base: str) -> str | None:
    links = _ok(session.get(base)).get("_links", {})
    return links.get("deploymentBase", {}).get("href")


def _report_success(session: Any, base: str) -> None:
    href = _deployment(session, base)
    if href is None:
        raise RuntimeError(f"{base} has no deployment")
    action_id = _ok(session.get(href))["id"]
    _ok(session.post(f"{base}/deploymentBase/{action_id}/feedback", json={
        "id": action_id, "status": {"execution": "closed", "result": {"finished": "success"}}}))


def _wait(condition: Callable[[], Any], timeout: float = 120.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(every)
    return value


def _next_group_latency(url: str, admin: Any, pool: ThreadPoolExecutor, n: int, devices: int) -> dict[str, Any]:
    """One rollout of a fleet of its own (the devices of an earlier one still have its actions open): the
    seconds from sending the feedback that completes group 1 to group 2's first device seeing its action."""
    ids = [f"l{n}-{i:05d}" for i in range(devices)]
    for start in range(0, devices, 500):
        _ok(admin.post(f"{url}/rest/v1/targets", json=[{"controllerId": cid, "name": cid, "securityToken": f"tok-{cid}"}
                                                        for cid in ids[start:start + 500]]), 201)
    sessions = {cid: _device_session(cid) for cid in ids}
    bases = {cid: f"{url}/DEFAULT/controller/v1/{cid}" for cid in ids}
    try:
        sm_id = _ok(admin.post(f"{url}/rest/v1/softwaremodules",
                               json=[{"name": "lat-os", "version": str(n), "type": "os"}]), 201)[0]["id"]
        ds_id = _ok(admin.post(f"{url}/rest/v1/distributionsets", json=[
            {"name": "lat-ds", "version": str(n), "type": "os", "modules": [{"id": sm_id}]}]), 201)[0]["id"]
        rollout_url = f"{url}/rest/v1/rollouts/" + str(_ok(admin.post(f"{url}/rest/v1/rollouts", json={
            "name": f"lat-{n}", "distributionSetId": ds_id, "targetFilterQuery": f"controllerId==l{n}-*",
            "amountGroups": GROUPS, "successCondition": {"condition": "THRESHOLD", "expression": "100"}}), 201)["id"])
        _wait(lambda: _ok(admin.get(rollout_url))["status"] == "ready", every=0.2)
        groups = _ok(admin.get(f"{rollout_url}/deploygroups"))["content"]
        first = [t["controllerId"] for t in _ok(admin.get(f"{rollout_url}/deploygroups/{groups[0]['id']}/targets",
                                                          params={"limit": 500}))["content"]]
        watched = _ok(admin.get(f"{rollout_url}/deploygroups/{groups[1]['id']}/targets",
                                params={"limit": 1}))["content"][0]["controllerId"]
        _ok(admin.post(f"{rollout_url}/start"))
        _wait(lambda: _ok(admin.get(rollout_url))["totalTargetsPerStatus"]["running"] == len(first), every=0.2)
        list(pool.map(lambda cid: _report_success(sessions[cid], bases[cid]), first[:-1]))
        time.sleep(2.0)  # the drain runs their checks (one short of the threshold)
        if _deployment(sessions[watched], bases[watched]) is not None:
            raise RuntimeError("group 2 started before group 1 was complete")
        last = first[-1]
        action_id = _ok(sessions[last].get(_deployment(sessions[last], bases[last])))["id"]
        sent = time.perf_counter()
        _ok(sessions[last].post(f"{bases[last]}/deploymentBase/{action_id}/feedback", json={
            "id": action_id, "status": {"execution": "closed", "result": {"finished": "success"}}}))
        answered = time.perf_counter()
        polls = 0

        def seen() -> bool:
            nonlocal polls
            polls += 1
            return _deployment(sessions[watched], bases[watched]) is not None
        _wait(seen, every=0.005)
        visible = time.perf_counter()
        return {"seconds": round(visible - sent, 3), "feedback_s": round(answered - sent, 3), "polls": polls}
    finally:
        for session in sessions.values():
            session.close()


def latency(devices: int = 400, rollouts: int = 3, pool_size: int = 8) -> dict[str, Any]:
    in_process_environment()
    os.environ["SKYHAWK_ADMIN_PASSWORD"] = "admin"
    import requests

    import tests.conftest  # noqa: F401 - moto's TransactWriteItems speed-up (see the docstring)
    from infra import launcher

    running = launcher.start(port=0, moto_port=0, schedule_every=3600, access_log=False)  # its jobs queue drained as make run drains it
    admin = requests.Session()
    admin.auth = ("admin", "admin")
    samples: list[dict[str, Any]] = []
    try:
        _ok(admin.put(f"{running.url}/rest/v1/system/configs/authentication.targettoken.enabled",
                      json={"value": True}))
        with ThreadPoolExecutor(pool_size) as pool:
            for n in range(rollouts):
                samples.append(_next_group_latency(running.url, admin, pool, n, devices))
                print(f"bench: rollout {n + 1}/{rollouts}: group 2's first action visible after "
                      f"{samples[-1]['seconds']:.3f} s", file=sys.stderr, flush=True)
    finally:
        admin.close()
        running.stop()
    seconds = [s["seconds"] for s in samples]
    return {"where": "launcher in-process (infra.launcher.start: chalice local, in-process moto, jobs queue "
                     "drained with short pauses when empty); devices are HTTP clients in the same process",
            "devices": devices, "groups": GROUPS, "group_size": devices // GROUPS, "samples": samples,
            "median_s": round(statistics.median(seconds), 3), "max_s": max(seconds),
            "budget_s": LATENCY_BUDGET_S, "pass": max(seconds) <= LATENCY_BUDGET_S}


def main(argv: list[str]) -> int:
    part = argv[0] if argv else "creation"
    size = [int(a) for a in argv[1:2]]
    if part == "creation":
        print(json.dumps(creation(*size), indent=2))
    elif part == "latency":
        print(json.dumps(latency(*size), indent=2))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
