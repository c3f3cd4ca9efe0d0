"""Running a request once per idempotency key: Powertools' `idempotent_function` on the idempotency table
(chalicelib/store/idempotency.py). The HTTP side (the header, the fingerprint, the stored answer's shape) is
chalicelib/api/idempotency.py.

The first successful run's record is stored and returned to every later call with the same scope for
SKYHAWK_IDEMPOTENCY_EXPIRY_SECONDS, marked `replayed`. A run whose answer is not to be remembered (an error,
or too large for one item) is returned as it is, and a retry runs anew. The same scope with another payload
is 422; a call while the first is still running is 409.
"""

from __future__ import annotations

from typing import Any, Callable

from chalicelib import config, errors
from chalicelib.store import idempotency as store


class _NotRemembered(Exception):
    """An answer that is returned but not stored: Powertools then drops its in-progress record."""

    def __init__(self, answer: Any):
        super().__init__()
        self.answer = answer


def once(
    fingerprint: dict[str, Any], lambda_context: Any, run: Callable[[], tuple[Any, dict[str, Any] | None]]
) -> tuple[dict[str, Any] | None, Any]:
    """(the stored record, None), or (None, the answer) when `run` produced one not to remember.

    `fingerprint` has a `scope` (what the key names) and a `payload` (what a retry must repeat); `run()`
    returns the answer and its record (None: do not remember it).
    """
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyInconsistentStateError,
        IdempotencyValidationError,
    )

    idempotency_config = IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=config.settings().idempotency_expiry_seconds,
        response_hook=lambda stored, _record: {**stored, "replayed": True},
    )
    # An in-progress record of a request that died with its Lambda expires with the Lambda's time budget.
    idempotency_config.register_lambda_context(lambda_context)

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=store.persistence_layer(),
        config=idempotency_config,
        key_prefix="skyhawk-http",
    )
    def remembered(request: dict[str, Any]) -> dict[str, Any]:
        answer, record = run()
        if record is None:
            raise _NotRemembered(answer)
        return record

    try:
        return remembered(request=fingerprint), None
    except _NotRemembered as not_remembered:
        return None, not_remembered.answer
    except IdempotencyValidationError as exc:
        raise errors.IdempotencyKeyReused() from exc
    except (IdempotencyAlreadyInProgressError, IdempotencyInconsistentStateError) as exc:
        raise errors.IdempotentRequestInProgress() from exc
