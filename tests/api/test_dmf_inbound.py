"""DMF inbound over SQS (docs/dmf-hawkbit.md §9), with moto's SQS: a gateway's messages on the FIFO inbound queue
(headers as message attributes) are consumed by app.py's `dmf_inbound` function as Lambda would call it, and act
through the services DDI and the Management API use."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.api import steps
from tests.conftest import ADMIN, TENANT

REPLY_QUEUE = "gateway-replies.fifo"


@pytest.fixture
def dmf_on(client):
    steps.put_config(client, "dmf.enabled", True)
    return client


@pytest.fixture
def reply_queue(aws_env) -> str:
    from chalicelib.store import aws
    return aws.client("sqs").create_queue(QueueName=REPLY_QUEUE, Attributes={"FifoQueue": "true"})["QueueUrl"]


def send(headers: dict, body="", group: str | None = None, dedup: str | None = None) -> None:
    from chalicelib.store import dmf_queues
    text = body if isinstance(body, str) else json.dumps(body)
    dmf_queues.send(dmf_queues.url(), {"tenant": TENANT, **headers}, text,
                    group_id=group or f"{TENANT}/{headers.get('thingId', 'none')}",
                    deduplication_id=dedup or uuid.uuid4().hex)


def drain() -> dict[str, int]:
    from app import app
    from infra import launcher
    return launcher.drain_dmf(app)


def created(thing: str, body="", reply_to: str = REPLY_QUEUE) -> None:
    send({"type": "THING_CREATED", "thingId": thing, "replyTo": reply_to, "content-type": "application/json"}, body)


def status(action_id: int, action_status: str, thing: str | None = None, **extra) -> dict:
    headers = {"type": "EVENT", "topic": "UPDATE_ACTION_STATUS", "content-type": "application/json"}
    if thing:
        headers["thingId"] = thing
    return {"headers": headers, "body": {"actionId": action_id, "actionStatus": action_status, **extra}}


def send_status(action_id: int, action_status: str, thing: str, **extra) -> None:
    message = status(action_id, action_status, thing, **extra)
    send(message["headers"], message["body"])


def received(queue_url: str) -> list[tuple[dict, str]]:
    from chalicelib.store import dmf_queues
    found = []
    while messages := dmf_queues.receive(queue_url=queue_url):
        found += [(dmf_queues.headers_of(m.get("MessageAttributes")), m["Body"]) for m in messages]
        dmf_queues.delete([m["ReceiptHandle"] for m in messages], queue_url=queue_url)
    return found


def dead_letters() -> list[tuple[dict, str]]:
    from chalicelib.store import dmf_queues
    return received(dmf_queues.dead_letter_url())


def assigned(client, thing: str, **extra) -> int:
    ds_id, _ = steps.release(client)
    return steps.assign(client, ds_id, thing, **extra)["assignedActions"][0]["id"]


def statuses(client, thing: str, action_id: int) -> list[str]:
    return [entry["type"] for entry in steps.history(client, thing, action_id)]


# --- THING_CREATED -----------------------------------------------------------------------------------------
def test_thing_created_registers_the_thing_with_its_reply_queue_as_address(dmf_on, reply_queue):
    created("gw-dev-1", {"name": "Device one", "attributeUpdate": {"attributes": {"hw": "rev2", "n": 3}}})
    assert drain()["applied"] == 1
    target = steps.target(dmf_on, "gw-dev-1")
    assert target["name"] == "Device one"
    assert target["address"] == reply_queue
    assert target["updateStatus"] == "registered"
    assert target["description"] == "Plug and Play target: gw-dev-1"
    assert target["securityToken"]
    assert target["lastControllerRequestAt"] > 0
    attributes = steps.body_of(dmf_on.http.get("/rest/v1/targets/gw-dev-1/attributes", headers=ADMIN))
    assert attributes == {"hw": "rev2", "n": "3"}
    assert target["requestAttributes"] is False


def test_thing_created_again_refreshes_name_and_type_and_keeps_the_rest(dmf_on, reply_queue):
    resp = dmf_on.http.post("/rest/v1/targettypes", headers={**ADMIN, "Content-Type": "application/json"},
                            body=json.dumps([{"name": "gateway-kind", "key": "gwk"}]))
    assert resp.status_code == 201, resp.body
    type_id = steps.body_of(resp)[0]["id"]
    created("gw-dev-2")
    drain()
    first = steps.target(dmf_on, "gw-dev-2")
    assert first["name"] == "gw-dev-2" and "targetType" not in first
    created("gw-dev-2", {"name": "renamed", "type": "gateway-kind"})
    created("gw-dev-2", {"name": "  "})  # a blank name changes nothing
    drain()
    second = steps.target(dmf_on, "gw-dev-2")
    assert (second["name"], second["targetType"]) == ("renamed", type_id)
    assert second["securityToken"] == first["securityToken"]
    created("gw-dev-2", {"type": ""})  # a blank type removes the known target's type
    created("gw-dev-2", {"type": "no-such-type"})  # an unknown one is logged, nothing changes
    drain()
    assert "targetType" not in steps.target(dmf_on, "gw-dev-2")


def test_an_operator_created_target_announced_by_dmf_becomes_registered(dmf_on, reply_queue):
    steps.create_target(dmf_on, "known-1")
    assert steps.target(dmf_on, "known-1")["updateStatus"] == "unknown"
    created("known-1")
    drain()
    target = steps.target(dmf_on, "known-1")
    assert (target["updateStatus"], target["address"]) == ("registered", reply_queue)


def test_a_reply_queue_given_by_url_is_kept_as_it_is(dmf_on, reply_queue):
    created("gw-dev-3", reply_to=reply_queue)
    drain()
    assert steps.target(dmf_on, "gw-dev-3")["address"] == reply_queue


# --- UPDATE_ATTRIBUTES and THING_REMOVED --------------------------------------------------------------------
def _attributes(thing: str, attributes: dict, mode: str | None = None) -> None:
    body = {"attributes": attributes, **({"mode": mode} if mode else {})}
    send({"type": "EVENT", "topic": "UPDATE_ATTRIBUTES", "thingId": thing, "content-type": "application/json"}, body)


def test_update_attributes_merges_replaces_and_removes_as_configdata(dmf_on, reply_queue):
    created("attr-1")
    _attributes("attr-1", {"a": "1", "b": "2"})
    _attributes("attr-1", {"b": "3", "c": "4"}, "MERGE")
    drain()
    url = "/rest/v1/targets/attr-1/attributes"
    assert steps.body_of(dmf_on.http.get(url, headers=ADMIN)) == {"a": "1", "b": "3", "c": "4"}
    _attributes("attr-1", {"a": "x"}, "REMOVE")
    drain()
    assert steps.body_of(dmf_on.http.get(url, headers=ADMIN)) == {"b": "3", "c": "4"}
    _attributes("attr-1", {"z": "9"}, "REPLACE")
    drain()
    assert steps.body_of(dmf_on.http.get(url, headers=ADMIN)) == {"z": "9"}


def test_remove_leaves_the_request_for_attributes_on(dmf_on, reply_queue):
    steps.create_target(dmf_on, "attr-2")
    assert steps.target(dmf_on, "attr-2")["requestAttributes"] is True
    _attributes("attr-2", {"a": "1"}, "REMOVE")
    drain()
    assert steps.target(dmf_on, "attr-2")["requestAttributes"] is True
    _attributes("attr-2", {"a": "1"})
    drain()
    assert steps.target(dmf_on, "attr-2")["requestAttributes"] is False


def test_thing_removed_deletes_the_target_and_again_changes_nothing(dmf_on, reply_queue):
    created("gone-1")
    drain()
    send({"type": "THING_REMOVED", "thingId": "gone-1"})
    send({"type": "THING_REMOVED", "thingId": "gone-1"})
    counts = drain()
    assert (counts["applied"], counts["ignored"], counts["refused"]) == (1, 1, 0)
    assert dmf_on.http.get("/rest/v1/targets/gone-1", headers=ADMIN).status_code == 404
    assert dead_letters() == []


# --- PING --------------------------------------------------------------------------------------------------
def test_ping_is_answered_with_ping_response_on_the_reply_queue(dmf_on, reply_queue):
    from chalicelib import clock
    send({"type": "PING", "replyTo": REPLY_QUEUE, "correlationId": "corr-42"}, group=f"{TENANT}/ping")
    send({"type": "PING", "replyTo": REPLY_QUEUE}, group=f"{TENANT}/ping")  # no correlation id: no answer
    before = clock.now_ms()
    assert drain()["applied"] == 1
    [(headers, body)] = received(reply_queue)
    assert headers == {"type": "PING_RESPONSE", "tenant": TENANT, "correlationId": "corr-42",
                       "content-type": "text/plain"}
    assert int(body) >= before - 1000


# --- UPDATE_ACTION_STATUS ----------------------------------------------------------------------------------
def test_statuses_drive_the_action_as_ddi_feedback_does(dmf_on, reply_queue):
    created("run-1")
    drain()
    action_id = assigned(dmf_on, "run-1")
    send_status(action_id, "DOWNLOAD", "run-1")
    send_status(action_id, "RUNNING", "run-1", message=["step 1"], code=7)
    send_status(action_id, "WARNING", "run-1")
    assert drain()["applied"] == 3
    assert steps.target(dmf_on, "run-1")["updateStatus"] == "pending"
    entries = steps.history(dmf_on, "run-1", action_id)
    running = next(e for e in entries if e["type"] == "running" and "step 1" in e["messages"])
    assert running["messages"] == ["step 1", "Device reported status code: 7"]
    send_status(action_id, "FINISHED", "run-1")
    drain()
    assert steps.action(dmf_on, "run-1", action_id)["status"] == "finished"
    target = steps.target(dmf_on, "run-1")
    assert target["updateStatus"] == "in_sync"
    installed = steps.body_of(dmf_on.http.get("/rest/v1/targets/run-1/installedDS", headers=ADMIN))
    assert installed["id"] == steps.body_of(dmf_on.http.get("/rest/v1/targets/run-1/assignedDS", headers=ADMIN))["id"]


def test_error_closes_the_action_and_the_target_is_in_error(dmf_on, reply_queue):
    created("err-1")
    drain()
    action_id = assigned(dmf_on, "err-1")
    send_status(action_id, "ERROR", "err-1", message=["disk full"])
    drain()
    action = steps.action(dmf_on, "err-1", action_id)
    assert (action["status"], action["active"]) == ("error", False)
    assert steps.target(dmf_on, "err-1")["updateStatus"] == "error"


def test_a_status_without_thing_id_finds_the_action_by_its_id(dmf_on, reply_queue):
    created("noid-1")
    drain()
    action_id = assigned(dmf_on, "noid-1")
    message = status(action_id, "RUNNING")
    send(message["headers"], message["body"], group=f"{TENANT}/action/{action_id}")
    assert drain()["applied"] == 1
    assert "running" in statuses(dmf_on, "noid-1", action_id)


def test_a_redelivered_status_changes_nothing_twice(dmf_on, reply_queue):
    """SQS delivers at least once: the same message (same deduplication id) handed to the consumer again after
    its change committed (a crash before the delete) adds no second history entry."""
    from app import app
    from chalicelib.store import dmf_queues
    from infra import launcher

    created("dup-1")
    drain()
    action_id = assigned(dmf_on, "dup-1")
    send_status(action_id, "RUNNING", "dup-1", message=["once"])
    messages = dmf_queues.receive()
    first = app.handler_map["dmf_inbound"](launcher.dmf_event(messages, "us-east-1"), None)
    history = steps.history(dmf_on, "dup-1", action_id)
    again = app.handler_map["dmf_inbound"](launcher.dmf_event(messages, "us-east-1"), None)
    assert (first["applied"], again["applied"], again["duplicate"]) == (1, 0, 1)
    assert again["batchItemFailures"] == []
    assert steps.history(dmf_on, "dup-1", action_id) == history
    assert sum("once" in e["messages"] for e in history) == 1
    action = steps.action(dmf_on, "dup-1", action_id)
    assert action["status"] == "running"


def test_a_status_for_a_closed_action_is_dropped_not_dead_lettered(dmf_on, reply_queue):
    created("late-1")
    drain()
    action_id = assigned(dmf_on, "late-1")
    send_status(action_id, "FINISHED", "late-1")
    send_status(action_id, "FINISHED", "late-1")
    send_status(action_id, "RUNNING", "late-1")
    counts = drain()
    assert (counts["applied"], counts["ignored"], counts["refused"]) == (1, 2, 0)
    assert statuses(dmf_on, "late-1", action_id).count("finished") == 1


def test_confirmed_and_denied_go_through_the_confirmation_flow(dmf_on, reply_queue):
    steps.enable_confirmation_flow(dmf_on)
    created("conf-1")
    drain()
    action_id = assigned(dmf_on, "conf-1", confirmationRequired=True)
    assert steps.action(dmf_on, "conf-1", action_id)["status"] == "wait_for_confirmation"
    send_status(action_id, "RUNNING", "conf-1")  # not before it is confirmed
    send_status(action_id, "DENIED", "conf-1", code=3)
    counts = drain()
    assert (counts["refused"], counts["applied"]) == (1, 1)
    assert steps.action(dmf_on, "conf-1", action_id)["status"] == "wait_for_confirmation"
    send_status(action_id, "CONFIRMED", "conf-1", message=["ok by user"])
    drain()
    assert steps.action(dmf_on, "conf-1", action_id)["status"] == "running"
    [(headers, _)] = dead_letters()
    assert headers["errorMessage"] == f"Action {action_id} is waiting for confirmation."


def test_canceled_answers_a_cancel_and_is_refused_otherwise(dmf_on, reply_queue):
    created("cancel-1")
    drain()
    action_id = assigned(dmf_on, "cancel-1")
    send_status(action_id, "CANCELED", "cancel-1")  # not canceling: refused
    drain()
    [(headers, _)] = dead_letters()
    assert headers["errorCode"] == "hawkbit.server.error.action.notCancelable"
    assert headers["errorMessage"] == "The action is not in canceling state."
    resp = dmf_on.http.delete(f"/rest/v1/targets/cancel-1/actions/{action_id}", headers=ADMIN)
    assert resp.status_code == 200, resp.body
    send_status(action_id, "CANCEL_REJECTED", "cancel-1")
    drain()
    assert steps.action(dmf_on, "cancel-1", action_id)["status"] == "running"
    assert dmf_on.http.delete(f"/rest/v1/targets/cancel-1/actions/{action_id}", headers=ADMIN).status_code == 200
    send_status(action_id, "CANCELED", "cancel-1")
    drain()
    action = steps.action(dmf_on, "cancel-1", action_id)
    assert action["detailStatus"] == "canceled"


def test_auto_confirm_switches_the_things_auto_confirmation(dmf_on, reply_queue):
    created("auto-1")
    headers = {"type": "EVENT", "topic": "UPDATE_AUTO_CONFIRM", "thingId": "auto-1",
               "content-type": "application/json"}
    send(headers, {"enabled": True, "initiator": "gw"})
    send(headers, {"enabled": True, "initiator": "gw"})
    counts = drain()
    assert (counts["applied"], counts["ignored"]) == (2, 1)
    state = steps.body_of(dmf_on.http.get("/rest/v1/targets/auto-1/autoConfirm", headers=ADMIN))
    assert state["active"] is True and state["initiator"] == "gw"
    send(headers, {"enabled": False})
    drain()
    state = steps.body_of(dmf_on.http.get("/rest/v1/targets/auto-1/autoConfirm", headers=ADMIN))
    assert state["active"] is False


# --- refusals ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers, body, code, message", [
    ({"type": "NO_SUCH_TYPE", "thingId": "r1"}, "", "hawkbit.server.error.repo.constraintViolation",
     "Invalid message! Unknown message type."),
    ({"type": "THING_CREATED", "thingId": "r1"}, "", "hawkbit.server.error.repo.constraintViolation",
     "No ReplyTo was set for the createThing message."),
    ({"type": "THING_CREATED", "replyTo": REPLY_QUEUE}, "", "hawkbit.server.error.repo.constraintViolation",
     "ThingId is null"),
    ({"type": "THING_CREATED", "thingId": "r1", "replyTo": "no-such-queue.fifo"}, "",
     "hawkbit.server.error.repo.constraintViolation", "The reply queue 'no-such-queue.fifo' does not exist."),
    ({"type": "EVENT", "topic": "UPDATE_ACTION_STATUS", "content-type": "application/json"}, "{not json",
     "hawkbit.server.error.rest.body.notReadable", "The message body is not well-formed JSON."),
    ({"type": "EVENT", "topic": "UPDATE_ACTION_STATUS", "content-type": "application/json"},
     {"actionId": 987654, "actionStatus": "RUNNING"}, "hawkbit.server.error.repo.entityNotFound",
     "Got intermediate notification about action 987654 but action does not exist"),
    ({"type": "EVENT", "topic": "UPDATE_ATTRIBUTES", "thingId": "nobody", "content-type": "application/json"},
     {"attributes": {"a": "b"}}, "hawkbit.server.error.repo.entityNotFound", None),
    ({"type": "EVENT", "topic": "DOWNLOAD_AND_INSTALL", "thingId": "r1", "content-type": "application/json"},
     {}, "hawkbit.server.error.repo.constraintViolation", "Got event without appropriate topic."),
])
def test_refused_messages_go_to_the_dead_letter_queue_at_once(dmf_on, reply_queue, headers, body, code, message):
    from chalicelib.store import dmf_queues
    send(headers, body)
    counts = drain()
    assert (counts["refused"], counts["failed"]) == (1, 0)
    [(dead_headers, dead_body)] = dead_letters()
    assert dead_headers["errorCode"] == code
    if message:
        assert dead_headers["errorMessage"] == message
    assert {k: v for k, v in dead_headers.items() if k not in ("errorCode", "errorMessage")} == \
        {"tenant": TENANT, **headers}
    assert dead_body == (body if isinstance(body, str) and body else json.dumps(body) if body != "" else " ")
    assert dmf_queues.receive() == []  # not back for another try
    assert dmf_on.http.get("/rest/v1/targets/r1", headers=ADMIN).status_code == 404


def test_a_tenant_without_dmf_enabled_is_refused(client, reply_queue):
    created("off-1")
    send({"type": "PING", "replyTo": REPLY_QUEUE, "correlationId": "c"}, group=f"{TENANT}/ping")
    send({"type": "THING_CREATED", "thingId": "x1", "replyTo": REPLY_QUEUE, "tenant": "NOSUCHTENANT"})
    counts = drain()
    assert counts["refused"] == 3
    dead = dead_letters()
    assert [h["errorCode"] for h, _ in dead] == ["hawkbit.server.error.dmf.notEnabled"] * 3
    assert client.http.get("/rest/v1/targets/off-1", headers=ADMIN).status_code == 404
    assert received(reply_queue) == []


def test_the_key_can_be_switched_on_and_off(client):
    steps.put_config(client, "dmf.enabled", True)
    assert steps.body_of(client.http.get("/rest/v1/system/configs/dmf.enabled", headers=ADMIN))["value"] is True
    steps.put_config(client, "dmf.enabled", False)


# --- failures that may pass --------------------------------------------------------------------------------
def test_a_failure_is_retried_and_holds_back_the_things_later_messages(dmf_on, reply_queue, aws_fails):
    """A DynamoDB outage fails the message (a batch item failure, retried by SQS after its visibility timeout);
    the same thing's next message in the batch waits behind it, another thing's goes on."""
    from botocore.exceptions import ClientError

    from app import app
    from chalicelib.store import dmf_queues
    from infra import launcher

    created("slow-1")
    _attributes("slow-1", {"a": "1"})
    created("fast-1")
    messages = []
    while batch := dmf_queues.receive():
        messages += batch
    assert len(messages) == 3

    def outage():
        return ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "TransactWriteItems")
    broken = {"on": True}
    aws_fails(lambda service, op, params: broken["on"] and service == "dynamodb" and op == "TransactWriteItems"
              and "slow-1" in json.dumps(params), outage)
    answer = launcher.invoke_dmf(app, messages)
    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    assert failed == {messages[0]["MessageId"], messages[1]["MessageId"]}
    assert (answer["failed"], answer["applied"]) == (2, 1)
    assert steps.target(dmf_on, "fast-1")["name"] == "fast-1"
    assert dead_letters() == []
    broken["on"] = False
    for message in messages[:2]:  # the visibility timeout, passed
        dmf_queues._sqs().change_message_visibility(QueueUrl=dmf_queues.url(), ReceiptHandle=message["ReceiptHandle"],
                                                    VisibilityTimeout=0)
    assert drain()["applied"] == 2
    assert steps.body_of(dmf_on.http.get("/rest/v1/targets/slow-1/attributes", headers=ADMIN)) == {"a": "1"}


def test_a_redelivered_denial_adds_no_second_entry(dmf_on, reply_queue):
    """The confirmation route carries the marker too: DENIED leaves the action waiting, so only the marker can
    tell a redelivery from a second denial."""
    from chalicelib.jobs import dmf_inbound
    from chalicelib.store import dmf_queues
    from infra import launcher

    steps.enable_confirmation_flow(dmf_on)
    created("deny-1")
    drain()
    action_id = assigned(dmf_on, "deny-1", confirmationRequired=True)
    send_status(action_id, "DENIED", "deny-1", message=["not now"])
    [record] = launcher.dmf_event(dmf_queues.receive(), "us-east-1")["Records"]
    assert dmf_inbound.run_batch([record])["applied"] == 1
    assert dmf_inbound.run_batch([record])["duplicate"] == 1
    assert sum("not now" in e["messages"] for e in steps.history(dmf_on, "deny-1", action_id)) == 1


def test_a_status_naming_another_thing_is_refused(dmf_on, reply_queue):
    created("owner-1")
    created("other-1")
    drain()
    action_id = assigned(dmf_on, "owner-1")
    before = steps.history(dmf_on, "owner-1", action_id)
    send_status(action_id, "RUNNING", "other-1", message=["from the other"])
    assert drain()["refused"] == 1
    [(headers, _)] = dead_letters()
    assert headers["errorCode"] == "hawkbit.server.error.repo.entityNotFound"
    assert steps.history(dmf_on, "owner-1", action_id) == before


def test_a_rollout_of_dmf_things_progresses_on_their_statuses(dmf_on, reply_queue):
    """DMF statuses go through DDI's feedback transaction: the rollout's counts move and the next group starts."""
    from tests.api import jobs_queue
    from tests.api.catalog_helpers import body, get, post

    things = [f"roll-{i}" for i in range(4)]
    for thing in things:
        created(thing)
    drain()
    ds_id, _ = steps.release(dmf_on)
    resp = post(dmf_on, "/rest/v1/rollouts", {
        "name": "dmf-rollout", "distributionSetId": ds_id, "targetFilterQuery": "controllerId==roll-*",
        "amountGroups": 2, "successCondition": {"condition": "THRESHOLD", "expression": "100"}})
    assert resp.status_code == 201, resp.body
    rollout_id = body(resp)["id"]
    jobs_queue.drain()
    assert post(dmf_on, f"/rest/v1/rollouts/{rollout_id}/start", None).status_code == 200
    jobs_queue.drain()

    def open_actions() -> dict[str, int]:
        found = {}
        for thing in things:
            content = body(get(dmf_on, f"/rest/v1/targets/{thing}/actions"))["content"]
            for action in content:
                if action["active"]:
                    found[thing] = action["id"]
        return found

    first = open_actions()
    assert len(first) == 2
    for thing, action_id in first.items():
        send_status(action_id, "FINISHED", thing)
    drain()
    jobs_queue.drain()  # the feedback queued the check that starts group 2
    second = open_actions()
    assert len(second) == 2 and not set(second) & set(first)
    for thing, action_id in second.items():
        send_status(action_id, "FINISHED", thing)
    drain()
    jobs_queue.drain()
    rollout = body(get(dmf_on, f"/rest/v1/rollouts/{rollout_id}"))
    assert rollout["status"] == "finished"
    assert rollout["totalTargetsPerStatus"]["finished"] == 4
