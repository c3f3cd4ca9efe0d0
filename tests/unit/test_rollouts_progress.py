"""How a rollout moves on (chalicelib/domain/rollout_progress.py): counts, conditions and one check's step."""
import pytest

from chalicelib.domain import rollout_progress as p
from chalicelib.domain import rollouts as r
from chalicelib.domain.actions import Status
from chalicelib.domain.changes import Add
from chalicelib.domain.rollout_progress import Counts
from chalicelib.domain.rollouts import GroupStatus as G
from chalicelib.domain.rollouts import RolloutStatus as S


def rollout(status: S = S.RUNNING, **fields) -> r.Rollout:
    return r.Rollout(tenant="T", sk="s", id=5, name="r", target_filter_query="q", ds_id=7, status=status.value,
                     **fields)


def group(position: int, status: G, total: int = 10, **fields) -> r.RolloutGroup:
    return r.RolloutGroup(tenant="T", sk=r.group_sk(5, position), id=100 + position, rollout_id=5,
                          position=position, name=f"group-{position + 1}", status=status.value, total_targets=total,
                          **fields)


@pytest.mark.parametrize("status,expected", [
    ("SCHEDULED", "scheduled"), ("RUNNING", "running"), ("RETRIEVED", "running"), ("WARNING", "running"),
    ("DOWNLOAD", "running"), ("WAIT_FOR_CONFIRMATION", "running"), ("CANCELING", "running"),
    ("CANCEL_REJECTED", "running"), ("FINISHED", "finished"), ("ERROR", "error"), ("CANCELED", "cancelled"),
    ("DOWNLOADED", "running")])
def test_every_action_status_has_hawkbits_bucket(status, expected):
    assert p.bucket(status, "forced") == expected


def test_downloaded_finishes_a_download_only_rollouts_action():
    assert p.bucket(Status.DOWNLOADED.value, "downloadonly") == "finished"


def test_counts_sort_the_counted_statuses_into_hawkbits_buckets():
    statuses = {"SCHEDULED": 2, "RUNNING": 1, "RETRIEVED": 1, "DOWNLOADED": 2, "FINISHED": 3, "ERROR": 1,
                "CANCELED": 1, "TIMEDOUT": 1}
    assert Counts.of_statuses(statuses, "forced") == Counts(scheduled=2, running=4, finished=3, error=1,
                                                            cancelled=1, timedout=1)
    assert Counts.of_statuses(statuses, "downloadonly") == Counts(scheduled=2, running=2, finished=5, error=1,
                                                                  cancelled=1, timedout=1)


def test_counts_render_every_hawkbit_key():
    counts = Counts(scheduled=2, running=1, finished=3, error=1, cancelled=1, timedout=1)
    assert (counts.actions, counts.open) == (8, 3)
    assert p.per_status(counts, 10) == {"scheduled": 2, "running": 1, "error": 1, "finished": 3, "cancelled": 1,
                                        "notstarted": 2}
    assert list(p.per_status(Counts(), 4)) == list(p.PER_STATUS_KEYS)
    assert p.per_status(Counts(), 4)["notstarted"] == 4
    assert Counts(finished=1) + Counts(finished=2, error=1) == Counts(finished=3, error=1)
    assert p.per_status(Counts(scheduled=10), 10, started=False) == {
        "scheduled": 0, "running": 0, "error": 0, "finished": 0, "cancelled": 0, "notstarted": 10}


def test_success_is_reached_at_the_threshold_share_of_finished_targets():
    g = group(0, G.RUNNING, total=10, success_expression="50")
    assert not p.success_met(g, Counts(finished=4, running=6))
    assert p.success_met(g, Counts(finished=5, running=5))
    assert p.success_met(group(0, G.RUNNING, total=0), Counts())  # every target deleted: done
    assert not p.success_met(group(0, G.RUNNING, success_expression="abc"), Counts(finished=10))
    assert p.success_met(group(0, G.RUNNING, total=10, success_expression="100"), Counts(finished=2), total=2)


def test_an_error_is_more_than_the_threshold_share_of_failed_or_timed_out_actions():
    g = group(0, G.RUNNING, error_expression="20")
    assert not p.error_met(g, Counts(error=2, finished=8))
    assert p.error_met(g, Counts(error=3, finished=7))
    assert p.error_met(g, Counts(error=1, timedout=2, running=2, finished=5))
    assert not p.error_met(g, Counts())
    assert not p.error_met(group(0, G.RUNNING, error_condition=None), Counts(error=10))
    assert not p.error_met(group(0, G.RUNNING, error_expression="x"), Counts(error=10))


def test_success_with_nextgroup_starts_the_next_group_and_the_first_keeps_running():
    groups = [group(0, G.RUNNING), group(1, G.SCHEDULED), group(2, G.SCHEDULED)]
    step = p.evaluate(rollout(), groups, {0: Counts(finished=5, running=5)})
    assert (step.groups, step.start, step.rollout_status) == ({1: G.RUNNING}, [1], None)
    assert p.evaluate(rollout(), groups, {0: Counts(finished=4, running=6)}).changes_anything is False


def test_an_error_pauses_the_rollout_and_marks_the_group_error():
    groups = [group(0, G.RUNNING), group(1, G.SCHEDULED)]
    step = p.evaluate(rollout(), groups, {0: Counts(error=6, finished=4)})
    assert (step.groups, step.start, step.rollout_status) == ({0: G.ERROR}, [], S.PAUSED)


