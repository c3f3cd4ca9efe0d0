"""Per-tenant counters: id sequences and quota usage, kept exact by atomic ADDs.

Ids: `allocate_ids` reserves a block in one UpdateItem (assigning 1,000 targets reserves 1,000 action
ids in one call). Usage: `usage_update` adds a counter change to the transaction that creates or deletes
the entities, with a condition that keeps it within the limit, so a refused create writes nothing.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import quotas
from chalicelib.store import records
from chalicelib.store.tables import Counter
from chalicelib.store.tx import Tx


def allocate_ids(tenant: str, entity: str, count: int = 1) -> list[int]:
    counter = Counter(tenant, f"seq#{entity}")
    counter.update(actions=[Counter.value.add(count)])
    last = int(counter.value)
    return list(range(last - count + 1, last + 1))


def allocate_id(tenant: str, entity: str) -> int:
    return allocate_ids(tenant, entity, 1)[0]


def usage(tenant: str, quota: str) -> int:
    try:
        return int(Counter.get(tenant, f"usage#{quota}").value)
    except DoesNotExist:
        return 0


def usages(tenant: str) -> dict[str, int]:
    return {c.key.split("#", 1)[1]: int(c.value)
            for c in Counter.query(tenant, Counter.key.startswith("usage#"))}


def usage_update(tx: Tx, tenant: str, quota: str, delta: int, limit: int | None = None,
                 message: str | None = None) -> Tx:
    """Add `delta` to the usage counter inside `tx`; with `limit`, on the condition that it stays within
    (chalicelib/domain/quotas.py decides: `room`, and `exceeded` when the transaction fails on it)."""
    counter = Counter(tenant, f"usage#{quota}")
    condition = None
    if delta > 0 and limit is not None:
        if delta > limit:
            raise quotas.exceeded(quota, limit, message)
        condition = records.condition(Counter, quotas.room(limit, delta))
    tx.update(counter, [Counter.value.add(delta)], condition=condition,
              on_fail=lambda: quotas.exceeded(quota, limit, message))
    return tx
