"""Rollouts as an operator handles them (hawkBit RolloutManagement; docs/rollouts-hawkbit.md §1): create, read,
list, rename, start, pause, resume, approve or deny, stop, delete, retry, trigger the next group; a rollout's
groups and their targets, counted by status.

Each operation checks the transition in chalicelib/domain/rollouts.py and writes it conditioned on the status it
was decided on; what then takes time (filling the groups, starting a group's actions, cancelling them) is
queued for the rollouts job (chalicelib/jobs/rollouts.py, services/rollout_runner.py), which the launcher's
queue drain or Lambda's event source runs within a second.

POST counts the matching targets itself when the tenant has few (up to INLINE_PAGES pages of targets), so
hawkBit's refusals (no target matches, groups leave targets out, a group too large) are a 400 as in hawkBit;
for a larger tenant the count goes on in the background and a refusal found there stops the rollout with
its reason in `statusMessage` (README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from chalicelib import clock, errors
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain import rollout_groups, rollout_progress, rsql
from chalicelib.domain import rollouts as rules
from chalicelib.domain.catalog_entities import DistributionSet
from chalicelib.domain.listing import Paging
from chalicelib.domain.rollout_progress import Counts
from chalicelib.domain.rollout_spec import RolloutChange, RolloutSpec
from chalicelib.domain.rollouts import GroupStatus, Rollout, RolloutGroup, RolloutStatus
from chalicelib.domain.targets import Target
from chalicelib.lazy import lazy_import
from chalicelib.services import catalog_lists, quotas, rollout_creation, rollout_runner, target_lists, tenant_config
from chalicelib.store import catalog, counters
from chalicelib.store import rollouts as store
from chalicelib.store.tx import ATTEMPTS, Tx, retrying

distribution_sets = lazy_import("chalicelib.services.distribution_sets")
rollout_job = lazy_import("chalicelib.jobs.rollouts")

QUOTA = "ROLLOUT"
KIND = "Rollout"
INLINE_PAGES = 10  # POST counts up to this many pages of targets itself (rollout_creation.PAGE each)
FIELDS = catalog_lists.BASE_FIELDS | {"status", "distributionset.id", "distributionset.name", "distributionset.version"}
GROUP_FIELDS = catalog_lists.BASE_FIELDS | {"status"}
SORTABLE = catalog_lists.sortable(FIELDS)
GROUP_SORTABLE = catalog_lists.sortable(GROUP_FIELDS)


@dataclass(frozen=True)
class Progress:
    """A rollout with its groups' counts (what a detailed answer renders)."""

    rollout: Rollout
    counts: dict[int, Counts]

    @property
    def total(self) -> Counts:
        return sum(self.counts.values(), Counts())


# --- reading -------------------------------------------------------------------------------------------------
def get(tenant: str, rollout_id: int) -> Rollout:
    """The rollout (a soft-deleted one too, as hawkBit finds it); 404 when unknown or hard-deleted."""
    rollout = store.get(tenant, rollout_id)
    if rollout is None:
        raise errors.EntityNotFound.of(KIND, rollout_id)
    return rollout


def with_progress(tenant: str, rollout_id: int) -> Progress:
    rollout = get(tenant, rollout_id)
    return Progress(rollout, rollout_runner.counts(tenant, rollout))


def progress_of(tenant: str, items: Iterable[Rollout]) -> list[Progress]:
    return [Progress(r, rollout_runner.counts(tenant, r)) for r in items]


def list_rollouts(tenant: str, q: str | None, paging: Paging) -> tuple[list[Rollout], int]:
    """Rollouts not deleted. Unfiltered in id order: the page's rollouts only, the total from the ROLLOUT quota's
    usage; else a Query of the tenant's rollouts (at most its ROLLOUT quota), filtered and sorted in memory."""
    descending = paging.sorted_by("id")
    if not q and descending is not None:
        return store.page(tenant, paging.offset, paging.limit, descending), counters.usage(tenant, QUOTA)
    node = rsql.parse(q, FIELDS) if q else None
    items = [r for r in store.all_of(tenant) if not r.deleted and r.status != RolloutStatus.DELETED]
    sets = (
        _sets(tenant, {int(r.ds_id) for r in items})
        if node is not None and any(f.lower().startswith("distributionset.") for f in node.fields())
        else {}
    )
    records = []
    for rollout in items:
        record = catalog_lists.base_record(rollout)
        ds = sets.get(int(rollout.ds_id))
        record.update(
            {
                "status": rollout.status.lower(),
                "distributionset.id": int(rollout.ds_id),
                "distributionset.name": ds.name if ds else None,
                "distributionset.version": ds.version_name if ds else None,
            }
        )
        records.append(record)
    return catalog_lists.filter_and_page(records, node, paging)


