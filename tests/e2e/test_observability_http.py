"""Correlation ids, Idempotency-Key retries and the `make run` console over real HTTP through the launcher."""
from __future__ import annotations

import json
import subprocess
import sys

import requests

from tests.e2e.conftest import PROJECT_DIR, free_port
from tests.e2e.test_launcher import _launcher_env, _stop, _wait_healthy


def test_a_correlation_id_travels_in_and_out(stack):
    resp = stack.admin.get(f"{stack.url}/rest/v1/userinfo", headers={"X-Correlation-Id": "e2e-corr-1"})
    assert resp.status_code == 200 and resp.headers["X-Correlation-Id"] == "e2e-corr-1"
    generated = requests.get(f"{stack.url}/health").headers["X-Correlation-Id"]
    assert generated and generated != requests.get(f"{stack.url}/health").headers["X-Correlation-Id"]


def test_retried_creates_with_an_idempotency_key_create_once(stack):
    admin, url = stack.admin, stack.url
    body = [{"controllerId": "idem-e2e-1", "name": "idem-e2e-1"}]
    first = admin.post(f"{url}/rest/v1/targets", json=body, headers={"Idempotency-Key": "e2e-create"})
    retry = admin.post(f"{url}/rest/v1/targets", json=body, headers={"Idempotency-Key": "e2e-create"})
    assert first.status_code == retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    sm_id = admin.post(f"{url}/rest/v1/softwaremodules",
                       json=[{"name": "idem-e2e-os", "version": "1", "type": "os"}]).json()[0]["id"]
    ds_id = admin.post(f"{url}/rest/v1/distributionsets",
                       json=[{"name": "idem-e2e-ds", "version": "1", "type": "os",
                              "modules": [{"id": sm_id}]}]).json()[0]["id"]
    assign = [{"id": "idem-e2e-1", "type": "forced"}]
    answers = [admin.post(f"{url}/rest/v1/distributionsets/{ds_id}/assignedTargets", json=assign,
                          headers={"Idempotency-Key": "e2e-assign"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.text for a in answers}) == 1 and answers[0].json()["assigned"] == 1
    assert admin.get(f"{url}/rest/v1/targets/idem-e2e-1/actions").json()["total"] == 1
    reused = admin.post(f"{url}/rest/v1/distributionsets/{ds_id}/assignedTargets", json=[{"id": "other"}],
                        headers={"Idempotency-Key": "e2e-assign"})
    assert reused.status_code == 422 and reused.json()["errorCode"] == "hawkbit.server.error.idempotencyKeyReused"


def _run_launcher(**env: str) -> tuple[str, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "infra.launcher"], cwd=PROJECT_DIR,
                            env=_launcher_env(PORT=str(port), MOTO_PORT=str(free_port()), **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = err = ""
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc)
        assert requests.get(f"{url}/rest/v1/targets/nobody", auth=("admin", "admin"),
                            headers={"X-Correlation-Id": "console-1"}).status_code == 404
    finally:
        if proc.poll() is None:
            out, err = _stop(proc)
    return out, err


def test_make_run_prints_readable_lines_and_no_metrics_by_default():
    out, err = _run_launcher()
    assert "skyhawk ready on" in out
    assert "INFO launcher started in" in err  # the launcher's own lines stay plain text
    assert '"_aws"' not in out + err  # no EMF lines
    assert not [line for line in out.splitlines() if line.startswith("{")]  # app JSON only from WARNING up


def test_make_run_shows_each_request_once_as_json_at_info():
    out, err = _run_launcher(POWERTOOLS_LOG_LEVEL="INFO", POWERTOOLS_METRICS_DISABLED="false")
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    answered = [line for line in lines if line.get("correlation_id") == "console-1" and "_aws" not in line]
    assert [(line["route"], line["status"]) for line in answered] == [("GET /rest/v1/targets/{target_id}", 404)]
    [emf] = [line for line in lines if "_aws" in line and line.get("correlation_id") == "console-1"]
    assert emf["Http4xx"] == [1.0]
    assert (out + err).count("console-1") == 2  # once in the log line, once in the metric line
    assert "INFO launcher started in" in err
