"""CloudWatch metrics as EMF lines: one line per request or job, namespace "skyhawk", each metric under
[service] and [service, route|job]; off unless POWERTOOLS_METRICS_DISABLED is false."""
import json

import pytest

from chalicelib.domain.targets import OVERDUE_SHARDS
from tests.api import jobs_queue, steps
from tests.conftest import ADMIN

POLL = "GET /{tenant}/controller/v1/{controller_id}"


@pytest.fixture
def emf(monkeypatch, capsys):
    """Turns metrics on; `emf()` returns the EMF lines written since the last call."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")

    def lines():
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    return lines


def metric_names(line):
    [directive] = line["_aws"]["CloudWatchMetrics"]
    return {m["Name"] for m in directive["Metrics"]}


def test_a_poll_writes_one_line_counting_it_by_route(client, emf):
    steps.enable_target_tokens(client)
    steps.create_target(client, "dev1", "tok1")
    emf()
    resp = client.http.get("/DEFAULT/controller/v1/dev1", headers={**steps.device("tok1"), "X-Correlation-Id": "p-1"})
    assert resp.status_code == 200
    [line] = emf()
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "skyhawk"
    assert directive["Dimensions"] == [["service"], ["service", "route"]]
    assert directive["Metrics"] == [{"Name": "DdiPolls", "Unit": "Count"}]
    assert (line["service"], line["route"], line["DdiPolls"]) == ("skyhawk", POLL, [1.0])
    assert (line["correlation_id"], line["statusCode"]) == ("p-1", 200)


def test_a_5xx_is_counted_by_its_route_template(client, emf, aws_fails):
    from botocore.exceptions import ReadTimeoutError

    steps.create_target(client, "dev1")
    emf()
    aws_fails(lambda service, op, params: op == "GetItem" and "controller_id" in params.get("Key", {}),
              lambda: ReadTimeoutError(endpoint_url="http://dynamodb"))
    assert client.http.get("/rest/v1/targets/dev1", headers=ADMIN).status_code == 503
    [line] = emf()
    assert metric_names(line) == {"Http5xx"}
    assert (line["route"], line["Http5xx"], line["statusCode"]) == ("GET /rest/v1/targets/{target_id}", [1.0], 503)


def test_a_4xx_is_counted_and_a_plain_success_writes_nothing(client, emf):
    emf()
    assert client.http.get("/rest/v1/targets/nobody", headers=ADMIN).status_code == 404
    assert client.http.get("/DEFAULT/controller/v1/dev1", headers=steps.device("wrong")).status_code == 401
    assert client.http.get("/rest/v1/targets", headers=ADMIN).status_code == 200
    lines = emf()
    assert [(line["route"], metric_names(line)) for line in lines] == [
        ("GET /rest/v1/targets/{target_id}", {"Http4xx"}), (POLL, {"Http4xx"})]


def test_assignments_count_the_targets_assigned_and_feedback_is_counted(client, emf):
    steps.enable_target_tokens(client)
    for cid in ("dev1", "dev2", "dev3"):
        steps.create_target(client, cid, f"tok-{cid}")
    ds_id, _ = steps.release(client)
    emf()
    steps.assign(client, ds_id, "dev1", "dev2")
    steps.assign(client, ds_id, "dev2", "dev3")  # dev2 has it already
    assigned = emf()
    assert [(line["route"], line["TargetsAssigned"]) for line in assigned] == [
        ("POST /rest/v1/distributionsets/{ds_id}/assignedTargets", [2.0]),
        ("POST /rest/v1/distributionsets/{ds_id}/assignedTargets", [1.0])]
    action_id = json.loads(client.http.get("/rest/v1/targets/dev1/actions", headers=ADMIN).body)["content"][0]["id"]
    emf()
    steps.feedback(client, "dev1", "tok-dev1", action_id, "closed", "success")
    [line] = emf()
    assert metric_names(line) == {"DdiFeedback"} and line["DdiFeedback"] == [1.0]


def test_a_job_writes_its_runs_and_result_counts_by_job(client, emf):
    emf()
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=["arn:aws:events:us-east-1:123456789012:rule/x"])
    assert client.lambda_.invoke("overdue_detection", event).payload == {"job": "overdue", "enqueued": OVERDUE_SHARDS}
    [line] = emf()
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service"], ["service", "job"]]
    assert (line["job"], line["JobRuns"], line["enqueued"]) == ("overdue_detection", [1.0], [float(OVERDUE_SHARDS)])
    assert metric_names(line) == {"JobRuns", "enqueued"}
    # the worker's invocations count their units and what each job found
    jobs_queue.drain()
    lines = emf()
    assert {line["job"] for line in lines} == {"jobs_worker"}
    assert sum(line["units"][0] for line in lines) == OVERDUE_SHARDS
    assert all(line["overdue.overdue"] == [0.0] and line["failed"] == [0.0] for line in lines)


def test_a_failing_job_counts_a_failure(client, emf, monkeypatch):
    from chalicelib.jobs import fanout

    def broken(name, now_ms=None):
        raise RuntimeError("job bug")
    monkeypatch.setattr(fanout, "schedule", broken)
    emf()
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=["arn:aws:events:us-east-1:123456789012:rule/x"])
    with pytest.raises(RuntimeError):
        client.lambda_.invoke("overdue_detection", event)
    [line] = emf()
    assert (line["JobRuns"], line["JobFailures"]) == ([1.0], [1.0])


def test_a_failing_unit_is_counted_and_left_to_sqs(client, emf, monkeypatch):
    from chalicelib.jobs import overdue

    def broken(*args):
        raise RuntimeError("job bug")
    monkeypatch.setattr(overdue, "work", broken)
    emf()
    sqs_event = client.events.generate_sqs_event(message_bodies=[json.dumps(
        {"job": "overdue", "now": 1, "tenant": "DEFAULT", "shard": 0, "after": None})])
    answer = client.lambda_.invoke("jobs_worker", sqs_event).payload
    assert answer["batchItemFailures"] == [{"itemIdentifier": "message-id"}]  # redelivered, then dead-lettered
    [line] = emf()
    assert (line["job"], line["units"], line["failed"]) == ("jobs_worker", [1.0], [1.0])


def test_metrics_are_off_unless_enabled(client, capsys):
    steps.create_target(client, "dev1")
    client.http.get("/rest/v1/targets/nobody", headers=ADMIN)
    assert '"_aws"' not in capsys.readouterr().out
