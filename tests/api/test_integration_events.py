"""Service integration events (docs/integration-events.md): what a subscriber's queue receives from the bus.

A rule on skyhawk's bus sends every event to an SQS queue (moto delivers EventBridge's targets), the flow runs
through the APIs, and the change feed is drained as the event source mapping would (launcher.drain_changes).
"""
from __future__ import annotations

import json

import pytest

from tests.api import steps
from tests.conftest import ADMIN, TENANT

JSON = {**ADMIN, "Content-Type": "application/json"}
TOKEN = "tok-dev-1"


@pytest.fixture
def subscriber(aws_env):
    """A queue subscribed to every skyhawk event on the bus; calling it answers the events received since."""
    from chalicelib.store import aws, event_bus
    events, sqs = aws.client("events"), aws.client("sqs")
    url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="everything-skyhawk", EventBusName=event_bus.name(),
                    EventPattern=json.dumps({"source": ["skyhawk"]}))
    events.put_targets(Rule="everything-skyhawk", EventBusName=event_bus.name(), Targets=[{"Id": "queue", "Arn": arn}])

    def received() -> list[dict]:
        found = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received


def drain() -> dict:
    from app import app
    from infra import launcher
    return launcher.drain_changes(app)


def seed_flow(client) -> tuple[int, int, int]:
    """README's quick start, an update end to end: (smId, dsId, actionId); the target ends in_sync."""
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev-1", TOKEN)
    ds_id, sm_id = steps.release(client)
    action_id = steps.assign(client, ds_id, "dev-1")["assignedActions"][0]["id"]
    base = steps.poll(client, "dev-1", TOKEN)
    deployment = steps.body_of(steps.ddi_get(client, "dev-1", TOKEN, steps.ddi_path(
        base["_links"]["deploymentBase"]["href"]).split("dev-1", 1)[1]))
    artifact = deployment["deployment"]["chunks"][0]["artifacts"][0]
    download = steps.ddi_path(artifact["_links"]["download-http"]["href"]).split("dev-1", 1)[1]
    assert steps.ddi_get(client, "dev-1", TOKEN, download, status=302)
    steps.feedback(client, "dev-1", TOKEN, action_id, "proceeding", "none")
    steps.feedback(client, "dev-1", TOKEN, action_id, "closed", "success")
    assert steps.target(client, "dev-1")["updateStatus"] == "in_sync"
    return sm_id, ds_id, action_id


def by_entity(events: list[dict]) -> dict[tuple[str, object], list[dict]]:
    """The events per entity (its kind, its id), in the order received."""
    found: dict[tuple[str, object], list[dict]] = {}
    for event in events:
        detail, name = event["detail"], event["detail-type"]
        if name.startswith("Target"):
            key = ("target", detail["controllerId"])
        elif name.startswith("Action"):
            key = ("action", detail["actionId"] if name == "ActionStatusUpdateEvent" else detail["id"])
        else:
            key = (name.removesuffix("Event").removesuffix("Created").removesuffix("Updated")
                   .removesuffix("Deleted"), detail["id"])
        found.setdefault(key, []).append(event)
    return found


def names(events: list[dict]) -> list[str]:
    return [event["detail-type"] for event in events]


def test_the_seed_flow_is_announced_in_order_per_entity(client, subscriber):
    steps.put_config(client, "sie.enabled", True)
    sm_id, ds_id, action_id = seed_flow(client)
    assert drain()["delivered"] > 0
    events = subscriber()
    assert {e["source"] for e in events} == {"skyhawk"}
    assert all(e["detail"]["tenant"] == TENANT for e in events)
    ids = [e["detail"]["eventId"] for e in events]
    assert len(set(ids)) == len(ids)
    assert "securityToken" not in json.dumps(events) and TOKEN not in json.dumps(events)
    entities = by_entity(events)
    assert set(entities) == {("target", "dev-1"), ("action", action_id), ("SoftwareModule", sm_id),
                             ("DistributionSet", ds_id)}

    target = entities[("target", "dev-1")]
    assert names(target) == ["TargetCreatedEvent", "TargetUpdatedEvent", "TargetPollEvent", "TargetUpdatedEvent",
                             "TargetUpdatedEvent"]
    created, assigned, polled, _address, installed = (e["detail"] for e in target)
    assert (created["name"], created["updateStatus"]) == ("dev-1", "unknown")
    assert (assigned["changed"], assigned["updateStatus"], assigned["assignedDS"]) == (
        ["assignedDS", "updateStatus"], "pending", ds_id)
    assert polled["changed"] == ["lastControllerRequestAt"] and polled["lastControllerRequestAt"] > 0
    assert (installed["updateStatus"], installed["installedDS"]) == ("in_sync", ds_id)
    assert "updateStatus" in installed["changed"] and "installedDS" in installed["changed"]

    action = entities[("action", action_id)]
    assert names(action)[0] == "ActionCreatedEvent"
    assert {k: action[0]["detail"][k] for k in ("controllerId", "distributionSetId", "status", "active")} == {
        "controllerId": "dev-1", "distributionSetId": ds_id, "status": "running", "active": True}
    statuses = [e["detail"]["type"] for e in action if e["detail-type"] == "ActionStatusUpdateEvent"]
    assert statuses == ["running", "retrieved", "download", "running", "finished"]
    updates = [e["detail"] for e in action if e["detail-type"] == "ActionUpdatedEvent"]
    assert updates[-1]["status"] == "finished" and updates[-1]["active"] is False
    assert updates[-1]["changed"] == ["active", "detailStatus", "status"]

    module = entities[("SoftwareModule", sm_id)]
    assert names(module) == ["SoftwareModuleCreatedEvent", "SoftwareModuleUpdatedEvent"]
    assert (module[0]["detail"]["type"], module[1]["detail"]["changed"]) == ("os", ["locked"])
    ds = entities[("DistributionSet", ds_id)]
    assert names(ds) == ["DistributionSetCreatedEvent", "DistributionSetUpdatedEvent"]
    assert ds[0]["detail"]["modules"] == [sm_id] and ds[1]["detail"]["changed"] == ["locked"]

    assert drain().get("records", 0) == 0 and subscriber() == []  # delivered once


