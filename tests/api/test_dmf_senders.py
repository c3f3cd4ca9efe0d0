"""DMF tenant authentication (docs/dmf-hawkbit.md §9): the principal that sent a message, SQS's `SenderId` (in a
Lambda record `attributes.SenderId`), against the tenant's `dmf.senders`. moto gives every message the same
SenderId (moto.sqs.models.DEFAULT_SENDER_ID); the records of other principals are moto's records with another
SenderId, as Lambda would hand them over."""
from __future__ import annotations

import copy
import json

import pytest

from tests.api import steps, test_dmf_inbound
from tests.api.test_dmf_inbound import REPLY_QUEUE, created, dead_letters, drain
from tests.conftest import ADMIN, TENANT

dmf_on, reply_queue = test_dmf_inbound.dmf_on, test_dmf_inbound.reply_queue  # the same fixtures

MOTO_SENDER = "AIDAIT2UOQQY3AUEKVGXU"  # what moto's SQS puts in every message's SenderId
GATEWAY_ROLE = "AROAEXAMPLEGATEWAY123"
OTHER_USER = "AIDAEXAMPLEOTHERUSER1"


def records(sender: str | None = MOTO_SENDER) -> list[dict]:
    """The inbound queue's messages as Lambda's records, sent by `sender` (None: no SenderId at all)."""
    from chalicelib.store import dmf_queues
    from infra import launcher
    found = []
    while messages := dmf_queues.receive():
        found += copy.deepcopy(launcher.dmf_event(messages, "us-east-1")["Records"])
        dmf_queues.delete([m["ReceiptHandle"] for m in messages])
    for record in found:
        assert record["attributes"]["SenderId"] == MOTO_SENDER
        if sender is None:
            del record["attributes"]["SenderId"]
        else:
            record["attributes"]["SenderId"] = sender
    return found


def consume(sender: str | None) -> dict:
    from chalicelib.jobs import dmf_inbound
    return dmf_inbound.run_batch(records(sender))


def exists(client, thing: str) -> bool:
    return client.http.get(f"/rest/v1/targets/{thing}", headers=ADMIN).status_code == 200


def test_moto_names_one_sender_and_an_unset_list_lets_it_in(dmf_on, reply_queue):
    """Backward compatible: without `dmf.senders` any principal that may send to the queue writes (make run)."""
    created("s-open-1")
    counts = drain()
    assert (counts["applied"], counts["refused"]) == (1, 0)
    assert exists(dmf_on, "s-open-1")
    created("s-open-2")
    assert consume(OTHER_USER)["applied"] == 1


def test_a_listed_sender_writes_and_any_other_is_dead_lettered(dmf_on, reply_queue):
    steps.put_config(dmf_on, "dmf.senders", f"{MOTO_SENDER}, {GATEWAY_ROLE}")
    created("s-list-1")
    assert drain()["applied"] == 1  # moto's sender is listed
    created("s-list-2")
    counts = consume(OTHER_USER)
    assert (counts["applied"], counts["refused"], counts["batchItemFailures"]) == (0, 1, [])
    assert not exists(dmf_on, "s-list-2")
    [(headers, _)] = dead_letters()
    assert headers["errorCode"] == "hawkbit.server.error.dmf.senderNotAllowed"
    assert headers["errorMessage"] == f"The sender '{OTHER_USER}' may not send DMF messages for tenant '{TENANT}'."
    assert headers["thingId"] == "s-list-2"


