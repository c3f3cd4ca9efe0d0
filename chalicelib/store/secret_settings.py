"""Secrets named by settings: the CloudFront private key and the trusted proxy's secret.

With SKYHAWK_CLOUDFRONT_PRIVATE_KEY_PARAMETER / SKYHAWK_TRUSTED_PROXY_SECRET_PARAMETER set, the value is read
through Powertools Parameters from SSM Parameter Store (a name such as `/skyhawk/prod/cdn-key`, or the
parameter's ARN; SecureString is decrypted) or Secrets Manager (a secret's ARN, or `secretsmanager:<name>`),
and kept for SKYHAWK_SECRET_CACHE_SECONDS (5 min) in the container. Unset, the plain environment value
(SKYHAWK_CLOUDFRONT_PRIVATE_KEY, SKYHAWK_TRUSTED_PROXY_SECRET) is used: local runs and tests.

Powertools Parameters (and boto3) load on the first read of a configured parameter, not with the app. Its
providers use the shared clients (timeouts, bounded retries): an unreachable store answers 503 like any other
AWS outage, because its error chains the client's.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from chalicelib import config
from chalicelib.store import aws

_SECRETS_MANAGER_ARN = re.compile(r"^arn:[^:]+:secretsmanager:")
_SECRETS_MANAGER_NAME = "secretsmanager:"


def cloudfront_private_key() -> str:
    settings = config.settings()
    return _value(settings.cloudfront_private_key_parameter, settings.cloudfront_private_key_pem)


def trusted_proxy_secret() -> str:
    settings = config.settings()
    return _value(settings.trusted_proxy_secret_parameter, settings.trusted_proxy_secret)


def locate(reference: str) -> tuple[str, str]:
    """('ssm' | 'secretsmanager', the name or ARN to ask that service for)."""
    if _SECRETS_MANAGER_ARN.match(reference):
        return "secretsmanager", reference
    if reference.startswith(_SECRETS_MANAGER_NAME):
        return "secretsmanager", reference[len(_SECRETS_MANAGER_NAME) :]
    return "ssm", reference


def _value(reference: str, fallback: str) -> str:
    if not reference:
        return fallback
    service, name = locate(reference)
    options = {"decrypt": True} if service == "ssm" else {}
    value = _provider(service, aws.client(service)).get(name, max_age=config.settings().secret_cache_seconds, **options)
    return value.decode() if isinstance(value, bytes) else str(value)


@functools.lru_cache(maxsize=8)
def _provider(service: str, client: Any) -> Any:
    """One caching provider per client: a reset of the clients (tests, the launcher) also empties the cache."""
    from aws_lambda_powertools.utilities import parameters

    if service == "ssm":
        return parameters.SSMProvider(boto3_client=client)
    return parameters.SecretsProvider(boto3_client=client)
