"""skyhawk: Chalice app. Thin: blueprints, middleware, schedules. Nothing else."""
from chalice import Chalice, Rate

from chalicelib import telemetry
from chalicelib.api import (
    console,
    ddi,
    deployments,
    deviceconfig,
    distributionsets,
    distributionsettags,
    distributionsettypes,
    middleware,
    openapi,
    request_limits,
    rollouts,
    softwaremodules,
    softwaremoduletypes,
    system,
    targetfilters,
    targets,
    targettags,
    targettypes,
    users,
    workflow,
)
from chalicelib.front_door import FrontDoor

app = Chalice(app_name="skyhawk", configure_logs=False)
JOBS_QUEUE = "skyhawk-jobs"  # chalicelib.config.DEFAULT_JOBS_QUEUE
JOBS_BATCH_SIZE = 5  # small: the units of one batch share one invocation's 30 s
JOBS_MAX_CONCURRENCY = 10  # workers at once, whatever the backlog: the jobs never crowd out the API's DynamoDB
DMF_QUEUE = "skyhawk-dmf-inbound.fifo"  # chalicelib.config.DEFAULT_DMF_QUEUE
DMF_BATCH_SIZE = 10  # FIFO: Lambda hands one batch per message group at a time, in order
# Every media type is binary: configuration files have any type, DDI speaks CBOR, artifacts arrive as
# multipart (middleware.binary_bodies says why).
app.api.binary_types = ["*/*"]
# Outermost: logs and metrics see the answer every other middleware made (errors rendered, headers set).
app.register_middleware(telemetry.observe_requests, "http")
app.register_middleware(telemetry.observe_jobs, "scheduled")
app.register_middleware(telemetry.observe_jobs, "sqs")
app.register_middleware(telemetry.observe_jobs, "pure_lambda")
app.register_middleware(middleware.binary_bodies, "http")
app.register_middleware(middleware.security_headers, "http")
app.register_middleware(middleware.render_errors, "http")
app.register_middleware(middleware.etags, "http")
app.register_middleware(request_limits.limit_requests, "http")

app.register_blueprint(system.bp)
app.register_blueprint(openapi.bp)
app.register_blueprint(console.bp)
app.register_blueprint(softwaremoduletypes.bp)
app.register_blueprint(softwaremodules.bp)
app.register_blueprint(distributionsettypes.bp)
app.register_blueprint(distributionsets.bp)
app.register_blueprint(targets.bp)
app.register_blueprint(targettags.bp)
app.register_blueprint(distributionsettags.bp)
app.register_blueprint(targettypes.bp)
app.register_blueprint(targetfilters.bp)
app.register_blueprint(rollouts.bp)
app.register_blueprint(deployments.bp)
app.register_blueprint(ddi.bp)
app.register_blueprint(deviceconfig.bp)
app.register_blueprint(workflow.bp)
app.register_blueprint(users.bp)

# The API function's Lambda handler: the REST API's events go to the app as they are, the device front door's
# (a function URL, payload format 2.0) through chalicelib/front_door.py.
handler = FrontDoor(app)


# Each schedule only enqueues its units of work (chalicelib/jobs/fanout.py); the worker below runs them.
@app.schedule(Rate(1, unit=Rate.HOURS))
def action_cleanup(event):
    from chalicelib.jobs import fanout
    return fanout.schedule("action_cleanup")


@app.schedule(Rate(5, unit=Rate.MINUTES))
def overdue_detection(event):
    from chalicelib.jobs import fanout
    return fanout.schedule("overdue")


@app.schedule(Rate(1, unit=Rate.HOURS))
def config_task_expiry(event):
    from chalicelib.jobs import fanout
    return fanout.schedule("config_task_expiry")


@app.schedule(Rate(5, unit=Rate.MINUTES))
def reaper(event):
    from chalicelib.jobs import fanout
    return fanout.schedule("reaper")


@app.schedule(Rate(1, unit=Rate.HOURS))
def auto_assignment(event):
    from chalicelib.jobs import fanout
    return fanout.schedule("auto_assignment")


@app.schedule(Rate(1, unit=Rate.MINUTES))
def rollout_check(event):
    """The safety net of rollouts: feedback and operations queue their units at once; this catches the rest."""
    from chalicelib.jobs import fanout
    return fanout.schedule("rollouts")


# Deployed, the merge template (infra/jobs-queue.json) points this at the stack's queue (the name is local's).
@app.on_sqs_message(queue=JOBS_QUEUE, batch_size=JOBS_BATCH_SIZE, maximum_concurrency=JOBS_MAX_CONCURRENCY,
                    name="jobs_worker")
def jobs_worker(event):
    from chalicelib.jobs import fanout
    return fanout.run_batch(((record.to_dict()["messageId"], record.body) for record in event), event.context)


# DMF inbound (docs/dmf-hawkbit.md §9); deployed, the merge template (infra/dmf-queue.json) points it at the stack's
# FIFO queue.
@app.on_sqs_message(queue=DMF_QUEUE, batch_size=DMF_BATCH_SIZE, name="dmf_inbound")
def dmf_inbound(event):
    from chalicelib.jobs import dmf_inbound
    return dmf_inbound.run_batch((record.to_dict() for record in event), event.context)


# The change feed (chalicelib/jobs/change_feed.py): DynamoDB Streams records of the streamed tables, turned into
# service integration events and outbound DMF messages. A plain function because one function reads several
# streams, whose ARNs only the data stack knows: the merge template (infra/change-feed.json) adds its event sources.
@app.lambda_function(name="change_feed")
def change_feed(event, context):
    from chalicelib.jobs import change_feed
    return change_feed.run_batch(event.get("Records", []), context)
