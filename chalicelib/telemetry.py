"""Entry-point scopes for logs and metrics (chalice middleware): one per HTTP request, one per scheduled job.

A request gets a correlation id (echoed in `X-Correlation-Id`), its tenant and controllerId as log keys when
the path names them (operators' tenants are added on login), one log line when answered, and one EMF line
with what it counted plus `Http4xx`/`Http5xx` by route template. A job gets its own correlation id, one log
line, and one EMF line with `JobRuns`, `JobFailures` and every number of its result, by job name.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Callable

from chalicelib import faults, logs, metrics

log = logging.getLogger("skyhawk")


def observe_requests(event: Any, get_response: Callable[[Any], Any]) -> Any:
    headers = event.headers or {}
    correlation_id = logs.correlation_id_for(headers, event.context)
    params = event.uri_params or {}
    tenant = params.get("tenant")
    previous = logs.begin(
        correlation_id=correlation_id,
        tenant=tenant.upper() if tenant else None,
        controllerId=params.get("controller_id"),
        function_request_id=getattr(event.lambda_context, "aws_request_id", None),
    )
    route = f"{event.method} {event.path}"
    started = time.perf_counter()
    try:
        with metrics.collecting(route=route):
            response = get_response(event)
            status = response.status_code
            if 400 <= status < 500:
                metrics.count("Http4xx")
            elif status >= 500:
                metrics.count("Http5xx")
            metrics.describe(correlation_id=correlation_id, statusCode=status)
        log.info(
            "%s %s -> %d",
            event.method,
            event.path,
            status,
            extra={"route": route, "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
        )
    finally:
        logs.end(previous)
    response.headers[logs.CORRELATION_HEADER] = correlation_id
    return response


def observe_jobs(event: Any, get_response: Callable[[Any], Any]) -> Any:
    # Deployed, chalice names a schedule's function <app>-<stage>-<handler>; locally it is the handler name.
    job = str(getattr(event.context, "function_name", "") or "job").rsplit("-", 1)[-1]
    correlation_id = getattr(event.context, "aws_request_id", None) or str(uuid.uuid4())
    previous = logs.begin(correlation_id=correlation_id, job=job)
    started = time.perf_counter()
    try:
        with metrics.collecting(job=job):
            metrics.count("JobRuns")
            metrics.describe(correlation_id=correlation_id)
            try:
                result = get_response(event)
            except Exception as exc:
                metrics.count("JobFailures")
                if faults.unavailable(exc):
                    log.warning("job %s unavailable: %s", job, faults.describe(exc))
                else:
                    log.exception("job %s failed", job)
                raise
            numbers = (
                {
                    name: value
                    for name, value in (result or {}).items()
                    if isinstance(value, (int, float)) and not isinstance(value, bool)
                }
                if isinstance(result, dict)
                else {}
            )
            for name, value in numbers.items():
                metrics.count(name, value)
        log.info(
            "job %s -> %s",
            job,
            numbers,
            extra={"result": numbers, "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
        )
        return result
    finally:
        logs.end(previous)
