"""The reference DMF client (examples/dmf_gateway.py) with moto's SQS: the test plays skyhawk's outbound side by
putting messages rendered with chalicelib.domain.dmf on the gateway's reply queue, and reads what the gateway
sends to the inbound queue with dmf.parse, as skyhawk's consumer does. Artifacts are served by a local HTTP server
on 127.0.0.1 (a signed URL, to the client). The last tests run the gateway against skyhawk's real consumer."""
from __future__ import annotations

import hashlib
import http.server
import json
import threading

import pytest

from chalicelib.domain import dmf
from examples.dmf_gateway import Device, Gateway, Result
from tests.api import steps
from tests.conftest import ADMIN, TENANT

REPLIES = "gateway-under-test.fifo"
FIRMWARE = b"firmware image " * 1000
CONFIG = b"settings=1\n"


class Files(http.server.ThreadingHTTPServer):
    """Serves `files` by path; counts the requests."""
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                data = outer.files.get(self.path)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def files():
    server = Files()
    server.files.update({"/fw.bin": FIRMWARE, "/cfg.txt": CONFIG})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sqs(aws_env):
    from chalicelib.store import aws
    return aws.client("sqs")


@pytest.fixture
def reply_url(sqs) -> str:
    return sqs.create_queue(QueueName=REPLIES, Attributes={"FifoQueue": "true"})["QueueUrl"]


def gateway(sqs, reply_url, things=("dev-1", "dev-2", "dev-3"), **options) -> Gateway:
    from chalicelib.store import dmf_queues
    return Gateway(sqs, dmf_queues.url(), reply_url, TENANT, list(things), **options)


def inbound() -> list[tuple[dict, dict, dmf.Inbound]]:
    """What reached the inbound queue, in order: (headers, SQS system attributes, parsed message); consumed."""
    from chalicelib.store import dmf_queues
    found = []
    while messages := dmf_queues.receive():
        for m in messages:
            headers = dmf_queues.headers_of(m.get("MessageAttributes"))
            found.append((headers, m["Attributes"], dmf.parse(headers, m["Body"])))
        dmf_queues.delete([m["ReceiptHandle"] for m in messages])
    return found


def statuses(found) -> list[tuple[str, int, str]]:
    return [(m.thing_id, m.action_id, m.status.value) for _, _, m in found if isinstance(m, dmf.ActionStatusUpdate)]


def command(reply_url: str, message: dmf.Message, group: str = "skyhawk") -> None:
    """skyhawk's side: one outbound message on the reply queue, headers as String attributes."""
    from chalicelib.store import dmf_queues
    dmf_queues.send(reply_url, message.headers, message.body, group_id=group,
                    deduplication_id=hashlib.sha1(message.body.encode() + json.dumps(dict(message.headers)).encode())
                    .hexdigest())


def artifact(files: Files, path: str, data: bytes, **wrong) -> dmf.Artifact:
    values = {"filename": path.strip("/"), "size": len(data), "sha1": hashlib.sha1(data).hexdigest(),
              "md5": hashlib.md5(data).hexdigest(), "urls": {"HTTPS": files.url(path)}, **wrong}
    return dmf.Artifact(**values)


def modules(files: Files, **wrong) -> tuple[dmf.SoftwareModule, ...]:
    return (dmf.SoftwareModule(11, "os", "2.0", (artifact(files, "/fw.bin", FIRMWARE, **wrong),)),
            dmf.SoftwareModule(12, "app", "1.1", (artifact(files, "/cfg.txt", CONFIG),)))


def deployment(action_id: int, files: Files, **options) -> dmf.Deployment:
    return dmf.Deployment(action_id, security_token="tok", modules=modules(files), **options)


# --- connect and ping ----------------------------------------------------------------------------------------
def test_connect_announces_every_device_in_its_own_group(sqs, reply_url):
    devices = [Device("dev-1", name="Device one", attributes={"hw": "rev2"}, target_type="gw-kind"),
               Device("dev-2"), Device("dev-3")]
    gateway(sqs, reply_url, devices).connect()
    found = inbound()
    assert [m for _, _, m in found] == [
        dmf.ThingCreated(TENANT, "dev-1", reply_url, name="Device one", target_type="gw-kind",
                         attribute_update=dmf.AttributeUpdate({"hw": "rev2"}, dmf.UpdateMode.MERGE)),
        dmf.ThingCreated(TENANT, "dev-2", reply_url), dmf.ThingCreated(TENANT, "dev-3", reply_url)]
    assert [a["MessageGroupId"] for _, a, _ in found] == [f"{TENANT}/dev-1", f"{TENANT}/dev-2", f"{TENANT}/dev-3"]
    assert len({a["MessageDeduplicationId"] for _, a, _ in found}) == 3
    assert found[0][0]["sender"] == "dmf-gateway" and found[0][0]["content-type"] == "application/json"


