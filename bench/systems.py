"""The two systems the poll benchmark compares, each started as its users start it, on loopback only.

- skyhawk: `python -m infra.launcher`, what `make run` runs (embedded moto, chalice local, access log on).
- goosebit 0.2.12 from PyPI, in a throwaway venv under `.bench/` made on first use (never in requirements*.txt),
  served by uvicorn as `python -m goosebit` serves it, except bound to 127.0.0.1 instead of 0.0.0.0; its
  default settings (SQLite, device authentication off, device IP tracking on).

Each registers N devices the way its devices get registered, then hands out one idle-poll request per device.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

from bench.load import Poll

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench"
GOOSEBIT_VERSION = "0.2.12"
TENANT = "DEFAULT"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode} before it was ready")
        try:
            if requests.get(url, timeout=5, allow_redirects=False).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready within {timeout} s")


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen
    log: IO[bytes]
    polls: list[Poll] = field(default_factory=list)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _start(name: str, argv: list[str], env: dict[str, str], cwd: Path, ready_url: str, url: str) -> Server:
    CACHE.mkdir(exist_ok=True)
    log = open(CACHE / f"{name}.log", "wb")
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, url, proc, log)
    try:
        _wait_ready(ready_url, proc)
    except BaseException:
        server.stop()
        raise
    return server


# --- skyhawk --------------------------------------------------------------------------------------------

def start_skyhawk() -> Server:
    port, moto_port = free_port(), free_port()
    # As `make run` in a clean shell: the launcher brings its own moto and the local stage's names.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "SKYHAWK_"))}
    env.update(PORT=str(port), MOTO_PORT=str(moto_port))
    url = f"http://127.0.0.1:{port}"
    return _start("skyhawk", [sys.executable, "-m", "infra.launcher"], env, ROOT, f"{url}/health", url)


def register_skyhawk(server: Server, devices: int) -> None:
    """Target-token authentication on, N targets with their tokens (Management API), one first poll each."""
    admin = requests.Session()
    admin.auth = ("admin", "admin")  # start_skyhawk leaves the shell's SKYHAWK_* out: the default password
    resp = admin.put(f"{server.url}/rest/v1/system/configs/authentication.targettoken.enabled",
                     json={"value": True})
    resp.raise_for_status()
    ids = [f"bench-{i:05d}" for i in range(devices)]
    for start in range(0, devices, 100):
        batch = [{"controllerId": cid, "name": cid, "securityToken": f"token-{cid}"} for cid in ids[start:start + 100]]
        resp = admin.post(f"{server.url}/rest/v1/targets", json=batch)
        if resp.status_code != 201:
            raise RuntimeError(f"skyhawk: creating targets answered {resp.status_code}: {resp.text[:300]}")
    server.polls = [Poll(f"/{TENANT}/controller/v1/{cid}",
                         {"Authorization": f"TargetToken token-{cid}", "Accept": "application/hal+json"})
                    for cid in ids]
    _first_polls(server)


# --- goosebit -------------------------------------------------------------------------------------------

def goosebit_venv() -> Path:
    """`.bench/goosebit-venv` with goosebit from PyPI, made on first use (a minute; later runs reuse it)."""
    venv = CACHE / "goosebit-venv"
    python = venv / "bin" / "python"
    marker = venv / f".goosebit-{GOOSEBIT_VERSION}"
    if marker.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    CACHE.mkdir(exist_ok=True)
    base = getattr(sys, "_base_executable", None) or sys.executable
    # Their output goes to stderr: stdout carries the bench's JSON.
    subprocess.run([base, "-m", "venv", str(venv)], check=True, stdout=sys.stderr)
    print(f"bench: installing goosebit=={GOOSEBIT_VERSION} from PyPI into {venv}", file=sys.stderr, flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-input",
                    f"goosebit=={GOOSEBIT_VERSION}"], check=True, stdout=sys.stderr)
    marker.touch()
    return python


_GOOSEBIT_SCHEMA = """
import asyncio
from tortoise import Tortoise
from goosebit.db.config import TORTOISE_CONF

async def main():
    await Tortoise.init(config=TORTOISE_CONF)
    await Tortoise.generate_schemas()
    await Tortoise.close_connections()

asyncio.run(main())
"""


def start_goosebit() -> Server:
    python = goosebit_venv()
    data = CACHE / "goosebit-data"
    shutil.rmtree(data, ignore_errors=True)  # a fresh database each run
    (data / "artifacts").mkdir(parents=True)
    env = {**os.environ, "GOOSEBIT_DB_URI": f"sqlite:///{data / 'db.sqlite3'}",
           "GOOSEBIT_ARTIFACTS_DIR": str(data / "artifacts")}
    env.pop("GOOSEBIT_SETTINGS", None)
    # The schema goosebit's migrations (`aerich upgrade`) would create, on an empty database.
    subprocess.run([str(python), "-c", _GOOSEBIT_SCHEMA], cwd=data, env=env, check=True, stdout=sys.stderr)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [str(python), "-m", "uvicorn", "goosebit:app", "--host", "127.0.0.1", "--port", str(port)]
    return _start("goosebit", argv, env, data, f"{url}/login", url)


def register_goosebit(server: Server, devices: int) -> None:
    """goosebit registers a device at its first poll and asks for configData: both, as a device does."""
    session = requests.Session()
    ids = [f"bench-{i:05d}" for i in range(devices)]
    config = {"data": {"hw_boardname": "default", "hw_revision": "default", "sw_version": "1.0.0"}}
    for cid in ids:
        base = f"{server.url}/{TENANT}/controller/v1/{cid}"
        session.get(base).raise_for_status()
        resp = session.put(f"{base}/configData", data=json.dumps(config),
                           headers={"Content-Type": "application/json"})
        resp.raise_for_status()
    server.polls = [Poll(f"/{TENANT}/controller/v1/{cid}",
                         {"Authorization": f"TargetToken token-{cid}", "Accept": "application/hal+json"})
                    for cid in ids]
    _first_polls(server)


def _first_polls(server: Server) -> None:
    session = requests.Session()
    for poll in server.polls:
        resp = session.get(server.url + poll.path, headers=poll.headers)
        if resp.status_code != 200:
            raise RuntimeError(f"{server.name}: first poll of {poll.path} answered {resp.status_code}: "
                               f"{resp.text[:300]}")
        if "deploymentBase" in resp.json().get("_links", {}):
            raise RuntimeError(f"{server.name}: {poll.path} is not idle: {resp.text[:300]}")
