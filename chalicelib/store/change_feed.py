"""The change feed: DynamoDB Streams records of the streamed tables, decoded into domain entities.

Every committed write of an item that matters to someone outside (a target, an action and its status history,
a software module, a distribution set, a rollout and its groups, a configuration task) appears once on its
table's stream with the item before and after (`NEW_AND_OLD_IMAGES`); a transaction that failed wrote nothing,
so it appears nowhere. The consumers (chalicelib/jobs/change_feed.py) turn these changes into service
integration events and outbound DMF messages. Why Streams and not an outbox: docs/integration-events.md.

On AWS, Lambda's event source mappings read the streams and hand over the records; locally (`make run`, the
tests) `read` pulls them from moto's streams in the same shape, one iterator per table kept in this process.
"""

from __future__ import annotations

import dataclasses
import datetime
from enum import Enum
from typing import Any, Callable, Mapping

from pynamodb.models import Model

from chalicelib.store import aws, records, tables, workflow_tables


class Kind(str, Enum):
    TARGET = "target"
    ACTION = "action"
    ACTION_STATUS = "action_status"
    SOFTWARE_MODULE = "software_module"
    DISTRIBUTION_SET = "distribution_set"
    ROLLOUT = "rollout"
    ROLLOUT_GROUP = "rollout_group"
    CONFIG_TASK = "config_task"


INSERT, MODIFY, REMOVE = "INSERT", "MODIFY", "REMOVE"


@dataclasses.dataclass(frozen=True)
class Change:
    """One committed change of one item: `old` is None for an INSERT, `new` None for a REMOVE."""

    kind: Kind
    event: str
    tenant: str
    old: Any
    new: Any
    sequence: str  # the record's SequenceNumber (what a partial batch failure names)
    at_ms: int  # when DynamoDB wrote it (ApproximateCreationDateTime, seconds precision)

    @property
    def current(self) -> Any:
        return self.new if self.new is not None else self.old


# (table model, key test on the raw keys, item model, kind): the first match decodes the item.
KeyTest = Callable[[Mapping[str, Any]], bool]


def _sort_key_starts(prefix: str) -> KeyTest:
    return lambda keys: keys.get("sk", {}).get("S", "").startswith(prefix)


def _tenant_partition(keys: Mapping[str, Any]) -> bool:
    """Target items are keyed by the bare tenant; metadata, tag and rollout members by `<tenant>#...`."""
    return "#" not in keys.get("tenant", {}).get("S", "#")


_DECODERS: list[tuple[type[Model], KeyTest, type[Model], Kind]] = [
    (tables.Target, _tenant_partition, tables.Target, Kind.TARGET),
    (tables.Action, lambda keys: True, tables.Action, Kind.ACTION),
    (tables.ActionStatusEntry, lambda keys: True, tables.ActionStatusEntry, Kind.ACTION_STATUS),
    (
        tables.SoftwareModule,
        _sort_key_starts(tables.SoftwareModule.PREFIX),
        tables.SoftwareModule,
        Kind.SOFTWARE_MODULE,
    ),
    (
        tables.SoftwareModule,
        _sort_key_starts(tables.DistributionSet.PREFIX),
        tables.DistributionSet,
        Kind.DISTRIBUTION_SET,
    ),
    (tables.SoftwareModule, _sort_key_starts(tables.Rollout.PREFIX), tables.Rollout, Kind.ROLLOUT),
    (tables.SoftwareModule, _sort_key_starts("rgroup#"), tables.RolloutGroup, Kind.ROLLOUT_GROUP),
    (
        workflow_tables.WorkflowInstance,
        _sort_key_starts(workflow_tables.WorkflowInstance.PREFIX),
        workflow_tables.WorkflowInstance,
        Kind.CONFIG_TASK,
    ),
]
_ENTITIES: dict[type[Model], type] = {}


def streamed_tables() -> list[str]:
    """The physical tables whose stream is read (one model each)."""
    names: list[str] = []
    for table_model, _test, _model, _kind in _DECODERS:
        if table_model.Meta.table_name not in names:
            names.append(table_model.Meta.table_name)
    return names


def _entity_class(model: type[Model]) -> type:
    if not _ENTITIES:
        _ENTITIES.update({model_cls: entity_cls for entity_cls, model_cls in records._MODELS.items()})
    return _ENTITIES[model]


def table_of(record: Mapping[str, Any]) -> str:
    """`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>` → `<name>`."""
    return record["eventSourceARN"].split(":", 5)[5].split("/")[1]


def tenant_of(record: Mapping[str, Any]) -> str | None:
    """The tenant a record belongs to, from its keys alone (every key starts with the tenant: `tenant`, or
    `<tenant>#...` as the actions' `target_key` and the history's `action_key`), without decoding its images."""
    keys = record["dynamodb"].get("Keys") or {}
    for name in ("tenant", "target_key", "action_key"):
        value = keys.get(name, {}).get("S")
        if value:
            return value.split("#", 1)[0]
    return None


def decode(record: Mapping[str, Any]) -> Change | None:
    """The change a stream record carries, or None for an item no consumer looks at (counters, members, ...)."""
    table = table_of(record)
    stream = record["dynamodb"]
    keys = stream.get("Keys") or {}
    for table_model, test, model, kind in _DECODERS:
        if table_model.Meta.table_name == table and test(keys):
            old = _entity(model, stream.get("OldImage"))
            new = _entity(model, stream.get("NewImage"))
            tenant = tenant_of(record)
            if tenant is None:
                return None
            return Change(
                kind=kind,
                event=record["eventName"],
                tenant=tenant,
                old=old,
                new=new,
                sequence=stream["SequenceNumber"],
                at_ms=int(float(stream.get("ApproximateCreationDateTime") or 0) * 1000),
            )
    return None


def _entity(model: type[Model], image: Mapping[str, Any] | None) -> Any:
    if not image:
        return None
    return records.to_entity(_entity_class(model), model.from_raw_data(dict(image)))


# --- local reading (make run and the tests): moto's streams through the DynamoDB Streams API ---------------
_iterators: dict[str, str] = {}  # table name -> the next shard iterator
_arns: dict[str, str] = {}


def reset() -> None:
    _iterators.clear()
    _arns.clear()


def current_iterators() -> set[str]:
    """The shard iterators the next `read` uses (the launcher lets moto forget every other one)."""
    return set(_iterators.values())


def _stream_arn(table: str) -> str:
    if table not in _arns:
        _arns[table] = aws.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return _arns[table]


def read(limit: int = 100) -> list[dict[str, Any]]:
    """The records written since the last read, oldest first per table, in the shape Lambda's event source
    mapping delivers them (`eventSourceARN`, `ApproximateCreationDateTime` in epoch seconds)."""
    streams = aws.client("dynamodbstreams")
    found: list[dict[str, Any]] = []
    for table in streamed_tables():
        arn = _stream_arn(table)
        iterator = _iterators.get(table)
        if iterator is None:
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
        answer = streams.get_records(ShardIterator=iterator, Limit=limit)
        _iterators[table] = answer["NextShardIterator"]
        for record in answer["Records"]:
            found.append(_as_lambda_record(record, arn))
    return found


def _as_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime.datetime):
        stream["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": stream, "eventSourceARN": stream_arn}
