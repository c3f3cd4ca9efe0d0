"""Service integration events (issue 10 §3, docs/integration-events.md): the change feed's changes of the tenants
with `sie.enabled`, announced on the EventBridge bus in their order.

`deliver` is one of the change feed's consumers (chalicelib/jobs/change_feed.py): it answers the index of the
first change whose events did not all reach the bus (or None), and never raises for AWS's errors, so the feed
hands that change and the ones after it over again (at least once: what reached the bus after it comes twice,
with the same `eventId`).
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from chalicelib.domain import integration_events
from chalicelib.services import tenant_config
from chalicelib.store import event_bus
from chalicelib.store.change_feed import Change

log = logging.getLogger("skyhawk.integration_events")

KEY = "sie.enabled"


def wants(tenant: str) -> bool:
    """Only tenants with `sie.enabled` announce their changes (the change feed decodes nothing for the others)."""
    return bool(tenant_config.value(tenant, KEY))


def deliver(changes: Sequence[Change | None]) -> int | None:
    # Reading a tenant's configuration may fail too: nothing was put yet, and the change feed hands the batch over
    # again (jobs/change_feed.py answers an exception as a failure of its first record).
    pending: list[tuple[int, dict[str, Any]]] = []  # (index of its change, PutEvents entry)
    for index, change in enumerate(changes):
        if change is not None and wants(change.tenant):
            pending.extend((index, event.entry(event_bus.MAX_BYTES)) for event in integration_events.events_of(change))
    if not pending:
        return None
    sent = event_bus.put([entry for _, entry in pending])
    if sent < len(pending):
        log.warning("integration events: %d of %d reached the bus", sent, len(pending))
        return pending[sent][0]
    return None
