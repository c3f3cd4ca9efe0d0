"""Security tokens: unique per tenant through guard items written with the target, no answer that depends on
another tenant, and Device Configuration / Deployment Workflow device authentication scoped to a tenant."""
import json
import re

import pytest

from tests.api import steps
from tests.api.dcs_steps import CONFIG_MODEL, DCS, DWS, bearer, body, target_token
from tests.conftest import ADMIN, basic

OTHER = basic("admin", "other-pw", tenant="OTHER")
TOKEN_CONFLICT = {"exceptionClass": "org.eclipse.hawkbit.repository.exception.EntityAlreadyExistsException",
                  "errorCode": "hawkbit.server.error.repo.entityAlreadyExists",
                  "message": "The given securityToken is already in use.", "parameters": ["securityToken"]}


@pytest.fixture
def other_tenant(client):
    from chalicelib.services import tenants
    tenants.ensure_tenant("OTHER", admin_password="other-pw")


def _create(client, items, headers=ADMIN):
    return client.http.post("/rest/v1/targets", headers={**headers, "Content-Type": "application/json"},
                            body=json.dumps(items))


def _token_of(client, controller_id, headers=ADMIN):
    return json.loads(client.http.get(f"/rest/v1/targets/{controller_id}", headers=headers).body)["securityToken"]


def _guards(tenant="DEFAULT"):
    """controllerId of every token guard of the tenant, straight from the store."""
    from chalicelib.store.tables import SecurityTokenGuard
    guards = SecurityTokenGuard.query(tenant, SecurityTokenGuard.key.startswith("token#"))
    return sorted(guard.controller_id for guard in guards)


def _released_task(client, device_id, headers=ADMIN) -> str:
    resp = client.http.post(f"{DCS}/devices/{device_id}/configurationTasks",
                            headers={**headers, "Content-Type": "application/json"},
                            body=json.dumps({"files": [{"name": "a", "uri": "https://x.example/a"}]}))
    assert resp.status_code == 201, resp.body
    task_id = body(resp)["id"]
    resp = client.http.patch(f"{DCS}/devices/{device_id}/configurationTasks/{task_id}",
                             headers={**headers, "Content-Type": "application/json"},
                             body=json.dumps({"state": "CONFIGURE", "progress": 0}))
    assert resp.status_code == 200, resp.body
    return task_id


def _open_instances(client, credential, scheme=bearer):
    resp = client.http.get(f"{DWS}/instances?group=OPEN&modelKey={CONFIG_MODEL}", headers=scheme(credential))
    assert resp.status_code == 200, resp.body
    return sorted((i["deviceId"], i["id"]) for i in body(resp)["content"])


# --- uniqueness decided by the guard, not by a read ---------------------------------------------------
def test_racing_creates_of_one_token_one_wins_the_rest_409(client, monkeypatch):
    from chalicelib.services import targets

    # Sequences 50 stale writers: every one of them read before any wrote (the read finds the token free),
    # so only the guard in the create's transaction can refuse them.
    monkeypatch.setattr(targets.security_tokens, "taken", lambda tenant, tokens: False)
    answers = [_create(client, [{"controllerId": f"race-{n:02d}", "securityToken": "raced-token"}])
               for n in range(50)]

    assert [a.status_code for a in answers] == [201] + [409] * 49
    assert all(json.loads(a.body) == TOKEN_CONFLICT for a in answers[1:])
    listed = json.loads(client.http.get("/rest/v1/targets?limit=500", headers=ADMIN).body)
    assert [t["controllerId"] for t in listed["content"]] == ["race-00"] and listed["total"] == 1
    assert _guards() == ["race-00"]
    assert _open_instances(client, "raced-token") == []  # the one holder authenticates


def test_a_failed_later_chunk_releases_the_tokens_the_earlier_chunks_claimed(client, monkeypatch):
    from chalicelib.services import targets

    steps.create_target(client, "holder", "tok-55")
    monkeypatch.setattr(targets.security_tokens, "taken", lambda tenant, tokens: False)  # a stale read again
    items = [{"controllerId": f"bulk-{n:02d}", "securityToken": f"tok-{n}"} for n in range(60)]
    assert targets.TARGETS_PER_TRANSACTION < 55  # tok-55 is in a later transaction than tok-0

    resp = _create(client, items)

    assert resp.status_code == 409 and json.loads(resp.body) == TOKEN_CONFLICT
    assert _guards() == ["holder"]
    assert json.loads(client.http.get("/rest/v1/targets", headers=ADMIN).body)["total"] == 1
    assert _create(client, [{"controllerId": "reuses", "securityToken": "tok-0"}]).status_code == 201


