"""DMF through the launcher: gateways (plain boto3 SQS clients on the embedded moto's port, as an external process
would be, and the reference client examples/dmf_gateway.py) register their things, ping, are sent their commands
through the change feed, and report progress; the launcher's drain consumes the inbound queue and the streams as
`make run` does.
"""
from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest

THINGS = [f"dmf-e2e-{i}" for i in range(3)]
REPLIES = "dmf-e2e-gateway.fifo"


@pytest.fixture
def dmf_enabled(stack):
    resp = stack.admin.put(f"{stack.url}/rest/v1/system/configs/dmf.enabled", json={"value": True})
    assert resp.status_code == 200, resp.text
    try:
        yield
    finally:
        assert stack.admin.delete(f"{stack.url}/rest/v1/system/configs/dmf.enabled").ok


def _until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_gateway_connects_its_things_over_sqs_and_reports_their_updates(stack, dmf_enabled):
    sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="us-east-1")
    replies = sqs.create_queue(QueueName=REPLIES, Attributes={"FifoQueue": "true"})["QueueUrl"]
    inbound = stack.running.dmf_queue_url()

    def send(headers: dict, body: str = " ", group: str = "DEFAULT/gateway") -> None:
        sqs.send_message(QueueUrl=inbound, MessageBody=body, MessageGroupId=group,
                         MessageDeduplicationId=uuid.uuid4().hex,
                         MessageAttributes={k: {"DataType": "String", "StringValue": v}
                                            for k, v in {"tenant": "DEFAULT", **headers}.items()})

    with stack.running.draining(idle=0.1):
        for thing in THINGS:
            send({"type": "THING_CREATED", "thingId": thing, "replyTo": REPLIES, "content-type": "application/json"},
                 '{"name": "%s", "attributeUpdate": {"attributes": {"fw": "0.9"}}}' % thing.upper(),
                 group=f"DEFAULT/{thing}")
        send({"type": "PING", "replyTo": REPLIES, "correlationId": "hello"})

        def pong():
            return sqs.receive_message(QueueUrl=replies, MessageAttributeNames=["All"]).get("Messages")
        [answer] = _until(pong)
        assert answer["MessageAttributes"]["type"]["StringValue"] == "PING_RESPONSE"
        assert answer["MessageAttributes"]["correlationId"]["StringValue"] == "hello"

        def registered():
            found = [stack.admin.get(f"{stack.url}/rest/v1/targets/{t}") for t in THINGS]
            return all(r.status_code == 200 for r in found) and [r.json() for r in found]
        targets = _until(registered)
        assert targets, "the things were not registered"
        assert [t["name"] for t in targets] == [t.upper() for t in THINGS]
        assert {t["address"] for t in targets} == {replies}

        sm = stack.admin.post(f"{stack.url}/rest/v1/softwaremodules",
                              json=[{"name": "dmf-os", "version": "1.0", "type": "os"}]).json()[0]["id"]
        ds = stack.admin.post(f"{stack.url}/rest/v1/distributionsets",
                              json=[{"name": "dmf-set", "version": "1.0", "type": "os",
                                     "modules": [{"id": sm}]}]).json()[0]["id"]
        resp = stack.admin.post(f"{stack.url}/rest/v1/distributionsets/{ds}/assignedTargets",
                                json=[{"id": t} for t in THINGS])
        assert resp.json()["assigned"] == len(THINGS), resp.text
        actions = {t: stack.admin.get(f"{stack.url}/rest/v1/targets/{t}/actions").json()["content"][0]["id"]
                   for t in THINGS}
        for thing, action_id in actions.items():
            for status in ("RUNNING", "FINISHED"):
                send({"type": "EVENT", "topic": "UPDATE_ACTION_STATUS", "thingId": thing,
                      "content-type": "application/json"},
                     '{"actionId": %d, "actionStatus": "%s"}' % (action_id, status), group=f"DEFAULT/{thing}")

        def in_sync():
            states = [stack.admin.get(f"{stack.url}/rest/v1/targets/{t}").json()["updateStatus"] for t in THINGS]
            return states == ["in_sync"] * len(THINGS)
        assert _until(in_sync), "the things did not reach in_sync"
    for thing in THINGS:
        assert stack.admin.delete(f"{stack.url}/rest/v1/targets/{thing}").status_code == 200


# --- the reference DMF client (examples/dmf_gateway.py) ------------------------------------------------------
def _dmf_targets(stack, prefix: str) -> list[dict]:
    resp = stack.admin.get(f"{stack.url}/rest/v1/targets", params={"q": f"controllerId=={prefix}*", "limit": 100})
    assert resp.status_code == 200, resp.text
    return resp.json()["content"]


