"""How a running rollout moves on: its groups' counts, their success and error conditions, and the next step.

Counts: every action of a rollout is in one bucket (`bucket`), hawkBit's TotalTargetCountStatus: SCHEDULED ->
scheduled; RUNNING, RETRIEVED, WARNING, DOWNLOAD, WAIT_FOR_CONFIRMATION, CANCELING -> running; FINISHED ->
finished; ERROR -> error; CANCELED -> cancelled; DOWNLOADED -> finished for a download-only rollout, else
running. A group's actions are counted by status in counter items the actions' own writes move (the same
counters as a distribution set's, store/action_counts.py), so the progress check reads counters, never actions;
`Counts.of_statuses` sorts those status counts into buckets. Past hawkBit, `timedout` counts the open actions
past the rollout's in-progress timeout.

Conditions, as hawkBit since PR #3110 (RolloutGroupConditionTest): a group is measured by its actions, not its
targets, and canceled actions count for neither side. Success when finished / measured >= threshold % (an
empty group succeeds); error when (errors + timed out) / measured > threshold % (an empty group never errs).

One step (`evaluate`, JpaRolloutExecutor.handleRunningRollout): every RUNNING group in order: its error
condition first (error action PAUSE: the group goes ERROR and the rollout PAUSED); else its success action
fires when the success condition holds *or* every action of the group has ended: NEXTGROUP starts the next
group if it is SCHEDULED, PAUSE pauses the rollout if a SCHEDULED group follows; and a group whose actions have
all ended is FINISHED (the newest dynamic group never is: it keeps taking targets). With no group RUNNING the
group after the newest started one starts. The rollout is FINISHED once no group is RUNNING or SCHEDULED.
Resuming starts the next group at once after an error, or after a PAUSE whose group succeeded (`resume_starts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from chalicelib.domain.actions import TIMED_OUT as COUNTED_TIMED_OUT
from chalicelib.domain.actions import Status
from chalicelib.domain.rollouts import GroupStatus, Rollout, RolloutGroup, RolloutStatus

BUCKETS = ("scheduled", "running", "finished", "error", "cancelled")
TIMED_OUT = "timedout"
# The keys of totalTargetsPerStatus, in hawkBit's TotalTargetCountStatus.Status order
PER_STATUS_KEYS = ("scheduled", "running", "error", "finished", "cancelled", "notstarted")

_BUCKET_OF = {
    Status.SCHEDULED: "scheduled",
    Status.ERROR: "error",
    Status.FINISHED: "finished",
    Status.CANCELED: "cancelled",
    Status.RUNNING: "running",
    Status.RETRIEVED: "running",
    Status.WARNING: "running",
    Status.DOWNLOAD: "running",
    Status.WAIT_FOR_CONFIRMATION: "running",
    Status.CANCELING: "running",
    Status.CANCEL_REJECTED: "running",
}


def bucket(status: str, action_type: str) -> str:
    if status == Status.DOWNLOADED:
        return "finished" if action_type == "downloadonly" else "running"
    return _BUCKET_OF[Status(status)]


@dataclass(frozen=True)
class Counts:
    """One group's actions by bucket: the sum of its counter shards."""

    scheduled: int = 0
    running: int = 0
    finished: int = 0
    error: int = 0
    cancelled: int = 0
    timedout: int = 0

    @classmethod
    def of_statuses(cls, statuses: Mapping[str, int], action_type: str) -> "Counts":
        """A group's counts from its actions counted by status (action statuses, and TIMEDOUT)."""
        buckets: dict[str, int] = {}
        for status, count in statuses.items():
            name = TIMED_OUT if status == COUNTED_TIMED_OUT else bucket(status, action_type)
            buckets[name] = buckets.get(name, 0) + int(count)
        return cls(**buckets)

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(**{name: getattr(self, name) + getattr(other, name) for name in BUCKETS + (TIMED_OUT,)})

    @property
    def actions(self) -> int:
        return self.scheduled + self.running + self.finished + self.error + self.cancelled

    @property
    def measured(self) -> int:
        """The actions a condition is measured against: canceled ones are left out."""
        return self.actions - self.cancelled

    @property
    def open(self) -> int:
        """Actions that have not ended (JpaRolloutExecutor.isRolloutGroupComplete)."""
        return self.scheduled + self.running


def per_status(counts: Counts, total_targets: int, started: bool = True) -> dict[str, int]:
    """totalTargetsPerStatus: every hawkBit key; `notstarted` the targets without an action yet. Before the
    rollout has started every target is `notstarted` (hawkBit creates the actions at start, skyhawk already
    while creating the rollout)."""
    if not started:
        counts = Counts()
    values = {
        "scheduled": counts.scheduled,
        "running": counts.running,
        "error": counts.error,
        "finished": counts.finished,
        "cancelled": counts.cancelled,
    }
    values["notstarted"] = int(total_targets) - counts.actions
    return {key: values[key] for key in PER_STATUS_KEYS}


