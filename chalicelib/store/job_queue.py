"""The scheduled jobs' work queue (SQS): where the jobs' units of work wait for the worker function.

The queue is named (or given by URL) in the settings (`SKYHAWK_JOBS_QUEUE`): deployed, the package's merge
template creates it with its dead-letter queue (infra/jobs-queue.json); locally and in tests `ensure()` creates
the same pair in moto. Bodies are JSON objects; the worker's side of the queue is Lambda's event source mapping
(or the launcher's drain, which uses `receive` and `delete`).
"""

from __future__ import annotations

import functools
import json
from typing import Any, Iterable

from chalicelib import config, errors
from chalicelib.store import aws

BATCH = 10  # SendMessageBatch and ReceiveMessage take at most 10
# A message is seen this often before it goes to the dead-letter queue (each failure waits out the visibility).
MAX_RECEIVES = 5
# At least the worker function's timeout (30 s), as Lambda's event source mapping requires; six times it,
# as AWS advises, so a batch retried by Lambda itself is not handed out twice meanwhile.
VISIBILITY_SECONDS = 180
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600


def _sqs() -> Any:
    return aws.client("sqs")


@functools.lru_cache(maxsize=4)
def _url(queue: str) -> str:
    if queue.startswith(("https://", "http://")):
        return queue
    return _sqs().get_queue_url(QueueName=queue)["QueueUrl"]


def url() -> str:
    return _url(config.settings().jobs_queue)


def reset() -> None:
    _url.cache_clear()


def send(bodies: Iterable[dict[str, Any]]) -> int:
    """Enqueue the bodies, ten to a call; returns how many. A refused entry is an error (its work would be lost)."""
    return send_raw(json.dumps(body, separators=(",", ":")) for body in bodies)


def send_raw(texts: Iterable[str]) -> int:
    """Enqueue message bodies as they are (a message handed on unread)."""
    texts = list(texts)
    for start in range(0, len(texts), BATCH):
        chunk = texts[start : start + BATCH]
        answer = _sqs().send_message_batch(
            QueueUrl=url(), Entries=[{"Id": str(i), "MessageBody": text} for i, text in enumerate(chunk)]
        )
        if answer.get("Failed"):
            raise errors.ServiceUnavailable(f"jobs queue refused {len(answer['Failed'])} message(s)")
    return len(texts)


def receive(max_messages: int = BATCH, wait_seconds: int = 0) -> list[dict[str, Any]]:
    """Messages as SQS hands them out (MessageId, ReceiptHandle, Body, Attributes): the local drain's side."""
    answer = _sqs().receive_message(
        QueueUrl=url(), MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds, AttributeNames=["All"]
    )
    return answer.get("Messages", [])


def delete(receipt_handles: Iterable[str]) -> None:
    handles = list(receipt_handles)
    for start in range(0, len(handles), BATCH):
        _sqs().delete_message_batch(
            QueueUrl=url(),
            Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles[start : start + BATCH])],
        )


def ensure() -> str:
    """Create the queue and its dead-letter queue if missing (local runs and tests); returns the queue URL."""
    name = config.settings().jobs_queue
    if name.startswith(("https://", "http://")):
        return name
    sqs = _sqs()
    dead = sqs.create_queue(
        QueueName=f"{name}-dead-letter", Attributes={"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS)}
    )["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
        },
    )
    reset()
    return url()


def dead_letter_url() -> str:
    return _url(f"{config.settings().jobs_queue}-dead-letter")