@pytest.mark.parametrize("allowed, sender, applied", [
    (GATEWAY_ROLE, f"{GATEWAY_ROLE}:gateway-7", True),  # a role's id: any of its sessions
    (f"{GATEWAY_ROLE}:gateway-7", f"{GATEWAY_ROLE}:gateway-7", True),  # one session of the role
    (f"{GATEWAY_ROLE}:gateway-7", f"{GATEWAY_ROLE}:gateway-8", False),
    (f"{GATEWAY_ROLE}:gateway-7", GATEWAY_ROLE, False),
    (GATEWAY_ROLE, None, False),  # no SenderId: nobody
    (GATEWAY_ROLE, GATEWAY_ROLE + "X", False),
])
def test_role_sessions(dmf_on, reply_queue, allowed, sender, applied):
    steps.put_config(dmf_on, "dmf.senders", allowed)
    created("s-role-1")
    counts = consume(sender)
    assert (counts["applied"], counts["refused"]) == ((1, 0) if applied else (0, 1))
    assert exists(dmf_on, "s-role-1") is applied


def test_one_tenants_gateway_cannot_write_for_another(dmf_on, reply_queue):
    """The headers name the tenant; only the sender proves it: OTHER's gateway naming DEFAULT is refused."""
    from chalicelib.services import tenants
    from tests.api.test_dmf_inbound import send
    from tests.conftest import basic

    tenants.ensure_tenant("OTHER", admin_password="other-pw")
    other = {**basic("admin", "other-pw", "OTHER"), "Content-Type": "application/json"}
    for key, value in (("dmf.enabled", True), ("dmf.senders", OTHER_USER)):
        resp = dmf_on.http.put(f"/rest/v1/system/configs/{key}", headers=other, body=json.dumps({"value": value}))
        assert resp.status_code == 200, resp.body
    steps.put_config(dmf_on, "dmf.senders", GATEWAY_ROLE)
    send({"type": "THING_CREATED", "thingId": "s-other-1", "replyTo": REPLY_QUEUE, "tenant": "OTHER"},
         group="OTHER/s-other-1")
    created("s-mine-1")
    counts = consume(OTHER_USER)
    assert (counts["applied"], counts["refused"]) == (1, 1)
    assert not exists(dmf_on, "s-mine-1")
    assert dmf_on.http.get("/rest/v1/targets/s-other-1", headers=basic("admin", "other-pw", "OTHER")) \
        .status_code == 200
    [(headers, _)] = dead_letters()
    assert (headers["tenant"], headers["errorCode"]) == (TENANT, "hawkbit.server.error.dmf.senderNotAllowed")


def test_a_deployment_may_require_a_list(dmf_on, reply_queue, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("SKYHAWK_DMF_SENDERS_REQUIRED", "true")
    config.reset()
    created("s-req-1")
    assert drain()["refused"] == 1
    assert [h["errorCode"] for h, _ in dead_letters()] == ["hawkbit.server.error.dmf.senderNotAllowed"]
    steps.put_config(dmf_on, "dmf.senders", MOTO_SENDER)
    created("s-req-1")
    assert drain()["applied"] == 1


def test_a_tenant_without_dmf_is_refused_as_not_enabled_before_any_sender_check(client, reply_queue):
    steps.put_config(client, "dmf.senders", GATEWAY_ROLE)
    created("s-off-1")
    assert consume(OTHER_USER)["refused"] == 1
    assert [h["errorCode"] for h, _ in dead_letters()] == ["hawkbit.server.error.dmf.notEnabled"]


def test_the_key_takes_sender_ids_only(client):
    url = "/rest/v1/system/configs/dmf.senders"
    headers = {**ADMIN, "Content-Type": "application/json"}
    resp = client.http.put(url, headers=headers, body='{"value": "AIDAOK1 not/an*id"}')
    assert resp.status_code == 400, resp.body
    assert "'not/an*id' is not an SQS sender id" in steps.body_of(resp)["message"]
    value = f"{GATEWAY_ROLE}:gw.session@example=1 {MOTO_SENDER},123456789012"
    assert client.http.put(url, headers=headers, body='{"value": "%s"}' % value).status_code == 200
    assert steps.body_of(client.http.get(url, headers=ADMIN))["value"] == value
    listed = steps.body_of(client.http.get("/rest/v1/system/configs", headers=ADMIN))
    assert listed["dmf.senders"]["value"] == value
