"""Past hawkBit: how fast a rollout starts actions, and when an open action counts as timed out.

Rate control (the rollout body's `rateControl`, after AWS IoT Jobs' `jobExecutionsRolloutConfig`): time since the
rollout first ran is cut into minutes; in each at most `rate` new actions start (a group's scheduled actions are
activated in turn; the rest stay SCHEDULED until the next minute). Without a ramp the rate is the maximum. With
one it starts at the base rate and is multiplied by the factor each time another `increase_every` actions have
started (or succeeded), never past the maximum: rate = min(max, floor(base * factor ** (count // every))).
The rollout item keeps the minute it counted in and how many it started then (`rate_window`,
`rate_window_started`): `take` says how many may start now and what to write.

Timeout (`actionTimeout.inProgressMinutes`, after AWS IoT Jobs' in-progress timeout): an action still open that
long after it was activated is marked timed out (it stays open: a late success still counts) and counts against
its group's error condition (rollout_progress.error_met). The clock starts at activation, not at the device's
first feedback: a device that never comes back after the offer is what issue #693 asks to catch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chalicelib.domain.changes import Change
from chalicelib.domain.rollouts import Rollout

WINDOW_MS = 60_000


def limited(rollout: Rollout) -> bool:
    return rollout.max_per_minute is not None


def rate(rollout: Rollout, started: int, succeeded: int) -> int:
    """New actions a minute allowed now (`started`, `succeeded`: the rollout's counts so far)."""
    maximum = int(rollout.max_per_minute or 0)
    if rollout.base_per_minute is None or not rollout.increment_factor or not rollout.increase_every:
        return maximum
    count = succeeded if rollout.increase_on == "succeeded" else started
    steps = count // int(rollout.increase_every)
    # past log(max/base) steps the maximum holds: no need to raise a float to a huge power
    if steps >= math.log(max(maximum, 1) / rollout.base_per_minute, rollout.increment_factor) + 1:
        return maximum
    return max(1, min(maximum, math.floor(rollout.base_per_minute * rollout.increment_factor**steps)))


def window(rollout: Rollout, now: int) -> int:
    anchor = rollout.running_since if rollout.running_since is not None else now
    return max(0, (now - anchor) // WINDOW_MS)


@dataclass(frozen=True)
class Allowance:
    count: int  # actions that may start now (a rollout without rate control: all that are wanted)
    change: Change  # what the rollout item records once they started
    retry_at: int | None  # when more may start, if `count` fell short of what was wanted


def take(rollout: Rollout, wanted: int, now: int, started: int, succeeded: int) -> Allowance:
    """How many of `wanted` actions start now, within this minute's rate."""
    if not limited(rollout):
        return Allowance(wanted, {}, None)
    current = window(rollout, now)
    used = int(rollout.rate_window_started or 0) if rollout.rate_window == current else 0
    count = max(0, min(wanted, rate(rollout, started, succeeded) - used))
    # a plain value, not an Add: the write carries the item's version, so two checks racing cannot both spend it
    change: Change = {"rate_window": current, "rate_window_started": used + count} if count else {}
    anchor = rollout.running_since if rollout.running_since is not None else now
    retry_at = anchor + (current + 1) * WINDOW_MS if count < wanted else None
    return Allowance(count, change, retry_at)


def timeout_due(rollout: Rollout, activated_at: int) -> int | None:
    """When an action activated at `activated_at` times out (None: the rollout has no timeout)."""
    if not rollout.action_timeout_ms:
        return None
    return int(activated_at) + int(rollout.action_timeout_ms)


def timed_out(rollout: Rollout, activated_at: int | None, still_open: bool, now: int) -> bool:
    due = timeout_due(rollout, activated_at) if activated_at is not None else None
    return still_open and due is not None and now >= due
