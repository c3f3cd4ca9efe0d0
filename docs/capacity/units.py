"""DynamoDB capacity units of real requests, priced from the items moto holds (docs/capacity.md, "Method").

`Meter` spies on botocore's one call seam (as tests/conftest.DynamoCalls does). For each DynamoDB call it reads
the items the call touches, before and after a write, through the unspied seam (so nothing is counted twice),
and prices the call as DynamoDB's documentation says:

- Item size: attribute names plus values; a string by its UTF-8 bytes, a number by about one byte per two
  significant digits plus one, binary by its bytes, a boolean or null 1 byte, a list or map 3 bytes plus its
  elements plus 1 byte each (map keys count as names).
- Reads: the whole item, whatever the projection asks for, in 4 KB steps: 1 unit strongly consistent, 0.5
  eventually consistent, 2 in a transaction. A Query adds up the items it reads (before any filter) and
  rounds the sum once; BatchGetItem rounds each item. A read of a missing item still costs the minimum.
- Writes: the larger of the item before and after, in 1 KB steps (UpdateItem too, however few attributes
  it changes): 1 unit, 2 in a transaction (a ConditionCheck prices like a write of the item it reads).
  A write whose condition fails still costs its units.
- Global secondary indexes: a write that adds or removes the item's index entry costs one index write of
  the entry (key attributes plus projected ones, 1 KB steps); one that changes the entry's keys costs two
  (delete and put); one that changes only projected attributes costs one; otherwise none. Index writes are
  not doubled by transactions (they propagate after the commit).

Every unit is charged to a key: the table or index and the partition key value it lands on, so the model can
say which key ranges take how many writes per second.

A `Shape` prices the same requests for another data model: it rewrites items (e.g. drops the deployment
snapshot from actions) and index projections before pricing. The real flow, the real items, another layout.
"""
from __future__ import annotations

import base64
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

READ_STEP, WRITE_STEP = 4096, 1024
STORAGE_OVERHEAD = 100  # bytes DynamoDB adds to every item and index entry it stores (storage billing only)


# --- item sizes -------------------------------------------------------------------------------------------
def number_size(text: str) -> int:
    digits = text.lstrip("-+").lower().split("e")[0].replace(".", "").lstrip("0").rstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict) -> int:
    (kind, data), = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return len(data) if isinstance(data, (bytes, bytearray)) else len(base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in data)
    if kind == "NS":
        return sum(number_size(n) for n in data)
    if kind == "BS":
        return sum(value_size({"B": b}) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict | None) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in (item or {}).items())


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / READ_STEP)) * (1.0 if consistent else 0.5)


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_STEP))


# --- table descriptions -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]  # hash[, range]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[Index, ...]

    def key_of(self, item: dict) -> dict:
        return {k: item[k] for k in self.keys}


@dataclass(frozen=True)
class Shape:
    """A data layout to price the requests in: item rewrites and index projection overrides."""
    name: str
    rewrite: Callable[[str, dict], dict] = lambda table, item: item  # noqa: E731 - (table suffix, item) -> item
    projections: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def item(self, table: str, item: dict | None) -> dict | None:
        return None if item is None else self.rewrite(table, dict(item))

    def index(self, table: str, index: Index) -> Index:
        projection, include = self.projections.get((table, index.name), (index.projection, index.include))
        return Index(index.name, index.keys, projection, include)


AS_IS = Shape("current")


