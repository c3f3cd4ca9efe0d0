"""Which AWS failures mean "unavailable for now" (503 + Retry-After) rather than a defect (500).

Throttling, timeouts, refused or dropped connections and 5xx answers pass: the same request succeeds later.
PynamoDB wraps botocore's errors (`.cause`); Python chains the rest (`__cause__`, `__context__`).
"""

from __future__ import annotations

from typing import Iterator

RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "ThrottlingError",
        "TooManyRequestsException",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
    }
)


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__


def unavailable(exc: BaseException) -> bool:
    from botocore import exceptions as botocore_errors

    for link in _chain(exc):
        if isinstance(link, (botocore_errors.ConnectionError, botocore_errors.HTTPClientError)):
            return True  # refused, reset, timed out (connect or read)
        code = getattr(link, "cause_response_code", None)
        if code in RETRYABLE_CODES:
            return True
        if isinstance(link, botocore_errors.ClientError):
            error = link.response.get("Error", {})
            status = link.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            return error.get("Code") in RETRYABLE_CODES or int(status) >= 500
    return False


def describe(exc: BaseException) -> str:
    """One line naming the failure (the log keeps no traceback for an outage: one line per failed request)."""
    last = list(_chain(exc))[-1]
    return f"{type(last).__name__}: {str(last)[:200]}"
