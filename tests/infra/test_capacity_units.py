"""The capacity-unit meter (docs/capacity/units.py) prices calls as DynamoDB documents it: item sizes, rounding,
consistency, transactions, index entries, on a real (moto) table."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "capacity"))

import units  # noqa: E402


# --- sizes and rounding -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value, size", [
    ({"S": "abc"}, 3),
    ({"S": "é"}, 2),  # UTF-8 bytes
    ({"N": "123"}, 3),  # 3 significant digits: 2 bytes, plus 1
    ({"N": "0.0010"}, 2),  # leading and trailing zeros do not count
    ({"N": "-12345678901234567890"}, 11),
    ({"N": "1795633438391"}, 8),  # a time in ms: 13 significant digits
    ({"N": "1700000000000"}, 2),  # trailing zeros of an integer do not count either
    ({"BOOL": True}, 1),
    ({"NULL": True}, 1),
    ({"B": b"\x00\x01\x02"}, 3),
    ({"SS": ["ab", "c"]}, 3),
    ({"L": [{"S": "a"}, {"N": "1"}]}, 3 + (1 + 1) + (1 + 2)),
    ({"M": {"k": {"S": "v"}}}, 3 + 1 + 1 + 1),
])
def test_value_sizes(value, size):
    assert units.value_size(value) == size


def test_item_size_counts_attribute_names():
    assert units.item_size({"id": {"S": "x"}, "n": {"N": "42"}}) == (2 + 1) + (1 + 2)


def test_units_round_reads_to_4_kb_and_writes_to_1_kb():
    assert [units.write_units(s) for s in (0, 1, 1024, 1025, 4096)] == [1, 1, 1, 2, 4]
    assert units.read_units(4096, consistent=False) == 0.5
    assert units.read_units(4097, consistent=False) == 1.0
    assert units.read_units(10, consistent=True) == 1.0


# --- the meter on a real (moto) table ------------------------------------------------------------------------
BLOB = "x" * 1500
ITEM = {"pk": {"S": "p"}, "sk": {"S": "s"}, "gk": {"S": "g1"}, "blob": {"S": BLOB}}
ITEM_SIZE = (2 + 1) + (2 + 1) + (2 + 2) + (4 + 1500)  # 1,514 bytes: 2 write units, 0.5 read unit


@pytest.fixture
def table():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="cap-t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gk", "ak")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {"IndexName": "by-gk", "Projection": {"ProjectionType": "KEYS_ONLY"},
                 "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]},
                {"IndexName": "by-ak", "Projection": {"ProjectionType": "ALL"},
                 "KeySchema": [{"AttributeName": "ak", "KeyType": "HASH"}]}])
        with units.Meter("cap-") as meter:
            yield client, meter


def _priced(meter, fn):
    meter.reset()
    fn()
    [call] = meter.calls["current"]
    return call


def test_a_put_pays_for_the_item_and_for_each_index_it_enters(table):
    client, meter = table
    call = _priced(meter, lambda: client.put_item(TableName="cap-t", Item=ITEM))
    assert call.sizes == [("t", ITEM_SIZE)]
    assert (call.writes, call.index_writes) == (2 + 1, 1)  # the table; the keys-only entry of by-gk (sparse by-ak: none)
    [index] = [c for c in call.charges if c.index]
    assert (index.where, index.key_name, index.key) == ("t/by-gk", "gk", "g1")


def test_an_update_pays_for_the_whole_item_and_moves_index_entries(table):
    client, meter = table
    client.put_item(TableName="cap-t", Item=ITEM)
    key = {"pk": {"S": "p"}, "sk": {"S": "s"}}
    moved = _priced(meter, lambda: client.update_item(
        TableName="cap-t", Key=key, UpdateExpression="SET gk = :g", ExpressionAttributeValues={":g": {"S": "g2"}}))
    assert (moved.writes, moved.index_writes) == (2 + 2, 2)  # the 1.5 KB item; delete and put in by-gk
    untouched = _priced(meter, lambda: client.update_item(
        TableName="cap-t", Key=key, UpdateExpression="SET #b = :b", ExpressionAttributeNames={"#b": "blob"},
        ExpressionAttributeValues={":b": {"S": BLOB}}))
    assert (untouched.writes, untouched.index_writes) == (2, 0)  # keys-only entry unchanged
    entered = _priced(meter, lambda: client.update_item(
        TableName="cap-t", Key=key, UpdateExpression="SET ak = :a", ExpressionAttributeValues={":a": {"S": "a"}}))
    assert entered.index_writes == 2  # a full copy (ALL) of a 1.5 KB item enters by-ak


def test_transactions_double_the_table_writes_and_failed_conditions_still_pay(table):
    client, meter = table
    client.put_item(TableName="cap-t", Item=ITEM)
    tx = _priced(meter, lambda: client.transact_write_items(TransactItems=[{"Update": {
        "TableName": "cap-t", "Key": {"pk": {"S": "p"}, "sk": {"S": "s"}}, "UpdateExpression": "SET gk = :g",
        "ExpressionAttributeValues": {":g": {"S": "g3"}}}}]))
    assert (tx.writes, tx.index_writes) == (2 * 2 + 2, 2)
    refused = client.exceptions.ConditionalCheckFailedException
    meter.reset()
    with pytest.raises(refused):
        client.put_item(TableName="cap-t", Item=ITEM, ConditionExpression="attribute_not_exists(pk)")
    [call] = meter.calls["current"]
    assert call.failed and (call.writes, call.index_writes) == (2, 0)


def test_reads_pay_for_what_they_read_whatever_they_return(table):
    client, meter = table
    client.put_item(TableName="cap-t", Item=ITEM)
    key = {"pk": {"S": "p"}, "sk": {"S": "s"}}
    assert _priced(meter, lambda: client.get_item(TableName="cap-t", Key=key, ProjectionExpression="pk")).reads == 0.5
    assert _priced(meter, lambda: client.get_item(TableName="cap-t", Key=key, ConsistentRead=True)).reads == 1.0
    missing = _priced(meter, lambda: client.get_item(TableName="cap-t", Key={"pk": {"S": "q"}, "sk": {"S": "s"}}))
    assert missing.reads == 0.5
    filtered = _priced(meter, lambda: client.query(
        TableName="cap-t", KeyConditionExpression="pk = :p", FilterExpression="gk = :none",
        ExpressionAttributeValues={":p": {"S": "p"}, ":none": {"S": "none"}}))
    assert filtered.reads == 0.5 and filtered.sizes == [("t", ITEM_SIZE)]
    index = _priced(meter, lambda: client.query(TableName="cap-t", IndexName="by-gk", KeyConditionExpression="gk = :g",
                                                ExpressionAttributeValues={":g": {"S": "g1"}}))
    assert index.sizes == [("t/by-gk", (2 + 1) + (2 + 1) + (2 + 2))]  # the keys-only entry


def test_a_shape_prices_the_same_calls_in_another_layout(table):
    client, _ = table
    slim = units.Shape("slim", lambda name, item: {k: v for k, v in item.items() if k != "blob"},
                       {("t", "by-ak"): ("KEYS_ONLY", ())})
    with units.Meter("cap-", (units.AS_IS, slim)) as meter:
        client.put_item(TableName="cap-t", Item={**ITEM, "ak": {"S": "a"}})
    assert meter.totals("current")["wru"] == 2 + 1 + 2  # the item; by-gk; a 1.5 KB copy in by-ak
    assert meter.totals("slim")["wru"] == 1 + 1 + 1
