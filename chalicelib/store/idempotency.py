"""The idempotency table: Powertools' DynamoDB persistence layer writes its records (key `id`, TTL `expiration`
in epoch seconds, `status`, `data`, `validation`, `in_progress_expiration`).

The model only declares the table, so the local bootstrap creates it (with TTL) and the CloudFormation test
compares it with the template; the records themselves are read and written by Powertools alone.
Powertools' idempotency package costs ~300 ms to import: it is imported by `persistence_layer`, on the first
request that carries an Idempotency-Key, never by `import app`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib import errors
from chalicelib.store import aws
from chalicelib.store.tables import _meta


class IdempotencyRecord(Model):
    Meta = _meta("idempotency")
    id = UnicodeAttribute(hash_key=True)
    # DynamoDB deletes records some time after this (within days): Powertools itself treats a record past
    # it as absent, so the TTL only keeps the table small.
    expiration = TTLAttribute(null=True)


def persistence_layer() -> Any:
    """A persistence layer on the shared DynamoDB client (its timeouts and bounded retries; reset with it).

    A new one per request: Powertools configures a layer once, from the first config it sees, and the
    expiry and the Lambda context belong to each request.
    """
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=IdempotencyRecord.Meta.table_name, boto3_client=aws.client("dynamodb"))


def mark_once(tx: Any, key: str, expires_at_s: int) -> Any:
    """Put a marker `key` into the transaction, refused (errors.AlreadyApplied) when it exists: a queue message
    applied in that transaction is applied once, whatever its redeliveries. The markers share the table with
    Powertools' records (their keys never meet: Powertools prefixes its own with the function's name)."""
    record = IdempotencyRecord(id=key, expiration=_dt.datetime.fromtimestamp(expires_at_s, _dt.timezone.utc))
    return tx.put(record, condition=IdempotencyRecord.id.does_not_exist(), on_fail=errors.AlreadyApplied)