def index_entry(table: Table, index: Index, item: dict | None) -> dict | None:
    """The item's entry in a global secondary index (None when the item lacks an index key: sparse)."""
    if item is None or any(k not in item for k in index.keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    wanted = set(table.keys) | set(index.keys) | set(index.include if index.projection == "INCLUDE" else ())
    return {k: v for k, v in item.items() if k in wanted}


def _scalar(value: dict | None) -> str:
    return "" if value is None else str(next(iter(value.values())))


# --- charges ----------------------------------------------------------------------------------------------
@dataclass
class Charge:
    """Units one call costs on one key: `where` is the table or `table/index`, `key` its partition key value
    (of the attribute `key_name`)."""
    operation: str
    where: str
    key_name: str
    key: str
    sort_key: str
    reads: float = 0.0
    writes: float = 0.0
    index: bool = False


@dataclass
class Priced:
    operation: str
    charges: list[Charge]
    sizes: list[tuple[str, int]]  # (item kind, size in bytes) of the items the call read or wrote
    failed: bool = False

    @property
    def reads(self) -> float:
        return sum(c.reads for c in self.charges)

    @property
    def writes(self) -> float:
        return sum(c.writes for c in self.charges)

    @property
    def index_writes(self) -> float:
        return sum(c.writes for c in self.charges if c.index)


class Meter:
    """Install with `with Meter(prefix, shapes) as meter:`; `meter.calls[shape]` lists the priced calls."""

    WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
    READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}

    def __init__(self, table_prefix: str, shapes: tuple[Shape, ...] = (AS_IS,),
                 lookup: Callable[[str, dict], dict | None] | None = None) -> None:
        """`lookup(table name, key)` reads an item without going through botocore (moto's backend is much
        faster than a GetItem through it); by default the unspied GetItem reads it."""
        self.prefix = table_prefix
        self.shapes = shapes
        self._lookup = lookup
        self.calls: dict[str, list[Priced]] = {s.name: [] for s in shapes}
        self._tables: dict[str, Table] = {}
        self._original: Callable | None = None

    # -- installation
    def __enter__(self) -> "Meter":
        import botocore.client

        self._original = original = botocore.client.BaseClient._make_api_call
        meter = self

        def metered(client, operation, params):
            if client.meta.service_model.service_name != "dynamodb" or operation not in meter.READS | meter.WRITES:
                return original(client, operation, params)
            return meter._call(client, operation, params)

        botocore.client.BaseClient._make_api_call = metered
        return self

    def __exit__(self, *exc: Any) -> None:
        import botocore.client

        botocore.client.BaseClient._make_api_call = self._original

    def reset(self) -> None:
        for calls in self.calls.values():
            calls.clear()

    def measure(self, request: Callable[[], Any]) -> dict[str, Any]:
        """The totals of what `request` alone costs."""
        self.reset()
        with self:
            request()
        return self.totals()

    def totals(self, shape: str = AS_IS.name) -> dict[str, Any]:
        calls = self.calls[shape]
        operations: dict[str, int] = defaultdict(int)
        for call in calls:
            operations[call.operation] += 1
        return {"rru": sum(c.reads for c in calls), "wru": sum(c.writes for c in calls),
                "index_wru": sum(c.index_writes for c in calls), "calls": dict(operations)}

    def charges(self, shape: str = AS_IS.name) -> Iterator[Charge]:
        for call in self.calls[shape]:
            yield from call.charges

    # -- the spy
    def _raw(self, client, operation: str, params: dict) -> dict:
        import botocore.client

        return (self._original or botocore.client.BaseClient._make_api_call)(client, operation, params)

    def table(self, client, name: str) -> Table:
        """The table's keys and global secondary indexes (DescribeTable, once)."""
        if name not in self._tables:
            described = self._raw(client, "DescribeTable", {"TableName": name})["Table"]

            def keys(schema):
                return tuple(k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"] != "HASH"))

            indexes = tuple(Index(i["IndexName"], keys(i["KeySchema"]), i["Projection"]["ProjectionType"],
                                  tuple(i["Projection"].get("NonKeyAttributes", ())))
                            for i in described.get("GlobalSecondaryIndexes", []))
            self._tables[name] = Table(name, keys(described["KeySchema"]), indexes)
        return self._tables[name]

    def _get(self, client, table: str, key: dict) -> dict | None:
        if self._lookup is not None:
            return self._lookup(table, key)
        return self._raw(client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}).get("Item")

    def _call(self, client, operation: str, params: dict) -> Any:
        touched = list(self._writes_of(client, operation, params)) if operation in self.WRITES else []
        before = [self._get(client, t.name, key) for t, key, _ in touched]
        failed = False
        try:
            result = self._raw(client, operation, params)
        except Exception as exc:  # noqa: BLE001 - priced, then raised as it came
            failed, result = True, exc
        after = [self._get(client, t.name, key) for t, key, _ in touched]
        for shape in self.shapes:
            if operation in self.WRITES:
                priced = self._price_writes(shape, operation, touched, before, after, failed)
            else:
                priced = self._price_reads(client, shape, operation, params)
            priced.failed = failed
            self.calls[shape.name].append(priced)
        if failed:
            raise result
        return result

    def _writes_of(self, client, operation: str, params: dict) -> Iterator[tuple[Table, dict, str]]:
        """(table, key, action) of every item the write touches."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            table = self.table(client, params["TableName"])
            yield table, params.get("Key") or table.key_of(params["Item"]), operation
        elif operation == "BatchWriteItem":
            for name, requests in params["RequestItems"].items():
                table = self.table(client, name)
                for request in requests:
                    if "PutRequest" in request:
                        yield table, table.key_of(request["PutRequest"]["Item"]), "PutItem"
                    else:
                        yield table, request["DeleteRequest"]["Key"], "DeleteItem"
        else:
            for entry in params["TransactItems"]:
                (action, body), = entry.items()
                table = self.table(client, body["TableName"])
                yield table, body.get("Key") or table.key_of(body["Item"]), action

    def _suffix(self, table: Table) -> str:
        return table.name.removeprefix(self.prefix)

    def _kind(self, table: Table, item: dict | None) -> str:
        """An item's kind for the size report: its table, plus the prefix of a `kind#...` sort key."""
        suffix = self._suffix(table)
        sort = _scalar((item or {}).get(table.keys[1])) if len(table.keys) > 1 else ""
        return f"{suffix}:{sort.split('#', 1)[0]}" if "#" in sort else suffix

    def _price_writes(self, shape: Shape, operation: str, touched, before, after, failed: bool) -> Priced:
        charges, sizes = [], []
        factor = 2 if operation == "TransactWriteItems" else 1
        for (table, key, action), old_raw, new_raw in zip(touched, before, after):
            suffix = self._suffix(table)
            old, new = shape.item(suffix, old_raw), shape.item(suffix, new_raw)
            if action == "ConditionCheck":
                new = old
            size = max(item_size(old), item_size(new))
            sizes.append((self._kind(table, new or old), size))
            pk, sk = _scalar(key.get(table.keys[0])), _scalar(key.get(table.keys[1])) if len(table.keys) > 1 else ""
            charges.append(Charge(operation, suffix, table.keys[0], pk, sk, writes=factor * write_units(size)))
            if failed or action == "ConditionCheck":
                continue
            for raw_index in table.indexes:
                index = shape.index(suffix, raw_index)
                charges.extend(self._index_writes(operation, table, index, old, new))
        return Priced(operation, charges, sizes)

    def _index_writes(self, operation: str, table: Table, index: Index, old: dict | None,
                      new: dict | None) -> list[Charge]:
        where = f"{self._suffix(table)}/{index.name}"
        before, after = index_entry(table, index, old), index_entry(table, index, new)

        def charge(entry: dict) -> Charge:
            sort = _scalar(entry.get(index.keys[1])) if len(index.keys) > 1 else ""
            return Charge(operation, where, index.keys[0], _scalar(entry[index.keys[0]]), sort,
                          writes=write_units(item_size(entry)), index=True)

        if before is None and after is None:
            return []
        if before is None:
            return [charge(after)]
        if after is None:
            return [charge(before)]
        if any(before[k] != after[k] for k in index.keys):
            return [charge(before), charge(after)]
        return [charge(after)] if before != after else []

    def _price_reads(self, client, shape: Shape, operation: str, params: dict) -> Priced:
        charges, sizes = [], []
        if operation in ("GetItem", "BatchGetItem", "TransactGetItems"):
            if operation == "GetItem":
                requests = [(params["TableName"], [params["Key"]], bool(params.get("ConsistentRead")), 1)]
            elif operation == "BatchGetItem":
                requests = [(name, spec["Keys"], bool(spec.get("ConsistentRead")), 1)
                            for name, spec in params["RequestItems"].items()]
            else:
                requests = [(e["Get"]["TableName"], [e["Get"]["Key"]], True, 2) for e in params["TransactItems"]]
            for name, keys, consistent, factor in requests:
                table = self.table(client, name)
                suffix = self._suffix(table)
                for key in keys:
                    item = shape.item(suffix, self._get(client, name, key))
                    size = item_size(item)
                    sizes.append((self._kind(table, item), size))
                    charges.append(Charge(operation, suffix, table.keys[0], _scalar(key.get(table.keys[0])),
                                          _scalar(key.get(table.keys[1])) if len(table.keys) > 1 else "",
                                          reads=factor * read_units(size, consistent)))
            return Priced(operation, charges, sizes)
        # Query / Scan: what the request reads is what the same request returns without filter or projection.
        table = self.table(client, params["TableName"])
        suffix = self._suffix(table)
        unfiltered = _without_filter(params)
        read = self._raw(client, operation, unfiltered).get("Items", [])
        index = next((i for i in table.indexes if i.name == params.get("IndexName")), None)
        total = 0
        for entry in read:
            item = shape.item(suffix, self._get(client, table.name, table.key_of(entry)))
            if index is not None:
                item = index_entry(table, shape.index(suffix, index), item)
            total += item_size(item)
            sizes.append((self._kind(table, item) + (f"/{index.name}" if index else ""), item_size(item)))
        where = f"{suffix}/{index.name}" if index else suffix
        key_attr = index.keys[0] if index else table.keys[0]
        partition = _scalar(read[0].get(key_attr)) if read else _partition_of(params)
        charges.append(Charge(operation, where, key_attr, partition, "",
                              reads=read_units(total, bool(params.get("ConsistentRead")))))
        return Priced(operation, charges, sizes)


