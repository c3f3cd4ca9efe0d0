"""The rollout and group state machines (chalicelib/domain/rollouts.py): every operation, its guard and its error."""
import pytest

from chalicelib import errors
from chalicelib.domain import rollout_spec
from chalicelib.domain import rollouts as r
from chalicelib.domain.changes import applied, eq
from chalicelib.domain.rollouts import GroupStatus as G
from chalicelib.domain.rollouts import RolloutStatus as S

ALL = list(S)


def rollout(status: S = S.READY, **fields) -> r.Rollout:
    return r.Rollout(tenant="T", sk=r.rollout_sk(5), id=5, name="r", target_filter_query="name==*", ds_id=7,
                     status=status.value, created_by="amy", last_modified_by="amy", **fields)


def group(position: int, status: G, **fields) -> r.RolloutGroup:
    return r.RolloutGroup(tenant="T", sk=r.group_sk(5, position), id=100 + position, rollout_id=5,
                          position=position, name=f"group-{position + 1}", status=status.value, **fields)


def illegal(call, *args) -> str:
    with pytest.raises(errors.RolloutIllegalState) as caught:
        call(*args)
    assert (caught.value.status, caught.value.code) == (400, "hawkbit.server.error.rollout.illegalState")
    return caught.value.message


def test_keys_sort_groups_after_their_rollout_in_order():
    assert r.group_sk(5, 0) < r.group_sk(5, 1) < r.group_sk(5, 10) < r.group_sk(6, 0)
    assert not r.group_sk(5, 0).startswith("rollout#")


def test_a_new_rollout_is_creating_and_takes_weight_1000_when_none_is_given():
    parsed = rollout_spec.rollout_spec({"name": "r", "targetFilterQuery": "q", "distributionSetId": 7,
                                        "rateControl": {"maximumPerMinute": 50}, "actionTimeout": {
                                            "inProgressMinutes": 2}})
    new = r.new_rollout("T", 5, parsed, 1000, "amy")
    assert (new.status, new.weight, new.sk, new.created_by, new.created_at) == ("CREATING", 1000, r.rollout_sk(5),
                                                                                "amy", 1000)
    assert (new.max_per_minute, new.action_timeout_ms, new.base_per_minute) == (50, 120_000, None)
    weighted = rollout_spec.rollout_spec({"name": "r", "targetFilterQuery": "q", "weight": 3})
    assert r.new_rollout("T", 5, weighted, 1000, "amy").weight == 3


def test_creation_ends_ready_or_waiting_for_approval():
    done = r.created(rollout(S.CREATING), 40, 4, False, 9)
    assert done.condition == eq("status", "CREATING")
    assert applied(rollout(S.CREATING), done.change).status == "READY"
    assert (done.change["total_targets"], done.change["total_groups"]) == (40, 4)
    assert r.created(rollout(S.CREATING), 40, 4, True, 9).change["status"] == "WAITING_FOR_APPROVAL"


def test_approval_is_needed_when_the_tenant_wants_it_and_the_creator_cannot_approve():
    assert r.approval_needed(True, ["CREATE_ROLLOUT"])
    assert not r.approval_needed(True, ["CREATE_ROLLOUT", "APPROVE_ROLLOUT"])
    assert not r.approval_needed(False, ["CREATE_ROLLOUT"])


def test_a_scheduled_rollout_needs_a_creator_who_may_start_rollouts():
    scheduled = rollout_spec.rollout_spec({"name": "r", "targetFilterQuery": "q", "startAt": 5})
    r.check_may_schedule(scheduled, ["CREATE_ROLLOUT", "HANDLE_ROLLOUT"])
    r.check_may_schedule(rollout_spec.rollout_spec({"name": "r", "targetFilterQuery": "q"}), ["CREATE_ROLLOUT"])
    with pytest.raises(errors.InsufficientPermission) as caught:
        r.check_may_schedule(scheduled, ["CREATE_ROLLOUT"])
    assert caught.value.message == "You need permission to start rollouts to create a scheduled rollout"


def test_with_multi_assignments_a_rollout_needs_a_weight():
    unweighted = rollout_spec.rollout_spec({"name": "r", "targetFilterQuery": "q"})
    r.check_weight(unweighted, multi_assignments=False)
    r.check_weight(rollout_spec.rollout_spec({"name": "r", "targetFilterQuery": "q", "weight": 0}), True)
    with pytest.raises(errors.NoWeightProvided) as caught:
        r.check_weight(unweighted, multi_assignments=True)
    assert caught.value.code == "hawkbit.server.error.noWeightProvidedInMultiAssignmentMode"


