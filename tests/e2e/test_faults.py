"""AWS misbehaving under a running service (issue: reliability): dead or paused endpoints answer 503 with
Retry-After within the Lambda budget, /health says DOWN, one log line per failed request and no tracebacks;
once AWS is back the same process serves again, with its data intact.

The launcher runs as its own process against moto behind a FaultProxy (tests/e2e/fault_proxy.py).
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import PROJECT_DIR, free_port
from tests.e2e.fault_proxy import FaultProxy
from tests.e2e.test_launcher import _launcher_env, _stop, _wait_healthy

# A request must end well inside API Gateway's 29 s and the Lambda's 30 s, however AWS misbehaves.
LAMBDA_BUDGET_SECONDS = 29
ADMIN = ("admin", "admin")


def _moto_process() -> tuple[subprocess.Popen, int]:
    """moto in a process of its own: the in-process servers of this session share moto's state."""
    port = free_port()
    moto = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return moto, port
        except OSError:
            assert moto.poll() is None and time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.05)


@pytest.fixture
def faulty():
    moto, moto_port = _moto_process()
    proxy = FaultProxy(("127.0.0.1", moto_port)).start()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "infra.launcher"], cwd=PROJECT_DIR,
                            # every read meets the outage (no cached tenant configuration); shorter AWS
                            # timeouts than the defaults (1 s connect, 2 s read, 3 attempts) keep the test short
                            env=_launcher_env(PORT=str(port), AWS_ENDPOINT_URL=proxy.url,
                                              SKYHAWK_SCHEDULE_EVERY="0", SKYHAWK_TENANT_CONFIG_CACHE_SECONDS="0",
                                              SKYHAWK_AWS_READ_TIMEOUT_SECONDS="0.5", SKYHAWK_AWS_MAX_ATTEMPTS="2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url, proxy, proc
    finally:
        proxy.set_mode("pass")
        if proc.poll() is None:
            _stop(proc)
        proxy.stop()
        moto.terminate()
        moto.wait(timeout=10)


def _requests(url: str) -> list[tuple[str, str, dict]]:
    device = {"Authorization": "TargetToken tok-f1"}
    return [("GET", f"{url}/rest/v1/targets", {"auth": ADMIN}),
            ("GET", f"{url}/DEFAULT/controller/v1/f1", {"headers": device}),
            ("POST", f"{url}/rest/v1/targets", {"auth": ADMIN, "json": [{"controllerId": "f2", "name": "f2"}]}),
            ("GET", f"{url}/api/deviceconfiguration/v3/files", {"auth": ADMIN})]


@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_outage_answers_503_and_the_service_recovers_without_restart(faulty, mode):
    url, proxy, proc = faulty
    assert requests.put(f"{url}/rest/v1/system/configs/authentication.targettoken.enabled", auth=ADMIN,
                        json={"value": True}).status_code == 200
    assert requests.post(f"{url}/rest/v1/targets", auth=ADMIN,
                         json=[{"controllerId": "f1", "name": "f1", "securityToken": "tok-f1"}]).status_code == 201

    proxy.set_mode(mode)
    failed = 0
    for method, target, kwargs in _requests(url):
        started = time.monotonic()
        resp = requests.request(method, target, timeout=LAMBDA_BUDGET_SECONDS, **kwargs)
        took = time.monotonic() - started
        assert resp.status_code == 503, (target, resp.status_code, resp.text)
        assert int(resp.headers["Retry-After"]) > 0
        body = resp.json()
        assert body.get("errorCode") == "hawkbit.server.error.serviceUnavailable" or \
            body["errors"][0]["code"] == "mdsp.core.deviceconfiguration.serviceUnavailable"
        print(f"{mode}: {method} {target.replace(url, '')} -> 503 in {took:.1f} s")
        failed += 1
    deadline = time.monotonic() + 15  # a container keeps a health answer 5 s
    while (health := requests.get(f"{url}/health", timeout=LAMBDA_BUDGET_SECONDS)).status_code == 200:
        assert time.monotonic() < deadline, "health still UP during the outage"
        time.sleep(0.2)
    assert health.status_code == 503 and health.json()["status"] == "DOWN" and "Retry-After" in health.headers
    assert health.json()["components"]["dynamodb"]["status"] == "DOWN"

    proxy.set_mode("pass")
    deadline = time.monotonic() + 15  # health answers are kept 5 s
    while requests.get(f"{url}/health").status_code != 200:
        assert time.monotonic() < deadline, "health did not recover"
        time.sleep(0.2)
    assert requests.get(f"{url}/rest/v1/targets/f1", auth=ADMIN).json()["controllerId"] == "f1"
    assert requests.get(f"{url}/DEFAULT/controller/v1/f1", headers={"Authorization": "TargetToken tok-f1"}
                        ).status_code == 200
    # nothing half-written by the refused create
    assert requests.get(f"{url}/rest/v1/targets/f2", auth=ADMIN).status_code == 404
    quota = requests.get(f"{url}/rest/v1/system/quota/TARGET", auth=ADMIN).json()
    assert quota["used"] == 1

    out, err = _stop(proc)
    assert "Traceback" not in out + err, (out + err)[-3000:]
    # the app's lines are JSON on stdout (chalicelib/logs.py): one warning per failed request, no stack trace
    warnings = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"WARNING"' in line]
    assert len([w for w in warnings if w["message"].startswith("unavailable: ")]) == failed, out[-3000:]
    assert not [w for w in warnings if "stack_trace" in w], out[-3000:]
