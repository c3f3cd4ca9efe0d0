"""skyhawk: Chalice app. Thin: blueprints, middleware, schedules. Nothing else."""
from chalice import Chalice, Rate

from chalicelib import telemetry
from chalicelib.api import (
    ddi,
    deployments,
    deviceconfig,
    distributionsets,
    distributionsettypes,
    middleware,
    request_limits,
    softwaremodules,
    softwaremoduletypes,
    system,
    targets,
    users,
    workflow,
)
from chalicelib.front_door import FrontDoor

app = Chalice(app_name="skyhawk", configure_logs=False)
# Every media type is binary: configuration files have any type, DDI speaks CBOR, artifacts arrive as
# multipart (middleware.binary_bodies says why).
app.api.binary_types = ["*/*"]
# Outermost: logs and metrics see the answer every other middleware made (errors rendered, headers set).
app.register_middleware(telemetry.observe_requests, "http")
app.register_middleware(telemetry.observe_jobs, "scheduled")
app.register_middleware(middleware.binary_bodies, "http")
app.register_middleware(middleware.security_headers, "http")
app.register_middleware(middleware.render_errors, "http")
app.register_middleware(middleware.etags, "http")
app.register_middleware(request_limits.limit_requests, "http")

app.register_blueprint(system.bp)
app.register_blueprint(softwaremoduletypes.bp)
app.register_blueprint(softwaremodules.bp)
app.register_blueprint(distributionsettypes.bp)
app.register_blueprint(distributionsets.bp)
app.register_blueprint(targets.bp)
app.register_blueprint(deployments.bp)
app.register_blueprint(ddi.bp)
app.register_blueprint(deviceconfig.bp)
app.register_blueprint(workflow.bp)
app.register_blueprint(users.bp)

# The API function's Lambda handler: the REST API's events go to the app as they are, the device front door's
# (a function URL, payload format 2.0) through chalicelib/front_door.py.
handler = FrontDoor(app)


@app.schedule(Rate(1, unit=Rate.HOURS))
def action_cleanup(event):
    from chalicelib.jobs import action_cleanup as job
    return job.run()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def overdue_detection(event):
    from chalicelib.jobs import overdue as job
    return job.run()


@app.schedule(Rate(1, unit=Rate.HOURS))
def config_task_expiry(event):
    from chalicelib.jobs import config_task_expiry as job
    return job.expire_config_tasks()


@app.schedule(Rate(5, unit=Rate.MINUTES))
def reaper(event):
    from chalicelib.jobs import reaper as job
    return job.run(time_left_ms=event.context.get_remaining_time_in_millis)
