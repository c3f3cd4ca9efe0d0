"""Outbound DMF (docs/dmf-hawkbit.md §8, §12): what a DMF thing finds on its reply queue after Management API
operations and its own statuses, sent by the change feed (services/dmf_outbound.py) as the deployed stack would:
requests and inbound messages commit, the feed is drained (launcher.drain_changes), the reply queue is read."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit


from tests.api import steps
from tests.api.test_dmf_inbound import REPLY_QUEUE, created, received, send, send_status
from tests.api.test_dmf_inbound import dmf_on, reply_queue  # noqa: F401 - the same fixtures
from tests.api.test_dmf_inbound import drain as drain_inbound
from tests.conftest import ADMIN, TENANT

JSON = {**ADMIN, "Content-Type": "application/json"}


def feed() -> dict:
    from app import app
    from infra import launcher
    return launcher.drain_changes(app)


def sent(queue_url: str) -> list[tuple[dict, object]]:
    """Everything the reply queue holds now: (headers, parsed body), in order; the queue is left empty."""
    feed()
    return [(headers, json.loads(body) if body.strip() and headers.get("content-type") == "application/json"
             else body.strip()) for headers, body in received(queue_url)]


def topics(messages) -> list[str]:
    return [headers.get("topic", headers["type"]) for headers, _ in messages]


def connect(*things: str) -> None:
    """THING_CREATED with the things' attributes (so the server does not ask for them yet)."""
    for thing in things:
        created(thing, {"attributeUpdate": {"attributes": {"hw": "rev1"}}})
    drain_inbound()


def release(client, name: str = "myOs", version: str = "1.0") -> int:
    ds_id, _ = steps.release(client, name, version)
    return ds_id


def assign(client, ds_id: int, *things: str, **extra) -> list[int]:
    return [a["id"] for a in steps.assign(client, ds_id, *things, **extra)["assignedActions"]]


# --- assignments ------------------------------------------------------------------------------------------------
def test_an_assignment_sends_download_and_install_with_signed_artifact_urls(dmf_on, reply_queue):
    connect("dev-1")
    assert sent(reply_queue) == []  # nothing open: THING_CREATED is answered with nothing
    steps.put_config(dmf_on, "cdn.validity.days", 2)
    ds_id = release(dmf_on)
    [action_id] = assign(dmf_on, ds_id, "dev-1")
    [(headers, body)] = sent(reply_queue)
    assert headers == {"type": "EVENT", "topic": "DOWNLOAD_AND_INSTALL", "thingId": "dev-1", "tenant": TENANT,
                       "content-type": "application/json"}
    token = steps.target(dmf_on, "dev-1")["securityToken"]
    assert body["actionId"] == action_id and body["targetSecurityToken"] == token
    [module] = body["softwareModules"]
    assert (module["moduleType"], module["moduleVersion"]) == ("os", "1.0")
    [artifact] = module["artifacts"]
    data = b"This is a test update file.\n"
    import hashlib
    assert artifact["hashes"] == {"sha1": hashlib.sha1(data).hexdigest(), "md5": hashlib.md5(data).hexdigest()}
    assert artifact["size"] == len(data) and artifact["filename"] == "example.file"
    [url] = artifact["urls"].values()
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == [str(2 * 86400)]  # cdn.validity.days


def test_a_download_only_assignment_sends_download(dmf_on, reply_queue):
    connect("dev-1")
    assign(dmf_on, release(dmf_on), "dev-1", action_type="downloadonly")
    assert topics(sent(reply_queue)) == ["DOWNLOAD"]


def test_targets_that_poll_ddi_and_tenants_without_dmf_get_nothing(client, reply_queue):
    steps.put_config(client, "dmf.enabled", True)
    connect("dev-1")
    steps.create_target(client, "ddi-1")
    steps.put_config(client, "dmf.enabled", False)
    ds_id = release(client)
    assign(client, ds_id, "dev-1", "ddi-1")
    assert sent(reply_queue) == []


