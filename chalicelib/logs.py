"""Structured logs: one JSON line per record (Powertools Logger, service "skyhawk"), carrying the request's
correlation id, tenant and controllerId as keys, with credentials masked before a line is written.

Every `logging.getLogger("skyhawk")` call site (and its children) comes out through the one handler made
here. Powertools leaves that logger propagating and filters its records out of the root handlers that exist
when it is created (the Lambda runtime's, the launcher's), so each record is written once (docs/architecture.md,
"Local runs", item 4; chalice's own log set-up is off in app.py) while pytest's caplog still receives it.

Keys are kept per thread and per context (Powertools' thread-safe keys): the local server answers requests
in parallel threads, Lambda one at a time.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Mapping

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "skyhawk"
CORRELATION_HEADER = "X-Correlation-Id"

# --- masking ------------------------------------------------------------------------------------------
MASK = "***"
# Names under which a value is a secret wherever it appears: JSON fields, headers, forms, reprs, extra keys;
# also as the end of a longer name (PROXY_SECRET, X-Skyhawk-Proxy-Secret, security_token, cloudfront_private_key).
_SECRET_NAMES = (
    r"securityToken|token|password|passwd|secret|authentication\.gatewaytoken\.key|authorization|"
    r"private_?key|privateKeyPem|secret_access_key"
)
_NAME_START = r"(?<![A-Za-z0-9])"
_SECRET_NAME = re.compile(rf"{_NAME_START}(?:{_SECRET_NAMES})$", re.IGNORECASE)
_PATTERNS = (
    # PEM private keys (a CloudFront signing key in an error message)
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
        "-----PRIVATE KEY " + MASK + "-----",
    ),
    # credentials of an Authorization header value
    (re.compile(r"\b(Basic|Bearer|TargetToken|GatewayToken)(\s+)[^\s\"',;}\]]+", re.IGNORECASE), rf"\1\2{MASK}"),
    # the signing parts of S3 (SigV4, SigV2) and CloudFront signed URLs
    (
        re.compile(
            r"\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|AWSAccessKeyId|Signature|Key-Pair-Id|"
            r"Policy)=[^&\s\"'<>]+",
            re.IGNORECASE,
        ),
        rf"\1={MASK}",
    ),
    # a named secret followed by its value: "securityToken": "x", password=x, X-Skyhawk-Proxy-Secret: x
    (
        re.compile(rf"""({_NAME_START}(?:{_SECRET_NAMES})["']?\s*[:=]\s*["']?)[^"'\s,;&}}\]]+""", re.IGNORECASE),
        rf"\1{MASK}",
    ),
)


def redact(value: Any) -> Any:
    """`value` with every credential masked: strings by pattern, mappings also by key name."""
    if isinstance(value, str):
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, Mapping):
        return {
            key: MASK if isinstance(key, str) and _SECRET_NAME.search(key) and val else redact(val)
            for key, val in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))  # what the JSON encoder would write (an exception in stack_trace.value)


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, masking the finished record (message, extra keys, stack trace) last,
    so no call site has to remember which of its values are secret."""

    def serialize(self, log: Any) -> str:
        return super().serialize(redact(log))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())


def handler() -> logging.Handler:
    """The handler every skyhawk record goes through (tests point its stream at a buffer)."""
    return logger.registered_handler


# --- request keys -------------------------------------------------------------------------------------
_SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def correlation_id_for(headers: Mapping[str, str], request_context: Mapping[str, Any] | None) -> str:
    """The caller's X-Correlation-Id when it is a plain token (it is echoed in a header and logged), else
    API Gateway's request id, else a new one (the local server has none)."""
    offered = headers.get(CORRELATION_HEADER.lower()) or headers.get(CORRELATION_HEADER)
    if isinstance(offered, str) and _SANE_ID.match(offered):
        return offered
    gateway_id = (request_context or {}).get("requestId")
    if isinstance(gateway_id, str) and _SANE_ID.match(gateway_id):
        return gateway_id
    return str(uuid.uuid4())


def begin(**keys: Any) -> dict[str, Any]:
    """Start a request's or job's keys (None values left out); returns the keys it replaced, for `end`."""
    previous = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_clear_keys()
    append_keys(**keys)
    return previous


def end(previous: dict[str, Any]) -> None:
    logger.thread_safe_clear_keys()
    if previous:
        logger.thread_safe_append_keys(**previous)


def append_keys(**keys: Any) -> None:
    """Keys learned during a request (the tenant of an authenticated login)."""
    known = {name: value for name, value in keys.items() if value is not None}
    if known:
        logger.thread_safe_append_keys(**known)


def correlation_id() -> str | None:
    return logger.thread_safe_get_current_keys().get("correlation_id")
