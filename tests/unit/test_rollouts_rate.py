"""Rate control and the in-progress timeout of a rollout's actions (chalicelib/domain/rollout_rate.py)."""
from chalicelib.domain import rollout_rate as rate
from chalicelib.domain import rollouts as r
from chalicelib.domain.changes import applied

T0 = 1_700_000_000_000


def rollout(**fields) -> r.Rollout:
    return r.Rollout(tenant="T", sk="s", id=5, name="r", target_filter_query="q", ds_id=7, status="RUNNING",
                     running_since=T0, **fields)


def test_without_rate_control_every_wanted_action_starts():
    allowance = rate.take(rollout(), 5000, T0, 0, 0)
    assert (allowance.count, allowance.change, allowance.retry_at) == (5000, {}, None)


def test_at_most_the_rate_starts_in_one_minute_and_the_rest_waits_for_the_next():
    limited = rollout(max_per_minute=10)
    first = rate.take(limited, 25, T0 + 5_000, 0, 0)
    assert (first.count, first.change, first.retry_at) == (10, {"rate_window": 0, "rate_window_started": 10},
                                                           T0 + 60_000)
    limited = applied(limited, first.change)
    assert rate.take(limited, 15, T0 + 59_999, 10, 0).count == 0
    second = rate.take(limited, 15, T0 + 60_000, 10, 0)
    assert (second.count, second.change, second.retry_at) == (
        10, {"rate_window": 1, "rate_window_started": 10}, T0 + 120_000)
    partly = rate.take(rollout(max_per_minute=10, rate_window=3, rate_window_started=4), 3, T0 + 200_000, 0, 0)
    assert (partly.count, partly.change, partly.retry_at) == (3, {"rate_window": 3, "rate_window_started": 7}, None)


def test_the_ramp_multiplies_the_base_rate_each_time_enough_actions_started():
    ramp = rollout(max_per_minute=20, base_per_minute=2, increment_factor=2.0, increase_every=10,
                   increase_on="started")
    assert [rate.rate(ramp, started, 0) for started in (0, 9, 10, 20, 30, 10**12)] == [2, 2, 4, 8, 16, 20]
    on_success = rollout(max_per_minute=20, base_per_minute=3, increment_factor=1.5, increase_every=5,
                         increase_on="succeeded")
    assert [rate.rate(on_success, 100, succeeded) for succeeded in (0, 4, 5, 10)] == [3, 3, 4, 6]
    assert rate.rate(rollout(max_per_minute=7), 10**9, 10**9) == 7


def test_a_rate_window_is_counted_from_when_the_rollout_first_ran():
    assert rate.window(rollout(), T0 + 119_999) == 1
    assert rate.window(r.Rollout(tenant="T", sk="s", id=5, name="r", target_filter_query="q", ds_id=7), T0) == 0


def test_an_action_times_out_while_open_once_its_timeout_after_activation_has_passed():
    timed = rollout(action_timeout_ms=60_000)
    assert rate.timeout_due(timed, T0) == T0 + 60_000
    assert rate.timeout_due(rollout(), T0) is None
    assert rate.timed_out(timed, T0, True, T0 + 60_000)
    assert not rate.timed_out(timed, T0, True, T0 + 59_999)
    assert not rate.timed_out(timed, T0, False, T0 + 600_000)  # it ended: nothing to time out
    assert not rate.timed_out(timed, None, True, T0 + 600_000)  # still scheduled: its clock has not started
    assert not rate.timed_out(rollout(), T0, True, T0 + 10**9)
