"""The DMF queues (SQS, docs/dmf-hawkbit.md §9): the one inbound FIFO queue, its dead-letter queue, and the
clients' reply queues.

A DMF message is an SQS message whose body is the DMF body and whose String message attributes are the DMF
headers (`type`, `tenant`, `thingId`, `topic`, `content-type`, `sender`, `replyTo`, `correlationId`). The inbound
queue is FIFO: a thing's messages keep their order (MessageGroupId `<tenant>/<thingId>`); content-based
deduplication stays off (two things' empty THING_CREATED bodies are equal), so senders give a deduplication id.

The queues are named (or given by URL) in the settings (`SKYHAWK_DMF_QUEUE`, `SKYHAWK_DMF_DEAD_LETTER_QUEUE`):
deployed, the package's merge template creates them (infra/dmf-queue.json); locally and in tests `ensure()`
creates the same pair in moto. A reply queue is what a client names in THING_CREATED's `replyTo`: a queue name in
this account and region, or a queue URL (another account's queue, which grants skyhawk sqs:SendMessage).
"""

from __future__ import annotations

import functools
import json
from typing import Any, Iterable, Mapping

from chalicelib import config, errors, faults
from chalicelib.store import aws

BATCH = 10
MAX_RECEIVES = 5  # a failure that may pass (throttling, a lost race) is retried this often, then dead-lettered
VISIBILITY_SECONDS = 180  # six times the consumer's 30 s, as for the jobs queue (store/job_queue.py)
RETENTION_SECONDS = 4 * 24 * 3600  # SQS's default: also how long a status message's idempotency marker lives
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum (hawkBit keeps 3 weeks)
FIFO = ".fifo"
# The refusal travels with a dead-lettered message as two more attributes (SQS allows 10; DMF uses at most 8).
ERROR_CODE, ERROR_MESSAGE = "errorCode", "errorMessage"


def _sqs() -> Any:
    return aws.client("sqs")


def _is_url(queue: str) -> bool:
    return queue.startswith(("https://", "http://"))


@functools.lru_cache(maxsize=256)
def _url(queue: str) -> str:
    if _is_url(queue):
        return queue
    return _sqs().get_queue_url(QueueName=queue)["QueueUrl"]


def reset() -> None:
    _url.cache_clear()


def _dead_letter_name() -> str:
    settings = config.settings()
    if settings.dmf_dead_letter_queue:
        return settings.dmf_dead_letter_queue
    name = settings.dmf_queue
    base = name[: -len(FIFO)] if name.endswith(FIFO) else name
    return f"{base}-dead-letter{FIFO}"


def url() -> str:
    return _url(config.settings().dmf_queue)


def dead_letter_url() -> str:
    return _url(_dead_letter_name())


def ensure() -> str:
    """Create the inbound FIFO queue and its FIFO dead-letter queue if missing (local runs and tests)."""
    name = config.settings().dmf_queue
    if _is_url(name):
        return name
    sqs = _sqs()
    dead = sqs.create_queue(
        QueueName=_dead_letter_name(),
        Attributes={"FifoQueue": "true", "MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS)},
    )["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(
        QueueName=name,
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "false",
            "VisibilityTimeout": str(VISIBILITY_SECONDS),
            "MessageRetentionPeriod": str(RETENTION_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
        },
    )
    reset()
    return url()


def attributes(headers: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """DMF headers as SQS message attributes (empty values left out: SQS refuses them)."""
    return {name: {"DataType": "String", "StringValue": value} for name, value in headers.items() if value}


def headers_of(message_attributes: Mapping[str, Any] | None) -> dict[str, str]:
    """The DMF headers of a message, from SQS's attributes as ReceiveMessage (`StringValue`) or Lambda's event
    (`stringValue`) gives them."""
    found = {}
    for name, value in (message_attributes or {}).items():
        text = value.get("StringValue", value.get("stringValue")) if isinstance(value, Mapping) else None
        if isinstance(text, str):
            found[name] = text
    return found


def send(
    queue_url: str,
    headers: Mapping[str, str],
    body: str,
    group_id: str | None = None,
    deduplication_id: str | None = None,
) -> str:
    """Send one DMF message; a FIFO queue gets the group and deduplication ids. Returns the MessageId."""
    params: dict[str, Any] = {
        "QueueUrl": queue_url,
        "MessageBody": body or " ",
        "MessageAttributes": attributes(headers),
    }
    if queue_url.endswith(FIFO):
        params["MessageGroupId"] = group_id or "dmf"
        if deduplication_id:
            params["MessageDeduplicationId"] = deduplication_id[:128]
    try:
        return _sqs().send_message(**params)["MessageId"]
    except Exception as exc:
        if faults.unavailable(exc):
            raise errors.ServiceUnavailable(f"SQS refused a DMF message: {faults.describe(exc)}") from exc
        raise


def reply_queue_url(reply_to: str) -> str | None:
    """The URL of a client's reply queue (a URL as it is, a name looked up in the account), None when no queue
    of that name exists."""
    if _is_url(reply_to):
        return reply_to
    try:
        return _url(reply_to)
    except Exception as exc:
        if "NonExistentQueue" in str(exc) or "QueueDoesNotExist" in str(exc):
            return None
        raise


def dead_letter(
    message_body: str,
    headers: Mapping[str, str],
    group_id: str | None,
    message_id: str,
    error_code: str,
    error_message: str,
) -> None:
    """Hand a refused message to the dead-letter queue as it came, with the refusal as two more attributes."""
    send(
        dead_letter_url(),
        {**headers, ERROR_CODE: error_code, ERROR_MESSAGE: error_message[:1024]},
        message_body,
        group_id=group_id or "refused",
        deduplication_id=message_id,
    )


def receive(max_messages: int = BATCH, queue_url: str | None = None) -> list[dict[str, Any]]:
    """Messages as SQS hands them out, with their attributes: the local drain's side and the tests'."""
    answer = _sqs().receive_message(
        QueueUrl=queue_url or url(),
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return answer.get("Messages", [])


def delete(receipt_handles: Iterable[str], queue_url: str | None = None) -> None:
    handles = list(receipt_handles)
    for start in range(0, len(handles), BATCH):
        _sqs().delete_message_batch(
            QueueUrl=queue_url or url(),
            Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles[start : start + BATCH])],
        )
