"""skyhawk: Chalice app. Thin: blueprints, middleware, schedules. Nothing else."""
from chalice import Chalice, Rate

from chalicelib.api import middleware, system

app = Chalice(app_name="skyhawk", configure_logs=False)
app.api.binary_types.extend(["multipart/form-data"])
app.register_middleware(middleware.render_errors, "http")
app.register_middleware(middleware.etags, "http")

app.register_blueprint(system.bp)
