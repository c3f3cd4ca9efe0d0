"""The DMF inbound consumer: a batch of SQS records from the inbound FIFO queue (docs/dmf-hawkbit.md §9).

Each record's message attributes are the DMF headers, its body the DMF body; it is parsed (chalicelib/domain/dmf.py)
and applied (chalicelib/services/dmf_inbound.py). Three endings, as hawkBit's (§7):

- done: applied, a duplicate, or nothing to do: acknowledged (Lambda deletes it);
- refused (a 4xx of the catalogue: malformed, unknown thing or action, invalid state, quota, `dmf.enabled` off,
  a sender (the record's `SenderId`) the tenant's `dmf.senders` does not allow):
  sent to the dead-letter queue at once with the refusal as attributes (`errorCode`, `errorMessage`) and
  acknowledged, never retried (hawkBit's AmqpRejectAndDontRequeueException);
- failed (anything else: throttling, a 5xx, a transaction race lost 8 times): reported as a batch item failure, so
  SQS hands it out again after its visibility timeout, and after `MAX_RECEIVES` moves it to the dead-letter queue
  itself (hawkBit's requeue with a delay).

FIFO order: once a message of a group (one thing) failed, the batch's later messages of that group are reported
failed too, unread, so that they come back after it and in their order (AWS's rule for FIFO partial batches).
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

from chalicelib import errors
from chalicelib.domain import dmf
from chalicelib.services import dmf_inbound
from chalicelib.store import dmf_queues

log = logging.getLogger("skyhawk.dmf")

REFUSED, FAILED = "refused", "failed"


def refused(exc: BaseException) -> bool:
    """A refusal for good: the same message would be refused again."""
    return (
        isinstance(exc, errors.SkyhawkError) and exc.status < 500 and not isinstance(exc, errors.ConcurrentModification)
    )


def run_batch(records: Iterable[Mapping[str, Any]], context: Any = None) -> dict[str, Any]:
    """Lambda's SQS records (as the event carries them: messageId, body, attributes, messageAttributes); answers
    the partial batch response and the counts per ending."""
    failures: list[dict[str, str]] = []
    counts = {dmf_inbound.APPLIED: 0, dmf_inbound.DUPLICATE: 0, dmf_inbound.IGNORED: 0, REFUSED: 0, FAILED: 0}
    stopped_groups: set[str] = set()
    for record in records:
        message_id = record["messageId"]
        system = record.get("attributes") or {}
        group = system.get("MessageGroupId")
        if group is not None and group in stopped_groups:
            failures.append({"itemIdentifier": message_id})
            counts[FAILED] += 1
            continue
        headers = dmf_queues.headers_of(record.get("messageAttributes"))
        body = record.get("body") or ""
        try:
            outcome = dmf_inbound.handle(
                dmf.parse(headers, body), system.get("MessageDeduplicationId") or message_id, system.get("SenderId")
            )
            counts[outcome] += 1
        except Exception as exc:
            if refused(exc):
                try:
                    _dead_letter(record, headers, body, group, exc)
                    counts[REFUSED] += 1
                    continue
                except Exception:
                    log.exception("DMF message %s not dead-lettered", message_id)
            else:
                log.exception(
                    "DMF message %s failed",
                    message_id,
                    extra={"tenant": headers.get(dmf.TENANT), "type": headers.get(dmf.TYPE)},
                )
            failures.append({"itemIdentifier": message_id})
            counts[FAILED] += 1
            if group is not None:
                stopped_groups.add(group)
    return {"batchItemFailures": failures, **counts}


def _dead_letter(
    record: Mapping[str, Any], headers: Mapping[str, str], body: str, group: str | None, exc: BaseException
) -> None:
    assert isinstance(exc, errors.SkyhawkError)
    log.warning(
        "DMF message %s refused: %s",
        record["messageId"],
        exc.message,
        extra={"tenant": headers.get(dmf.TENANT), "type": headers.get(dmf.TYPE), "errorCode": exc.code},
    )
    dmf_queues.dead_letter(body, headers, group, record["messageId"], exc.code, exc.message)
