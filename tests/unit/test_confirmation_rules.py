"""The confirmation flow's pure rules (domain.confirmation): how actions start, what a confirmation does."""
import pytest

from chalicelib.domain import confirmation as rules
from chalicelib.domain.actions import Status


def test_without_the_flow_an_action_runs_and_its_first_entry_is_running():
    assert rules.start(False, True, None, "admin") == rules.Start(Status.RUNNING, Status.RUNNING, ())


def test_with_the_flow_an_action_waits_unless_waived_or_auto_confirmed():
    assert rules.start(True, True, None, "admin") == rules.Start(
        Status.WAIT_FOR_CONFIRMATION, Status.WAIT_FOR_CONFIRMATION, (rules.WAITING_MESSAGE,))
    assert rules.start(True, False, {"initiator": "x"}, "admin") == rules.Start(
        Status.RUNNING, Status.WAIT_FOR_CONFIRMATION, ("Assignment confirmed by initiator [admin].",))
    assert rules.start(True, True, {"initiator": "ops", "remark": "ok"}, "admin") == rules.Start(
        Status.RUNNING, Status.WAIT_FOR_CONFIRMATION,
        ("Assignment automatically confirmed by initiator ''ops'' \nRemark: ok",))


@pytest.mark.parametrize("initiator, remark, text", [
    (None, None, "Assignment automatically confirmed by initiator ''null'' \nRemark: n/a"),
    ("a", "   ", "Assignment automatically confirmed by initiator ''a'' \nRemark: n/a"),
    ("a", "r", "Assignment automatically confirmed by initiator ''a'' \nRemark: r"),
])
def test_auto_confirmation_message_is_hawkbits(initiator, remark, text):
    assert rules.auto_confirmed(initiator, remark) == text


@pytest.mark.parametrize("answer, status, active, expected", [
    ("confirmed", "WAIT_FOR_CONFIRMATION", True, rules.Decision(Status.RUNNING, rules.CONFIRMED_MESSAGE)),
    ("confirmed", "RUNNING", True, rules.Refusal.NOT_AWAITING),
    ("confirmed", "WAIT_FOR_CONFIRMATION", False, rules.Refusal.CLOSED),
    ("denied", "WAIT_FOR_CONFIRMATION", True, rules.Decision(Status.WAIT_FOR_CONFIRMATION, rules.DENIED_MESSAGE)),
    ("denied", "RUNNING", True, rules.Decision(Status.WAIT_FOR_CONFIRMATION, rules.REVOKED_MESSAGE)),
    ("denied", "RETRIEVED", True, rules.Decision(Status.WAIT_FOR_CONFIRMATION, rules.REVOKED_MESSAGE)),
    ("denied", "CANCELING", True, rules.Refusal.NOT_AWAITING),
    ("denied", "FINISHED", False, rules.Refusal.CLOSED),
])
def test_what_a_confirmation_does(answer, status, active, expected):
    assert rules.decide(answer, status, active) == expected
