"""A distribution set's actions counted by status (hawkBit's countActionsByStatusForDistributionSet), for
GET /rest/v1/distributionsets/{id}/statistics[/actions].

Why counters and not an index: counting a set's actions from an index of actions by set would read every action
of the set on each statistics request (200,000 key entries, some 2,500 read units, for a set on a 200,000-target
fleet). The counts instead move inside the transactions that already write the actions: +1 when an action is
created, -1/+1 when its status changes, -1 when it is deleted. Most device feedback keeps the status (proceeding,
download, downloaded of a normal action): those transactions move nothing. What moves, moves once per
transaction and set (an assignment batch of many targets adds one item, not one per target).

Sharded: a rollout's devices report at once, and DynamoDB cancels a transaction that meets another one on the
same item, so one counter item in all their transactions would make them conflict (and retry) all the time. Each
transaction takes one of SHARDS items of the set (`dsactions#<dsId>#<shard>`), picked by an action id it writes
(consecutive ids take the shards in turn); a count is the sum over the shards, read with one Query of the set's
key range (at most 128 items of about 60 bytes: 1 read unit). At docs/capacity.md's rollout pace (a million
devices in 15 minutes, two count-moving transactions each) an item takes some 17 transactions a second: a few in
a hundred meet another one, and are retried after a jittered pause like any concurrent change.
"""

from __future__ import annotations

from chalicelib.domain.actions import StatusCounts, Subject
from chalicelib.store.tables import DistributionSetActionCounts as Counts
from chalicelib.store.tx import Tx

SHARDS = 128
# A rollout group's counts spread over fewer items: a check reads each running group's (16 at most, a few hundred
# bytes), and a group's closing feedback comes at most at the pace of one rollout (16 items take it, see above).
GROUP_SHARDS = 16


GROUP_PREFIX = "rgactions#"  # a rollout group's counts: `rgactions#<rolloutId>#<position>#<shard>`


def _prefix(subject: Subject) -> str:
    if isinstance(subject, tuple):
        rollout_id, position = subject
        return f"{rollout_prefix(rollout_id)}{int(position):06d}#"
    return f"{Counts.PREFIX}{int(subject)}#"


def rollout_prefix(rollout_id: int) -> str:
    return f"{GROUP_PREFIX}{int(rollout_id)}#"


def add(tx: Tx, tenant: str, counts: StatusCounts, spread_by: int) -> Tx:
    """Move the sets' counts inside `tx`: one item per set that moves, the shard picked by `spread_by` (an action id
    of the transaction: consecutive ids take the shards in turn). Once per transaction: a transaction may name an
    item only once."""
    for subject, moves in counts.items():
        shard = int(spread_by) % (GROUP_SHARDS if isinstance(subject, tuple) else SHARDS)
        actions = [getattr(Counts, status).add(delta) for status, delta in sorted(moves.items()) if delta]
        if actions:
            # padded: every shard's item has the same size (what docs/capacity measures)
            tx.update(Counts(tenant, f"{_prefix(subject)}{shard:03d}"), actions, add_version_condition=False)
    return tx


def of_set(tenant: str, ds_id: int) -> dict[str, int]:
    """Status -> count of the set's actions, statuses without any left out (one Query of its shards)."""
    return _summed(Counts.query(tenant, Counts.key.startswith(_prefix(int(ds_id)))))


def of_rollout(tenant: str, rollout_id: int, consistent: bool = False) -> dict[int, dict[str, int]]:
    """Group position -> status -> count of a rollout's actions (one Query of its groups' shards)."""
    by_group: dict[int, list] = {}
    prefix = rollout_prefix(rollout_id)
    for item in Counts.query(tenant, Counts.key.startswith(prefix), consistent_read=consistent):
        by_group.setdefault(int(item.key[len(prefix) :].split("#")[0]), []).append(item)
    return {position: _summed(items) for position, items in by_group.items()}


def of_groups(
    tenant: str, rollout_id: int, positions: list[int], consistent: bool = False
) -> dict[int, dict[str, int]]:
    """Group position -> status -> count, for the groups named (one Query of each group's items)."""
    return {
        int(p): _summed(
            Counts.query(tenant, Counts.key.startswith(_prefix((int(rollout_id), int(p)))), consistent_read=consistent)
        )
        for p in positions
    }


def forget_rollout(tenant: str, rollout_id: int) -> None:
    """Delete a rollout's counter items (its hard delete)."""
    with Counts.batch_write() as batch:
        for item in Counts.query(
            tenant, Counts.key.startswith(rollout_prefix(rollout_id)), attributes_to_get=["tenant", "key"]
        ):
            batch.delete(item)


def _summed(items) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in items:
        for name, value in item.attribute_values.items():
            if name not in ("tenant", "key") and value:
                totals[name] = totals.get(name, 0) + int(value)
    return {status: count for status, count in totals.items() if count}
