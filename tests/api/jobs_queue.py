"""Running the scheduled jobs in tests as deployed: the schedule's function enqueues, the worker function runs
the queued units (moto's SQS) until none is left, continuations included. `run_job` answers the job's counts
summed over its units."""
from __future__ import annotations

from chalicelib import clock

SCHEDULES = {"action_cleanup": "action_cleanup", "overdue": "overdue_detection",
             "config_task_expiry": "config_task_expiry", "reaper": "reaper",
             "auto_assignment": "auto_assignment", "rollouts": "rollout_check"}


def fire(job: str) -> dict:
    """Invoke the job's scheduled function as EventBridge and Lambda would."""
    from chalice.local import LambdaContext

    from app import app
    from infra import launcher
    name = SCHEDULES[job]
    return app.handler_map[name](launcher.scheduled_event(name, "us-east-1"),
                                 LambdaContext(name, memory_size=512, max_runtime_ms=30_000))


def drain() -> dict[str, dict[str, int]]:
    """Run the worker on what is queued until nothing is; per job, the summed counts."""
    from app import app
    from infra import launcher
    return launcher.drain_jobs(app)


class LowOnTime:
    """A Lambda context whose remaining time follows `times` (ms, one per question), then `then`."""
    function_name = "jobs_worker"
    aws_request_id = "test"

    def __init__(self, *times: int, then: int = 1_000) -> None:
        self._times, self._then = iter(times), then

    def get_remaining_time_in_millis(self) -> int:
        return next(self._times, self._then)


def work_once(context) -> dict:
    """One worker invocation with `context` on the next queued message."""
    from app import app
    from chalicelib.store import job_queue
    from infra import launcher
    return launcher.invoke_worker(app, job_queue.receive(1), context)


def run_job(client, job: str, delay_ms: int = 0) -> dict[str, int]:
    """Fire the job's schedule `delay_ms` from now and drain the queue; the job's total counts."""
    from chalicelib.jobs import fanout
    clock.advance(delay_ms)
    try:
        assert fire(job)["enqueued"] >= 0
        return drain().get(job, dict(fanout.job(job).EMPTY))
    finally:
        clock.advance(-delay_ms)


def queued() -> list[dict]:
    """The bodies waiting in the queue (received and made visible again at once)."""
    import json

    from chalicelib.store import aws, job_queue
    sqs = aws.client("sqs")
    bodies = []
    while messages := sqs.receive_message(QueueUrl=job_queue.url(), MaxNumberOfMessages=10).get("Messages", []):
        bodies += [(m["ReceiptHandle"], json.loads(m["Body"])) for m in messages]
    for handle, _ in bodies:
        sqs.change_message_visibility(QueueUrl=job_queue.url(), ReceiptHandle=handle, VisibilityTimeout=0)
    return [body for _, body in bodies]
