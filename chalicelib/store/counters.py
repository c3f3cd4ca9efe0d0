"""Per-tenant counters: id sequences and quota usage, kept exact by atomic ADDs.

Ids: `allocate_ids` reserves a block in one UpdateItem (assigning 1,000 targets reserves 1,000 action
ids in one call). Usage: `usage_update` adds a counter change to the transaction that creates or deletes
the entities, with a condition that keeps it within the limit, so a refused create writes nothing.

A fleet registers its devices concurrently (plug-and-play first polls, bulk creates), and one counter item
in every registration transaction would make them conflict and cap a tenant at one item's write rate. The
SHARDED quotas therefore count in USAGE_SHARDS items (`usage#TARGET#<shard>`, the shard spread by the
entity's id): the usage is their sum, read (one consistent Query) before the write is composed. Concurrent
creates can so pass the limit by as many as are in flight at the same moment; every other quota stays exact.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib import errors
from chalicelib.domain import quotas
from chalicelib.domain.targets import shard_of
from chalicelib.store import records
from chalicelib.store.tables import Counter
from chalicelib.store.tx import Tx

SHARDED = frozenset({"TARGET"})
USAGE_SHARDS = 16


def allocate_ids(tenant: str, entity: str, count: int = 1) -> list[int]:
    counter = Counter(tenant, f"seq#{entity}")
    counter.update(actions=[Counter.value.add(count)])
    last = int(counter.value)
    return list(range(last - count + 1, last + 1))


def allocate_id(tenant: str, entity: str) -> int:
    return allocate_ids(tenant, entity, 1)[0]


def _shards(tenant: str, quota: str) -> dict[str, int]:
    """key -> value of a sharded quota's counter items (one consistent Query)."""
    return {
        c.key: int(c.value)
        for c in Counter.query(tenant, Counter.key.startswith(f"usage#{quota}#"), consistent_read=True)
    }


def usage(tenant: str, quota: str) -> int:
    if quota in SHARDED:
        return sum(_shards(tenant, quota).values())
    try:
        return int(Counter.get(tenant, f"usage#{quota}").value)
    except DoesNotExist:
        return 0


def usages(tenant: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for counter in Counter.query(tenant, Counter.key.startswith("usage#")):
        quota = counter.key.split("#")[1]
        found[quota] = found.get(quota, 0) + int(counter.value)
    return found


def usage_update(
    tx: Tx,
    tenant: str,
    quota: str,
    delta: int,
    limit: int | None = None,
    message: str | None = None,
    spread_by: str = "",
) -> Tx:
    """Add `delta` to the usage counter inside `tx`; with `limit`, on the condition that it stays within
    (chalicelib/domain/quotas.py decides: `room`, and `exceeded` when the transaction fails on it).

    `spread_by` (the entity's id) picks the counter item of a SHARDED quota, checked against the shards' sum
    before the write (no condition can span the shards)."""
    if delta > 0 and limit is not None and delta > limit:
        raise quotas.exceeded(quota, limit, message)
    if quota in SHARDED:
        if delta > 0 and limit is not None and usage(tenant, quota) + delta > limit:
            raise quotas.exceeded(quota, limit, message)
        tx.update(Counter(tenant, f"usage#{quota}#{shard_of(spread_by, USAGE_SHARDS)}"), [Counter.value.add(delta)])
        return tx
    condition = None
    if delta > 0 and limit is not None:
        condition = records.condition(Counter, quotas.room(limit, delta))
    tx.update(
        Counter(tenant, f"usage#{quota}"),
        [Counter.value.add(delta)],
        condition=condition,
        on_fail=lambda: quotas.exceeded(quota, limit, message),
    )
    return tx


def stored_usage(tenant: str, quota: str) -> dict[str, int] | None:
    """What a recount compares against: the counter items and their values (None: no counter yet)."""
    if quota in SHARDED:
        return _shards(tenant, quota) or None
    try:
        return {f"usage#{quota}": int(Counter.get(tenant, f"usage#{quota}", consistent_read=True).value)}
    except DoesNotExist:
        return None


def correct_usage(tenant: str, quota: str, read: dict[str, int] | None, total: int) -> bool:
    """Set the usage to `total` if no counter item moved since `read` (False: one did, count again).

    One transaction over every counter item of the quota (a shard not read must still not exist): the first
    takes the total, every other shard 0."""
    tx = Tx()
    keys = [f"usage#{quota}#{n}" for n in range(USAGE_SHARDS)] if quota in SHARDED else [f"usage#{quota}"]
    first = keys[0]
    values = dict(read or {})
    for key in keys:
        condition = Counter.value == values[key] if key in values else Counter.value.does_not_exist()
        tx.update(Counter(tenant, key), [Counter.value.set(total if key == first else 0)], condition=condition)
    try:
        tx.commit()
    except errors.ConcurrentModification:
        return False
    return True