def test_the_confirmation_flow_sends_confirm_then_download_and_install(dmf_on, reply_queue):
    steps.enable_confirmation_flow(dmf_on)
    connect("dev-1")
    [action_id] = assign(dmf_on, release(dmf_on), "dev-1")
    [(headers, body)] = sent(reply_queue)
    assert headers["topic"] == "CONFIRM" and body["actionId"] == action_id and body["softwareModules"]
    send_status(action_id, "CONFIRMED", "dev-1")
    assert drain_inbound()["applied"] == 1
    [(headers, body)] = sent(reply_queue)
    assert headers["topic"] == "DOWNLOAD_AND_INSTALL" and body["actionId"] == action_id


# --- cancel and supersede ---------------------------------------------------------------------------------------
def test_a_cancel_sends_cancel_download_and_the_canceled_answer_closes_it(dmf_on, reply_queue):
    connect("dev-1")
    [action_id] = assign(dmf_on, release(dmf_on), "dev-1")
    sent(reply_queue)
    answer = dmf_on.http.delete(f"/rest/v1/targets/dev-1/actions/{action_id}", headers=ADMIN)
    assert answer.status_code == 200, answer.body
    [(headers, body)] = sent(reply_queue)
    assert (headers["topic"], body) == ("CANCEL_DOWNLOAD", {"actionId": action_id})
    send_status(action_id, "CANCELED", "dev-1")
    drain_inbound()
    assert steps.action(dmf_on, "dev-1", action_id)["status"] == "canceled"
    assert sent(reply_queue) == []  # nothing else open


def test_a_new_set_is_sent_once_the_superseded_action_is_canceled(dmf_on, reply_queue):
    connect("dev-1")
    [first] = assign(dmf_on, release(dmf_on, "one", "1"), "dev-1")
    sent(reply_queue)
    [second] = assign(dmf_on, release(dmf_on, "two", "2"), "dev-1")
    messages = sent(reply_queue)
    assert [(h["topic"], b["actionId"]) for h, b in messages] == [("CANCEL_DOWNLOAD", first)]
    send_status(first, "CANCELED", "dev-1")
    drain_inbound()
    messages = sent(reply_queue)
    assert [(h["topic"], b["actionId"]) for h, b in messages] == [("DOWNLOAD_AND_INSTALL", second)]


def test_finishing_sends_nothing_but_the_request_for_attributes(dmf_on, reply_queue):
    connect("dev-1")
    [action_id] = assign(dmf_on, release(dmf_on), "dev-1")
    sent(reply_queue)
    send_status(action_id, "RUNNING", "dev-1")
    send_status(action_id, "FINISHED", "dev-1")
    drain_inbound()
    messages = sent(reply_queue)
    assert [(h["type"], h.get("topic"), b) for h, b in messages] == [("EVENT", "REQUEST_ATTRIBUTES_UPDATE", "")]
    assert steps.target(dmf_on, "dev-1")["updateStatus"] == "in_sync"


def test_an_operator_request_for_attributes_is_sent(dmf_on, reply_queue):
    connect("dev-1")
    sent(reply_queue)
    answer = dmf_on.http.put("/rest/v1/targets/dev-1", headers=JSON, body=json.dumps({"requestAttributes": True}))
    assert answer.status_code == 200, answer.body
    assert topics(sent(reply_queue)) == ["REQUEST_ATTRIBUTES_UPDATE"]


def test_a_deleted_thing_is_told(dmf_on, reply_queue):
    from tests.api import jobs_queue
    connect("dev-1")
    assert dmf_on.http.delete("/rest/v1/targets/dev-1", headers=ADMIN).status_code == 200
    jobs_queue.drain()
    [(headers, body)] = sent(reply_queue)
    assert headers == {"type": "THING_DELETED", "thingId": "dev-1", "tenant": TENANT,
                       "content-type": "application/json"}


