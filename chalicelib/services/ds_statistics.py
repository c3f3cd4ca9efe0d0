"""A distribution set's statistics (hawkBit getStatisticsForDistributionSet and its parts): its actions counted
by status, its rollouts counted by status.

Actions: per-set counters kept by the transactions that write the actions (store/action_counts.py says why not an
index), read with one Query of the set's shards. Rollouts: the tenant's rollouts of the set by status (one Query of
the tenant's rollouts, bounded by its ROLLOUT quota).
"""

from __future__ import annotations

from chalicelib import errors
from chalicelib.domain.catalog_entities import DistributionSet
from chalicelib.services import rollouts, target_filters
from chalicelib.store import action_counts, catalog


def _exists(tenant: str, ds_id: int) -> None:
    """hawkBit answers for any stored set, soft-deleted ones too (404 only for an unknown id)."""
    if catalog.get(DistributionSet, tenant, ds_id) is None:
        raise errors.EntityNotFound.of("DistributionSet", ds_id)


def actions_by_status(tenant: str, ds_id: int) -> dict[str, int]:
    """Status (hawkBit's Action.Status name) -> how many of the set's actions have it; statuses without any absent."""
    _exists(tenant, ds_id)
    return action_counts.of_set(tenant, ds_id)


def rollouts_by_status(tenant: str, ds_id: int) -> dict[str, int]:
    _exists(tenant, ds_id)
    return rollouts.by_status_of_set(tenant, ds_id)


def of_set(tenant: str, ds_id: int) -> tuple[dict[str, int], dict[str, int], int]:
    """(actions by status, rollouts by status, the filters auto-assigning it), the set checked once."""
    _exists(tenant, ds_id)
    return (
        action_counts.of_set(tenant, ds_id),
        rollouts.by_status_of_set(tenant, ds_id),
        target_filters.auto_assignment_count(tenant, ds_id),
    )