def _threshold(expression: str | None) -> int | None:
    try:
        return int(str(expression))
    except ValueError:
        return None


def success_met(group: RolloutGroup, counts: Counts, total: int | None = None) -> bool:
    """finished / measured actions >= threshold %; `total` overrides the measure (the newest dynamic group is
    measured against the target count it is to reach)."""
    total = counts.measured if total is None else total
    if total == 0:
        return True  # no action (left): the group is done
    threshold = _threshold(group.success_expression)
    return threshold is not None and counts.finished / total >= threshold / 100


def error_met(group: RolloutGroup, counts: Counts) -> bool:
    """(errors + timed out) / measured actions > threshold %."""
    if group.error_condition is None:
        return False
    threshold = _threshold(group.error_expression)
    if threshold is None or counts.measured == 0:
        return False
    return (counts.error + counts.timedout) / counts.measured > threshold / 100


def complete(counts: Counts) -> bool:
    return counts.open == 0


@dataclass
class Step:
    """What one check decides. `groups`: position -> new status; `start`: positions whose scheduled actions
    are to be activated now (the group is RUNNING once this step is written)."""

    rollout_status: RolloutStatus | None = None
    groups: dict[int, GroupStatus] = field(default_factory=dict)
    start: list[int] = field(default_factory=list)

    @property
    def changes_anything(self) -> bool:
        return bool(self.rollout_status or self.groups or self.start)


def evaluate(rollout: Rollout, groups: Sequence[RolloutGroup], counts: Mapping[int, Counts]) -> Step:
    """The step a RUNNING rollout takes. `counts` by position must hold every RUNNING group's counts (a group
    missing there has no actions: an empty group, which is complete)."""
    step = Step()
    if rollout.status != RolloutStatus.RUNNING:
        return step
    status = {g.position: GroupStatus(g.status) for g in groups}
    last = max(status) if status else -1
    paused = False

    def move(position: int, to: GroupStatus) -> None:
        status[position] = step.groups[position] = to
        if to == GroupStatus.RUNNING:
            step.start.append(position)

    running = [g for g in sorted(groups, key=lambda g: g.position) if status[g.position] == GroupStatus.RUNNING]
    if not running:
        child = _after_newest_started(groups)
        if child is not None:
            move(child, GroupStatus.RUNNING)
    for group in running:
        group_counts = counts.get(group.position, Counts())
        child = group.position + 1
        if error_met(group, group_counts):
            move(group.position, GroupStatus.ERROR)
            paused = True
            continue
        # the newest running dynamic group is measured against the target count it is to reach
        total = max(int(group.target_percentage), 1) if group.dynamic and group is running[-1] else None
        ended = complete(group_counts) and not (group.dynamic and group.position == last)
        if (
            (success_met(group, group_counts, total) or ended)
            and not paused
            and status.get(child) == GroupStatus.SCHEDULED
        ):
            if group.success_action == "NEXTGROUP":
                move(child, GroupStatus.RUNNING)
            else:  # PAUSE: the rollout waits for the operator, whose resume starts the next group
                paused = True
        if ended:
            move(group.position, GroupStatus.FINISHED)
    if paused:
        step.rollout_status = RolloutStatus.PAUSED
    elif not any(s in (GroupStatus.RUNNING, GroupStatus.SCHEDULED) for s in status.values()):
        step.rollout_status = RolloutStatus.FINISHED
    return step


def _after_newest_started(groups: Sequence[RolloutGroup]) -> int | None:
    """The SCHEDULED group right after the newest group that started (not SCHEDULED), if any."""
    status = {g.position: GroupStatus(g.status) for g in groups}
    started = [p for p, s in status.items() if s != GroupStatus.SCHEDULED]
    child = max(started) + 1 if started else None
    return child if child is not None and status.get(child) == GroupStatus.SCHEDULED else None


def resume_starts(groups: Sequence[RolloutGroup], counts: Mapping[int, Counts]) -> int | None:
    """The group a resume starts at once (JpaRolloutManagement.resumeRollout): the next one after the newest
    started group, if that group ended in ERROR, or paused the rollout by its success action PAUSE."""
    started = [g for g in groups if g.status != GroupStatus.SCHEDULED]
    if not started:
        return None
    newest = max(started, key=lambda g: g.position)
    group_counts = counts.get(newest.position, Counts())
    succeeded = newest.success_action == "PAUSE" and (success_met(newest, group_counts) or complete(group_counts))
    if newest.status == GroupStatus.ERROR or succeeded:
        return _after_newest_started(groups)
    return None