# --- batches and multi-assignments ------------------------------------------------------------------------------
def test_with_batch_assignments_one_message_tells_every_thing(dmf_on, reply_queue):
    steps.put_config(dmf_on, "batch.assignments.enabled", True)
    connect("dev-1", "dev-2", "dev-3")
    action_ids = assign(dmf_on, release(dmf_on), "dev-1", "dev-2", "dev-3")
    [(headers, body)] = sent(reply_queue)
    assert headers == {"type": "EVENT", "topic": "BATCH_DOWNLOAD_AND_INSTALL", "tenant": TENANT,
                       "content-type": "application/json"}
    assert sorted((t["controllerId"], t["actionId"]) for t in body["targets"]) == sorted(
        zip(["dev-1", "dev-2", "dev-3"], action_ids))
    assert all(t["targetSecurityToken"] for t in body["targets"])
    assert len(body["softwareModules"]) == 1 and body["timestamp"] > 0


def test_with_multi_assignments_every_change_sends_all_open_actions(dmf_on, reply_queue):
    steps.put_config(dmf_on, "multi.assignments.enabled", True)
    connect("dev-1")
    [first] = assign(dmf_on, release(dmf_on, "one", "1"), "dev-1", weight=100)
    [(headers, body)] = sent(reply_queue)
    assert headers["topic"] == "MULTI_ACTION"
    assert [(e["topic"], e["action"]["actionId"], e["weight"]) for e in body] == [
        ("DOWNLOAD_AND_INSTALL", first, 100)]
    [second] = assign(dmf_on, release(dmf_on, "two", "2"), "dev-1", weight=500)
    [(headers, body)] = sent(reply_queue)
    assert [(e["action"]["actionId"], e["weight"]) for e in body] == [(second, 500), (first, 100)]


# --- THING_CREATED and delivery ---------------------------------------------------------------------------------
def test_a_thing_that_connects_again_is_sent_its_current_command(dmf_on, reply_queue):
    connect("dev-1")
    [action_id] = assign(dmf_on, release(dmf_on), "dev-1")
    sent(reply_queue)
    created("dev-1")
    drain_inbound()
    messages = received(reply_queue)  # sent by the inbound handler itself, before any feed
    assert [(h["topic"], json.loads(b)["actionId"]) for h, b in messages] == [("DOWNLOAD_AND_INSTALL", action_id)]


