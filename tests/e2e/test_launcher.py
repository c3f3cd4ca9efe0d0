"""The `make run` contract over real HTTP: health, auth, a config round trip, start-up as a process."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import boto3
import requests

from tests.e2e.conftest import PROJECT_DIR, free_port

CONFIG_KEY = "authentication.gatewaytoken.key"


def test_health_is_up(stack):
    resp = requests.get(f"{stack.url}/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "UP"}


def test_binds_loopback_only(stack):
    assert stack.url.startswith("http://127.0.0.1:")
    assert stack.moto_url.startswith("http://127.0.0.1:")
    assert stack.s3.url.startswith("http://127.0.0.1:")


def test_admin_userinfo(stack):
    resp = stack.admin.get(f"{stack.url}/rest/v1/userinfo")
    assert resp.status_code == 200
    assert resp.json() == {"tenant": "DEFAULT", "username": "admin"}


def test_tenant_qualified_login(stack):
    resp = stack.session(tenant="DEFAULT").get(f"{stack.url}/rest/v1/userinfo")
    assert resp.status_code == 200


def test_no_credentials_is_401(stack):
    resp = requests.get(f"{stack.url}/rest/v1/userinfo")
    assert resp.status_code == 401
    assert resp.json()["errorCode"] == "hawkbit.server.error.unauthorized"


def test_wrong_password_is_401(stack):
    assert stack.session(password="nope").get(f"{stack.url}/rest/v1/userinfo").status_code == 401


def test_config_put_get_roundtrip(stack):
    url = f"{stack.url}/rest/v1/system/configs/{CONFIG_KEY}"
    put = stack.admin.put(url, json={"value": "e2e-gateway-token"})
    assert put.status_code == 200, put.text
    assert put.json()["value"] == "e2e-gateway-token"
    try:
        got = stack.admin.get(url)
        assert got.status_code == 200
        assert got.json()["value"] == "e2e-gateway-token" and got.json()["global"] is False
        listed = stack.admin.get(f"{stack.url}/rest/v1/system/configs").json()
        assert listed[CONFIG_KEY]["value"] == "e2e-gateway-token"
    finally:
        assert stack.admin.delete(url).status_code == 200
    assert stack.admin.get(url).json()["global"] is True


# A second client in a process of its own: its calls can only reach moto over HTTP, on the moto port.
SECOND_CLIENT = """
import json, sys, boto3
dynamodb = boto3.client("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
key = {"tenant": {"S": "DEFAULT"}, "controller_id": {"S": sys.argv[2]}}
item = dynamodb.get_item(TableName="skyhawk-targets", Key=key, ConsistentRead=True).get("Item")
dynamodb.update_item(TableName="skyhawk-targets", Key=key, UpdateExpression="SET #n = :n",
                     ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":n": {"S": sys.argv[3]}})
