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


def _table(dynamodb, name: str = "t", **extra) -> None:
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], **extra)


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


def test_stream_reads_are_answered_in_process_too(dead_endpoint):
    """botocore names the streams service `dynamodb-streams`, moto `dynamodbstreams` on another host: the change
    feed's reads must not go over HTTP (moto's server thread would touch the backends beside the app's calls)."""
    with mock_aws():
        handler = moto_inprocess.install(dead_endpoint)
        try:
            dynamodb, streams = _client("dynamodb", dead_endpoint), _client("dynamodbstreams", dead_endpoint)
            _table(dynamodb, "s", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
            dynamodb.put_item(TableName="s", Item={"pk": {"S": "a"}})
            arn = dynamodb.describe_table(TableName="s")["Table"]["LatestStreamArn"]
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            [record] = streams.get_records(ShardIterator=iterator)["Records"]
            assert record["eventName"] == "INSERT" and record["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
            assert handler.served == 6
        finally:
            moto_inprocess.uninstall(handler)


def test_streams_read_in_process_equal_what_the_streams_api_answers(dead_endpoint):
    """The launcher's change feed reads moto's shards directly (its API's serializer is slow): the same records,
    in Lambda's shape, from where the last read ended, and on after delivered records were forgotten."""
    with mock_aws():
        handler = moto_inprocess.install(dead_endpoint)
        try:
            dynamodb, streams = _client("dynamodb", dead_endpoint), _client("dynamodbstreams", dead_endpoint)
            _table(dynamodb, "s", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
            for value in ("1", "2"):
                dynamodb.put_item(TableName="s", Item={"pk": {"S": "a"}, "v": {"N": value}})
            arn = dynamodb.describe_table(TableName="s")["Table"]["LatestStreamArn"]
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            by_api = streams.get_records(ShardIterator=iterator)["Records"]
            after: dict[str, int] = {}
            direct = handler.read_streams(["s"], after)
            assert [(r["eventName"], r["dynamodb"]["SequenceNumber"], r["dynamodb"]["Keys"],
                     r["dynamodb"].get("OldImage"), r["dynamodb"]["NewImage"]) for r in direct] == \
                [(r["eventName"], r["dynamodb"]["SequenceNumber"], r["dynamodb"]["Keys"],
                  r["dynamodb"].get("OldImage"), r["dynamodb"]["NewImage"]) for r in by_api]
            assert {r["eventSourceARN"] for r in direct} == {arn}
            assert all(isinstance(r["dynamodb"]["ApproximateCreationDateTime"], float) for r in direct)
            assert handler.read_streams(["s"], after) == []
            handler.forget_stream_records({"s": int(direct[-1]["dynamodb"]["SequenceNumber"])}, set())
            dynamodb.delete_item(TableName="s", Key={"pk": {"S": "a"}})
            [removed] = handler.read_streams(["s"], after)
            assert removed["eventName"] == "REMOVE"
            assert int(removed["dynamodb"]["SequenceNumber"]) == int(direct[-1]["dynamodb"]["SequenceNumber"]) + 1
        finally:
            moto_inprocess.uninstall(handler)


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


EVERY_TYPE = {
    "pk": {"S": "dev-1"}, "sk": {"N": "7"}, "s": {"S": "ü"}, "n": {"N": "-1.50"}, "b": {"B": b"\x00\xff"},
    "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", b"\x02"]}, "nul": {"NULL": True},
    "t": {"BOOL": False}, "m": {"M": {"i": {"N": "3"}, "l": {"L": [{"S": "q"}, {"B": b"z"}, {"M": {}}]}}},
}
KEY = {"pk": {"S": "dev-1"}, "sk": {"N": "7"}}
# (GetItem arguments, taken from the table directly?) Anything but a plain read goes through moto's handler.
GET_ITEMS = [
    ({"Key": KEY}, True),
    ({"Key": KEY, "ConsistentRead": True}, True),
    ({"Key": {"pk": {"S": "dev-2"}, "sk": {"N": "7"}}}, True),  # no such item
    ({"Key": KEY, "ProjectionExpression": "m.l, b"}, False),
    ({"Key": KEY, "ReturnConsumedCapacity": "TOTAL"}, True),  # what PynamoDB always asks
    ({"Key": KEY, "ReturnConsumedCapacity": "INDEXES", "ConsistentRead": False}, True),
    ({"Key": {"pk": {"S": "dev-3"}, "sk": {"N": "7"}}, "ReturnConsumedCapacity": "NONE"}, True),
    ({"Key": {"pk": {"S": "dev-1"}}}, False),  # range key missing
    ({"Key": {**KEY, "s": {"S": "ü"}}}, False),  # not a key attribute
    ({"Key": {"pk": {"S": "dev-1"}, "sk": {"S": "7"}}}, False),  # wrong type
    ({"Key": {"pk": {"S": ""}, "sk": {"N": "7"}}}, False),  # empty key value
    ({"Key": KEY, "TableName": "missing"}, False),
]


def _outcome(client, arguments):
    try:
        answer = client.get_item(**{"TableName": "t", **arguments})
    except client.exceptions.ClientError as error:
        return "error", error.response["Error"]["Code"], error.response["Error"].get("Message")
    answer.pop("ResponseMetadata")
    return "answer", answer


@pytest.mark.parametrize("arguments,direct", GET_ITEMS, ids=[str(a) for a, _ in GET_ITEMS])
def test_get_item_answers_as_moto_handler_does(dead_endpoint, arguments, direct):
    with mock_aws():
        by_moto = boto3.client("dynamodb", region_name="us-east-1")  # AWS's URL: mock_aws's full handler
        by_moto.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "sk", "KeyType": "RANGE"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                   {"AttributeName": "sk", "AttributeType": "N"}])
        by_moto.put_item(TableName="t", Item=EVERY_TYPE)
        expected = _outcome(by_moto, arguments)
        handler = moto_inprocess.install(dead_endpoint)
        try:
            got = _outcome(_client("dynamodb", dead_endpoint), arguments)
        finally:
            moto_inprocess.uninstall(handler)
    assert got == expected
    assert handler.read_directly == (1 if direct else 0)
    assert handler.served == 1
    if arguments == {"Key": KEY}:
        assert got == ("answer", {"Item": EVERY_TYPE})  # the comparison is about a real item, binary included


def test_get_item_of_a_hash_key_table(dead_endpoint):
    with mock_aws():
        handler = moto_inprocess.install(dead_endpoint)
        try:
            dynamodb = _client("dynamodb", dead_endpoint)
            _table(dynamodb)
            dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "v": {"L": [{"N": "1"}]}})
            assert dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == {
                "pk": {"S": "a"}, "v": {"L": [{"N": "1"}]}}
            with pytest.raises(dynamodb.exceptions.ClientError):
                dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
        finally:
            moto_inprocess.uninstall(handler)
    assert handler.read_directly == 1
