"""DynamoDB call budgets of the device hot path (docs/architecture.md, "Hot path": idle poll = 1 read, last seen at
most once a minute)."""
from chalicelib import clock
from tests.api import steps


def _device(client):
    steps.enable_target_tokens(client)
    steps.create_target(client, "b1", "tok-b1")
    steps.poll(client, "b1", "tok-b1")  # registers; warms the tenant configuration cache


def test_idle_poll_is_one_read_and_last_seen_written_once_a_minute(client, dynamo_calls):
    _device(client)
    start = clock.now_ms()
    clock.set_now(start + 61_000)
    dynamo_calls.reset()
    steps.poll(client, "b1", "tok-b1")
    assert dynamo_calls.reads == 1 and dynamo_calls.calls["GetItem"] == 1
    assert dynamo_calls.writes == 1  # the last-seen time, due after a minute
    for seconds in (1, 20, 59):
        clock.set_now(start + 61_000 + seconds * 1000)
        dynamo_calls.reset()
        steps.poll(client, "b1", "tok-b1")
        assert (dynamo_calls.reads, dynamo_calls.writes) == (1, 0)
    clock.set_now(start + 61_000 + 61_000)
    dynamo_calls.reset()
    steps.poll(client, "b1", "tok-b1")
    assert (dynamo_calls.reads, dynamo_calls.writes) == (1, 1)


def test_poll_with_open_action_at_most_two_reads(client, dynamo_calls):
    _device(client)
    ds_id, _ = steps.release(client)
    steps.assign(client, ds_id, "b1")
    steps.poll(client, "b1", "tok-b1")
    dynamo_calls.reset()
    body = steps.poll(client, "b1", "tok-b1")
    assert "deploymentBase" in body["_links"]
    assert dynamo_calls.reads <= 2 and dynamo_calls.writes == 0


def test_feedback_is_two_reads_and_one_transaction(client, dynamo_calls):
    _device(client)
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, "b1")["assignedActions"][0]["id"]
    dynamo_calls.reset()
    steps.feedback(client, "b1", "tok-b1", action_id, "closed", "success")
    assert dynamo_calls.calls["GetItem"] == 2
    assert dynamo_calls.calls["TransactWriteItems"] == 1 and dynamo_calls.writes == 1


def _waiting_action(client) -> int:
    _device(client)
    steps.enable_confirmation_flow(client)
    ds_id, _ = steps.release(client)
    action_id = steps.assign(client, ds_id, "b1")["assignedActions"][0]["id"]
    steps.poll(client, "b1", "tok-b1")
    return action_id


def test_poll_with_an_action_waiting_for_confirmation_is_one_read(client, dynamo_calls):
    """The waiting flag rides on the target's open-action summary: no read of the action."""
    _waiting_action(client)
    dynamo_calls.reset()
    body = steps.poll(client, "b1", "tok-b1")
    assert "confirmationBase" in body["_links"]
    assert dynamo_calls.calls["GetItem"] == 1 and dynamo_calls.total == 1
    dynamo_calls.reset()
    resp = client.http.get("/DEFAULT/controller/v1/b1/confirmationBase", headers=steps.device("tok-b1"))
    assert resp.status_code == 200
    assert dynamo_calls.calls["GetItem"] == 1 and dynamo_calls.total == 1


def test_cbor_poll_costs_what_a_json_poll_costs(client, dynamo_calls):
    _device(client)
    dynamo_calls.reset()
    resp = client.http.get("/DEFAULT/controller/v1/b1", headers={**steps.device("tok-b1"),
                                                               "Accept": "application/cbor"})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/cbor"
    assert dynamo_calls.calls["GetItem"] == 1 and dynamo_calls.total == 1


def test_confirmation_feedback_is_two_reads_and_one_transaction(client, dynamo_calls):
    action_id = _waiting_action(client)
    dynamo_calls.reset()
    steps.confirm(client, "b1", "tok-b1", action_id, "confirmed")
    assert dynamo_calls.calls["GetItem"] == 2
    assert dynamo_calls.calls["TransactWriteItems"] == 1 and dynamo_calls.writes == 1
