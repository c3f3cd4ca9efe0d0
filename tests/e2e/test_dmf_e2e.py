"""DMF inbound through the launcher: a gateway (a plain boto3 SQS client on the embedded moto's port, as an
external process would be) registers its things, pings, and reports the progress of the actions an operator
assigned through the Management API; the launcher's drain consumes the inbound queue as `make run` does.

What the gateway cannot do yet: learn of its actions from a DOWNLOAD_AND_INSTALL message (outbound DMF is the next
step of issue 10); here it reads the action ids from the Management API.
"""
from __future__ import annotations

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


def test_the_reference_gateway_installs_what_it_is_told_through_signed_urls(stack, dmf_enabled):
    """The gateway's answer to a DOWNLOAD_AND_INSTALL, end to end: the artifact comes through its signed URL
    (the Management API's download redirect, served by the strict fake S3), the statuses through the inbound
    queue, and the action closes. skyhawk does not send the command yet (outbound is the next step of issue 10):
    the test renders it with chalicelib.domain.dmf and puts it on the gateway's reply queue."""
    import hashlib

    from chalicelib.domain import dmf
    from examples.dmf_gateway import Gateway

    data = b"reference gateway image\n" * 500
    sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="us-east-1")
    replies = sqs.create_queue(QueueName="dmf-e2e-install.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    things = ["dmf-inst-ok", "dmf-inst-bad"]
    gateway = Gateway(sqs, stack.running.dmf_queue_url(), replies, "DEFAULT", things)
    sm = stack.admin.post(f"{stack.url}/rest/v1/softwaremodules",
                          json=[{"name": "dmf-gw-os", "version": "2.0", "type": "os"}]).json()[0]["id"]
    resp = stack.admin.post(f"{stack.url}/rest/v1/softwaremodules/{sm}/artifacts",
                            files={"file": ("gw-os.img", data)})
    assert resp.status_code == 201, resp.text
    uploaded = resp.json()
    assert uploaded["hashes"]["sha1"] == hashlib.sha1(data).hexdigest()
    redirect = stack.admin.get(f"{stack.url}/rest/v1/softwaremodules/{sm}/artifacts/{uploaded['id']}/download",
                               allow_redirects=False)
    assert redirect.status_code == 302, redirect.text
    ds = stack.admin.post(f"{stack.url}/rest/v1/distributionsets",
                          json=[{"name": "dmf-gw-set", "version": "2.0", "type": "os",
                                 "modules": [{"id": sm}]}]).json()[0]["id"]
    with stack.running.draining(idle=0.1):
        gateway.connect()
        assert _until(lambda: all(stack.admin.get(f"{stack.url}/rest/v1/targets/{t}").ok for t in things))
        resp = stack.admin.post(f"{stack.url}/rest/v1/distributionsets/{ds}/assignedTargets",
                                json=[{"id": t} for t in things])
        assert resp.status_code == 200, resp.text
        actions = {t: stack.admin.get(f"{stack.url}/rest/v1/targets/{t}/actions").json()["content"][0]["id"]
                   for t in things}
        for thing, sha1 in (("dmf-inst-ok", uploaded["hashes"]["sha1"]), ("dmf-inst-bad", "0" * 40)):
            artifact = dmf.Artifact("gw-os.img", len(data), sha1, uploaded["hashes"]["md5"],
                                    {"HTTPS": redirect.headers["Location"]})
            command = dmf.download_request("DEFAULT", thing, dmf.Deployment(
                actions[thing], modules=(dmf.SoftwareModule(sm, "os", "2.0", (artifact,)),)))
            sqs.send_message(QueueUrl=replies, MessageBody=command.body, MessageGroupId=thing,
                             MessageDeduplicationId=f"{thing}-{actions[thing]}",
                             MessageAttributes={k: {"DataType": "String", "StringValue": v}
                                                for k, v in command.headers.items()})
        assert gateway.run_until(lambda: all(gateway.devices[t].statuses(actions[t])[-1:] in (["FINISHED"], ["ERROR"])
                                             for t in things), timeout=20)

        def closed():
            found = {t: stack.admin.get(f"{stack.url}/rest/v1/targets/{t}/actions/{actions[t]}").json()["status"]
                     for t in things}
            return found if all(s in ("finished", "error") for s in found.values()) else None
        states = _until(closed)
    assert states == {"dmf-inst-ok": "finished", "dmf-inst-bad": "error"}
    assert gateway.devices["dmf-inst-ok"].statuses(actions["dmf-inst-ok"]) == \
        ["DOWNLOAD", "DOWNLOADED", "RUNNING", "FINISHED"]
    assert gateway.devices["dmf-inst-ok"].downloaded == [(actions["dmf-inst-ok"], "gw-os.img", len(data),
                                                          hashlib.sha1(data).hexdigest())]
    assert stack.admin.get(f"{stack.url}/rest/v1/targets/dmf-inst-ok").json()["updateStatus"] == "in_sync"
    history = stack.admin.get(f"{stack.url}/rest/v1/targets/dmf-inst-bad/actions/{actions['dmf-inst-bad']}/status",
                              params={"limit": 50}).json()["content"]
    assert any(f"sha1 {hashlib.sha1(data).hexdigest()}, expected {'0' * 40}." in " ".join(e.get("messages", []))
               for e in history), history
    for thing in things:
        assert stack.admin.delete(f"{stack.url}/rest/v1/targets/{thing}").status_code == 200