def test_a_group_whose_actions_all_ended_is_finished_and_the_last_one_finishes_the_rollout():
    step = p.evaluate(rollout(), [group(0, G.FINISHED), group(1, G.RUNNING)], {1: Counts(finished=9, cancelled=1)})
    assert (step.groups, step.rollout_status) == ({1: G.FINISHED}, S.FINISHED)
    step = p.evaluate(rollout(), [group(0, G.RUNNING), group(1, G.SCHEDULED)], {0: Counts(finished=10)})
    assert (step.groups, step.start, step.rollout_status) == ({0: G.FINISHED, 1: G.RUNNING}, [1], None)


def test_an_empty_group_succeeds_and_finishes():
    step = p.evaluate(rollout(), [group(0, G.RUNNING, total=0), group(1, G.SCHEDULED)], {})
    assert step.groups == {0: G.FINISHED, 1: G.RUNNING}


def test_with_no_group_running_the_next_scheduled_one_starts_and_without_any_the_rollout_finishes():
    step = p.evaluate(rollout(), [group(0, G.ERROR), group(1, G.SCHEDULED), group(2, G.SCHEDULED)], {})
    assert (step.groups, step.start) == ({1: G.RUNNING}, [1])
    assert p.evaluate(rollout(), [group(0, G.ERROR), group(1, G.FINISHED)], {}).rollout_status == S.FINISHED


def test_an_error_in_the_last_group_pauses_before_the_rollout_can_finish():
    step = p.evaluate(rollout(), [group(0, G.FINISHED), group(1, G.RUNNING)], {1: Counts(error=10)})
    assert (step.groups, step.rollout_status) == ({1: G.ERROR}, S.PAUSED)


def test_success_action_pause_pauses_while_a_group_waits_and_resume_starts_it():
    first = group(0, G.RUNNING, success_action="PAUSE")
    groups = [first, group(1, G.SCHEDULED)]
    step = p.evaluate(rollout(), groups, {0: Counts(finished=6, running=4)})
    assert (step.rollout_status, step.start, step.groups) == (S.PAUSED, [], {})
    assert p.resume_starts(groups, {0: Counts(finished=6, running=4)}) == 1
    assert p.resume_starts(groups, {0: Counts(finished=4, running=6)}) is None  # paused by hand: nothing starts
    last = group(0, G.RUNNING, success_action="PAUSE")  # nothing waits after it: no pause
    assert p.evaluate(rollout(), [last], {0: Counts(finished=6, running=4)}).rollout_status is None


def test_resume_after_an_error_starts_the_group_after_the_failed_one():
    groups = [group(0, G.RUNNING), group(1, G.ERROR), group(2, G.SCHEDULED)]
    assert p.resume_starts(groups, {}) == 2
    assert p.resume_starts([group(0, G.SCHEDULED)], {}) is None
    assert p.resume_starts([group(0, G.ERROR)], {}) is None  # nothing left to start


def test_a_group_whose_actions_all_ended_fires_its_success_action_below_the_threshold():
    # hawkBit RolloutGroupConditionTest: 3 of 5 finished, 2 failed, success 100 %, error 50 %
    first = group(0, G.RUNNING, success_expression="100", error_expression="50", success_action="PAUSE")
    step = p.evaluate(rollout(), [first, group(1, G.SCHEDULED)], {0: Counts(finished=3, error=2)})
    assert (step.groups, step.start, step.rollout_status) == ({0: G.FINISHED}, [], S.PAUSED)
    nextgroup = group(0, G.RUNNING, success_expression="100", error_expression="50")
    step = p.evaluate(rollout(), [nextgroup, group(1, G.SCHEDULED)], {0: Counts(finished=3, error=2)})
    assert (step.groups, step.start) == ({0: G.FINISHED, 1: G.RUNNING}, [1])


def test_canceled_actions_count_for_neither_condition():
    g = group(0, G.RUNNING, success_expression="100", error_expression="10")
    assert p.success_met(g, Counts(finished=4, cancelled=1))
    assert not p.error_met(g, Counts(finished=4, cancelled=5))
    assert p.error_met(group(0, G.RUNNING, error_expression="23"), Counts(finished=3, error=1))  # 1 of 4 > 23 %
    assert Counts(finished=4, cancelled=1).measured == 4


def test_no_group_starts_after_an_error_paused_the_rollout_in_the_same_check():
    groups = [group(0, G.RUNNING), group(1, G.RUNNING), group(2, G.SCHEDULED)]
    step = p.evaluate(rollout(), groups, {0: Counts(error=10), 1: Counts(finished=10)})
    assert (step.groups, step.start, step.rollout_status) == ({0: G.ERROR, 1: G.FINISHED}, [], S.PAUSED)


def test_the_newest_dynamic_group_is_measured_against_its_target_count_and_never_finishes():
    dynamic = group(1, G.RUNNING, total=2, dynamic=True, target_percentage=4.0, success_expression="100")
    step = p.evaluate(rollout(dynamic=True), [group(0, G.FINISHED), dynamic, group(2, G.SCHEDULED, dynamic=True)],
                      {1: Counts(finished=2)})
    # 2 of the 4 targets it is to reach: no success, but its 2 actions ended and a group follows it: FINISHED,
    # and an ended group fires its success action
    assert (step.groups, step.start) == ({1: G.FINISHED, 2: G.RUNNING}, [2])
    newest = group(1, G.RUNNING, total=4, dynamic=True, target_percentage=4.0)
    step = p.evaluate(rollout(dynamic=True), [group(0, G.FINISHED), newest], {1: Counts(finished=4)})
    assert step.groups == {} and step.rollout_status is None


def test_a_rollout_that_is_not_running_takes_no_step():
    for status in set(S) - {S.RUNNING}:
        assert not p.evaluate(rollout(status), [group(0, G.RUNNING)], {0: Counts(finished=10)}).changes_anything
