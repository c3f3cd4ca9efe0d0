"""Invalidating a distribution set (hawkBit DistributionSetInvalidationManagement, POST .../invalidate).

- The set becomes `valid=false` for good (services.distribution_sets.mark_invalid): every assignment of it is
  refused from then on (400 `distributionset.invalid`, distribution_sets.check_assignable) and nothing makes it
  valid again. Invalidating an invalid set is allowed (hawkBit too) and walks its open actions again, so a
  retry finishes an invalidation that died part-way.
- `actionCancelationType`: `soft` asks the devices to cancel the set's open actions that are not canceling yet
  (as DELETE /targets/{id}/actions/{actionId} does); `force` does that and force-quits every open action of the
  set (closed CANCELED at once, the target as after a force quit); `none` leaves them running.
- The open actions are found through the actions' sparse open-by-ds index (keys only, INDEX_SHARDS shards), a
  page at a time, never through the tenant's actions. The request cancels up to INLINE_ACTIONS of them and
  answers; the rest is canceled by queued units of the `ds_invalidation` job (chalicelib/jobs/), each within
  its budget, with a continuation carrying the position.
- `cancelRollouts`: the set's rollouts that have not ended stop (services.rollouts.stop_rollouts_of_set), or, with
  `force`, are deleted (their open actions closed CANCELED), as hawkBit's cancelRolloutsForDistributionSet.
"""

from __future__ import annotations

from typing import Any, Callable

from chalicelib import errors
from chalicelib.domain.actions import INDEX_SHARDS
from chalicelib.lazy import lazy_import
from chalicelib.services import deployment, distribution_sets, target_filters
from chalicelib.store import actions as action_store

fanout = lazy_import("chalicelib.jobs.fanout")
rollouts = lazy_import("chalicelib.services.rollouts")
job_queue = lazy_import("chalicelib.store.job_queue")

JOB = "ds_invalidation"
CANCELATION_TYPES = ("soft", "force", "none")
INLINE_ACTIONS = 100  # open actions the request itself cancels before it hands the rest to the job


def parse_request(body: dict[str, Any]) -> tuple[str, bool]:
    """MgmtInvalidateDistributionSetRequestBody: (actionCancelationType, cancelRollouts), both checked."""
    kind = body.get("actionCancelationType")
    if kind is None:  # @NotNull in hawkBit: a constraint violation; a value it cannot read is a bad body
        raise errors.ConstraintViolation("actionCancelationType is required.", ["actionCancelationType"])
    if not isinstance(kind, str) or kind.lower() not in CANCELATION_TYPES:
        raise errors.BodyNotReadable(
            f"actionCancelationType must be one of {', '.join(CANCELATION_TYPES)}.", ["actionCancelationType"]
        )
    cancel_rollouts = body.get("cancelRollouts", False)
    if cancel_rollouts is None:
        cancel_rollouts = False
    if not isinstance(cancel_rollouts, bool):
        raise errors.BodyNotReadable("cancelRollouts must be true or false.", ["cancelRollouts"])
    return kind.lower(), cancel_rollouts


def invalidate(tenant: str, ds_id: int, cancelation: str, user: str, now: int, cancel_rollouts: bool = False) -> bool:
    """Mark the set invalid, stop its rollouts if asked, then cancel its open actions as `cancelation` says. True
    when the job goes on with the cancellation (more open actions than the request cancels itself)."""
    distribution_sets.mark_invalid(tenant, ds_id, user)
    target_filters.drop_auto_assignments(tenant, ds_id)  # as hawkBit: its filters stop auto-assigning it
    if cancel_rollouts:
        rollouts.stop_rollouts_of_set(tenant, ds_id, user, force=cancelation == "force")
    if cancelation == "none":
        return False
    start = {"ds": int(ds_id), "type": cancelation, "user": user, "shard": 0, "key": None}
    _, position = cancel_open_actions(tenant, start, INLINE_ACTIONS, INLINE_ACTIONS, lambda: True)
    if position is None:
        return False
    job_queue.send([{"job": JOB, "now": now, "tenant": tenant, "shard": None, "after": fanout.encode(position)}])
    return True


def cancel_open_actions(
    tenant: str, position: dict[str, Any], most: int, page_size: int, has_time: Callable[[], bool]
) -> tuple[int, dict[str, Any] | None]:
    """Cancel the set's open actions from `position` on ({ds, type, user, shard, key}: the index shard and
    DynamoDB's last evaluated key in it), at most `most` of them and while `has_time()`.
    Returns how many it canceled and where to go on (None: done)."""
    ds_id, how, user = int(position["ds"]), position["type"], position["user"]
    shard, key = int(position["shard"]), position["key"]
    handled = canceled = 0
    while shard < INDEX_SHARDS:
        if handled >= most or not has_time():
            return canceled, {**position, "shard": shard, "key": key}
        page = action_store.open_of_set_page(tenant, ds_id, shard, key, min(page_size, most - handled))
        for controller_id, action_id in page.items:
            canceled += _cancel(tenant, controller_id, action_id, how, user)
        handled += len(page.items)
        key = page.after
        if key is None:
            shard += 1
    return canceled, None


def _cancel(tenant: str, controller_id: str, action_id: int, how: str, user: str) -> bool:
    """One open action, as hawkBit's cancelActionsForDistributionSet: a cancel request unless it is canceling
    already, then (force) the force quit. Whatever closed or went meanwhile is left alone."""
    changed = False
    try:
        deployment.cancel(tenant, controller_id, action_id, user)
        changed = True
    except (errors.ActionNotCancelable, errors.EntityNotFound):
        pass
    if how == "force":
        try:
            deployment.cancel(tenant, controller_id, action_id, user, force=True)
            changed = True
        except (errors.ActionNotForceQuitable, errors.EntityNotFound):
            pass
    return changed