def test_start_only_from_ready():
    move = r.start(rollout(S.READY), 9, "bob")
    assert move.change == {"status": "STARTING", "last_modified_at": 9, "last_modified_by": "bob"}
    assert move.condition == eq("status", "READY")
    for status in set(ALL) - {S.READY}:
        assert illegal(r.start, rollout(status), 9, "bob") == (
            f"Rollout can only be started in state ready but current state is {status.value.lower()}")


def test_a_ready_rollout_starts_itself_once_start_at_has_come():
    assert r.due_to_start(rollout(S.READY, start_at=100), 100)
    assert not r.due_to_start(rollout(S.READY, start_at=101), 100)
    assert not r.due_to_start(rollout(S.READY), 100)
    assert not r.due_to_start(rollout(S.WAITING_FOR_APPROVAL, start_at=1), 100)


def test_pause_only_from_running_and_resume_only_from_paused():
    assert r.pause(rollout(S.RUNNING), 9, "bob").change["status"] == "PAUSED"
    assert r.resume(rollout(S.PAUSED), 9, "bob").change["status"] == "RUNNING"
    assert illegal(r.pause, rollout(S.PAUSED), 9, "bob") == (
        "Rollout can only be paused in state running but current state is paused")
    assert illegal(r.resume, rollout(S.RUNNING), 9, "bob") == (
        "Rollout can only be resumed in state paused but current state is running")


def test_approve_and_deny_only_while_waiting_and_record_who_decided():
    waiting = rollout(S.WAITING_FOR_APPROVAL)
    approved = applied(waiting, r.approve(waiting, True, "fine", 9, "boss").change)
    assert (approved.status, approved.approval_decided_by, approved.approval_remark) == ("READY", "boss", "fine")
    denied = applied(waiting, r.approve(waiting, False, None, 9, "boss").change)
    assert (denied.status, denied.approval_decided_by, denied.approval_remark) == ("APPROVAL_DENIED", "boss", None)
    assert illegal(r.approve, rollout(S.READY), True, None, 9, "boss") == "Rollout is not in status WAITING_FOR_APPROVAL"
    with pytest.raises(errors.ConstraintViolation):
        r.approve(waiting, True, "x" * 256, 9, "boss")


def test_stop_from_the_stoppable_statuses_only():
    for status in r.STOPPABLE:
        move = r.stop(rollout(status), 9, "bob")
        assert (move.change["status"], move.condition) == ("STOPPING", eq("status", status.value))
    for status in set(ALL) - set(r.STOPPABLE):
        assert illegal(r.stop, rollout(status), 9, "bob").startswith(
            "Rollout can only be stopped into the following statuses [CREATING, READY, WAITING_FOR_APPROVAL")


def test_delete_from_any_status_and_again_is_nothing():
    for status in set(ALL) - {S.DELETING, S.DELETED}:
        move = r.delete(rollout(status), 9, "bob")
        assert move is not None and move.change["status"] == "DELETING"
    assert r.delete(rollout(S.DELETING), 9, "bob") is None
    assert r.delete(rollout(S.DELETED, deleted=True), 9, "bob") is None
    assert r.hard_delete(has_actions_beyond_scheduled=False) and not r.hard_delete(True)
    assert applied(rollout(S.DELETING), r.soft_deleted(rollout(S.DELETING), 9).change).deleted is True


def test_a_put_changes_name_and_description_unless_the_rollout_is_deleted():
    assert r.update(rollout(S.RUNNING), "new", None, False, 9, "bob") == {
        "name": "new", "last_modified_at": 9, "last_modified_by": "bob"}
    assert r.update(rollout(S.RUNNING), None, None, True, 9, "bob")["description"] is None
    for status in (S.DELETING, S.DELETED):
        with pytest.raises(errors.EntityReadOnly) as caught:
            r.update(rollout(status), "new", None, False, 9, "bob")
        assert caught.value.message == "Rollout 5 is soft deleted and cannot be changed"


