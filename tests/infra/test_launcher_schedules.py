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
