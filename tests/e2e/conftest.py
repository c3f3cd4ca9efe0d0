"""HTTP end-to-end fixtures: the real launcher (embedded moto + chalice local) on free ports, with the
signed download URLs pointing at a strict fake S3 in front of moto.

These tests run in their own pytest invocation (`make test` does): the launcher points
AWS_ENDPOINT_URL at its moto and imports the app with it, which would break the `mock_aws` tests of
tests/unit and tests/api in the same process (docs/architecture.md, "Local runs", item 2). When collected together
with other tests, the e2e tests skip themselves and say why.
"""
from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]

# Before anything imports chalicelib (PynamoDB reads region and table names at class creation).
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_ACCESS_KEY_ID"] = "test"
os.environ["AWS_SECRET_ACCESS_KEY"] = "test"
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
# The stack brings its own moto and the local stage's names; a developer's shell must not redirect it.
for _var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE",
             "AWS_SESSION_TOKEN", "SKYHAWK_TABLE_PREFIX", "SKYHAWK_BUCKET", "SKYHAWK_S3_PUBLIC_ENDPOINT"):
    os.environ.pop(_var, None)
os.environ["SKYHAWK_ADMIN_PASSWORD"] = "admin"
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

import pytest  # noqa: E402
import requests  # noqa: E402

from tests.contract.hooks import OPT_OUT_MARKER, ViolationLog, checking_requests  # noqa: E402
from tests.e2e.strict_s3 import StrictS3Proxy  # noqa: E402

E2E_DIR = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_collection_modifyitems(config, items):
    if all(E2E_DIR in Path(str(item.fspath)).parents for item in items):
        return
    skip = pytest.mark.skip(reason="e2e tests need their own pytest invocation: `pytest tests/e2e` (make test)")
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@dataclass
class Stack:
    url: str
    moto_url: str
    s3: StrictS3Proxy
    admin: requests.Session
    running: object  # infra.launcher.Running
    contract: ViolationLog  # every response from `url` is checked against hawkBit's OpenAPI documents

    def session(self, user: str = "admin", password: str = "admin", tenant: str | None = None) -> requests.Session:
        """A management session; `tenant` gives hawkBit's `TENANT\\user` login."""
        session = requests.Session()
        session.auth = (f"{tenant}\\{user}" if tenant else user, password)
        return session

    def run_schedules(self) -> dict:
        """Fire every @app.schedule handler once (the stack's ticker is off, for deterministic tests)."""
        return self.running.run_schedules()


@pytest.fixture(scope="session")
def stack():
    from infra import launcher

    # The proxy must be known before the app starts (it goes into signed URLs), and moto after it:
    # reserve moto's port first. The proxy connects upstream only per request.
    moto_port = free_port()
    s3 = StrictS3Proxy(f"http://127.0.0.1:{moto_port}").start()
    running = launcher.start(port=0, moto_port=moto_port, s3_public_endpoint=s3.url, schedule_every=0)
    admin = requests.Session()
    admin.auth = ("admin", "admin")
    log = ViolationLog()
    try:
        with checking_requests(running.url, log):
            yield Stack(url=running.url, moto_url=running.moto_url, s3=s3, admin=admin, running=running,
                        contract=log)
    finally:
        admin.close()
        running.stop()
        s3.stop()


@pytest.fixture(autouse=True)
def responses_meet_the_contract(request):
    """Fail a test whose responses broke the OpenAPI contract even where the violation was raised in a thread
    (or swallowed) instead of in the test itself."""
    if "stack" not in request.fixturenames:
        yield
        return
    log = request.getfixturevalue("stack").contract
    log.take()
    log.enabled = request.node.get_closest_marker(OPT_OUT_MARKER) is None
    try:
        yield
    finally:
        log.enabled = True
    seen = log.take()
    if seen:
        pytest.fail("responses broke hawkBit's OpenAPI contract:\n" + "\n".join(map(str, seen)), pytrace=False)