def test_trigger_next_group_starts_the_group_after_the_newest_started_one():
    groups = [group(0, G.FINISHED), group(1, G.RUNNING), group(2, G.SCHEDULED), group(3, G.SCHEDULED)]
    assert r.next_group(rollout(S.RUNNING), groups).position == 2
    assert r.next_group(rollout(S.RUNNING), [group(0, G.ERROR), group(1, G.SCHEDULED)]).position == 1
    assert illegal(r.next_group, rollout(S.PAUSED), groups) == "Rollout is not in running state"
    assert illegal(r.next_group, rollout(S.RUNNING), [group(0, G.RUNNING), group(1, G.FINISHED)]) == (
        "Rollout does not have any groups left to be triggered")
    assert illegal(r.next_group, rollout(S.RUNNING), [group(0, G.SCHEDULED)]) == (
        "Cannot find any started rollout group to trigger next from")


def test_a_finished_rollout_is_retried_as_a_new_one_for_its_failed_targets():
    done = rollout(S.FINISHED, description="d", action_type="timeforced", force_time=7, start_at=3, weight=400)
    retry = r.retry_spec(done)
    assert (retry.name, retry.description, retry.target_filter_query, retry.ds_id) == (
        "r_retry", "d", "failedrollout==5", 7)
    assert (retry.action_type, retry.force_time, retry.start_at, retry.weight) == ("timeforced", 7, 3, None)
    assert (retry.amount_groups, retry.confirmation_required, retry.conditions) == (
        1, False, rollout_spec.DEFAULT_CONDITIONS)
    assert r.retried_rollout_id(retry.target_filter_query) == 5
    assert r.retried_rollout_id("name==failedrollout") is None
    with pytest.raises(errors.ConstraintViolation) as caught:
        r.retry_spec(rollout(S.RUNNING))
    assert caught.value.message == "Rollout must be finished in order to be retried!"
    with pytest.raises(errors.EntityNotFound):
        r.retry_spec(rollout(S.DELETED, deleted=True))


def test_a_rollout_has_started_once_it_ran():
    assert r.has_started(rollout(S.RUNNING, running_since=9))
    assert r.has_started(rollout(S.FINISHED, running_since=9))
    assert r.has_started(rollout(S.STOPPED, running_since=9))
    assert not r.has_started(rollout(S.STOPPED))  # stopped before it ever ran
    for status in (S.CREATING, S.READY, S.WAITING_FOR_APPROVAL, S.APPROVAL_DENIED, S.STARTING):
        assert not r.has_started(rollout(status, running_since=9))


def test_the_workers_steps_each_leave_one_status():
    assert r.started(rollout(S.STARTING), 9).change["running_since"] == 9
    assert r.started(rollout(S.STARTING), 9).condition == eq("status", "STARTING")
    assert r.finished(rollout(S.RUNNING), 9).change["status"] == "FINISHED"
    assert r.paused_by_group(rollout(S.RUNNING), 9).change["status"] == "PAUSED"
    assert r.stopped(rollout(S.STOPPING), 9).condition == eq("status", "STOPPING")


def test_groups_move_along_their_state_machine_only():
    ready = r.group_filled(group(0, G.CREATING), 12, 9)
    assert (ready.change["status"], ready.change["total_targets"], ready.condition) == (
        "READY", 12, eq("status", "CREATING"))
    assert r.group_moved(group(0, G.SCHEDULED), G.RUNNING, 9).change["status"] == "RUNNING"
    assert r.group_moved(group(0, G.RUNNING), G.ERROR, 9).change["status"] == "ERROR"
    # the first group runs as its rollout starts
    assert r.group_moved(group(0, G.READY), G.RUNNING, 9).condition == eq("status", "READY")
    for current, to in ((G.CREATING, G.RUNNING), (G.FINISHED, G.RUNNING),
                        (G.ERROR, G.FINISHED), (G.RUNNING, G.SCHEDULED)):
        assert "cannot move" in illegal(r.group_moved, group(0, current), to, 9)


def test_stop_and_delete_finish_the_groups_still_open():
    groups = [group(0, G.FINISHED), group(1, G.ERROR), group(2, G.RUNNING), group(3, G.SCHEDULED),
              group(4, G.CREATING)]
    closed = r.closed_groups(groups, 9)
    assert sorted(closed) == [2, 3, 4]
    assert all(t.change["status"] == "FINISHED" for t in closed.values())
    assert closed[3].condition == eq("status", "SCHEDULED")
