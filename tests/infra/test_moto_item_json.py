"""The launcher's plain-JSON item reads answer exactly what moto's own serializer answers."""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from infra import moto_item_json

KEY = {"pk": {"S": "a"}, "sk": {"N": "1"}}
EVERY_TYPE = {
    **KEY, "s": {"S": "ü x \"q\""}, "n": {"N": "-1.50"}, "b": {"B": b"\x00\xff"}, "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", b"\x02"]}, "nul": {"NULL": True}, "t": {"BOOL": True},
    "m": {"M": {"i": {"N": "3"}, "bb": {"B": b"z"}, "l": {"L": [{"S": "q"}, {"NULL": True}, {"BOOL": False}]}}},
    "l": {"L": [{"M": {}}, {"B": b"\x7f"}, {"SS": ["only"]}]},
}

READS = {
    "GetItem": lambda c: c.get_item(TableName="t", Key=KEY, ConsistentRead=True, ReturnConsumedCapacity="TOTAL"),
    "GetItem, no item": lambda c: c.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"N": "1"}}),
    "GetItem, projected": lambda c: c.get_item(TableName="t", Key=KEY, ProjectionExpression="m.l, b, #n",
                                               ExpressionAttributeNames={"#n": "n"}),
    "Query": lambda c: c.query(TableName="t", KeyConditionExpression="pk = :p", Limit=1,
                               ExpressionAttributeValues={":p": {"S": "a"}}, ReturnConsumedCapacity="TOTAL"),
    "Scan": lambda c: c.scan(TableName="t"),
    "Scan, count": lambda c: c.scan(TableName="t", Select="COUNT"),
    "BatchGetItem": lambda c: c.batch_get_item(
        RequestItems={"t": {"Keys": [KEY, {"pk": {"S": "a"}, "sk": {"N": "2"}}]}}, ReturnConsumedCapacity="INDEXES"),
}


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "N"}])
        client.put_item(TableName="t", Item=EVERY_TYPE)
        client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"N": "2"}})
        yield client
    moto_item_json.uninstall()


def _raw_answers(client) -> dict[str, tuple[int, str, object]]:
    seen = []
    client.meta.events.register("before-parse.dynamodb.*", lambda response_dict, **_: seen.append(response_dict))
    answers = {}
    for name, read in READS.items():
        read(client)
        raw = seen.pop()
        answers[name] = (raw["status_code"], raw["headers"].get("Content-Type"), json.loads(raw["body"]))
    client.meta.events.unregister("before-parse.dynamodb.*")
    return answers


def test_item_reads_answer_as_moto_serializer_does(dynamodb):
    by_moto = _raw_answers(dynamodb)
    moto_item_json.install()
    moto_item_json.install()  # idempotent: patched once
    plain = _raw_answers(dynamodb)
    for name in READS:
        assert plain[name] == by_moto[name], name
    assert by_moto["GetItem"][2]["Item"]["b"] == {"B": "AP8="}  # the test reads real items, binary included


def test_other_operations_and_errors_keep_moto_serializer(dynamodb):
    moto_item_json.install()
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
        dynamodb.get_item(TableName="missing", Key=KEY)
    assert dynamodb.describe_table(TableName="t")["Table"]["ItemCount"] == 2


def test_uninstall_restores_moto_serializer(dynamodb):
    from moto.dynamodb.responses import DynamoResult

    generic = DynamoResult.execute_result
    moto_item_json.install()
    assert DynamoResult.execute_result is not generic
    moto_item_json.uninstall()
    assert DynamoResult.execute_result is generic