def test_the_reference_gateway_connects_ten_things(stack, dmf_enabled):
    from examples.dmf_gateway import Device, Gateway

    sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="us-east-1")
    replies = sqs.create_queue(QueueName="dmf-e2e-reference.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    things = [Device(f"dmf-ref-{i}", name=f"Reference {i}", attributes={"slot": str(i)}) for i in range(10)]
    gateway = Gateway(sqs, stack.running.dmf_queue_url(), replies, "DEFAULT", things)
    with stack.running.draining(idle=0.1):
        gateway.connect()
        correlation = gateway.ping()
        assert gateway.run_until(lambda: correlation in gateway.pongs, timeout=20), "no PING_RESPONSE"
        targets = _until(lambda: len(found := _dmf_targets(stack, "dmf-ref-")) == 10 and found)
    assert targets, "the things were not registered"
    assert sorted((t["controllerId"], t["name"], t["address"]) for t in targets) == \
        sorted((d.thing_id, d.name, replies) for d in things)
    assert {t["updateStatus"] for t in targets} == {"registered"}
    attributes = stack.admin.get(f"{stack.url}/rest/v1/targets/dmf-ref-7/attributes").json()
    assert attributes == {"slot": "7"}
    for thing in things:
        assert stack.admin.delete(f"{stack.url}/rest/v1/targets/{thing.thing_id}").status_code == 200


def test_the_reference_gateways_command_line(stack, dmf_enabled):
    """`python -m examples.dmf_gateway` as an integrator runs it (README), against the launcher's moto."""
    import os
    import subprocess
    import sys

    from tests.e2e.conftest import PROJECT_DIR

    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}
    with stack.running.draining(idle=0.1):
        done = subprocess.run(
            [sys.executable, "-m", "examples.dmf_gateway", "--endpoint-url", stack.moto_url,
             "--queue-url", stack.running.dmf_queue_url(), "--reply-queue", "dmf-e2e-cli.fifo",
             "--create-reply-queue", "--tenant", "DEFAULT", "--devices", "10", "--prefix", "dmf-cli-",
             "--seconds", "4"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        targets = _until(lambda: len(found := _dmf_targets(stack, "dmf-cli-")) == 10 and found)
    assert "10 things announced" in done.stderr and "PING answered" in done.stderr, done.stderr
    assert targets and {t["address"] for t in targets} == {f"{stack.moto_url}/123456789012/dmf-e2e-cli.fifo"}
    for target in targets:
        assert stack.admin.delete(f"{stack.url}/rest/v1/targets/{target['controllerId']}").status_code == 200


def test_ten_things_are_updated_canceled_and_batched_over_dmf(stack, dmf_enabled):
    """Issue 10's check, end to end on the launcher: the reference gateway creates 10 things over SQS, an operator
    assigns a set through the Management API, the gateway is sent DOWNLOAD_AND_INSTALL for each (the change feed),
    downloads through the signed URL, reports FINISHED, the targets are in_sync; with batch.assignments.enabled the
    next set arrives as one BATCH_DOWNLOAD_AND_INSTALL; a cancel arrives as CANCEL_DOWNLOAD; a status message sent
    again changes nothing twice."""
    import hashlib

    from examples.dmf_gateway import Gateway, Result

    data = b"reference gateway image\n" * 500
    sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="us-east-1")
    replies = sqs.create_queue(QueueName="dmf-e2e-install.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    things = [f"dmf-inst-{i}" for i in range(10)]

    def install(device, action_id, modules):
        failing = device.thing_id == "dmf-inst-9" and action_id == first_actions.get("dmf-inst-9")
        return Result(not failing, ["disk full"] if failing else [f"installed on {device.thing_id}"])
    first_actions: dict[str, int] = {}
    gateway = Gateway(sqs, stack.running.dmf_queue_url(), replies, "DEFAULT", things, install=install)

    def release(name: str) -> int:
        sm = stack.admin.post(f"{stack.url}/rest/v1/softwaremodules",
                              json=[{"name": name, "version": "2.0", "type": "os"}]).json()[0]["id"]
        resp = stack.admin.post(f"{stack.url}/rest/v1/softwaremodules/{sm}/artifacts",
                                files={"file": ("gw-os.img", data)})
        assert resp.status_code == 201, resp.text
        return stack.admin.post(f"{stack.url}/rest/v1/distributionsets",
                                json=[{"name": f"{name}-set", "version": "2.0", "type": "os",
                                       "modules": [{"id": sm}]}]).json()[0]["id"]

    def assign(ds: int, targets: list[str]) -> list[int]:
        resp = stack.admin.post(f"{stack.url}/rest/v1/distributionsets/{ds}/assignedTargets",
                                json=[{"id": t} for t in targets])
        assert resp.status_code == 200, resp.text
        return [a["id"] for a in resp.json()["assignedActions"]]

    def actions_of(ds: int) -> dict[str, int]:
        found = {}
        for thing in things:
            for action in stack.admin.get(f"{stack.url}/rest/v1/targets/{thing}/actions").json()["content"]:
                if action["_links"]["distributionset"]["href"].endswith(f"/{ds}"):
                    found[thing] = action["id"]
        return found

    def done(actions: dict[str, int]) -> bool:
        return all(gateway.devices[t].statuses(a)[-1:] in (["FINISHED"], ["ERROR"], ["CANCELED"])
                   for t, a in actions.items())

    def history(thing: str, action_id: int) -> list[dict]:
        return stack.admin.get(f"{stack.url}/rest/v1/targets/{thing}/actions/{action_id}/status",
                               params={"limit": 50}).json()["content"]

    first, second, third = release("dmf-gw-os"), release("dmf-gw-os2"), release("dmf-gw-os3")
    with stack.running.draining(idle=0.1):
        gateway.connect()
        assert _until(lambda: len(_dmf_targets(stack, "dmf-inst-")) == 10)
        assign(first, things)
        first_actions.update(actions_of(first))
        assert gateway.run_until(lambda: done(first_actions), timeout=60), [d.reported for d in gateway.devices.values()]

        def states() -> dict[str, str]:
            return {t["controllerId"]: t["updateStatus"] for t in _dmf_targets(stack, "dmf-inst-")}
        assert _until(lambda: states() == {**{t: "in_sync" for t in things[:9]}, "dmf-inst-9": "error"}), states()
    ok = gateway.devices["dmf-inst-0"]
    # the things announced no attributes: the finished update asks for them, and the gateway answers
    with stack.running.draining(idle=0.1):
        assert gateway.run_until(lambda: all("REQUEST_ATTRIBUTES_UPDATE" in gateway.devices[t].kinds()
                                             for t in things[:9]), timeout=30)
    assert ok.kinds() == ["DOWNLOAD_AND_INSTALL", "REQUEST_ATTRIBUTES_UPDATE"]
    assert ok.statuses(first_actions["dmf-inst-0"]) == ["DOWNLOAD", "DOWNLOADED", "RUNNING", "FINISHED"]
    assert ok.downloaded == [(first_actions["dmf-inst-0"], "gw-os.img", len(data), hashlib.sha1(data).hexdigest())]

    # The next set with batch.assignments.enabled: one BATCH message for the ten things.
    resp = stack.admin.put(f"{stack.url}/rest/v1/system/configs/batch.assignments.enabled", json={"value": True})
    assert resp.status_code == 200, resp.text
    try:
        with stack.running.draining(idle=0.1):
            assign(second, things)
            second_actions = actions_of(second)
            assert gateway.run_until(lambda: done(second_actions), timeout=60)
            assert _until(lambda: set(states().values()) == {"in_sync"}), states()
    finally:
        assert stack.admin.delete(f"{stack.url}/rest/v1/system/configs/batch.assignments.enabled").ok
    batches = [r.body for r in gateway.devices["dmf-inst-0"].received if r.kind == "BATCH_DOWNLOAD_AND_INSTALL"]
    assert len(batches) == 1, gateway.devices["dmf-inst-0"].received
    assert sorted((t["controllerId"], t["actionId"]) for t in batches[0]["targets"]) == sorted(second_actions.items())
    assert all([r.body for r in d.received if r.kind == "BATCH_DOWNLOAD_AND_INSTALL"] == batches
               for d in gateway.devices.values())  # the same one message

    # While the gateway is away: the same status message twice (one deduplication id), then a cancel.
    [third_action] = assign(third, ["dmf-inst-3"])
    message = {"actionId": third_action, "actionStatus": "WARNING", "message": ["low battery"]}
    for _ in range(2):
        sqs.send_message(QueueUrl=stack.running.dmf_queue_url(), MessageBody=json.dumps(message),
                         MessageGroupId="DEFAULT/dmf-inst-3", MessageDeduplicationId=f"warning-{third_action}",
                         MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in {
                             "tenant": "DEFAULT", "type": "EVENT", "topic": "UPDATE_ACTION_STATUS",
                             "thingId": "dmf-inst-3", "content-type": "application/json"}.items()})
    with stack.running.draining(idle=0.1):
        assert _until(lambda: any("low battery" in e.get("messages", []) for e in history("dmf-inst-3", third_action)))
        resp = stack.admin.delete(f"{stack.url}/rest/v1/targets/dmf-inst-3/actions/{third_action}")
        assert resp.status_code == 200, resp.text
        assert gateway.run_until(lambda: gateway.devices["dmf-inst-3"].statuses(third_action) == ["CANCELED"],
                                 timeout=30), gateway.devices["dmf-inst-3"].received[-3:]
        assert _until(lambda: stack.admin.get(f"{stack.url}/rest/v1/targets/dmf-inst-3/actions/{third_action}")
                      .json()["status"] == "canceled")
    commands = [kind for kind in gateway.devices["dmf-inst-3"].kinds() if kind != "REQUEST_ATTRIBUTES_UPDATE"]
    assert commands[-1:] == ["CANCEL_DOWNLOAD"]  # not the canceled action's DOWNLOAD_AND_INSTALL
    assert sum("low battery" in e.get("messages", []) for e in history("dmf-inst-3", third_action)) == 1
    assert any("disk full" in e.get("messages", []) for e in history("dmf-inst-9", first_actions["dmf-inst-9"]))
    for thing in things:
        assert stack.admin.delete(f"{stack.url}/rest/v1/targets/{thing}").status_code == 200