def _sets(tenant: str, ids: set[int]) -> dict[int, DistributionSet]:
    return catalog.get_many(DistributionSet, tenant, ids)


def groups(tenant: str, rollout_id: int, q: str | None, paging: Paging) -> tuple[list[RolloutGroup], int]:
    get(tenant, rollout_id)
    node = rsql.parse(q, GROUP_FIELDS) if q else None
    records = [
        {**catalog_lists.base_record(g), "status": g.status.lower()} for g in store.groups_of(tenant, rollout_id)
    ]
    return catalog_lists.filter_and_page(records, node, paging)


def group(tenant: str, rollout_id: int, group_id: int) -> RolloutGroup:
    """A group of the rollout by its id (404 for a group of another rollout)."""
    get(tenant, rollout_id)
    found = next((g for g in store.groups_of(tenant, rollout_id) if int(g.id) == int(group_id)), None)
    if found is None:
        raise errors.EntityNotFound.of("RolloutGroup", group_id)
    return found


def group_counts(tenant: str, rollout: Rollout) -> dict[int, Counts]:
    return rollout_runner.counts(tenant, rollout)


def group_targets(tenant: str, rollout_id: int, group_id: int, params: dict[str, str]) -> tuple[list[Target], int]:
    """The group's targets as any list of targets (`q=`, `sort`), read from its members in controllerId order."""
    found = group(tenant, rollout_id, group_id)
    return target_lists.list_among(tenant, store.member_ids(tenant, rollout_id, found.position), params)


def per_status(rollout: Rollout, counts: Counts, total_targets: int) -> dict[str, int]:
    return rollout_progress.per_status(counts, total_targets, rules.has_started(rollout))


# --- creating ------------------------------------------------------------------------------------------------
def _duplicate(name: str) -> errors.SkyhawkError:
    return errors.EntityAlreadyExists(f"A rollout with name '{name}' already exists.", [name])


def create(tenant: str, spec: RolloutSpec, user: str, permissions: Iterable[str]) -> Rollout:
    permissions = list(permissions)
    rules.check_may_schedule(spec, permissions)
    cfg = tenant_config.values(tenant)
    rules.check_weight(spec, bool(cfg["multi.assignments.enabled"]))
    rollout_creation.check_queries(spec.target_filter_query, [g.target_filter_query for g in spec.groups])
    if spec.ds_id:
        distribution_sets.lock_for_assignment(tenant, spec.ds_id)  # 404 / 400 invalid or incomplete
    else:
        raise errors.EntityNotFound.of("DistributionSet", 0)
    quota_rules.check_create(1, quotas.limit(QUOTA), "rollouts", counters.usage(tenant, QUOTA))
    if store.name_taken(tenant, spec.name):
        raise _duplicate(spec.name)
    needs_approval = rules.approval_needed(bool(cfg["rollout.approval.enabled"]), permissions)
    (rollout_id,) = counters.allocate_ids(tenant, store.SEQUENCE, 1)
    count = rollout_groups.group_count(spec)
    group_ids = counters.allocate_ids(tenant, store.GROUP_SEQUENCE, count) if count else []
    now = clock.now_ms()
    rollout = rules.new_rollout(tenant, rollout_id, spec, now, user)
    rollout.approval_needed = needs_approval  # kept: the creation's last unit decides READY or WAITING_FOR_APPROVAL
    made = rollout_groups.groups_of(rollout, spec, group_ids, bool(cfg["user.confirmation.flow.enabled"]), now)
    # Counted here for a small tenant: hawkBit's refusals are a 400 and nothing is written.
    state = rollout_creation.step(tenant, rollout, made, rollout_creation.Pass(), INLINE_PAGES)
    tx = store.create(Tx(), rollout, made)
    store.claim_name(tx, tenant, spec.name, rollout_id, lambda: _duplicate(spec.name))
    quotas.charge(tx, tenant, QUOTA, 1)
    tx.commit()
    rollout_job.nudge(tenant, rollout_id, {"creation": state.to_json()})
    return get(tenant, rollout_id)


def retry(tenant: str, rollout_id: int, user: str, permissions: Iterable[str]) -> Rollout:
    """POST /{id}/retry: a new rollout of the targets whose action of this one ended in ERROR."""
    return create(tenant, rules.retry_spec(get(tenant, rollout_id)), user, permissions)


# --- operations ----------------------------------------------------------------------------------------------
def _apply(tenant: str, rollout_id: int, decide) -> Rollout:
    """Read, decide the transition (or raise hawkBit's refusal), write it conditioned on the status read."""

    def attempt() -> None:
        rollout = get(tenant, rollout_id)
        tx = decide(rollout, Tx())
        if tx is not None:
            tx.commit()

    retrying(ATTEMPTS, attempt)
    return get(tenant, rollout_id)


