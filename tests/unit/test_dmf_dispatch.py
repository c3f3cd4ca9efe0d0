"""The pure rules of outbound DMF (chalicelib/domain/dmf_dispatch.py): which change calls for which message."""
from __future__ import annotations

import dataclasses

import pytest

from chalicelib.domain import dmf_dispatch as d
from chalicelib.domain.actions import Action
from chalicelib.domain.targets import Target

T = "DEFAULT"


def action(status: str = "RUNNING", active: bool = True, action_id: int = 7) -> Action:
    return Action(target_key=f"{T}#dev-1", action_id=action_id, tenant=T, controller_id="dev-1", ds_id=1,
                  ds_name="ds", ds_version="1", action_type="forced", status=status, active=active,
                  created_at=1, created_by="u", last_modified_at=1, last_modified_by="u")


def target(**fields) -> Target:
    return Target(tenant=T, controller_id="dev-1", name="dev-1", security_token="tok", created_at=1, created_by="u",
                  last_modified_at=1, last_modified_by="u", **fields)


def summary(action_id: int, canceling: bool = False, waiting: bool = False, weight: int | None = None) -> dict:
    return {"id": action_id, "canceling": canceling, "waiting": waiting, "type": "forced", "weight": weight,
            "dsId": 1}


@pytest.mark.parametrize("address, dmf", [
    ("https://sqs.eu-central-1.amazonaws.com/123456789012/gateway.fifo", True),
    ("http://127.0.0.1:4566/123456789012/gw-replies", True),
    ("http://192.168.0.7", False),
    ("https://sqs.eu-central-1.amazonaws.com/12345/gateway", False),
    (None, False), ("", False),
])
def test_a_target_is_a_dmf_target_when_its_address_is_a_queue_url(address, dmf):
    assert d.is_reply_queue(address) is dmf


def test_action_changes_name_their_reason():
    assert d.action_trigger(T, None, action()).reason is d.Reason.ASSIGNED
    assert d.action_trigger(T, None, action(active=False, status="FINISHED")) is None  # a closed one (already had it)
    assert d.action_trigger(T, action(), action("CANCELING")).reason is d.Reason.CANCELING
    assert d.action_trigger(T, action("WAIT_FOR_CONFIRMATION"), action()).reason is d.Reason.CONFIRMED
    closed = d.action_trigger(T, action(), action("FINISHED", active=False))
    assert (closed.reason, closed.installed) == (d.Reason.CLOSED, True)
    assert d.action_trigger(T, action(), action("ERROR", active=False)).installed is False
    assert d.action_trigger(T, action(), action()) is None  # a history entry: nothing for the thing
    assert d.action_trigger(T, action(active=False, status="ERROR"), None) is None  # cleanup


def test_target_changes_name_their_reason():
    asked = target(request_attributes=True)
    assert d.target_trigger(T, target(request_attributes=False), asked).reason is d.Reason.ATTRIBUTES_REQUESTED
    assert d.target_trigger(T, asked, asked) is None
    assert d.target_trigger(T, asked, None).reason is d.Reason.DELETED
    assert d.target_trigger(T, target(request_attributes=False), target(request_attributes=True, deletion="p")) is None


def trig(reason: d.Reason, action_id: int | None = 7, **extra) -> d.Trigger:
    return d.Trigger(T, "dev-1", reason, action_id, **extra)


def test_an_assignment_is_told_only_when_it_is_the_current_action():
    assert d.command_for(trig(d.Reason.ASSIGNED), [summary(7)], False) == d.Install(summary(7))
    # an older action is being canceled: its cancel goes first, the new one follows when it closes
    assert d.command_for(trig(d.Reason.ASSIGNED, 8), [summary(7, canceling=True), summary(8)], False) is None
    assert d.command_for(trig(d.Reason.CLOSED, 7), [summary(8)], False) == d.Install(summary(8))
    assert d.command_for(trig(d.Reason.ASSIGNED), [], False) is None  # closed meanwhile


def test_a_cancel_is_told_while_the_action_is_canceling():
    assert d.command_for(trig(d.Reason.CANCELING), [summary(7, canceling=True)], False) == d.Cancel(7)
    assert d.command_for(trig(d.Reason.CANCELING), [], False) is None
    assert d.command_for(trig(d.Reason.CONNECTED, None), [summary(7, canceling=True)], False) == d.Cancel(7)


def test_multi_assignments_send_every_open_action_by_weight():
    summaries = [summary(7, weight=10), summary(8, weight=900), summary(9)]
    command = d.command_for(trig(d.Reason.ASSIGNED, 7), summaries, True)
    assert [s["id"] for s in command.summaries] == [9, 8, 7]  # no weight counts as 1000
    assert d.command_for(trig(d.Reason.ASSIGNED, 6), summaries, True) is None
    assert d.command_for(trig(d.Reason.CLOSED, 6), [], True) is None


def test_an_installed_action_asks_for_the_attributes_first():
    closed = trig(d.Reason.CLOSED, installed=True)
    assert d.commands_for(closed, [summary(8)], False, True) == [d.RequestAttributes(), d.Install(summary(8))]
    assert d.commands_for(closed, [], False, False) == []
    assert d.commands_for(dataclasses.replace(closed, installed=False), [], False, True) == []
