"""One DynamoDB transaction (TransactWriteItems, at most 100 items) whose failed conditions map to catalogue errors.

PynamoDB reports cancellation reasons in request order: condition checks, deletes, puts, updates.
Each operation may name the error its failed condition means (a duplicate -> 409 EntityAlreadyExists,
a full quota -> 403); unnamed ones mean a concurrent change (409 ConcurrentModification) that callers
may retry after reading again.
"""

from __future__ import annotations

import functools
import json
import random
import time
from typing import Any, Callable

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import config, errors, faults
from chalicelib.domain import changes
from chalicelib.store import records

MAX_ITEMS = 100
# TransactWriteItems takes at most 4 MB in all; packers stay below with room for the request's own framing.
MAX_BYTES = 3_500_000
ErrorFactory = Callable[[], errors.SkyhawkError]


class Tx:
    def __init__(self) -> None:
        self._checks: list[tuple[tuple, dict, ErrorFactory | None]] = []
        self._deletes: list[tuple[tuple, dict, ErrorFactory | None]] = []
        self._puts: list[tuple[tuple, dict, ErrorFactory | None]] = []
        self._updates: list[tuple[tuple, dict, ErrorFactory | None]] = []

    def __len__(self) -> int:
        return len(self._checks) + len(self._deletes) + len(self._puts) + len(self._updates)

    # Each write takes a domain entity (with a domain Change and Condition, chalicelib/domain/changes.py) or,
    # inside the store, a PynamoDB model with PynamoDB's own actions and condition.
    def check(self, model_cls, hash_key, range_key, condition, on_fail: ErrorFactory | None = None) -> "Tx":
        model_cls = records.model_of(model_cls) if model_cls in records._MODELS else model_cls
        self._checks.append(
            ((model_cls, hash_key, range_key), {"condition": _condition(model_cls, condition)}, on_fail)
        )
        return self

    def put(self, item, condition=None, on_fail: ErrorFactory | None = None) -> "Tx":
        model = _model(item)
        self._puts.append(((model,), {"condition": _condition(type(model), condition)}, on_fail))
        return self

    def update(
        self, item, actions, condition=None, on_fail: ErrorFactory | None = None, add_version_condition: bool = True
    ) -> "Tx":
        model = _model(item)
        if not isinstance(actions, list):
            change = records.with_derived(item, actions) if records.is_entity(item) else actions
            actions = records.update_actions(type(model), change)
        self._updates.append(
            (
                (model, actions),
                {"condition": _condition(type(model), condition), "add_version_condition": add_version_condition},
                on_fail,
            )
        )
        return self

    def delete(
        self, item, condition=None, on_fail: ErrorFactory | None = None, add_version_condition: bool = True
    ) -> "Tx":
        model = _model(item)
        self._deletes.append(
            (
                (model,),
                {"condition": _condition(type(model), condition), "add_version_condition": add_version_condition},
                on_fail,
            )
        )
        return self

    def extend(self, other: "Tx") -> "Tx":
        self._checks += other._checks
        self._deletes += other._deletes
        self._puts += other._puts
        self._updates += other._updates
        return self

    def request_bytes(self) -> int:
        """About what the transaction sends: its operations as DynamoDB's JSON (what its 4 MB limit counts)."""
        size = 0
        for (_, hash_key, range_key), _, _ in self._checks:
            size += len(str(hash_key)) + len(str(range_key or "")) + 200  # a key and a condition
        for (model,), kwargs, _ in self._deletes:
            size += _json_size(model.get_delete_kwargs_from_instance(**kwargs))
        for (model,), kwargs, _ in self._puts:
            size += _json_size(model.get_save_kwargs_from_instance(**kwargs))
        for (model, actions), kwargs, _ in self._updates:
            size += _json_size(model.get_update_kwargs_from_instance(actions=list(actions), **kwargs))
        return size

    def commit(self) -> None:
        if not len(self):
            return
        if len(self) > MAX_ITEMS:
            raise errors.InternalError(f"transaction of {len(self)} items exceeds {MAX_ITEMS}")
        ordered = self._checks + self._deletes + self._puts + self._updates
        try:
            with TransactWrite(connection=_connection()) as tw:
                for args, kwargs, _ in self._checks:
                    tw.condition_check(*args, **kwargs)
                for args, kwargs, _ in self._deletes:
                    tw.delete(*args, **kwargs)
                for args, kwargs, _ in self._puts:
                    tw.save(*args, **kwargs)
                for args, kwargs, _ in self._updates:
                    tw.update(*args, **kwargs)
        except TransactWriteError as exc:
            raise _error_for(exc, ordered) from exc


def _json_size(operation: dict) -> int:
    return len(json.dumps(operation, separators=(",", ":"), default=str).encode())


def _model(item: Any) -> Any:
    return records.to_model(item) if records.is_entity(item) else item


def _condition(model_cls: Any, condition: Any) -> Any:
    return records.condition(model_cls, condition) if isinstance(condition, changes.Condition) else condition


@functools.lru_cache(maxsize=1)
def _connection() -> Connection:
    timeouts = config.aws_timeouts()
    return Connection(
        region=config.region(),
        connect_timeout_seconds=timeouts.connect_seconds,
        read_timeout_seconds=timeouts.dynamodb_read_seconds,
        max_retry_attempts=timeouts.max_attempts - 1,
    )


def reset() -> None:
    _connection.cache_clear()


def _error_for(exc: TransactWriteError, ordered: list) -> errors.SkyhawkError:
    reasons = exc.cancellation_reasons or []
    for reason, (_, _, on_fail) in zip(reasons, ordered):
        if reason is not None and reason.code == "ConditionalCheckFailed":
            return on_fail() if on_fail else errors.ConcurrentModification()
    if any(r is not None and r.code == "TransactionConflict" for r in reasons):
        return errors.ConcurrentModification()
    if any(r is not None and r.code in faults.RETRYABLE_CODES for r in reasons) or faults.unavailable(exc):
        return errors.ServiceUnavailable()
    return errors.InternalError(f"transaction failed: {exc.cause_response_code}")


# Optimistic writes are retried this often before a 409 reaches the caller; with the backoff below the
# pauses add up to about 1.5 s at most, well inside the Lambda budget.
ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 0.5


def backoff(attempt: int) -> None:
    """Pause before the next try: "full jitter" (a random time up to base x 2^attempt, capped), so writers that
    collided spread out instead of colliding again in step. AWS calls themselves are retried by botocore."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))


def refused(exc: BaseException) -> bool:
    """Whether a failed commit certainly wrote nothing: its conditions refused it (a 4xx catalogue error).

    Anything else (a timeout, a 5xx, a dropped connection) leaves the outcome unknown: the transaction may
    have committed, so a caller must not take back what it wrote outside of it.
    """
    return isinstance(exc, errors.SkyhawkError) and exc.status < 500


def retrying(attempts: int, fn: Callable[[], Any]) -> Any:
    """Run read-decide-write `fn` again, after a jittered pause, when a concurrent change beat it (optimistic
    locking); only the last conflict reaches the caller (409)."""
    for attempt in range(attempts):
        try:
            return fn()
        except errors.ConcurrentModification:
            if attempt == attempts - 1:
                raise
            backoff(attempt)
    return None