def update(tenant: str, rollout_id: int, requested: RolloutChange, user: str) -> Rollout:
    name, description, has_description = requested.name, requested.description, requested.has_description

    def decide(rollout: Rollout, tx: Tx) -> Tx:
        change = rules.update(rollout, name, description, has_description, clock.now_ms(), user)
        tx.update(rollout, change)
        if name is not None and name != rollout.name:
            store.release_name(tx, tenant, rollout.name)
            store.claim_name(tx, tenant, name, rollout.id, lambda: _duplicate(str(name)))
        return tx

    return _apply(tenant, rollout_id, decide)


def start(tenant: str, rollout_id: int, user: str) -> Rollout:
    rollout = _apply(tenant, rollout_id, lambda r, tx: store.move(tx, r, rules.start(r, clock.now_ms(), user)))
    rollout_job.nudge(tenant, rollout_id)
    return rollout


def pause(tenant: str, rollout_id: int, user: str) -> Rollout:
    return _apply(tenant, rollout_id, lambda r, tx: store.move(tx, r, rules.pause(r, clock.now_ms(), user)))


def resume(tenant: str, rollout_id: int, user: str) -> Rollout:
    """PAUSED -> RUNNING; after a group's error (or its success action PAUSE) the next group starts at once."""

    def decide(rollout: Rollout, tx: Tx) -> Tx:
        now = clock.now_ms()
        store.move(tx, rollout, rules.resume(rollout, now, user))
        all_groups = store.groups_of(tenant, rollout_id)
        child = rollout_progress.resume_starts(all_groups, rollout_runner.counts(tenant, rollout))
        if child is not None:
            group = next(g for g in all_groups if g.position == child)
            store.move_group(tx, group, rules.group_moved(group, GroupStatus.RUNNING, now))
        return tx

    rollout = _apply(tenant, rollout_id, decide)
    rollout_job.nudge(tenant, rollout_id)
    return rollout


def approve(tenant: str, rollout_id: int, approved: bool, remark: str | None, user: str) -> Rollout:
    rollout = _apply(
        tenant, rollout_id, lambda r, tx: store.move(tx, r, rules.approve(r, approved, remark, clock.now_ms(), user))
    )
    if approved:
        rollout_job.nudge(tenant, rollout_id)  # a startAt already reached starts it now
    return rollout


def trigger_next_group(tenant: str, rollout_id: int, user: str) -> None:
    def decide(rollout: Rollout, tx: Tx) -> Tx:
        now = clock.now_ms()
        child = rules.next_group(rollout, store.groups_of(tenant, rollout_id))
        store.move_group(tx, child, rules.group_moved(child, GroupStatus.RUNNING, now))
        return store.move(tx, rollout, rules.kept(rollout, {"last_modified_at": now, "last_modified_by": user}))

    _apply(tenant, rollout_id, decide)
    rollout_job.nudge(tenant, rollout_id)


def stop(tenant: str, rollout_id: int, user: str) -> Rollout:
    rollout = _apply(tenant, rollout_id, lambda r, tx: store.move(tx, r, rules.stop(r, clock.now_ms(), user)))
    rollout_job.nudge(tenant, rollout_id)
    return rollout


def delete(tenant: str, rollout_id: int, user: str) -> None:
    """DELETING at once (its name and quota freed with it); the job then deletes it, softly once it ran."""

    def decide(rollout: Rollout, tx: Tx) -> Tx | None:
        transition = rules.delete(rollout, clock.now_ms(), user)
        if transition is None:
            return None
        store.move(tx, rollout, transition)
        store.release_name(tx, tenant, rollout.name)
        return quotas.release(tx, tenant, QUOTA, 1)

    _apply(tenant, rollout_id, decide)
    rollout_job.nudge(tenant, rollout_id)


def stop_rollouts_of_set(tenant: str, ds_id: int, user: str, force: bool = False) -> int:
    """An invalidated set's rollouts that have not ended stop, or are deleted (hawkBit's cancelRollouts with a
    force cancel). Returns how many."""
    stopped = 0
    if not any(RolloutStatus(status) in rules.STOPPABLE for status in store.counts_of_set(tenant, ds_id)):
        return 0  # one GetItem says the set has no rollout to stop: the tenant's rollouts are not read
    for rollout in list(store.all_of(tenant)):
        if int(rollout.ds_id) != int(ds_id) or RolloutStatus(rollout.status) not in rules.STOPPABLE:
            continue
        try:
            (delete if force else stop)(tenant, rollout.id, user)
            stopped += 1
        except errors.RolloutIllegalState:
            pass  # it moved on meanwhile
    return stopped


def by_status_of_set(tenant: str, ds_id: int) -> dict[str, int]:
    """The set's rollouts counted by status (DS statistics/rollouts), deleted ones left out: one GetItem."""
    return {
        status: count for status, count in store.counts_of_set(tenant, ds_id).items() if status != RolloutStatus.DELETED
    }