def test_a_tenant_without_sie_enabled_announces_nothing(client, subscriber):
    seed_flow(client)
    answer = drain()
    assert answer["records"] > 0 and answer["delivered"] == answer["records"]
    assert subscriber() == []


def test_a_request_answered_4xx_announces_nothing(client, subscriber):
    steps.put_config(client, "sie.enabled", True)
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev-1", TOKEN)
    ds_id, _ = steps.release(client)
    drain()
    subscriber()
    refused = [
        client.http.post("/rest/v1/targets", headers=JSON, body=json.dumps([{"controllerId": "dev-1"}])),
        client.http.put("/rest/v1/targets/dev-1", headers=JSON, body=json.dumps({"name": ""})),
        client.http.post(f"/rest/v1/distributionsets/{ds_id}/assignedTargets", headers=JSON,
                         body=json.dumps([{"id": "dev-1", "type": "nonsense"}])),
        client.http.post(f"/{TENANT}/controller/v1/dev-1/deploymentBase/999/feedback",
                         headers={**steps.device(TOKEN), "Content-Type": "application/json"},
                         body=json.dumps({"id": "999", "status": {"execution": "closed",
                                                                  "result": {"finished": "success"}}})),
        client.http.delete("/rest/v1/softwaremodules/424242", headers=ADMIN),
    ]
    assert [r.status_code // 100 for r in refused] == [4] * len(refused), [r.status_code for r in refused]
    drain()
    assert subscriber() == []
    steps.assign(client, ds_id, "dev-1")  # and the next request that commits is announced
    drain()
    assert "ActionCreatedEvent" in names(subscriber())


def test_an_eventbridge_outage_fails_the_batch_and_the_events_come_on_the_next_drain(client, subscriber, aws_fails):
    from botocore.exceptions import ClientError
    steps.put_config(client, "sie.enabled", True)
    outage = {"on": True}

    def throttled():
        return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                            "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutEvents")

    aws_fails(lambda service, operation, params: outage["on"] and operation == "PutEvents", throttled)
    steps.create_target(client, "dev-1")
    steps.create_target(client, "dev-2")
    failed = drain()
    assert failed["records"] > 0 and failed["delivered"] == 0
    assert subscriber() == []
    outage["on"] = False
    assert drain()["delivered"] > 0
    events = subscriber()
    assert sorted((e["detail-type"], e["detail"]["controllerId"]) for e in events) == [
        ("TargetCreatedEvent", "dev-1"), ("TargetCreatedEvent", "dev-2")]


def test_switching_sie_off_stops_the_events(client, subscriber):
    steps.put_config(client, "sie.enabled", True)
    steps.create_target(client, "dev-1")
    drain()
    assert names(subscriber()) == ["TargetCreatedEvent"]
    steps.put_config(client, "sie.enabled", False)
    steps.create_target(client, "dev-2")
    drain()
    assert subscriber() == []


def test_a_deleted_target_is_announced_once(client, subscriber):
    from tests.api import jobs_queue
    steps.put_config(client, "sie.enabled", True)
    steps.create_target(client, "dev-1")
    drain()
    subscriber()
    assert client.http.delete("/rest/v1/targets/dev-1", headers=ADMIN).status_code == 200
    jobs_queue.drain()  # the deletion's work item removes the item last
    drain()
    assert names(subscriber()) == ["TargetDeletedEvent"]


