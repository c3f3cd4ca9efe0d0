"""Request limits per client IP, device and login (429 + Retry-After), and failed-login throttling that
refuses before any password is hashed. Time is frozen: buckets refill only when a test moves the clock."""
from __future__ import annotations

import hashlib
import json

import pytest

from chalicelib import clock
from tests.api import steps
from tests.api.dcs_steps import DWS, bearer, make_device
from tests.conftest import ADMIN, basic

LIMIT_VARIABLES = [f"SKYHAWK_RATE_LIMIT_{way}_PER_{kind}" for kind in ("IP", "DEVICE", "LOGIN")
                   for way in ("READS", "WRITES")]


@pytest.fixture
def limits(monkeypatch):
    """Set some limits (the others at their defaults) and freeze the clock."""
    from chalicelib import config

    def apply(**values):
        for name in LIMIT_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(f"SKYHAWK_{name.upper()}", str(value))
        config.reset()
    clock.set_now(1_800_000_000_000)
    yield apply
    monkeypatch.undo()
    config.reset()


@pytest.fixture
def hashing(monkeypatch):
    """Counts PBKDF2 computations (hashlib is the seam every password check goes through)."""
    calls = []
    real = hashlib.pbkdf2_hmac

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    return calls


def _too_many(resp, seconds: str = "1"):
    assert resp.status_code == 429, resp.body
    assert resp.headers["Retry-After"] == seconds
    return json.loads(resp.body)


def _device_ready(client, controller_id="d1", token="tok-d1"):
    steps.enable_target_tokens(client)
    steps.create_target(client, controller_id, token)


def test_a_device_past_its_read_limit_gets_429_with_retry_after(client, limits):
    _device_ready(client)
    steps.create_target(client, "d2", "tok-d2")
    limits(rate_limit_reads_per_device=3)
    for _ in range(3):
        steps.poll(client, "d1", "tok-d1")
    body = _too_many(client.http.get("/DEFAULT/controller/v1/d1", headers=steps.device("tok-d1")))
    assert body["errorCode"] == "hawkbit.server.error.tooManyRequests"
    assert set(body) == {"exceptionClass", "errorCode", "message", "parameters"}
    steps.poll(client, "d2", "tok-d2")  # another device has its own budget
    # writes are counted apart: the device may still report
    resp = client.http.post("/DEFAULT/controller/v1/d1/deploymentBase/99/feedback",
                            headers={**steps.device("tok-d1"), "Content-Type": "application/json"},
                            body=json.dumps({"id": "99", "status": {"execution": "closed",
                                                                    "result": {"finished": "success"}}}))
    assert resp.status_code != 429
    clock.advance(1000 // 3 + 1)  # one token back
    steps.poll(client, "d1", "tok-d1")
    _too_many(client.http.get("/DEFAULT/controller/v1/d1", headers=steps.device("tok-d1")))


def test_a_device_past_its_write_limit_gets_429(client, limits):
    _device_ready(client)
    limits(rate_limit_writes_per_device=1)
    url = "/DEFAULT/controller/v1/d1/configData"
    headers = {**steps.device("tok-d1"), "Content-Type": "application/json"}
    body = json.dumps({"data": {"k": "v"}, "mode": "merge"})
    assert client.http.put(url, headers=headers, body=body).status_code == 200
    _too_many(client.http.put(url, headers=headers, body=body))
    steps.poll(client, "d1", "tok-d1")  # reads are not affected


def test_requests_without_the_device_credential_cannot_use_up_its_budget(client, limits):
    _device_ready(client)
    limits(rate_limit_reads_per_device=2)
    for _ in range(2):
        assert client.http.get("/DEFAULT/controller/v1/d1", headers=steps.device("guess")).status_code == 401
    _too_many(client.http.get("/DEFAULT/controller/v1/d1", headers=steps.device("guess")))
    # each credential presented has a bucket of its own: the device's is untouched
    assert client.http.get("/DEFAULT/controller/v1/d1").status_code == 401
    steps.poll(client, "d1", "tok-d1")
    steps.poll(client, "d1", "tok-d1")


def test_devices_behind_one_gateway_token_are_counted_apart(client, limits):
    steps.enable_gateway_token(client)
    limits(rate_limit_reads_per_device=1)
    gateway = {"Authorization": "GatewayToken gw-secret"}
    assert client.http.get("/DEFAULT/controller/v1/g1", headers=gateway).status_code == 200
    assert client.http.get("/DEFAULT/controller/v1/g2", headers=gateway).status_code == 200
    _too_many(client.http.get("/DEFAULT/controller/v1/g1", headers=gateway))
    _too_many(client.http.get("/default/controller/v1/g2", headers=gateway))  # the tenant in any case


def test_a_device_of_the_workflow_api_is_limited_by_its_token_in_that_api_s_error_shape(client, limits):
    token = make_device("dev-1")
    limits(rate_limit_reads_per_device=1)
    assert client.http.get(f"{DWS}/instances", headers=bearer(token)).status_code == 200
    resp = client.http.get(f"{DWS}/instances", headers=bearer(token))
    _too_many(resp)
    assert json.loads(resp.body)["errors"][0]["code"] == "mdsp.core.deploymentworkflow.tooManyRequests"


def test_a_login_past_its_limit_gets_429(client, limits):
    from chalicelib.services import tenants
    tenants.create_user("DEFAULT", "other", "other-password", ["READ_TARGET"])
    limits(rate_limit_reads_per_login=2, rate_limit_writes_per_login=1)
    for _ in range(2):
        assert client.http.get("/rest/v1/targets", headers=ADMIN).status_code == 200
    body = _too_many(client.http.get("/rest/v1/targets", headers=ADMIN))
    assert body["errorCode"] == "hawkbit.server.error.tooManyRequests"
    assert client.http.get("/rest/v1/targets", headers=basic("other", "other-password")).status_code == 200
    created = client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "application/json"},
                               body=json.dumps([{"controllerId": "t1"}]))
    assert created.status_code == 201
    _too_many(client.http.post("/rest/v1/targets", headers={**ADMIN, "Content-Type": "application/json"},
                               body=json.dumps([{"controllerId": "t2"}])))
    assert client.http.get("/rest/v1/targets/t2", headers=basic("other", "other-password")).status_code == 404
    clock.advance(500)
    assert client.http.get("/rest/v1/targets", headers=ADMIN).status_code == 200


