"""Ids of paths, queries and bodies that no DynamoDB key could hold are answered at the edge (404/400), never 500.

moto accepts over-long keys in reads; real DynamoDB refuses a sort key above 1024 bytes and a partition
key above 2048 with a ValidationException. `strict_keys` makes the test double do the same.
"""
from __future__ import annotations

import json
import re

import botocore.client
import pytest
from botocore.exceptions import ClientError

from tests.api.dcs_steps import (
    CONFIG_MODEL,
    DCS,
    DWS,
    JSON_HEADERS,
    bearer,
    body,
    content_uri,
    create_task,
    error_code,
    file_with_head,
    make_device,
    release,
)
from tests.conftest import ADMIN

LIMITS = {"HASH": 2048, "RANGE": 1024}
_COMPARISON = re.compile(r"(#\w+)\s*(?:=|<=|>=|<|>)\s*(:\w+)")
_BEGINS_WITH = re.compile(r"begins_with\s*\(\s*(#\w+)\s*,\s*(:\w+)\s*\)")
_BETWEEN = re.compile(r"(#\w+)\s+BETWEEN\s+(:\w+)\s+AND\s+(:\w+)")


@pytest.fixture
def strict_keys(monkeypatch):
    """DynamoDB's key size limits on every read and write, as the real service enforces them."""
    original = botocore.client.BaseClient._make_api_call
    schemas: dict[str, dict] = {}
    refused: list[str] = []

    def key_types(client, table, index=None):
        if table not in schemas:
            described = original(client, "DescribeTable", {"TableName": table})["Table"]
            per_index = {None: described["KeySchema"]}
            per_index.update({g["IndexName"]: g["KeySchema"] for g in described.get("GlobalSecondaryIndexes", [])})
            schemas[table] = {name: {k["AttributeName"]: k["KeyType"] for k in schema}
                              for name, schema in per_index.items()}
        return schemas[table][index]

    def check(operation, name, kind, value):
        raw = value.get("S") or value.get("B") or ""
        size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
        if size > LIMITS[kind]:
            refused.append(f"{operation} {name}")
            raise ClientError({"Error": {"Code": "ValidationException",
                                         "Message": f"{kind} key {name} of {size} bytes exceeds {LIMITS[kind]}"}},
                              operation)

    def check_key(client, operation, table, key):
        types = key_types(client, table)
        for name, value in key.items():
            check(operation, name, types[name], value)

    def check_item(client, operation, table, item):
        key_types(client, table)
        for types in schemas[table].values():  # the table's keys and those of its indexes
            for name, kind in types.items():
                if name in item:
                    check(operation, name, kind, item[name])

    def check_query(client, params):
        types = key_types(client, params["TableName"], params.get("IndexName"))
        names, values = params.get("ExpressionAttributeNames", {}), params.get("ExpressionAttributeValues", {})
        expression = params.get("KeyConditionExpression", "")
        pairs = [(n, v) for n, v in _COMPARISON.findall(expression)] + _BEGINS_WITH.findall(expression)
        pairs += [(n, v) for n, a, b in _BETWEEN.findall(expression) for v in (a, b)]
        for placeholder, value in pairs:
            name = names.get(placeholder, placeholder)
            check("Query", name, types[name], values[value])

    def strict(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            if operation in ("GetItem", "DeleteItem", "UpdateItem"):
                check_key(self, operation, params["TableName"], params["Key"])
            elif operation == "PutItem":
                check_item(self, operation, params["TableName"], params["Item"])
            elif operation == "BatchGetItem":
                for table, request in params["RequestItems"].items():
                    for key in request["Keys"]:
                        check_key(self, operation, table, key)
            elif operation == "BatchWriteItem":
                for table, requests in params["RequestItems"].items():
                    for request in requests:
                        if "DeleteRequest" in request:
                            check_key(self, operation, table, request["DeleteRequest"]["Key"])
                        else:
                            check_item(self, operation, table, request["PutRequest"]["Item"])
            elif operation == "TransactWriteItems":
                for entry in params["TransactItems"]:
                    (kind, request), = entry.items()
                    if kind == "Put":
                        check_item(self, operation, request["TableName"], request["Item"])
                    else:
                        check_key(self, operation, request["TableName"], request["Key"])
            elif operation == "Query":
                check_query(self, params)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", strict)
    return refused


LONG = "x" * 1500  # beyond a 1024-byte sort key
LONGER = "y" * 3000  # beyond a 2048-byte partition key too
WIDE = "\U0001F600" * 300  # 300 characters, 1200 bytes


def test_the_strict_double_refuses_what_dynamodb_refuses(client, strict_keys):
    from pynamodb.exceptions import GetError

    from chalicelib.store.workflow_tables import WorkflowInstance
    with pytest.raises(GetError):
        WorkflowInstance.get("DEFAULT", "inst#" + LONG)
    assert strict_keys == ["GetItem sk"]


@pytest.mark.parametrize("bad", [LONG, LONGER, WIDE])
def test_over_long_path_ids_are_404_in_the_dcs_shape(client, strict_keys, bad):
    make_device("dev-1")
    f = file_with_head(client, "/d/a", b"{}")
    task = create_task(client, "dev-1", [{"name": "a", "uri": content_uri(f["id"], f["head"])}])
    accept = {**ADMIN, "Accept": "*/*"}
    urls = [f"{DCS}/files/{bad}", f"{DCS}/files/{bad}/head", f"{DCS}/files/{bad}/revisions",
            f"{DCS}/files/{bad}/revisions/{f['head']}", f"{DCS}/files/{f['id']}/revisions/{bad}",
            f"{DCS}/files/{f['id']}/revisions/{bad}/content", f"{DCS}/devices/{bad}/configurationTasks",
            f"{DCS}/devices/{bad}/configurationTasks/{task['id']}", f"{DCS}/devices/dev-1/configurationTasks/{bad}",
            f"{DCS}/devices/{bad}/configuration", f"{DWS}/instances/{bad}", f"{DWS}/models/{bad}"]
    for url in urls:
        resp = client.http.get(url, headers=accept)
        assert resp.status_code == 404, (url[:90], resp.body[:200])
        assert error_code(resp).endswith(".notFound")
        assert len(body(resp)["errors"][0]["message"]) < 300  # the id is not echoed in full
    writes = [("patch", f"{DCS}/files/{bad}/head", b"x"), ("post", f"{DCS}/files/{bad}/revisions", b"x"),
              ("post", f"{DCS}/devices/{bad}/configurationTasks", json.dumps({"files": []})),
              ("patch", f"{DCS}/devices/dev-1/configurationTasks/{bad}", json.dumps({"state": "CONFIGURE"})),
              ("patch", f"{DCS}/devices/{bad}/configurationTasks/{task['id']}", json.dumps({"state": "CONFIGURE"})),
              ("patch", f"{DWS}/instances/{bad}", json.dumps({"state": "CONFIGURE"})),
              ("post", f"{DWS}/instances/{bad}/cancel", b""), ("delete", f"{DWS}/models/{bad}", b"")]
    for method, url, payload in writes:
        resp = getattr(client.http, method)(url, headers=JSON_HEADERS, body=payload)
        assert resp.status_code == 404, (method, url[:90], resp.body[:200])
    # deleting a file that cannot exist is as idempotent as deleting one that does not
    assert client.http.delete(f"{DCS}/files/{bad}", headers=ADMIN).status_code == 204
    assert strict_keys == []


def test_device_paths_with_over_long_ids_are_404_for_devices_too(client, strict_keys):
    token = make_device("dev-1")
    f = file_with_head(client, "/d/a", b"{}")
    task = create_task(client, "dev-1", [{"name": "a", "uri": content_uri(f["id"], f["head"])}])
    release(client, "dev-1", task["id"])
    for url in (f"{DCS}/files/{LONG}/head", f"{DCS}/files/{f['id']}/revisions/{LONG}/content",
                f"{DWS}/instances/{LONG}", f"{DCS}/devices/dev-1/configurationTasks/{LONG}",
                f"{DCS}/devices/{LONG}/configuration"):
        assert client.http.get(url, headers={**bearer(token), "Accept": "*/*"}).status_code == 404, url[:90]
    # an over-long token is not a token: no read
    assert client.http.get(f"{DWS}/instances", headers=bearer(LONGER)).status_code == 401
    assert strict_keys == []


def test_over_long_query_filters_are_400(client, strict_keys):
    make_device("dev-1")
    for url in (f"{DCS}/files?pathPrefix={'p' * 1100}", f"{DWS}/instances?deviceId={LONG}",
                f"{DWS}/instances?deviceId={LONGER}", f"{DWS}/instances?modelKey={LONGER}",
                f"{DWS}/instances?group={LONG}", f"{DWS}/instances?deviceId=dev-1&group={LONG}"):
        resp = client.http.get(url, headers=ADMIN)
        assert resp.status_code == 400, (url[:90], resp.body[:200])
        assert error_code(resp).endswith(".invalidRequest")
    # filters within the limits still work
    assert client.http.get(f"{DWS}/instances?deviceId=dev-1&group=OPEN&modelKey={CONFIG_MODEL}",
                           headers=ADMIN).status_code == 200
    assert client.http.get(f"{DCS}/files?pathPrefix=/d", headers=ADMIN).status_code == 200
    assert strict_keys == []


def test_over_long_ids_in_bodies_are_404_or_400(client, strict_keys):
    make_device("dev-1")
    f = file_with_head(client, "/d/a", b"{}")
    for payload in ({"deviceId": LONG, "model": {"key": CONFIG_MODEL}},
                    {"deviceId": LONGER, "model": {"key": CONFIG_MODEL}},
                    {"deviceId": "dev-1", "model": {"key": LONGER}}):
        resp = client.http.post(f"{DWS}/instances", headers=JSON_HEADERS, body=json.dumps(payload))
        assert resp.status_code == 404, resp.body[:200]
    # task files naming DCS files by over-long ids or hashes
    for uri in (content_uri(LONG, f["head"]), content_uri(f["id"], LONG), f"{DCS}/files/{LONGER}/head"):
        resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=JSON_HEADERS,
                                body=json.dumps({"files": [{"name": "a", "uri": uri}]}))
        assert resp.status_code == 404, resp.body[:200]
    # a foreign file's name becomes the actual configuration's sort key: at most 1000 bytes
    resp = client.http.post(f"{DCS}/devices/dev-1/configurationTasks", headers=JSON_HEADERS,
                            body=json.dumps({"files": [{"name": LONG, "uri": "https://x.example/a"}]}))
    assert resp.status_code == 400 and error_code(resp) == "mdsp.core.deviceconfiguration.invalidRequest"
    assert strict_keys == []


def test_configured_foreign_file_name_at_the_limit_is_recorded(client, strict_keys):
    token = make_device("dev-1")
    name = "n" * 1000
    task = create_task(client, "dev-1", [{"name": name, "uri": "https://x.example/a"}])
    release(client, "dev-1", task["id"])
    for state in ("CONFIGURING", "CONFIGURED"):
        resp = client.http.patch(f"{DCS}/devices/dev-1/configurationTasks/{task['id']}",
                                 headers={**bearer(token), "Content-Type": "application/json"},
                                 body=json.dumps({"state": state, "progress": 1}))
        assert resp.status_code == 200, resp.body[:200]
    configured = body(client.http.get(f"{DCS}/devices/dev-1/configuration", headers=ADMIN))
    assert [e["path"] for e in configured["content"]] == [name]
    assert strict_keys == []