def test_ping_and_its_response(sqs, reply_url):
    gw = gateway(sqs, reply_url)
    correlation = gw.ping("corr-1")
    [(_, _, ping)] = inbound()
    assert ping == dmf.Ping(TENANT, "corr-1", reply_url) and ping.answered
    command(reply_url, dmf.ping_response(TENANT, correlation, 1234567))
    assert gw.run_until(lambda: correlation in gw.pongs, timeout=5)
    assert gw.pongs == {"corr-1": 1234567}


# --- deployments ---------------------------------------------------------------------------------------------
def test_download_and_install_downloads_checks_and_reports_to_finished(sqs, reply_url, files, tmp_path):
    gw = gateway(sqs, reply_url, download_dir=str(tmp_path))
    command(reply_url, dmf.download_request(TENANT, "dev-2", deployment(41, files)))
    assert gw.poll() == 1
    found = inbound()
    assert statuses(found) == [("dev-2", 41, s) for s in ("DOWNLOAD", "DOWNLOADED", "RUNNING", "FINISHED")]
    assert {a["MessageGroupId"] for _, a, _ in found} == {f"{TENANT}/dev-2"}
    assert all(h["topic"] == "UPDATE_ACTION_STATUS" and h["thingId"] == "dev-2" for h, _, _ in found)
    finished = found[-1][2]
    assert finished.messages == ("Installed os 2.0, app 1.1 on dev-2.",)
    assert sorted(files.requests) == ["/cfg.txt", "/fw.bin"]
    assert (tmp_path / "dev-2" / "41" / "fw.bin").read_bytes() == FIRMWARE
    device = gw.devices["dev-2"]
    assert device.kinds() == ["DOWNLOAD_AND_INSTALL"]
    assert device.received[0].action_id == 41
    assert device.received[0].body["targetSecurityToken"] == "tok"
    assert [(d[1], d[2]) for d in device.downloaded] == [("fw.bin", len(FIRMWARE)), ("cfg.txt", len(CONFIG))]
    assert gw.devices["dev-1"].received == []


def test_download_only_stops_at_downloaded(sqs, reply_url, files):
    gw = gateway(sqs, reply_url)
    command(reply_url, dmf.download_request(TENANT, "dev-1", deployment(42, files, action_type="downloadonly")))
    gw.poll()
    assert statuses(inbound()) == [("dev-1", 42, "DOWNLOAD"), ("dev-1", 42, "DOWNLOADED")]
    assert gw.devices["dev-1"].kinds() == ["DOWNLOAD"]


@pytest.mark.parametrize("wrong, reason", [
    ({"sha1": "0" * 40}, f"Artifact fw.bin: sha1 {hashlib.sha1(FIRMWARE).hexdigest()}, expected {'0' * 40}."),
    ({"md5": "f" * 32}, f"Artifact fw.bin: md5 {hashlib.md5(FIRMWARE).hexdigest()}, expected {'f' * 32}."),
    ({"size": 3}, f"Artifact fw.bin: {len(FIRMWARE)} bytes, expected 3."),
    ({"urls": {"HTTP": "http://127.0.0.1:{port}/missing.bin"}}, "Artifact fw.bin: download failed: HTTP 404 Not Found."),
    ({"urls": {"FTP": "ftp://example.invalid/fw.bin"}}, "Artifact fw.bin: no HTTP(S) URL."),
])
def test_a_bad_artifact_ends_the_action_in_error_with_the_reason(sqs, reply_url, files, wrong, reason):
    if "urls" in wrong:
        wrong = {"urls": {k: v.format(port=files.server_address[1]) for k, v in wrong["urls"].items()}}
    gw = gateway(sqs, reply_url)
    command(reply_url, dmf.download_request(TENANT, "dev-1", dmf.Deployment(43, modules=modules(files, **wrong))))
    gw.poll()
    found = inbound()
    assert statuses(found) == [("dev-1", 43, "DOWNLOAD"), ("dev-1", 43, "ERROR")]
    assert found[-1][2].messages == (reason,)


