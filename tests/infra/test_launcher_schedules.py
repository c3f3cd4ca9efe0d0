"""The launcher fires `@app.schedule` handlers in-process the way EventBridge + Lambda would."""
from __future__ import annotations

import threading

from chalice import Chalice, Rate

from infra import launcher


def make_app(calls: list) -> Chalice:
    app = Chalice(app_name="schedules-under-test", configure_logs=False)

    @app.schedule(Rate(1, unit=Rate.MINUTES))
    def tidy(event):
        calls.append(("tidy", event.to_dict()["detail-type"], event.context.function_name))
        return {"deleted": 0}

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def broken(event):
        raise RuntimeError("job failed")

    @app.route("/")
    def index():
        return {}

    return app


def test_fire_schedules_calls_every_schedule_and_survives_a_failing_one():
    calls: list = []
    results = launcher.fire_schedules(make_app(calls))
    assert results["tidy"] == {"deleted": 0}
    assert isinstance(results["broken"], RuntimeError)
    assert calls == [("tidy", "Scheduled Event", "tidy")]


def test_no_schedules_is_nothing_to_do():
    assert launcher.fire_schedules(Chalice(app_name="no-schedules", configure_logs=False)) == {}


def test_ticker_fires_every_interval_until_stopped():
    calls: list = []
    stop = threading.Event()
    ticker = threading.Thread(target=launcher._ticker, args=(make_app(calls), 0.05, stop), daemon=True)
    ticker.start()
    try:
        for _ in range(250):  # at most 5 s
            if len(calls) >= 2:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        ticker.join(timeout=2)
    assert not ticker.is_alive()
    assert len(calls) >= 2


def test_scheduled_event_shape():
    event = launcher.scheduled_event("tidy", "eu-west-1")
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["resources"] == [f"arn:aws:events:eu-west-1:{launcher.FAKE_ACCOUNT}:rule/tidy"]


def test_the_drain_hands_queued_messages_to_the_worker_until_stopped(aws_env):
    """Locally the launcher is the worker's event source mapping: what is queued reaches the worker, and what
    it did not report failed is deleted."""
    from chalicelib.store import job_queue

    app = Chalice(app_name="worker-under-test", configure_logs=False)
    bodies: list = []

    @app.on_sqs_message(queue="skyhawk-jobs", name=launcher.WORKER)
    def worker(event):
        records = list(event)
        bodies.extend(record.body for record in records)
        failed = [{"itemIdentifier": r.to_dict()["messageId"]} for r in records if r.body == '{"n":3}']
        return {"batchItemFailures": failed}

    job_queue.send({"n": n} for n in range(7))
    stop = threading.Event()
    drain = threading.Thread(target=launcher._drainer, args=(app, 0.02, stop), daemon=True)
    drain.start()
    try:
        for _ in range(250):  # at most 5 s
            if len(bodies) >= 7:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        drain.join(timeout=5)
    assert sorted(bodies) == sorted(f'{{"n":{n}}}' for n in range(7))
    # the failed one waits out its visibility timeout (then comes back, and after 5 receives dead-letters)
    from chalicelib.store import aws
    sqs = aws.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=job_queue.url(), AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "1")