def test_the_client_ip_is_limited_unless_the_whitelist_spares_it(client, limits):
    limits(rate_limit_reads_per_ip=2)  # hawkBit's whitelist spares 127.0.0.1, the test client's address
    for _ in range(4):
        assert client.http.get("/rest/v1/userinfo", headers=ADMIN).status_code == 200
    limits(rate_limit_reads_per_ip=2, rate_limit_ip_whitelist="")
    for _ in range(2):
        assert client.http.get("/rest/v1/userinfo", headers=ADMIN).status_code == 200
    _too_many(client.http.get("/rest/v1/userinfo", headers=basic("someone", "else")))
    _too_many(client.http.get("/DEFAULT/controller/v1/any"))
    assert client.http.get("/health").status_code == 200  # never limited


def test_the_idle_poll_stays_one_get_item_with_the_default_limits(client, limits, dynamo_calls):
    _device_ready(client)
    limits()  # every limit at its default
    steps.poll(client, "d1", "tok-d1")
    dynamo_calls.reset()
    steps.poll(client, "d1", "tok-d1")
    assert dynamo_calls.total == 1 and dynamo_calls.calls["GetItem"] == 1


# --- failed logins -------------------------------------------------------------------------------------------
def _create_user(name="alice", password="alice-password"):
    from chalicelib.services import tenants
    tenants.create_user("DEFAULT", name, password, ["READ_TARGET"])


def _userinfo(client, user="alice", password="alice-password"):
    return client.http.get("/rest/v1/userinfo", headers=basic(user, password))


def test_failed_logins_lock_the_user_before_any_hashing_in_every_container(client, limits, hashing):
    from chalicelib.services import rate_limits
    from chalicelib.store import users
    _create_user()
    limits(login_failures_per_user=3, login_failure_window_seconds=300)
    hashing.clear()
    for _ in range(3):
        assert _userinfo(client, password="wrong").status_code == 401
    assert len(hashing) == 3
    body = _too_many(_userinfo(client), "300")  # even the right password, for the rest of the window
    assert body["errorCode"] == "hawkbit.server.error.tooManyRequests"
    assert len(hashing) == 3
    rate_limits.reset()  # another container: it reads the count from the user item
    clock.advance(60_000)
    _too_many(_userinfo(client, password="wrong"), "240")
    assert len(hashing) == 3
    assert client.http.get("/rest/v1/userinfo", headers=ADMIN).status_code == 200  # others are not locked
    clock.advance(240_000)
    assert _userinfo(client).status_code == 200
    assert users.find("DEFAULT", "alice").login_failures is None  # a success clears the count


def test_a_success_clears_the_failures_and_a_new_password_unlocks(client, limits):
    from chalicelib import auth
    _create_user()
    limits(login_failures_per_user=3)
    for _ in range(2):
        assert _userinfo(client, password="wrong").status_code == 401
    assert _userinfo(client).status_code == 200
    auth.forget_verified()
    for _ in range(3):
        assert _userinfo(client, password="wrong").status_code == 401
    _too_many(_userinfo(client), "300")
    resp = client.http.put("/rest/v1/users/alice", headers={**ADMIN, "Content-Type": "application/json"},
                           body=json.dumps({"password": "a-new-password"}))
    assert resp.status_code == 200, resp.body
    assert _userinfo(client, password="a-new-password").status_code == 200


def test_failed_logins_from_one_ip_are_throttled_before_any_read_or_hash(client, limits, hashing, dynamo_calls):
    _create_user()
    limits(login_failures_per_ip=3, login_failures_per_user=100, login_failure_window_seconds=60)
    hashing.clear()
    assert _userinfo(client, "nobody", "wrong").status_code == 401  # unknown users cost a hash too
    assert _userinfo(client, "alice", "wrong").status_code == 401
    assert _userinfo(client, "admin", "wrong").status_code == 401
    assert len(hashing) == 3
    dynamo_calls.reset()
    _too_many(_userinfo(client), "20")  # one failure's worth of the window
    _too_many(_userinfo(client, "nobody", "guess"), "20")
    assert len(hashing) == 3 and dynamo_calls.total == 0
    clock.advance(20_000)
    assert _userinfo(client).status_code == 200