def test_a_failed_installation_is_an_error_with_the_installers_messages(sqs, reply_url, files):
    gw = gateway(sqs, reply_url, install=lambda device, action_id, mods: Result(False, ["no space left"], 28))
    command(reply_url, dmf.download_request(TENANT, "dev-3", deployment(44, files)))
    gw.poll()
    found = inbound()
    assert statuses(found)[-2:] == [("dev-3", 44, "RUNNING"), ("dev-3", 44, "ERROR")]
    assert (found[-1][2].messages, found[-1][2].code) == (("no space left",), 28)


def test_a_command_seen_again_is_not_answered_twice(sqs, reply_url, files):
    gw = gateway(sqs, reply_url)
    message = dmf.download_request(TENANT, "dev-1", deployment(45, files))
    command(reply_url, message)
    gw.poll()
    command(reply_url, dmf.Message(message.headers, message.body + " "))  # the same command, sent again
    gw.poll()
    assert [s for _, _, s in statuses(inbound())] == ["DOWNLOAD", "DOWNLOADED", "RUNNING", "FINISHED"]
    assert gw.devices["dev-1"].kinds() == ["DOWNLOAD_AND_INSTALL"] * 2


# --- confirm, cancel -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("confirm, answer", [(True, "CONFIRMED"), (False, "DENIED"),
                                             (lambda device, action_id, body: device.thing_id == "dev-1",
                                              "CONFIRMED")])
def test_confirm_is_answered_confirmed_or_denied(sqs, reply_url, files, confirm, answer):
    gw = gateway(sqs, reply_url, confirm=confirm)
    command(reply_url, dmf.download_request(TENANT, "dev-1", deployment(46, files, waiting_confirmation=True)))
    gw.poll()
    [(_, _, status)] = inbound()
    assert (status.action_id, status.status.value) == (46, answer)
    assert status.messages == (f"dev-1 {answer.lower()} the update.",)
    assert files.requests == []


@pytest.mark.parametrize("accept, answer", [(True, "CANCELED"), (False, "CANCEL_REJECTED")])
def test_cancel_download_is_answered_canceled_or_rejected(sqs, reply_url, accept, answer):
    gw = gateway(sqs, reply_url, accept_cancel=accept)
    command(reply_url, dmf.cancel_download(TENANT, "dev-2", 47))
    gw.poll()
    assert statuses(inbound()) == [("dev-2", 47, answer)]
    assert gw.devices["dev-2"].kinds() == ["CANCEL_DOWNLOAD"]


def test_multi_action_answers_each_element_by_its_topic(sqs, reply_url, files):
    gw = gateway(sqs, reply_url)
    command(reply_url, dmf.multi_action(TENANT, "dev-1", [
        dmf.Deployment(50, canceling=True, weight=900), deployment(51, files, weight=800),
        deployment(52, files, waiting_confirmation=True, weight=700),
        deployment(53, files, action_type="downloadonly", weight=600)]))
    gw.poll()
    assert [(a, s) for _, a, s in statuses(inbound())] == [
        (50, "CANCELED"), (51, "DOWNLOAD"), (51, "DOWNLOADED"), (51, "RUNNING"), (51, "FINISHED"),
        (52, "CONFIRMED"), (53, "DOWNLOAD"), (53, "DOWNLOADED")]
    assert gw.devices["dev-1"].kinds() == ["MULTI_ACTION"]


