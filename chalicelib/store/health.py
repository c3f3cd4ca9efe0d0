"""Cheap reachability probes of the service's AWS dependencies: one read each, asked once, short timeouts."""

from __future__ import annotations

from chalicelib import config
from chalicelib.store import aws
from chalicelib.store.tables import REGISTRY_TENANT, TenantRegistration


def dynamodb_reachable() -> None:
    """Raises unless DynamoDB answers a GetItem on the tenants table (a key that need not exist)."""
    aws.client("dynamodb", attempts=1).get_item(
        TableName=TenantRegistration.Meta.table_name,
        Key={"tenant": {"S": REGISTRY_TENANT}, "key": {"S": "#health"}},
        ProjectionExpression="tenant",
    )


def s3_reachable() -> None:
    """Raises unless the artifact bucket answers a HEAD."""
    aws.client("s3", attempts=1).head_bucket(Bucket=config.settings().bucket)
