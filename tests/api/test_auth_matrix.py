"""The auth matrix over every route the app has: no credentials, another tenant's login, a login with no
permission, a read-only login on writes, and device X on device Y. Routes are read from the app itself,
so a route added later is covered without editing this file."""
from __future__ import annotations

import re

from tests.api import steps
from tests.conftest import basic

# Answered without credentials: liveness, and nothing else.
PUBLIC = {("GET", "/health")}
# Every user may ask who it is, and read or change itself (users and roles API).
SELF_SERVICE = {("GET", "/rest/v1/userinfo")}
DDI = "/{tenant}/controller/v1/{controller_id}"


def _routes(prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    from app import app
    return sorted((method, path) for path, entries in app.routes.items() for method in entries
                  if path.startswith(prefixes) and method != "OPTIONS")


def _url(path: str, tenant: str = "DEFAULT", controller_id: str = "dev-y") -> str:
    path = path.replace("{tenant}", tenant).replace("{controller_id}", controller_id)
    return re.sub(r"\{[^}]+\}", "1", path)


def _request(client, method: str, path: str, headers: dict, route: str | None = None) -> int:
    """The request with a body of the media type the route reads (so negotiation passes and permissions speak)."""
    from chalicelib.api.common import _MEDIA
    consumes = _MEDIA.get((route or path, method), (("application/json",), ()))[0]
    body = "{}" if method in ("POST", "PUT", "PATCH") else None
    return client.http.request(method, path, headers={**headers, "Content-Type": consumes[0]},
                               body=body).status_code


OPERATOR_ROUTES = _routes(("/rest/", "/api/deviceconfiguration/"))


def test_operator_routes_need_a_login_of_the_tenant(client, monkeypatch):
    from chalicelib import config
    from chalicelib.services import tenants
    # every route is asked with a wrong password: the failed-login throttle would answer 429 after a few
    monkeypatch.setenv("SKYHAWK_LOGIN_FAILURES_PER_USER", "100000")
    monkeypatch.setenv("SKYHAWK_LOGIN_FAILURES_PER_IP", "100000")
    config.reset()
    tenants.ensure_tenant("OTHER", admin_password="other-pw")
    answered = {}
    for method, path in OPERATOR_ROUTES:
        if (method, path) in PUBLIC:
            continue
        answered[(method, path)] = (_request(client, method, _url(path), {}, path),
                                    _request(client, method, _url(path), basic("admin", "admin", tenant="OTHER"), path),
                                    _request(client, method, _url(path), basic("admin", "wrong"), path))
    assert {route: codes for route, codes in answered.items() if codes != (401, 401, 401)} == {}
    assert len(answered) > 100


def test_a_login_without_permissions_reaches_no_operator_route(client):
    from chalicelib.services import tenants
    tenants.create_user("DEFAULT", "nobody", "pw", [])
    nobody = basic("nobody", "pw")
    reached = [(m, p) for m, p in OPERATOR_ROUTES
               if (m, p) not in PUBLIC | SELF_SERVICE and _request(client, m, _url(p), nobody, p) != 403]
    assert reached == []


def test_a_read_only_login_changes_nothing(client):
    from chalicelib import auth
    from chalicelib.services import tenants
    readers = [p for p in auth.PERMISSIONS if p.startswith("READ_") or p == "DOWNLOAD_REPOSITORY_ARTIFACT"]
    tenants.create_user("DEFAULT", "reader", "pw", readers)
    reader = basic("reader", "pw")
    writes = [(m, p) for m, p in OPERATOR_ROUTES if m not in ("GET", "HEAD")]
    # a user may change its own password: the users API answers that route for itself only
    changed = [(m, p) for m, p in writes if _request(client, m, _url(p), reader, p) != 403]
    assert changed == []


DEVICE_ROUTES = _routes((DDI,))


def test_device_x_cannot_act_as_device_y(client):
    from chalicelib.services import tenants
    tenants.ensure_tenant("OTHER", admin_password="other-pw")
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev-x", "tok-x")
    steps.create_target(client, "dev-y", "tok-y")
    answered = {(method, path): (_request(client, method, _url(path), steps.device("tok-x"), path),
                                 _request(client, method, _url(path), {}, path),
                                 _request(client, method, _url(path, tenant="OTHER"), steps.device("tok-y"), path))
                for method, path in DEVICE_ROUTES}
    assert {route: codes for route, codes in answered.items() if codes != (401, 401, 401)} == {}
    assert len(answered) >= 16
