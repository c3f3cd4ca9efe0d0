"""/rest/v1/system/configs, /quota, /userinfo: shapes, typed validation, permissions."""
import json

import pytest

from tests.conftest import ADMIN, basic


def test_health_is_up(client):
    resp = client.http.get("/health")
    assert resp.status_code == 200
    assert resp.json_body == {"status": "UP"}


def test_all_config_keys_with_global_defaults(client):
    resp = client.http.get("/rest/v1/system/configs", headers=ADMIN)
    assert resp.status_code == 200
    body = json.loads(resp.body)
    assert body["pollingTime"]["value"] == "12:00:00"
    assert body["pollingTime"]["global"] is True
    assert body["cdn.validity.days"]["value"] == 30
    assert body["action.cleanup.actionExpiry"]["value"] == 2592000000
    assert body["authentication.header.enabled"]["value"] is True
    assert len(body) == 23  # with dmf.senders, skyhawk's own


def test_put_then_delete_restores_global(client):
    resp = client.http.put("/rest/v1/system/configs/authentication.gatewaytoken.key", headers=ADMIN,
                           body=json.dumps({"value": "exampleToken"}))
    assert resp.status_code == 200
    body = json.loads(resp.body)
    assert body["value"] == "exampleToken" and body["global"] is False
    assert body["createdBy"] == "admin" and body["lastModifiedBy"] == "admin"
    assert isinstance(body["createdAt"], int)
    got = json.loads(client.http.get("/rest/v1/system/configs/authentication.gatewaytoken.key", headers=ADMIN).body)
    assert got["value"] == "exampleToken"
    assert client.http.delete("/rest/v1/system/configs/authentication.gatewaytoken.key",
                              headers=ADMIN).status_code == 200
    got = json.loads(client.http.get("/rest/v1/system/configs/authentication.gatewaytoken.key", headers=ADMIN).body)
    assert got == {"value": "", "global": True, "_links": got["_links"]}


def test_wrong_type_is_config_value_invalid(client):
    resp = client.http.put("/rest/v1/system/configs/cdn.validity.days", headers=ADMIN,
                           body=json.dumps({"value": "many"}))
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.configValueInvalid"


def test_unknown_key_is_config_key_invalid(client):
    resp = client.http.get("/rest/v1/system/configs/no.such.key", headers=ADMIN)
    assert resp.status_code == 400
    body = json.loads(resp.body)
    assert body["errorCode"] == "hawkbit.server.error.configKeyInvalid"
    assert set(body) == {"exceptionClass", "errorCode", "message", "parameters"}


def test_polling_time_below_min_polling_time_refused(client):
    resp = client.http.put("/rest/v1/system/configs/pollingTime", headers=ADMIN,
                           body=json.dumps({"value": "00:00:40"}))
    assert resp.status_code == 200
    resp = client.http.put("/rest/v1/system/configs/minPollingTime", headers=ADMIN,
                           body=json.dumps({"value": "00:01:00"}))
    assert resp.status_code == 400


def test_malformed_json_is_body_not_readable(client):
    resp = client.http.put("/rest/v1/system/configs/pollingTime", headers=ADMIN, body="{nope")
    assert resp.status_code == 400
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.rest.body.notReadable"


def test_batch_put_answers_the_new_values_as_a_list(client):
    """hawkBit's PUT /system/configs answers List<MgmtSystemTenantConfigurationValue>; the self links name the keys."""
    resp = client.http.put("/rest/v1/system/configs", headers=ADMIN,
                           body=json.dumps({"pollingTime": "00:10:00", "cdn.validity.days": 3}))
    assert resp.status_code == 200
    body = json.loads(resp.body)
    assert isinstance(body, list)
    by_key = {item["_links"]["self"]["href"].rsplit("/", 1)[1]: item for item in body}
    assert set(by_key) == {"pollingTime", "cdn.validity.days"}
    assert by_key["pollingTime"]["value"] == "00:10:00" and by_key["pollingTime"]["global"] is False
    assert by_key["cdn.validity.days"]["value"] == 3
    assert by_key["pollingTime"]["lastModifiedBy"] == "admin"
    got = json.loads(client.http.get("/rest/v1/system/configs/cdn.validity.days", headers=ADMIN).body)
    assert got["value"] == 3


def test_batch_put_is_all_or_nothing(client):
    resp = client.http.put("/rest/v1/system/configs", headers=ADMIN,
                           body=json.dumps({"pollingTime": "00:10:00", "cdn.validity.days": "x"}))
    assert resp.status_code == 400
    got = json.loads(client.http.get("/rest/v1/system/configs/pollingTime", headers=ADMIN).body)
    assert got["value"] == "12:00:00"


