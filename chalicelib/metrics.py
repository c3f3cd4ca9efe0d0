"""CloudWatch metrics as Embedded Metric Format lines on stdout (Powertools Metrics, namespace "skyhawk").

Each request or scheduled invocation collects its counts in its own recorder (`collecting`), which writes
them as one EMF line when it ends, nothing when nothing was counted. Code that counts calls `count`; outside
a collecting scope (a test calling a service directly, the bench) it counts nothing.

Every line publishes each metric twice: under the dimension `service` alone (totals) and under `service` plus
the scope's own dimension (`route`: "METHOD /template", or `job`), because EMF dimension sets are per line.
Off where POWERTOOLS_METRICS_DISABLED is true: `make run` and the tests set it (a test turns it back on).
"""

from __future__ import annotations

import contextlib
import os
from contextvars import ContextVar
from typing import Any, Iterator

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "skyhawk"
DEFAULT_NAMESPACE = "skyhawk"

_recorder: ContextVar[EphemeralMetrics | None] = ContextVar("skyhawk_metrics", default=None)


@contextlib.contextmanager
def collecting(**dimensions: str) -> Iterator[None]:
    """Counts made inside go to one EMF line written at the end (also when the body raises)."""
    recorder = None
    if not is_metrics_disabled():
        recorder = EphemeralMetrics(
            namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE, service=SERVICE
        )
        if dimensions:
            recorder.add_dimensions(service=SERVICE, **dimensions)
    token = _recorder.set(recorder)
    try:
        yield
    finally:
        _recorder.reset(token)
        if recorder is not None and recorder.metric_set:
            recorder.flush_metrics()


def count(name: str, value: float = 1) -> None:
    recorder = _recorder.get()
    if recorder is not None:
        recorder.add_metric(name=name, unit=MetricUnit.Count, value=value)


def describe(**metadata: Any) -> None:
    """Searchable, non-dimension properties of the line (the correlation id, a status code)."""
    recorder = _recorder.get()
    if recorder is not None:
        for key, value in metadata.items():
            if value is not None:
                recorder.add_metadata(key=key, value=value)
