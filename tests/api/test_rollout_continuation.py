"""A rollout unit whose time runs out just before it starts a group's next page hands on a continuation, so the
group's other targets get their actions now and not only at the next scheduled check (a minute later)."""
from __future__ import annotations

from chalicelib.services import rollout_runner
from tests.api import jobs_queue, steps
from tests.api.catalog_helpers import body, get, post


def test_a_unit_out_of_time_before_a_page_hands_on(client):
    ds_id, _ = steps.release(client)
    steps.enable_target_tokens(client)
    for i in range(30):
        steps.create_target(client, f"cont-{i:02d}", token=f"tok-cont-{i:02d}")
    created = post(client, "/rest/v1/rollouts", {"name": "cont", "distributionSetId": ds_id,
                                                 "targetFilterQuery": "controllerId==cont-*"})
    assert created.status_code == 201, created.body
    rollout_id = body(created)["id"]
    jobs_queue.drain()
    assert post(client, f"/rest/v1/rollouts/{rollout_id}/start", None).status_code == 200
    jobs_queue.queued()  # the start's unit stays queued; this test runs the units itself
    answers = iter([True] * 4 + [False])  # enough for the start and a first page, then none left

    position = rollout_runner.advance("DEFAULT", rollout_id, None, lambda: next(answers, False))
    assert position is not None  # a continuation: targets are waiting
    jobs_queue.drain()
    rollout = body(get(client, f"/rest/v1/rollouts/{rollout_id}"))
    assert rollout["totalTargetsPerStatus"]["running"] == 30