def test_an_sqs_outage_holds_the_feed_and_the_message_comes_later(dmf_on, reply_queue, aws_fails):
    from botocore.exceptions import ClientError

    from infra import launcher
    connect("dev-1")
    feed()
    broken = {"on": True}
    aws_fails(lambda service, op, params: broken["on"] and service == "sqs" and op == "SendMessage"
              and params.get("QueueUrl") == reply_queue,
              lambda: ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage"))
    [action_id] = assign(dmf_on, release(dmf_on), "dev-1")
    answer = feed()
    assert answer["delivered"] < answer["records"] and launcher.FEED.records
    assert received(reply_queue) == []
    broken["on"] = False
    messages = sent(reply_queue)
    assert [(h["topic"], b["actionId"]) for h, b in messages] == [("DOWNLOAD_AND_INSTALL", action_id)]


def test_a_feed_batch_handed_over_again_is_not_delivered_twice(dmf_on, reply_queue):
    """At least once: the event source mapping may hand the same records over again (a timeout after the send);
    the deduplication id derived from the record keeps a FIFO reply queue from delivering the message twice."""
    from app import app
    from chalicelib.store import change_feed
    connect("dev-1")
    feed()
    assign(dmf_on, release(dmf_on), "dev-1")
    records = change_feed.read(1000)
    app.handler_map["change_feed"]({"Records": records}, None)
    app.handler_map["change_feed"]({"Records": records}, None)
    assert topics(received(reply_queue)) == ["DOWNLOAD_AND_INSTALL"]


def test_a_reply_queue_that_went_away_does_not_stop_the_feed(dmf_on, reply_queue):
    from chalicelib.store import aws
    sqs = aws.client("sqs")
    other = sqs.create_queue(QueueName="other-gateway.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    connect("dev-1")
    created("dev-2", reply_to="other-gateway.fifo")
    drain_inbound()
    feed()
    sqs.delete_queue(QueueUrl=other)
    assign(dmf_on, release(dmf_on), "dev-2", "dev-1")
    answer = feed()
    assert answer["delivered"] == answer["records"]
    assert topics(received(reply_queue)) == ["DOWNLOAD_AND_INSTALL"]


def test_a_refused_request_sends_nothing(dmf_on, reply_queue):
    connect("dev-1")
    sent(reply_queue)
    steps.assign(dmf_on, 999999, "dev-1", status=404)
    assert sent(reply_queue) == []


def test_ping_still_answers(dmf_on, reply_queue):
    send({"type": "PING", "replyTo": REPLY_QUEUE, "correlationId": "c-1"}, group=f"{TENANT}/ping")
    drain_inbound()
    assert topics(sent(reply_queue)) == ["PING_RESPONSE"]


def test_outside_its_window_a_thing_downloads_and_installs_after_a_status_inside_it(dmf_on, reply_queue):
    """hawkBit's shouldTargetProceed: DOWNLOAD while the maintenance window is closed; the thing's next status
    once it is open is answered with DOWNLOAD_AND_INSTALL."""
    from datetime import datetime, timezone

    from chalicelib import clock

    def at(hour: int, minute: int) -> int:
        return int(datetime(2026, 11, 22, hour, minute, tzinfo=timezone.utc).timestamp() * 1000)
    clock.set_now(at(0, 0))
    connect("dev-1")
    window = {"schedule": "0 0 3 ? * *", "duration": "01:00:00", "timezone": "+01:00"}  # 02:00-03:00 UTC
    [action_id] = assign(dmf_on, release(dmf_on), "dev-1", maintenanceWindow=window)
    assert topics(sent(reply_queue)) == ["DOWNLOAD"]
    send_status(action_id, "DOWNLOADED", "dev-1")
    drain_inbound()
    assert sent(reply_queue) == []  # still outside
    clock.set_now(at(2, 30))
    send_status(action_id, "RUNNING", "dev-1")
    drain_inbound()
    messages = received(reply_queue)
    assert [(h["topic"], json.loads(b)["actionId"]) for h, b in messages] == [("DOWNLOAD_AND_INSTALL", action_id)]


def test_a_rollout_tells_each_group_when_it_starts_and_progresses_on_the_answers(dmf_on, reply_queue):
    """A rollout group's start is an assignment: its things are sent DOWNLOAD_AND_INSTALL; their FINISHED starts
    the next group, whose things are sent theirs."""
    from tests.api import jobs_queue
    from tests.api.catalog_helpers import body, post
    things = [f"roll-{i}" for i in range(4)]
    connect(*things)
    ds_id = release(dmf_on)
    resp = post(dmf_on, "/rest/v1/rollouts", {
        "name": "dmf-rollout", "distributionSetId": ds_id, "targetFilterQuery": "controllerId==roll-*",
        "amountGroups": 2, "successCondition": {"condition": "THRESHOLD", "expression": "100"}})
    assert resp.status_code == 201, resp.body
    rollout_id = body(resp)["id"]
    jobs_queue.drain()
    assert post(dmf_on, f"/rest/v1/rollouts/{rollout_id}/start", None).status_code == 200
    jobs_queue.drain()
    first = {h["thingId"]: b["actionId"] for h, b in sent(reply_queue) if h.get("topic") == "DOWNLOAD_AND_INSTALL"}
    assert len(first) == 2
    for thing, action_id in first.items():
        send_status(action_id, "FINISHED", thing)
    drain_inbound()
    jobs_queue.drain()
    second = {h["thingId"]: b["actionId"] for h, b in sent(reply_queue) if h.get("topic") == "DOWNLOAD_AND_INSTALL"}
    assert len(second) == 2 and set(first) | set(second) == set(things)
