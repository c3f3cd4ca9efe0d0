"""Rate limits over real HTTP through the launcher: a device and a login past their limits, and failed logins,
get 429 with Retry-After and the hawkBit error body."""
from __future__ import annotations

import os

import pytest
import requests


@pytest.fixture
def low_limits():
    """Low limits and a frozen clock (buckets refill only when the test moves it); both restored after."""
    from chalicelib import clock, config

    values = {"SKYHAWK_RATE_LIMIT_READS_PER_DEVICE": "2", "SKYHAWK_RATE_LIMIT_READS_PER_LOGIN": "2",
              "SKYHAWK_LOGIN_FAILURES_PER_USER": "2"}
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    config.reset()
    clock.set_now(1_900_000_000_000)
    try:
        yield clock
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        config.reset()  # new settings: the limits start over with empty buckets
        clock.reset()


def _refused(resp: requests.Response, retry_after: str) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.headers["Retry-After"] == retry_after
    body = resp.json()
    assert body["errorCode"] == "hawkbit.server.error.tooManyRequests" and body["message"]


def test_device_and_login_past_their_limits_and_failed_logins_get_429(stack, low_limits):
    url, admin = stack.url, stack.admin
    assert admin.put(f"{url}/rest/v1/system/configs/authentication.targettoken.enabled",
                     json={"value": True}).status_code == 200
    assert admin.post(f"{url}/rest/v1/targets", json=[{"controllerId": "limited-dev",
                                                       "securityToken": "tok-limited"}]).status_code == 201
    assert admin.post(f"{url}/rest/v1/users", json=[
        {"username": "limited-user", "password": "limited-password", "permissions": ["READ_TARGET"]},
        {"username": "guessed-user", "password": "guessed-password"}]).status_code == 201

    device = {"Authorization": "TargetToken tok-limited"}
    poll = f"{url}/DEFAULT/controller/v1/limited-dev"
    assert [requests.get(poll, headers=device).status_code for _ in range(2)] == [200, 200]
    _refused(requests.get(poll, headers=device), "1")

    user = stack.session("limited-user", "limited-password")
    assert [user.get(f"{url}/rest/v1/targets").status_code for _ in range(2)] == [200, 200]
    _refused(user.get(f"{url}/rest/v1/targets"), "1")
    low_limits.advance(1000)  # a second later both may go on
    assert requests.get(poll, headers=device).status_code == 200
    assert user.get(f"{url}/rest/v1/targets").status_code == 200

    for _ in range(2):
        assert stack.session("guessed-user", "wrong").get(f"{url}/rest/v1/userinfo").status_code == 401
    _refused(stack.session("guessed-user", "guessed-password").get(f"{url}/rest/v1/userinfo"), "300")