print(json.dumps(item["name"]["S"] if item else None))
"""


def test_app_and_moto_port_share_one_state(stack):
    """The app's calls are answered in-process, moto's port by its HTTP server: both read and write the same
    backends (the AWS CLI, or a device downloading a signed URL, sees what the app wrote, and back)."""
    created = stack.admin.post(f"{stack.url}/rest/v1/targets", json=[{"controllerId": "shared-1", "name": "by API"}])
    assert created.status_code == 201, created.text
    result = subprocess.run([sys.executable, "-c", SECOND_CLIENT, stack.moto_url, "shared-1", "by moto port"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "by API"
    got = stack.admin.get(f"{stack.url}/rest/v1/targets/shared-1")
    assert got.status_code == 200 and got.json()["name"] == "by moto port"


def test_app_aws_calls_open_no_connection_to_moto(stack, monkeypatch):
    """Over HTTP each of the app's calls cost a TCP connection to moto and its server's dispatch (issue 7)."""
    moto_port = int(stack.moto_url.rsplit(":", 1)[1])
    connects: list[int] = []
    real_connect = socket.socket.connect

    def recording_connect(sock, address):
        if isinstance(address, tuple):
            connects.append(address[1])
        return real_connect(sock, address)
    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    served = stack.running.inprocess.served
    for n in range(3):  # fresh connections to the API: new server threads, new per-thread AWS clients
        with requests.Session() as session:
            session.auth = ("admin", "admin")
            created = session.post(f"{stack.url}/rest/v1/targets", json=[{"controllerId": f"inproc-{n}", "name": "x"}])
            assert created.status_code == 201, created.text
            assert session.get(f"{stack.url}/rest/v1/targets/inproc-{n}").status_code == 200
    assert stack.running.inprocess.served > served  # the calls were made, and answered in-process
    assert connects and moto_port not in connects  # the API was connected to; moto never


def test_scheduled_jobs_run_in_process(stack):
    results = stack.run_schedules()
    failed = {name: result for name, result in results.items() if isinstance(result, BaseException)}
    assert not failed


# --- the launcher as `make run` starts it -------------------------------------------------------------

def _launcher_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "SKYHAWK_"))}
    env.update(extra)
    return env


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"launcher exited early: {proc.communicate()}"
        try:
            if requests.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or a loaded machine
        time.sleep(0.02)
    raise AssertionError(f"{url}/health not ready within {timeout} s")


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("launcher did not stop on SIGTERM")
    assert proc.returncode == 0, err
    return out, err


def test_launcher_process_ready_and_stops():
    port, moto_port = free_port(), free_port()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "infra.launcher"], cwd=PROJECT_DIR,
                            env=_launcher_env(PORT=str(port), MOTO_PORT=str(moto_port)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc)
        ready = time.monotonic() - started
        # The contract is "ready within 5 s"; on a loaded CI machine only report it, don't fail on it.
        print(f"\nlauncher ready in {ready:.2f} s from process start (contract: < 5 s)")
        assert requests.get(f"{url}/rest/v1/userinfo", auth=("admin", "admin")).status_code == 200
        with socket.create_connection(("127.0.0.1", moto_port), timeout=2):
            pass  # the embedded moto listens where MOTO_PORT says
    finally:
        if proc.poll() is None:
            out, _ = _stop(proc)
    assert f"skyhawk ready on {url} (moto on http://127.0.0.1:{moto_port})" in out


def test_launcher_uses_existing_endpoint_and_bootstraps_it(stack):
    """AWS_ENDPOINT_URL set: no moto of its own; missing tables, bucket and admin are created there."""
    port = free_port()
    with socket.socket() as occupied:  # if the launcher tried to start moto here, it would fail
        occupied.bind(("127.0.0.1", 0))
        occupied.listen()
        env = _launcher_env(PORT=str(port), MOTO_PORT=str(occupied.getsockname()[1]),
                            AWS_ENDPOINT_URL=stack.moto_url, SKYHAWK_TABLE_PREFIX="skyhawk-ext-",
                            SKYHAWK_BUCKET="skyhawk-ext-artifacts", SKYHAWK_ADMIN_PASSWORD="s3cret-ext")
        proc = subprocess.Popen([sys.executable, "-m", "infra.launcher"], cwd=PROJECT_DIR, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, proc)
            assert requests.get(f"{url}/rest/v1/userinfo", auth=("admin", "s3cret-ext")).status_code == 200
            assert requests.get(f"{url}/rest/v1/userinfo", auth=("admin", "admin")).status_code == 401
        finally:
            if proc.poll() is None:
                out, _ = _stop(proc)
    assert f"(AWS endpoint {stack.moto_url})" in out
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.moto_url, region_name="us-east-1")
    tables = dynamodb.list_tables()["TableNames"]
    assert "skyhawk-ext-tenants" in tables and "skyhawk-ext-targets" in tables
    s3 = boto3.client("s3", endpoint_url=stack.moto_url, region_name="us-east-1")
    assert "skyhawk-ext-artifacts" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_launcher_refuses_busy_moto_port():
    with socket.socket() as occupied:
        occupied.bind(("127.0.0.1", 0))
        occupied.listen()
        busy = occupied.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "infra.launcher"], cwd=PROJECT_DIR, timeout=30,
                                env=_launcher_env(PORT=str(free_port()), MOTO_PORT=str(busy)),
                                capture_output=True, text=True)
    assert result.returncode == 1
    assert f"moto port 127.0.0.1:{busy} is in use" in result.stderr



def test_launcher_stops_on_a_burst_of_signals():
    """Ctrl-C pressed repeatedly: every signal lands while the main loop waits, and the launcher still exits
    (a handler that took the lock its own wait held deadlocked there)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "infra.launcher"], cwd=PROJECT_DIR,
                            env=_launcher_env(PORT=str(port), MOTO_PORT=str(free_port())),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc)
        for n in range(40):
            if proc.poll() is not None:
                break
            proc.send_signal(signal.SIGINT if n % 2 else signal.SIGTERM)
            time.sleep(0.001)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
            raise AssertionError("launcher did not stop")
    assert proc.returncode == 0
