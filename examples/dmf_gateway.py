"""A reference DMF client: a simulated gateway that federates N devices with skyhawk over SQS.

hawkBit's Device Management Federation (DMF) carried over SQS, as skyhawk expects it (skyhawk's README, section
"Device Management Federation", and docs/dmf-hawkbit.md): a DMF message is an SQS message whose body is the DMF
body (JSON, or " " when there is none: SQS refuses an empty body) and whose String message attributes are the DMF
headers `type`, `tenant`, `thingId`, `topic`, `content-type`, `sender`, plus `replyTo` and `correlationId` for
AMQP's two message properties. The gateway

- sends to skyhawk's inbound FIFO queue: `THING_CREATED` for each device (its reply queue, name, attributes),
  `UPDATE_ACTION_STATUS`, `UPDATE_ATTRIBUTES`, `PING`; each with MessageGroupId `<tenant>/<thingId>` (a thing's
  messages are applied in order) and a MessageDeduplicationId of its own;
- receives from its reply queue what skyhawk sends about its devices and answers as a device would:
  `DOWNLOAD_AND_INSTALL` / `DOWNLOAD`: download every artifact through its signed URL, check size, SHA-1 and MD5,
  report DOWNLOAD, DOWNLOADED (a `DOWNLOAD` stops there), RUNNING, FINISHED, or ERROR with the reason;
  `CONFIRM`: CONFIRMED (or DENIED); `CANCEL_DOWNLOAD`: CANCELED (or CANCEL_REJECTED); `MULTI_ACTION`: each element
  by its topic; `BATCH_DOWNLOAD(_AND_INSTALL)`: the same for each of its devices in the batch;
  `REQUEST_ATTRIBUTES_UPDATE`: UPDATE_ATTRIBUTES; `THING_DELETED`: the device is forgotten; `PING_RESPONSE`: noted.

It needs boto3 and the standard library only, and imports nothing of skyhawk: copy it and adapt `install` (what
"installing" means for your devices) and `confirm` (whether a device consents to an update).

    python -m examples.dmf_gateway --queue-url <inbound queue URL> --reply-queue my-gateway.fifo \\
        --create-reply-queue --tenant DEFAULT --devices 10

Every message is handled at least once (SQS): a command seen again for an action already answered (a redelivery,
or skyhawk resending a thing's current command) is not answered twice.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

log = logging.getLogger("dmf_gateway")

# DMF's header names (hawkBit's MessageHeaderKey) and the two AMQP properties, as SQS message attributes.
TYPE, TENANT, THING_ID, TOPIC, CONTENT_TYPE, SENDER = "type", "tenant", "thingId", "topic", "content-type", "sender"
REPLY_TO, CORRELATION_ID = "replyTo", "correlationId"
JSON = "application/json"
DOWNLOAD_TOPICS = ("DOWNLOAD_AND_INSTALL", "DOWNLOAD")
BATCH_TOPICS = {"BATCH_DOWNLOAD_AND_INSTALL": "DOWNLOAD_AND_INSTALL", "BATCH_DOWNLOAD": "DOWNLOAD"}
URL_PREFERENCE = ("HTTPS", "HTTP")
CHUNK = 64 * 1024


@dataclass
class Received:
    """One message skyhawk sent about a device: its type (EVENT's topic, else the type) and body."""
    kind: str
    headers: dict[str, str]
    body: Any  # the parsed JSON, or the text when it is not JSON, None when empty
    action_id: int | None = None


@dataclass
class Device:
    """A simulated device behind the gateway, and what happened to it (for tests and logs)."""
    thing_id: str
    name: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    target_type: str | None = None  # a target type's name in skyhawk
    received: list[Received] = field(default_factory=list)
    reported: list[tuple[int, str]] = field(default_factory=list)  # (actionId, status) as sent
    downloaded: list[tuple[int, str, int, str]] = field(default_factory=list)  # (actionId, filename, size, sha1)
    answered: set[tuple[int, str]] = field(default_factory=set)  # (actionId, topic) already answered

    def kinds(self) -> list[str]:
        return [r.kind for r in self.received]

    def statuses(self, action_id: int) -> list[str]:
        return [status for aid, status in self.reported if aid == action_id]


class ArtifactError(Exception):
    """An artifact could not be downloaded or is not what the message said."""


@dataclass
class Result:
    """What an installation did: ok, and the messages for the action's history."""
    ok: bool = True
    messages: list[str] = field(default_factory=list)
    code: int | None = None


Install = Callable[[Device, int, Sequence[Mapping[str, Any]]], Result]
Confirm = Callable[[Device, int, Mapping[str, Any]], bool]


def _installed(device: Device, action_id: int, modules: Sequence[Mapping[str, Any]]) -> Result:
    names = ", ".join(f"{m.get('moduleType')} {m.get('moduleVersion')}" for m in modules)
    return Result(True, [f"Installed {names or 'nothing'} on {device.thing_id}."])


class Gateway:
    """A DMF client for `devices` (thing ids, or Device) of `tenant`.

    `sqs` is a boto3 SQS client; `inbound_queue_url` is skyhawk's inbound FIFO queue, `reply_queue_url` the
    gateway's own queue (given to skyhawk as each thing's `replyTo`: skyhawk stores it as the target's address).
    `install(device, actionId, modules)` says how an installation went (default: it succeeds); `confirm(device,
    actionId, body)` whether a device consents to an update waiting for confirmation (default: yes), or a bool;
    `accept_cancel` whether a cancel is accepted (CANCELED) or rejected (CANCEL_REJECTED). With `download_dir`,
    artifacts are kept as `<dir>/<thingId>/<actionId>/<filename>`; without it they are only checked.
    """

    def __init__(self, sqs: Any, inbound_queue_url: str, reply_queue_url: str, tenant: str,
                 devices: Iterable[str | Device] = (), *, sender: str = "dmf-gateway",
                 install: Install = _installed, confirm: Confirm | bool = True, accept_cancel: bool = True,
                 download_dir: str | None = None, http_timeout: float = 60.0) -> None:
        self.sqs = sqs
        self.inbound_queue_url = inbound_queue_url
        self.reply_queue_url = reply_queue_url
        self.tenant = tenant
        self.sender = sender
        self.devices: dict[str, Device] = {}
        for device in devices:
            self.add(device)
        self.install = install
        self.confirm = confirm
        self.accept_cancel = accept_cancel
        self.download_dir = download_dir
        self.http_timeout = http_timeout
        self.forgotten: list[str] = []  # things skyhawk deleted (THING_DELETED)
        self.pongs: dict[str, int] = {}  # correlation id -> the server's time (ms) of its PING_RESPONSE
        self.unhandled: list[Received] = []  # messages about no device of this gateway, or of unknown kind
        self.sent = 0

    def add(self, device: str | Device) -> Device:
        found = device if isinstance(device, Device) else Device(device)
        self.devices[found.thing_id] = found
        return found

    # --- sending ---------------------------------------------------------------------------------------------
    def send(self, headers: Mapping[str, str], body: Any = None, group: str | None = None) -> str:
        """One DMF message to the inbound queue; `body` a JSON-able value, a text, or None for none."""
        text = body if isinstance(body, str) else "" if body is None else json.dumps(body)
        all_headers = {TENANT: self.tenant, SENDER: self.sender, **headers}
        params: dict[str, Any] = {
            "QueueUrl": self.inbound_queue_url, "MessageBody": text or " ",
            "MessageAttributes": {name: {"DataType": "String", "StringValue": str(value)}
                                  for name, value in all_headers.items() if value not in (None, "")}}
        if self.inbound_queue_url.endswith(".fifo"):
            params["MessageGroupId"] = group or f"{self.tenant}/{all_headers.get(THING_ID) or self.sender}"
            params["MessageDeduplicationId"] = uuid.uuid4().hex
        answer = self.sqs.send_message(**params)
        self.sent += 1
        return answer["MessageId"]

    def connect(self) -> None:
        """THING_CREATED for every device: skyhawk registers it (or refreshes it) with this gateway's reply
        queue as its address, and (once its outbound side sends) answers with the thing's current command."""
        for device in list(self.devices.values()):
            self.thing_created(device)

    def thing_created(self, device: Device) -> None:
        body: dict[str, Any] = {}
        if device.name:
            body["name"] = device.name
        if device.target_type is not None:
            body["type"] = device.target_type
        if device.attributes:
            body["attributeUpdate"] = {"attributes": dict(device.attributes), "mode": "MERGE"}
        self.send({TYPE: "THING_CREATED", THING_ID: device.thing_id, REPLY_TO: self.reply_queue_url,
                   CONTENT_TYPE: JSON}, body or None)

    def thing_removed(self, thing_id: str) -> None:
        """THING_REMOVED: skyhawk deletes the target; the gateway forgets the device."""
        self.send({TYPE: "THING_REMOVED", THING_ID: thing_id})
        self.devices.pop(thing_id, None)

    def update_attributes(self, device: Device, attributes: Mapping[str, str] | None = None,
                          mode: str = "MERGE") -> None:
        self.send(_event("UPDATE_ATTRIBUTES", device.thing_id),
                  {"attributes": dict(device.attributes if attributes is None else attributes), "mode": mode})

    def status(self, device: Device, action_id: int, status: str, messages: Sequence[str] = (),
               code: int | None = None) -> None:
        """UPDATE_ACTION_STATUS, with the thingId header (skyhawk then finds the action as that thing's)."""
        body: dict[str, Any] = {"actionId": action_id, "actionStatus": status}
        if messages:
            body["message"] = list(messages)
        if code is not None:
            body["code"] = code
        self.send(_event("UPDATE_ACTION_STATUS", device.thing_id), body)
        device.reported.append((action_id, status))
        log.info("%s action %s: %s %s", device.thing_id, action_id, status, " ".join(messages))

    def ping(self, correlation_id: str | None = None) -> str:
        """PING with a correlation id; its PING_RESPONSE lands in `pongs` once polled."""
        correlation_id = correlation_id or uuid.uuid4().hex
        self.send({TYPE: "PING", REPLY_TO: self.reply_queue_url, CORRELATION_ID: correlation_id},
                  group=f"{self.tenant}/{self.sender}")
        return correlation_id

    # --- receiving ---------------------------------------------------------------------------------------------
    def poll(self, wait_seconds: int = 0, max_messages: int = 10) -> int:
        """Receive once from the reply queue and react to each message in order; the number handled. A message is
        deleted once handled; one whose answer could not be sent (an SQS error) stays, and comes back."""
        answer = self.sqs.receive_message(QueueUrl=self.reply_queue_url, MaxNumberOfMessages=max_messages,
                                          WaitTimeSeconds=wait_seconds, MessageAttributeNames=["All"])
        messages = answer.get("Messages", [])
        for message in messages:
            self.handle(_headers_of(message.get("MessageAttributes")), message.get("Body") or "")
            self.sqs.delete_message(QueueUrl=self.reply_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def run_until(self, done: Callable[[], Any], timeout: float = 30.0, wait_seconds: int = 0,
                  idle: float = 0.1) -> bool:
        """Poll until `done()` is true (checked after each poll) or `timeout` seconds passed: whether it was."""
        deadline = time.monotonic() + timeout
        while True:
            handled = self.poll(wait_seconds)
            if done():
                return True
            if time.monotonic() > deadline:
                return False
            if not handled and idle:
                time.sleep(idle)

    def run_forever(self, wait_seconds: int = 10) -> None:
        while True:
            self.poll(wait_seconds)

    def handle(self, headers: Mapping[str, str], text: str) -> None:
        """React to one message from skyhawk."""
        kind = headers.get(TOPIC) if headers.get(TYPE) == "EVENT" else headers.get(TYPE)
        body = _json_or_text(text)
        action_id = body.get("actionId") if isinstance(body, dict) else None
        received = Received(kind or "", dict(headers), body, action_id)
        if kind == "PING_RESPONSE":
            self.pongs[headers.get(CORRELATION_ID, "")] = int(text) if text.strip().isdigit() else 0
            return
        if kind in BATCH_TOPICS:
            self._batch(received)
            return
        device = self.devices.get(headers.get(THING_ID, ""))
        if device is None:
            log.warning("%s for no device of this gateway (%s)", kind, headers.get(THING_ID))
            self.unhandled.append(received)
            return
        device.received.append(received)
        if kind == "THING_DELETED":
            self.devices.pop(device.thing_id, None)
            self.forgotten.append(device.thing_id)
        elif kind == "REQUEST_ATTRIBUTES_UPDATE":
            self.update_attributes(device)
        elif kind == "MULTI_ACTION":
            for element in body if isinstance(body, list) else []:
                self._command(device, element.get("topic"), element.get("action") or {})
        elif kind in DOWNLOAD_TOPICS or kind in ("CONFIRM", "CANCEL_DOWNLOAD"):
            self._command(device, kind, body if isinstance(body, dict) else {})
        else:
            log.warning("%s: nothing to do for %s", device.thing_id, kind)
            self.unhandled.append(received)

    def _command(self, device: Device, topic: str | None, action: Mapping[str, Any]) -> None:
        action_id = action.get("actionId")
        if not isinstance(action_id, int) or topic is None:
            log.warning("%s: %s without actionId", device.thing_id, topic)
            return
        if (action_id, topic) in device.answered:  # a redelivery, or the current command sent again
            return
        device.answered.add((action_id, topic))
        try:
            self._answer(device, topic, action_id, action)
        except Exception:
            device.answered.discard((action_id, topic))  # not answered: answered when the message comes back
            raise

    def _answer(self, device: Device, topic: str, action_id: int, action: Mapping[str, Any]) -> None:
        if topic in DOWNLOAD_TOPICS:
            self._deploy([device], {device.thing_id: action_id}, topic, action.get("softwareModules") or [])
        elif topic == "CONFIRM":
            agreed = self.confirm(device, action_id, action) if callable(self.confirm) else bool(self.confirm)
            self.status(device, action_id, "CONFIRMED" if agreed else "DENIED",
                        [f"{device.thing_id} {'confirmed' if agreed else 'denied'} the update."])
            if not agreed:  # a later CONFIRM of the same action is answered again
                device.answered.discard((action_id, topic))
        elif topic == "CANCEL_DOWNLOAD":
            if self.accept_cancel:
                self.status(device, action_id, "CANCELED", ["Canceled by the device."])
            else:
                self.status(device, action_id, "CANCEL_REJECTED", ["The device cannot cancel now."])
        else:
            log.warning("%s: unknown command %s", device.thing_id, topic)

    def _batch(self, received: Received) -> None:
        """One message for several things (same modules): the gateway's own devices each get the command."""
        body = received.body if isinstance(received.body, dict) else {}
        topic = BATCH_TOPICS[received.kind]
        mine: list[Device] = []
        actions: dict[str, int] = {}
        for target in body.get("targets") or []:
            device = self.devices.get(target.get("controllerId", ""))
            action_id = target.get("actionId")
            if device is None or not isinstance(action_id, int):
                continue
            device.received.append(Received(received.kind, received.headers, body, action_id))
            if (action_id, topic) not in device.answered:
                device.answered.add((action_id, topic))
                mine.append(device)
                actions[device.thing_id] = action_id
        if not mine:
            self.unhandled.append(received)
            return
        try:
            self._deploy(mine, actions, topic, body.get("softwareModules") or [])
        except Exception:
            for device in mine:  # not answered: answered when the message comes back
                device.answered.discard((actions[device.thing_id], topic))
            raise

    def _deploy(self, devices: Sequence[Device], actions: Mapping[str, int], topic: str,
                modules: Sequence[Mapping[str, Any]]) -> None:
        """Download (once for all `devices`: a batch shares its modules), then install unless download-only."""
        artifacts = [a for m in modules for a in m.get("artifacts") or []]
        for device in devices:
            self.status(device, actions[device.thing_id], "DOWNLOAD",
                        [f"Downloading {len(artifacts)} artifact(s)."])
        try:
            files = [self._download(a, os.path.join(devices[0].thing_id, str(actions[devices[0].thing_id])))
                     for a in artifacts]
        except ArtifactError as exc:
            for device in devices:
                self.status(device, actions[device.thing_id], "ERROR", [str(exc)])
            return
        for device in devices:
            action_id = actions[device.thing_id]
            device.downloaded += [(action_id, *f) for f in files]
            self.status(device, action_id, "DOWNLOADED", [f"Downloaded and verified {len(files)} artifact(s)."])
            if topic == "DOWNLOAD":
                continue
            self.status(device, action_id, "RUNNING", ["Installing."])
            result = self.install(device, action_id, modules)
            self.status(device, action_id, "FINISHED" if result.ok else "ERROR", result.messages, result.code)

    def _download(self, artifact: Mapping[str, Any], where: str) -> tuple[str, int, str]:
        """Fetch one artifact through its signed URL, check its size, SHA-1 and MD5: (filename, size, sha1)."""
        filename = os.path.basename(str(artifact.get("filename") or "artifact"))
        urls = artifact.get("urls") or {}
        url = next((urls[p] for p in URL_PREFERENCE if urls.get(p)), None)
        if url is None:
            raise ArtifactError(f"Artifact {filename}: no HTTP(S) URL.")
        sha1, md5, size = hashlib.sha1(), hashlib.md5(), 0
        out = None
        if self.download_dir:
            os.makedirs(os.path.join(self.download_dir, where), exist_ok=True)
            out = open(os.path.join(self.download_dir, where, filename), "wb")
        try:
            with urllib.request.urlopen(url, timeout=self.http_timeout) as response:
                while chunk := response.read(CHUNK):
                    sha1.update(chunk)
                    md5.update(chunk)
                    size += len(chunk)
                    if out is not None:
                        out.write(chunk)
        except urllib.error.HTTPError as exc:
            raise ArtifactError(f"Artifact {filename}: download failed: HTTP {exc.code} {exc.reason}.") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ArtifactError(f"Artifact {filename}: download failed: {exc}.") from exc
        finally:
            if out is not None:
                out.close()
        hashes = artifact.get("hashes") or {}
        expected_size = artifact.get("size")
        if expected_size is not None and size != expected_size:
            raise ArtifactError(f"Artifact {filename}: {size} bytes, expected {expected_size}.")
        for name, digest in (("sha1", sha1), ("md5", md5)):
            if hashes.get(name) and hashes[name].lower() != digest.hexdigest():
                raise ArtifactError(f"Artifact {filename}: {name} {digest.hexdigest()}, expected {hashes[name]}.")
        return filename, size, sha1.hexdigest()


def _event(topic: str, thing_id: str) -> dict[str, str]:
    return {TYPE: "EVENT", TOPIC: topic, THING_ID: thing_id, CONTENT_TYPE: JSON}


def _headers_of(attributes: Mapping[str, Any] | None) -> dict[str, str]:
    return {name: value["StringValue"] for name, value in (attributes or {}).items()
            if isinstance(value, Mapping) and isinstance(value.get("StringValue"), str)}


def _json_or_text(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- command line ------------------------------------------------------------------------------------------------
def queue_url(sqs: Any, queue: str, create: bool = False) -> str:
    """A queue's URL from its URL or name; `create` makes it first (FIFO when the name ends with .fifo)."""
    if queue.startswith(("https://", "http://")):
        return queue
    if create:
        attributes = {"FifoQueue": "true"} if queue.endswith(".fifo") else {}
        return sqs.create_queue(QueueName=queue, Attributes=attributes)["QueueUrl"]
    return sqs.get_queue_url(QueueName=queue)["QueueUrl"]


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m examples.dmf_gateway", description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue-url", required=True, help="skyhawk's DMF inbound queue (URL or name)")
    parser.add_argument("--reply-queue", required=True, help="this gateway's queue (URL or name), the replyTo")
    parser.add_argument("--create-reply-queue", action="store_true", help="create the reply queue first")
    parser.add_argument("--tenant", default="DEFAULT")
    parser.add_argument("--devices", type=int, default=10, help="how many simulated devices")
    parser.add_argument("--prefix", default="dmf-device-", help="the devices' thing ids: <prefix><n>")
    parser.add_argument("--deny", action="store_true", help="devices deny updates waiting for confirmation")
    parser.add_argument("--reject-cancel", action="store_true", help="devices reject cancels")
    parser.add_argument("--download-dir", help="keep the downloaded artifacts here (else only check them)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: never)")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"),
                        help="SQS endpoint, e.g. http://127.0.0.1:4566 for `make run` (default: AWS)")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)

    sqs = boto3.client("sqs", endpoint_url=args.endpoint_url, region_name=args.region)
    devices = [Device(f"{args.prefix}{n}", name=f"Simulated device {n}", attributes={"simulated": "true"})
               for n in range(1, args.devices + 1)]
    gateway = Gateway(sqs, queue_url(sqs, args.queue_url), queue_url(sqs, args.reply_queue, args.create_reply_queue),
                      args.tenant, devices, confirm=not args.deny, accept_cancel=not args.reject_cancel,
                      download_dir=args.download_dir)
    gateway.connect()
    correlation = gateway.ping()
    log.info("%d things announced to %s, replies on %s", len(devices), gateway.inbound_queue_url,
             gateway.reply_queue_url)
    try:
        if args.seconds:
            gateway.run_until(lambda: False, timeout=args.seconds, wait_seconds=1)
        else:
            gateway.run_forever()
    except KeyboardInterrupt:
        pass
    log.info("PING %s", "answered" if correlation in gateway.pongs else "not answered (is dmf.enabled on?)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