def test_quota_lists_every_quota_alphabetically(client):
    resp = client.http.get("/rest/v1/system/quota", headers=ADMIN)
    assert resp.status_code == 200
    body = json.loads(resp.body)
    assert list(body) == sorted(body)
    assert body["TARGET"]["limit"] == 200000 and body["TARGET"]["used"] == 0
    one = json.loads(client.http.get("/rest/v1/system/quota/TARGET", headers=ADMIN).body)
    assert one["limit"] == 200000


def test_local_user_quota_counts_the_tenants_users(client, monkeypatch):
    from chalicelib import errors
    from chalicelib.services import tenants

    def used() -> int:
        return json.loads(client.http.get("/rest/v1/system/quota/LOCAL_USER", headers=ADMIN).body)["used"]

    assert used() == 1  # the bootstrap admin
    tenants.create_user("DEFAULT", "second", "pw", ["READ_TARGET"])
    tenants.create_user("DEFAULT", "second", "other", ["READ_TARGET"])  # exists already: kept, not counted
    assert used() == 2
    assert client.http.get("/rest/v1/userinfo", headers=basic("second", "pw")).status_code == 200
    monkeypatch.setenv("SKYHAWK_QUOTA_LOCAL_USER", "2")
    with pytest.raises(errors.QuotaExceeded):
        tenants.create_user("DEFAULT", "third", "pw", ["READ_TARGET"])
    assert used() == 2
    assert client.http.get("/rest/v1/userinfo", headers=basic("third", "pw")).status_code == 401


def test_wrong_password_is_401_and_userinfo_names_the_user(client):
    assert client.http.get("/rest/v1/userinfo", headers=basic("admin", "wrong")).status_code == 401
    assert client.http.get("/rest/v1/userinfo").status_code == 401
    resp = client.http.get("/rest/v1/userinfo", headers=basic("admin", "admin", tenant="default"))
    assert resp.json_body == {"tenant": "DEFAULT", "username": "admin"}


def test_insufficient_permission_is_403(client):
    from chalicelib.services import tenants
    tenants.create_user("DEFAULT", "reader", "pw", ["READ_TARGET"])
    resp = client.http.get("/rest/v1/system/configs", headers=basic("reader", "pw"))
    assert resp.status_code == 403
    assert json.loads(resp.body)["errorCode"] == "hawkbit.server.error.insufficientPermission"


def test_etag_and_if_none_match(client):
    resp = client.http.get("/rest/v1/system/quota/TARGET", headers=ADMIN)
    tag = resp.headers["ETag"]
    again = client.http.get("/rest/v1/system/quota/TARGET", headers={**ADMIN, "If-None-Match": tag})
    assert again.status_code == 304


def test_gateway_token_needs_its_own_permission_to_be_read(client):
    from chalicelib.services import tenants
    client.http.put("/rest/v1/system/configs/authentication.gatewaytoken.key", headers=ADMIN,
                    body=json.dumps({"value": "gw-secret"}))
    tenants.create_user("DEFAULT", "configurer", "pw", ["READ_TENANT_CONFIGURATION"])
    reader = basic("configurer", "pw")
    listed = json.loads(client.http.get("/rest/v1/system/configs", headers=reader).body)
    assert listed["authentication.gatewaytoken.key"]["value"] == ""
    resp = client.http.get("/rest/v1/system/configs/authentication.gatewaytoken.key", headers=reader)
    assert resp.status_code == 403
    admin_view = json.loads(client.http.get("/rest/v1/system/configs", headers=ADMIN).body)
    assert admin_view["authentication.gatewaytoken.key"]["value"] == "gw-secret"


def test_malformed_logins_are_401(client):
    import base64
    for login in ("\\admin:admin", "bad#tenant\\admin:admin", ":admin"):
        header = {"Authorization": "Basic " + base64.b64encode(login.encode()).decode()}
        assert client.http.get("/rest/v1/userinfo", headers=header).status_code == 401, login
    assert client.http.get("/rest/v1/userinfo", headers={"Authorization": "Basic !!!"}).status_code == 401


def test_multi_assignment_cannot_be_switched_off(client):
    url = "/rest/v1/system/configs/multi.assignments.enabled"
    assert client.http.put(url, headers=ADMIN, body=json.dumps({"value": True})).status_code == 200
    assert client.http.put(url, headers=ADMIN, body=json.dumps({"value": False})).status_code == 403
    assert client.http.delete(url, headers=ADMIN).status_code == 403
