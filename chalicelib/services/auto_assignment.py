"""Auto-assignment (hawkBit AutoAssignChecker): a filter with an auto-assign set assigns it to every matching
target that never had it (not assigned, installed, open or in its action history), whose type accepts the set,
with the filter's action type, weight and confirmation flag, through the one assignment service
(services/deployment.py: quotas, multi-assignment, snapshots and concurrency as for an operator's assignment).

When it runs, and what it costs:
- Event-driven, for one target, when it registers (plug-and-play or Management create) or changes attributes,
  tags, type or metadata. The tenant's auto-assigning filters come from a per-container cache (the tenant
  configuration's life, ~10 s; a miss is one Query of the filters' evaluation copies, which costs what it
  finds), so the hot path of a tenant without auto-assigning filters reads nothing after the first request of
  a container. Matching reads what a query names and nothing else: the target's metadata item only for a
  query naming `metadata.*`, its tags' names only for a query naming `tag`; the action history only for a
  matching target that already has actions.
- A scheduled safety net (chalicelib/jobs/auto_assignment.py) walks each tenant's targets in pages under a
  unit's budget, with continuations, also queued right after a filter gets its set: it catches what an event
  missed (a container's cache older than the filter, an evaluation that failed).
Idempotent: the assignment re-reads each target and skips one that has the set (a concurrent evaluation, a
redelivered job unit), and a target's version condition lets only one of two racing writers through.
"""

from __future__ import annotations

import logging
from typing import Iterable

from chalicelib import errors, faults
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain import target_filters as rules
from chalicelib.domain.catalog_entities import DistributionSet
from chalicelib.domain.target_filters import AutoAssignment
from chalicelib.domain.targets import Target
from chalicelib.lazy import lazy_import
from chalicelib.services import target_matching
from chalicelib.services.tenant_cache import TenantCache
from chalicelib.store import actions as action_store
from chalicelib.store import catalog
from chalicelib.store import target_filters as store
from chalicelib.store import targets as target_store

rsql = lazy_import("chalicelib.domain.rsql")
targets = lazy_import("chalicelib.services.targets")
deployment = lazy_import("chalicelib.services.deployment")

log = logging.getLogger("skyhawk.auto_assignment")

_cache: TenantCache[tuple[AutoAssignment, ...]] = TenantCache(lambda tenant: tuple(store.auto_assignments(tenant)))
# The assignment refuses these for a whole request: the filter cannot assign now (its set was deleted,
# invalidated, or a target changed type or filled its actions meanwhile); the next evaluation decides again.
_CANNOT_ASSIGN = (
    errors.EntityNotFound,
    errors.DistributionSetInvalid,
    errors.DistributionSetIncomplete,
    errors.TargetTypeIncompatible,
    errors.QuotaExceeded,
)


# --- the tenant's auto-assigning filters ---------------------------------------------------------------------
def active(tenant: str) -> tuple[AutoAssignment, ...]:
    """The tenant's auto-assigning filters, id order; cached per container for the tenant configuration's life."""
    return _cache.get(tenant)


def forget(tenant: str | None = None) -> None:
    _cache.forget(tenant)


def fresh(tenant: str) -> list[AutoAssignment]:
    """Read now (the job's view), not from the cache."""
    return store.auto_assignments(tenant, consistent=True)


# --- events ------------------------------------------------------------------------------------------------
def registered(tenant: str, target: Target) -> Target:
    """A target just registered: the target as it is after its auto-assignments (the same one when none)."""
    created = _quietly(lambda: evaluate(tenant, [target], active(tenant)))
    return (target_store.find(tenant, target.controller_id) or target) if created else target


def created(tenant: str, items: Iterable[Target]) -> None:
    """Targets created by an operator."""
    items = list(items)
    if items:
        _quietly(lambda: evaluate(tenant, items, active(tenant)))


