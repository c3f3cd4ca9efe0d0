"""Lazily created boto3 clients (no AWS client at import: cold start, frozen endpoints), with reset().

Every botocore session of the process (boto3's and the one pynamodb opens per table connection) shares one
data loader: botocore's service models and endpoint data are parsed once per process, not once per session.
"""

from __future__ import annotations

import functools
from typing import Any

from chalicelib import config


@functools.lru_cache(maxsize=1)
def _data_loader() -> Any:
    from botocore.loaders import create_loader

    return create_loader()


def botocore_session() -> Any:
    """A new botocore session (sessions are not thread-safe; each caller gets its own) on the shared loader."""
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", _data_loader())
    return session


@functools.lru_cache(maxsize=None)
def client(service: str, endpoint_url: str | None = None, attempts: int | None = None) -> Any:
    """`attempts` overrides the configured attempts (a health probe asks once and answers at once)."""
    import boto3
    from botocore.config import Config

    timeouts = config.aws_timeouts()
    read = timeouts.s3_read_seconds if service == "s3" else timeouts.dynamodb_read_seconds
    cfg = Config(
        region_name=config.settings().region,
        signature_version="s3v4" if service == "s3" else None,
        connect_timeout=timeouts.connect_seconds,
        read_timeout=read,
        retries={"mode": "standard", "total_max_attempts": attempts or timeouts.max_attempts},
        s3={"addressing_style": "path"} if endpoint_url else None,
        # The streams client reads moto's streams locally; botocore would send a stream ARN's calls to
        # an account endpoint (<account>.streams-ddb...) that moto does not serve.
        account_id_endpoint_mode="disabled" if service == "dynamodbstreams" else None,
    )
    return boto3.session.Session(botocore_session=botocore_session()).client(
        service, config=cfg, endpoint_url=endpoint_url or None
    )


def s3() -> Any:
    return client("s3")


def s3_for_signing() -> Any:
    """Client whose endpoint is the one devices reach (may differ from the service's own endpoint)."""
    public = config.settings().s3_public_endpoint
    return client("s3", public) if public else client("s3")


def reset() -> None:
    client.cache_clear()