def _partition_of(params: dict) -> str:
    values = params.get("ExpressionAttributeValues") or {}
    return _scalar(next(iter(values.values()))) if values else ""


def _without_filter(params: dict) -> dict:
    """The Query/Scan without FilterExpression, ProjectionExpression and Select, and without the names and
    values only they used (DynamoDB refuses unused ones)."""
    import re

    kept = {k: v for k, v in params.items()
            if k not in ("FilterExpression", "ProjectionExpression", "Select", "ExpressionAttributeNames",
                         "ExpressionAttributeValues", "ReturnConsumedCapacity")}
    expression = params.get("KeyConditionExpression", "")
    names = {k: v for k, v in (params.get("ExpressionAttributeNames") or {}).items()
             if re.search(re.escape(k) + r"\b", expression)}
    values = {k: v for k, v in (params.get("ExpressionAttributeValues") or {}).items()
              if re.search(re.escape(k) + r"\b", expression)}
    if names:
        kept["ExpressionAttributeNames"] = names
    if values:
        kept["ExpressionAttributeValues"] = values
    return kept


def moto_lookup(region: str):
    """Items straight from moto's DynamoDB backend, in the wire format (what GetItem would return)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]

    def lookup(table_name: str, key: dict) -> dict | None:
        table = backend.get_table(table_name)
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(DynamoType(key[table.hash_key_attr]), range_key)
        return item.to_json()["Attributes"] if item is not None else None

    return lookup
