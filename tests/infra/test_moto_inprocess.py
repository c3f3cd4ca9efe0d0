"""The launcher's in-process moto: calls to the embedded moto's URL never touch the network, others still do."""
from __future__ import annotations

import socket

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from infra import moto_inprocess


@pytest.fixture
def dead_endpoint():
    """A loopback port nobody listens on: any request that really went over TCP would be refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))  # bound, never listening
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


def _client(service: str, endpoint: str):
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}, connect_timeout=1,
                                                    s3={"addressing_style": "path"}))


def _table(dynamodb) -> None:
    dynamodb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])


def test_calls_to_the_embedded_moto_are_answered_in_process(dead_endpoint):
    with mock_aws():  # only to start and end with empty backends: mock_aws never serves a custom endpoint
        handler = moto_inprocess.install(dead_endpoint)
        try:
            dynamodb, s3 = _client("dynamodb", dead_endpoint), _client("s3", dead_endpoint)
            _table(dynamodb)
            dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
            assert dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}
            with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):  # moto's errors arrive as AWS's
                dynamodb.get_item(TableName="missing", Key={"pk": {"S": "a"}})
            s3.create_bucket(Bucket="firmware")
            s3.put_object(Bucket="firmware", Key="dir/fw.bin", Body=b"\x00firmware")
            assert s3.get_object(Bucket="firmware", Key="dir/fw.bin")["Body"].read() == b"\x00firmware"
            assert handler.served == 7  # every call above
        finally:
            moto_inprocess.uninstall(handler)
        # Uninstalled, the same endpoint is a port nobody answers on: the calls above never used it.
        with pytest.raises(EndpointConnectionError):
            _client("dynamodb", dead_endpoint).list_tables()


def test_other_endpoints_still_go_over_http(dead_endpoint):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        elsewhere = f"http://127.0.0.1:{other.getsockname()[1]}"
        handler = moto_inprocess.install(dead_endpoint)
        try:
            with pytest.raises(EndpointConnectionError):
                _client("dynamodb", elsewhere).list_tables()
            assert handler.served == 0
        finally:
            moto_inprocess.uninstall(handler)