def test_update_and_delete_keep_the_guards_in_step(client):
    steps.create_target(client, "a", "tok-a")
    steps.create_target(client, "b", "tok-b")
    task_a, task_b = _released_task(client, "a"), _released_task(client, "b")

    # taking another target's token: 409, nothing changes
    resp = client.http.put("/rest/v1/targets/a", headers=ADMIN, body=json.dumps({"securityToken": "tok-b"}))
    assert resp.status_code == 409 and json.loads(resp.body) == TOKEN_CONFLICT
    assert (_token_of(client, "a"), _token_of(client, "b")) == ("tok-a", "tok-b")
    assert _open_instances(client, "tok-a") == [("a", task_a)]
    assert _open_instances(client, "tok-b") == [("b", task_b)]

    # its own token again: no change
    resp = client.http.put("/rest/v1/targets/a", headers=ADMIN, body=json.dumps({"securityToken": "tok-a"}))
    assert resp.status_code == 200 and _open_instances(client, "tok-a") == [("a", task_a)]

    # a new token: the old one stops working at once and is free for another target
    resp = client.http.put("/rest/v1/targets/a", headers=ADMIN, body=json.dumps({"securityToken": "tok-a2"}))
    assert resp.status_code == 200 and _token_of(client, "a") == "tok-a2"
    assert client.http.get(f"{DWS}/instances", headers=bearer("tok-a")).status_code == 401
    assert _open_instances(client, "tok-a2") == [("a", task_a)]
    steps.create_target(client, "c", "tok-a")
    assert _open_instances(client, "tok-a") == []  # c's, with nothing released to it

    # deleting a target frees its token
    assert client.http.delete("/rest/v1/targets/b", headers=ADMIN).status_code == 200
    assert client.http.get(f"{DWS}/instances", headers=bearer("tok-b")).status_code == 401
    steps.create_target(client, "d", "tok-b")
    assert _open_instances(client, "tok-b") == []
    assert _guards() == ["a", "c", "d"]


def test_a_plug_and_play_target_holds_its_generated_token(client):
    steps.enable_gateway_token(client)
    resp = client.http.get("/DEFAULT/controller/v1/pnp-1", headers={"Authorization": "GatewayToken gw-secret"})
    assert resp.status_code == 200
    token = _token_of(client, "pnp-1")
    task_id = _released_task(client, "pnp-1")
    assert _open_instances(client, token) == [("pnp-1", task_id)]
    assert _guards() == ["pnp-1"]


# --- no answer depends on another tenant ---------------------------------------------------------------
def test_another_tenants_token_is_answered_as_a_free_one(client, other_tenant, dynamo_calls):
    steps.create_target(client, "a-dev", "held-in-default")

    def create_in_other(controller_id, token):
        dynamo_calls.reset()
        resp = _create(client, [{"controllerId": controller_id, "name": "n", "securityToken": token}], OTHER)
        return resp, dict(dynamo_calls.calls)

    def comparable(resp):
        [created] = json.loads(resp.body)
        return resp.status_code, sorted(created), created["securityToken"]

    # the login and the tenant's cached settings are read once, outside the comparison
    assert _create(client, [{"controllerId": "o-0", "name": "n"}], OTHER).status_code == 201
    held, held_calls = create_in_other("o-1", "held-in-default")
    free, free_calls = create_in_other("o-2", "held-by-nobody")
    assert comparable(held) == (201, comparable(free)[1], "held-in-default")
    assert comparable(free)[0] == 201
    assert held_calls == free_calls  # the same reads and writes: nothing of DEFAULT was looked at

    # an own duplicate is refused alike whether or not the other tenant holds the token too
    dup_of_shared, shared_calls = create_in_other("o-3", "held-in-default")
    dup_of_own, own_calls = create_in_other("o-4", "held-by-nobody")
    assert (dup_of_shared.status_code, json.loads(dup_of_shared.body)) == (409, TOKEN_CONFLICT)
    assert (dup_of_own.status_code, json.loads(dup_of_own.body)) == (409, TOKEN_CONFLICT)
    assert shared_calls == own_calls

    # updates too
    steps.create_target(client, "a-dev-2", "also-held-in-default")
    assert _create(client, [{"controllerId": "o-5", "name": "n"}], OTHER).status_code == 201
    resp = client.http.put("/rest/v1/targets/o-5", headers={**OTHER, "Content-Type": "application/json"},
                           body=json.dumps({"securityToken": "also-held-in-default"}))
    assert resp.status_code == 200
    assert (_guards("DEFAULT"), _guards("OTHER")) == (["a-dev", "a-dev-2"], ["o-0", "o-1", "o-2", "o-5"])


