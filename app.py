"""skyhawk: Chalice app. Thin: blueprints, middleware, schedules. Nothing else."""
from chalice import Chalice, Rate

from chalicelib.api import ddi, deployments, deviceconfig, middleware, system, targets, workflow
from chalicelib.api import distributionsets, distributionsettypes, softwaremodules, softwaremoduletypes

app = Chalice(app_name="skyhawk", configure_logs=False)
app.api.binary_types.extend(["multipart/form-data"])
app.register_middleware(middleware.render_errors, "http")
app.register_middleware(middleware.etags, "http")

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