def test_a_rollout_announces_its_state_changes(client, subscriber):
    steps.put_config(client, "sie.enabled", True)
    steps.create_target(client, "dev-1")
    ds_id, _ = steps.release(client)
    drain()
    subscriber()
    created = client.http.post("/rest/v1/rollouts", headers=JSON, body=json.dumps({
        "name": "r1", "distributionSetId": ds_id, "targetFilterQuery": "id==dev-*", "amountGroups": 1,
        "successCondition": {"condition": "THRESHOLD", "expression": "100"},
        "successAction": {"action": "NEXTGROUP", "expression": ""}}))
    assert created.status_code == 201, created.body
    rollout_id = steps.body_of(created)["id"]
    from tests.api import jobs_queue
    jobs_queue.drain()
    drain()
    events = by_entity(subscriber())
    rollout = events[("Rollout", rollout_id)]
    assert names(rollout)[0] == "RolloutCreatedEvent"
    assert [e["detail"]["status"] for e in rollout] == ["creating", "ready"]
    groups = [key for key in events if key[0] == "RolloutGroup"]
    assert len(groups) == 1 and names(events[groups[0]])[0] == "RolloutGroupCreatedEvent"
    assert events[groups[0]][-1]["detail"]["status"] == "ready"


# --- the bus: PutEvents in order, 10 entries a call, refused entries retried once ----------------------------
def entries(count: int, detail: str = '{"n": %d}') -> list[dict]:
    return [{"Source": "skyhawk", "DetailType": "Test", "Detail": detail % n} for n in range(count)]


@pytest.fixture
def put_calls(monkeypatch):
    """The PutEvents calls' entry counts; `refuse_once(n)` makes the next call report its entry n refused
    (ThrottlingException, as EventBridge does per entry) without sending it."""
    import botocore.client
    original = botocore.client.BaseClient._make_api_call
    calls: list[int] = []
    refusals: list[int] = []

    def spying(self, operation, params):
        if operation != "PutEvents":
            return original(self, operation, params)
        calls.append(len(params["Entries"]))
        if not refusals:
            return original(self, operation, params)
        refused = refusals.pop()
        kept = [e for i, e in enumerate(params["Entries"]) if i != refused]
        answer = original(self, operation, {**params, "Entries": kept})
        results = list(answer["Entries"])
        results.insert(refused, {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"})
        return {**answer, "FailedEntryCount": answer["FailedEntryCount"] + 1, "Entries": results}

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", spying)
    calls_and_refusals = type("PutCalls", (), {"calls": calls, "refuse_once": staticmethod(refusals.append)})
    return calls_and_refusals


def test_the_bus_takes_entries_ten_a_call_in_order(aws_env, subscriber, put_calls):
    from chalicelib.store import event_bus
    assert event_bus.put(entries(23)) == 23
    assert put_calls.calls == [10, 10, 3]
    assert [e["detail"]["n"] for e in subscriber()] == list(range(23))


def test_a_call_stays_under_256_kb(aws_env, subscriber, put_calls):
    from chalicelib.store import event_bus
    big = '{"n": %d, "pad": "' + "x" * 100_000 + '"}'
    assert event_bus.put(entries(5, big)) == 5
    assert put_calls.calls == [2, 2, 1]
    assert len(subscriber()) == 5


def test_a_refused_entry_is_retried_once(aws_env, subscriber, put_calls):
    from chalicelib.store import event_bus
    put_calls.refuse_once(1)
    assert event_bus.put(entries(3)) == 3
    assert put_calls.calls == [3, 1]
    assert sorted(e["detail"]["n"] for e in subscriber()) == [0, 1, 2]


def test_an_entry_refused_twice_stops_the_put_where_it_is(aws_env, subscriber, put_calls):
    from chalicelib.store import event_bus
    malformed = entries(14)
    malformed[12]["Detail"] = "not json"
    assert event_bus.put(malformed) == 12  # the first chunk, and the second up to the refused entry
    assert put_calls.calls == [10, 4, 1]
    assert sorted(e["detail"]["n"] for e in subscriber()) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]


def test_an_unreachable_bus_is_a_short_count_not_an_exception(aws_env, aws_fails):
    from botocore.exceptions import EndpointConnectionError

    from chalicelib.store import event_bus
    aws_fails(lambda service, operation, params: operation == "PutEvents",
              lambda: EndpointConnectionError(endpoint_url="https://events.us-east-1.amazonaws.com"))
    assert event_bus.put(entries(3)) == 0


def test_a_configuration_task_announces_its_state_changes(client, subscriber):
    from tests.api import dcs_steps
    steps.put_config(client, "sie.enabled", True)
    dcs_steps.make_device("dev-1")
    f = dcs_steps.file_with_head(client, "/dev-1/cfg.json", b'{"a":1}')
    task = dcs_steps.create_task(client, "dev-1", [{"name": "/dev-1/cfg.json",
                                                    "uri": dcs_steps.content_uri(f["id"], f["head"])}])
    dcs_steps.release(client, "dev-1", task["id"])
    drain()
    events = [e for e in subscriber() if e["detail-type"].startswith("ConfigurationTask")]
    assert names(events) == ["ConfigurationTaskCreatedEvent", "ConfigurationTaskUpdatedEvent"]
    assert {e["detail"]["id"] for e in events} == {task["id"]}
    assert [e["detail"]["currentState"]["state"] for e in events] == ["CREATED", "CONFIGURE"]
    assert events[0]["detail"]["currentState"]["entered"] == task["currentState"]["entered"]
    assert events[1]["detail"]["changed"] == ["currentState"]
