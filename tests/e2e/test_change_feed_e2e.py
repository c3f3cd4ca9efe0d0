"""The change feed of `make run` (infra/launcher.py FeedBacklog): the embedded moto's streams read as the event
source mappings would, and what is delivered forgotten, so a long local run does not grow by every write."""
from __future__ import annotations


def _streams(running) -> tuple[int, int]:
    """(records moto still holds in the streamed tables' shards, shard iterators it keeps)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from chalicelib.store import change_feed
    streamed = set(change_feed.streamed_tables())
    records = sum(len(table.stream_shard.items) for account in dynamodb_backends.values()
                  for backend in account.values() for name, table in backend.tables.items()
                  if name in streamed and table.stream_shard is not None)
    iterators = sum(len(backend.shard_iterators) for account in dynamodbstreams_backends.values()
                    for backend in account.values())
    return records, iterators


def _create(stack, prefix: str, count: int) -> None:
    resp = stack.admin.post(f"{stack.url}/rest/v1/targets",
                            json=[{"controllerId": f"{prefix}-{i}", "name": f"{prefix}-{i}"} for i in range(count)])
    assert resp.status_code == 201, resp.text


def test_delivered_records_and_old_iterators_are_forgotten_and_reading_goes_on(stack):
    from chalicelib.store import change_feed
    stack.running.run_changes()
    _create(stack, "feed-a", 5)
    assert stack.running.run_changes()["records"] >= 5
    for _ in range(3):  # idle reads hand out new iterators each time
        assert stack.running.run_changes().get("records", 0) == 0
    records, iterators = _streams(stack.running)
    assert records == 0
    assert iterators <= len(change_feed.streamed_tables())
    _create(stack, "feed-b", 3)  # numbering goes on after the dropped records
    delivered = stack.running.run_changes()
    assert delivered["records"] >= 3 and delivered["delivered"] == delivered["records"]
    assert _streams(stack.running)[0] == 0
    for prefix, count in (("feed-a", 5), ("feed-b", 3)):
        for i in range(count):
            assert stack.admin.delete(f"{stack.url}/rest/v1/targets/{prefix}-{i}").status_code == 200