def changed(tenant: str, controller_ids: Iterable[str]) -> None:
    """Targets whose attributes, tags, type or metadata changed: read (one consistent BatchGet, which sees the
    change just written) only when the tenant has auto-assigning filters."""
    ids = list(dict.fromkeys(controller_ids))

    def evaluation() -> int:
        filters = active(tenant)
        if not filters:
            return 0
        return evaluate(tenant, list(target_store.find_many(tenant, ids, consistent=True).values()), filters)

    if ids:
        _quietly(evaluation)


def _quietly(evaluation) -> int:
    """An event's evaluation never fails the request that caused it (its change is written already): the safety
    net takes over."""
    try:
        return evaluation()
    except errors.SkyhawkError as exc:
        log.warning("auto-assignment skipped: %s", exc)
    except Exception as exc:
        if not faults.unavailable(exc):
            raise
        log.warning("auto-assignment skipped: %s", faults.describe(exc))
    return 0


# --- evaluation ----------------------------------------------------------------------------------------------
def evaluate(tenant: str, items: list[Target], filters: Iterable[AutoAssignment]) -> int:
    """Assign the filters' sets to the matching targets among `items`, filter by filter in id order (without
    multi-assignment a later filter's set supersedes an earlier one's, as in hawkBit). Returns the actions
    created. A concurrent change that outlasts the assignment's retries raises (a job unit is redelivered)."""
    filters = list(filters)
    if not filters or not items:
        return 0
    created = 0
    for item, matched in _matching(tenant, filters, items):
        todo = _without_history(
            tenant,
            item,
            _compatible(
                tenant,
                item,
                [
                    t
                    for t in matched
                    if not rules.has_set(t.active_actions, t.assigned_ds, t.installed_ds, item.ds_id)
                    and int(t.action_count or 0) < quota_rules.MAX_ACTIONS_PER_TARGET
                ],
            ),
        )
        if not todo:
            continue
        requests = [
            deployment.AssignmentRequest(
                t.controller_id, item.action_type, None, int(item.weight), None, bool(item.confirmation_required)
            )
            for t in todo
        ]
        try:
            result = deployment.assign(
                tenant, int(item.ds_id), requests, item.initiated_by, message=rules.ACTION_MESSAGE.format(item.name)
            )
        except _CANNOT_ASSIGN as exc:
            log.warning("filter %s cannot auto-assign set %s now: %s", item.id, item.ds_id, exc)
            continue
        created += result.assigned
    return created


def _matching(
    tenant: str, filters: list[AutoAssignment], items: list[Target]
) -> list[tuple[AutoAssignment, list[Target]]]:
    nodes = []
    for item in filters:
        try:
            nodes.append((item, rsql.parse(item.query_text, targets.SEARCH_FIELDS)))
        except errors.SkyhawkError as exc:  # valid when saved; a field the targets no longer offer
            log.warning("filter %s has a query that no longer parses: %s", item.id, exc)
    views = target_matching.views(tenant, items, [node for _, node in nodes])
    return [(item, [t for t, view in views if node.matches(view)]) for item, node in nodes]


def _compatible(tenant: str, item: AutoAssignment, candidates: list[Target]) -> list[Target]:
    """Leave out targets whose type does not list the set's type (the set read only when a candidate has a type)."""
    if all(t.target_type is None for t in candidates):
        return candidates
    ds = catalog.get(DistributionSet, tenant, int(item.ds_id))
    if ds is None:
        return []
    return target_matching.compatible(tenant, candidates, int(ds.type_id))


def _without_history(tenant: str, item: AutoAssignment, candidates: list[Target]) -> list[Target]:
    """Leave out targets that had an action for the set (hawkBit: not in the action history); a target
    without actions costs no read."""
    return [
        t
        for t in candidates
        if not int(t.action_count or 0)
        or all(int(a.ds_id) != int(item.ds_id) for a in action_store.of_target(tenant, t.controller_id))
    ]