# --- DCS/DWS device authentication names its tenant ----------------------------------------------------
def test_devices_of_two_tenants_with_one_token_each_see_their_own(client, other_tenant):
    # the same controllerId and the same token in both tenants
    steps.create_target(client, "dev-1", "twin-token")
    assert _create(client, [{"controllerId": "dev-1", "securityToken": "twin-token"}], OTHER).status_code == 201
    mine, theirs = _released_task(client, "dev-1"), _released_task(client, "dev-1", OTHER)

    # unqualified: the default tenant; TENANT\token: that tenant (any case), with either scheme
    assert _open_instances(client, "twin-token") == [("dev-1", mine)]
    assert _open_instances(client, "DEFAULT\\twin-token", target_token) == [("dev-1", mine)]
    assert _open_instances(client, "OTHER\\twin-token") == [("dev-1", theirs)]
    assert _open_instances(client, "other\\twin-token", target_token) == [("dev-1", theirs)]

    # neither reaches the other's instance, by list, id, update or cancel
    for credential, foreign in (("twin-token", theirs), ("OTHER\\twin-token", mine)):
        device = bearer(credential)
        assert client.http.get(f"{DWS}/instances/{foreign}", headers=device).status_code == 404
        assert client.http.get(f"{DWS}/instances?deviceId=dev-1", headers=device).status_code == 200
        assert foreign not in {i["id"] for i in body(client.http.get(f"{DWS}/instances?deviceId=dev-1",
                                                                     headers=device))["content"]}
        resp = client.http.patch(f"{DWS}/instances/{foreign}", headers={**device, "Content-Type": "application/json"},
                                 body=json.dumps({"state": "CONFIGURING", "progress": 0.1}))
        assert resp.status_code == 404
        assert client.http.post(f"{DWS}/instances/{foreign}/cancel", headers=device).status_code == 404
    assert client.http.get(f"{DWS}/instances/{theirs}", headers=OTHER).status_code == 200  # untouched
    assert body(client.http.get(f"{DWS}/instances/{mine}", headers=ADMIN))["currentState"]["state"] == "CONFIGURE"


def test_a_token_authenticates_only_in_the_tenant_it_names(client, other_tenant, dynamo_calls):
    assert _create(client, [{"controllerId": "only-other", "securityToken": "other-only"}], OTHER).status_code == 201
    refused = ["other-only", "DEFAULT\\other-only", "NOSUCH\\other-only", "OTHER\\", "OTHER\\other-onl",
               "OTHER\\other-only\\", "OTHER/other-only", "OTHER \\other-only"]
    for credential in refused:
        dynamo_calls.reset()
        resp = client.http.get(f"{DWS}/instances", headers={"Authorization": f"Bearer {credential}"})
        assert resp.status_code == 401, credential
        assert body(resp)["errors"][0]["code"] == "mdsp.core.deploymentworkflow.unauthorized"
        assert dynamo_calls.calls["GetItem"] <= 1 and dynamo_calls.writes == 0, credential
    assert client.http.get(f"{DWS}/instances", headers=bearer("OTHER\\other-only")).status_code == 200
    # DDI keeps the tenant in its path and compares the token as stored: a qualified token is no DDI token
    steps.put_config(client, "authentication.targettoken.enabled", True)
    assert client.http.get("/DEFAULT/controller/v1/only-other",
                           headers=steps.device("OTHER\\other-only")).status_code == 401


def test_a_device_request_authenticates_with_one_get_item(client, dynamo_calls):
    steps.create_target(client, "dev-1", "tok-1")
    dynamo_calls.reset()
    assert client.http.get(f"{DWS}/instances", headers=bearer("nope")).status_code == 401
    assert dynamo_calls.calls == {"GetItem": 1}
    dynamo_calls.reset()
    assert client.http.get(f"{DWS}/instances", headers=bearer("x" * 129)).status_code == 401  # no token is longer
    assert dynamo_calls.calls == {}


def test_generated_tokens_are_32_random_alphanumerics(client):
    created = json.loads(_create(client, [{"controllerId": "g-1"}, {"controllerId": "g-2"}]).body)
    tokens = [t["securityToken"] for t in created]
    assert all(re.fullmatch(r"[a-z0-9]{32}", token) for token in tokens) and tokens[0] != tokens[1]
    assert _open_instances(client, tokens[0]) == [] and _open_instances(client, tokens[1]) == []
