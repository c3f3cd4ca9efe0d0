"""How actions move their set's status counts (domain/actions.py): pure functions, no AWS."""
from chalicelib.domain import actions as rules
from chalicelib.domain.actions import Action, Status


def _action(status: Status = Status.RUNNING, ds_id: int = 7) -> Action:
    return Action("T#c", 1, tenant="T", controller_id="c", ds_id=ds_id, status=status.value, counted=True)


def test_a_new_action_counts_in_its_status():
    assert rules.created_counts(_action(Status.WAIT_FOR_CONFIRMATION)) == {7: {"WAIT_FOR_CONFIRMATION": 1}}


def test_only_a_change_of_status_moves_the_counts():
    running = _action()
    assert rules.moved_counts(running, rules.close(running, Status.FINISHED, 1, "u", 2)) == {
        7: {"RUNNING": -1, "FINISHED": 1}}
    assert rules.moved_counts(running, rules.request_cancel(1, "u", 2)) == {7: {"RUNNING": -1, "CANCELING": 1}}
    # proceeding feedback keeps the status; a RETRIEVED note on a retrieved action too
    proceeding = rules.action_after_feedback(running, rules.deployment_feedback("proceeding", "none", "forced"),
                                             True, 1, "u", 2, None)
    assert rules.moved_counts(running, proceeding) == {}
    retrieved = _action(Status.RETRIEVED)
    assert rules.moved_counts(retrieved, rules.note(retrieved, Status.RETRIEVED, 1, 2, Status.RETRIEVED)) == {}


def test_an_action_created_before_the_counts_never_moves_them():
    older = Action("T#c", 1, tenant="T", controller_id="c", ds_id=7, status="RUNNING")
    assert rules.moved_counts(older, rules.close(older, Status.FINISHED, 1, "u", 2)) == {}
    assert rules.new_action("T", "c", 2, 7, "n", "v", "forced", None, None, None, Status.RUNNING, Status.RUNNING,
                            1, "u", closed=False).counted is True


def test_moves_of_one_transaction_merge_and_cancel_out():
    merged = rules.merged_counts({7: {"RUNNING": -1, "CANCELING": 1}}, {7: {"RUNNING": 1}},
                                 {8: {"RUNNING": 1}}, {9: {"ERROR": -1}}, {9: {"ERROR": 1}})
    assert merged == {7: {"CANCELING": 1}, 8: {"RUNNING": 1}}
    assert rules.removed_counts(7, "CANCELED") == {7: {"CANCELED": -1}}