def test_a_batch_is_downloaded_once_and_answered_for_each_of_the_gateways_things(sqs, reply_url, files):
    gw = gateway(sqs, reply_url)
    command(reply_url, dmf.batch_download(TENANT, [dmf.BatchTarget(61, "dev-1", "t1"),
                                                   dmf.BatchTarget(62, "someone-elses", "t2"),
                                                   dmf.BatchTarget(63, "dev-3", "t3")],
                                          modules(files), "forced", None, 1000))
    gw.poll()
    found = statuses(inbound())
    assert [s for s in found if s[0] == "dev-1"] == [("dev-1", 61, s) for s in
                                                     ("DOWNLOAD", "DOWNLOADED", "RUNNING", "FINISHED")]
    assert [s for s in found if s[0] == "dev-3"] == [("dev-3", 63, s) for s in
                                                     ("DOWNLOAD", "DOWNLOADED", "RUNNING", "FINISHED")]
    assert {s[0] for s in found} == {"dev-1", "dev-3"}
    assert sorted(files.requests) == ["/cfg.txt", "/fw.bin"]  # once for the batch
    assert gw.devices["dev-3"].kinds() == ["BATCH_DOWNLOAD_AND_INSTALL"]
    assert gw.devices["dev-2"].received == []
    command(reply_url, dmf.batch_download(TENANT, [dmf.BatchTarget(64, "dev-2")], modules(files), "downloadonly",
                                          None, 2000))
    gw.poll()
    assert statuses(inbound()) == [("dev-2", 64, "DOWNLOAD"), ("dev-2", 64, "DOWNLOADED")]


# --- attributes and deletion ---------------------------------------------------------------------------------
def test_request_attributes_update_is_answered_with_the_attributes(sqs, reply_url):
    gw = gateway(sqs, reply_url, [Device("dev-1", attributes={"hw": "rev2", "fw": "1.0"})])
    command(reply_url, dmf.request_attributes_update(TENANT, "dev-1"))
    gw.poll()
    [(headers, _, message)] = inbound()
    assert message == dmf.AttributesUpdated(TENANT, "dev-1", dmf.AttributeUpdate({"hw": "rev2", "fw": "1.0"}))
    assert headers["topic"] == "UPDATE_ATTRIBUTES"


def test_thing_deleted_forgets_the_device(sqs, reply_url, files):
    gw = gateway(sqs, reply_url)
    device = gw.devices["dev-2"]
    command(reply_url, dmf.thing_deleted(TENANT, "dev-2"))
    command(reply_url, dmf.download_request(TENANT, "dev-2", deployment(70, files)))
    gw.poll()
    assert "dev-2" not in gw.devices and gw.forgotten == ["dev-2"]
    assert device.kinds() == ["THING_DELETED"]
    assert [r.kind for r in gw.unhandled] == ["DOWNLOAD_AND_INSTALL"]
    assert inbound() == []
    gw.connect()
    assert {m.thing_id for _, _, m in inbound()} == {"dev-1", "dev-3"}


# --- against skyhawk's consumer ------------------------------------------------------------------------------
def drain() -> dict[str, int]:
    from app import app
    from infra import launcher
    return launcher.drain_dmf(app)


def test_the_gateway_through_skyhawks_consumer(client, sqs, reply_url, files):
    """The gateway's messages as skyhawk applies them: its things become targets addressed to its reply queue,
    its ping is answered, and its answers to a (test-rendered) DOWNLOAD_AND_INSTALL install the assigned set."""
    steps.put_config(client, "dmf.enabled", True)
    things = [f"gw-thing-{i}" for i in range(4)]
    gw = gateway(sqs, reply_url, [Device(t, name=t.upper(), attributes={"fw": "1.0"}) for t in things])
    gw.connect()
    correlation = gw.ping()
    assert drain()["applied"] == 5
    for thing in things:
        target = steps.target(client, thing)
        assert (target["name"], target["address"], target["updateStatus"]) == (thing.upper(), reply_url, "registered")
        attributes = steps.body_of(client.http.get(f"/rest/v1/targets/{thing}/attributes", headers=ADMIN))
        assert attributes == {"fw": "1.0"}
    assert gw.run_until(lambda: correlation in gw.pongs, timeout=5)

    ds_id, sm_id = steps.release(client, data=FIRMWARE, filename="fw.bin")
    [action] = steps.assign(client, ds_id, things[0])["assignedActions"]
    module = dmf.SoftwareModule(sm_id, "os", "1.0", (artifact(files, "/fw.bin", FIRMWARE),))
    command(reply_url, dmf.download_request(TENANT, things[0], dmf.Deployment(action["id"], modules=(module,))))
    gw.poll()
    assert drain()["applied"] == 4
    assert steps.action(client, things[0], action["id"])["status"] == "finished"
    assert steps.target(client, things[0])["updateStatus"] == "in_sync"
    history = [e["type"] for e in steps.history(client, things[0], action["id"])]
    assert {"download", "downloaded", "running", "finished"} <= set(history)
