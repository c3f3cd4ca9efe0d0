"""The change feed consumer: a batch of DynamoDB Streams records (chalicelib/store/change_feed.py), handed in order
to each consumer: the service integration events (services/integration_events.py) and the outbound DMF messages
(services/dmf_outbound.py).

Delivery is at least once. A consumer answers how far it got: the index of the first change it could not
deliver, or None for all. The batch answers Lambda's partial batch response naming the earliest such record, so
the event source mapping hands that record and everything after it out again (and the later consumers only see
what the earlier ones delivered, so a retried record is never half-skipped). What came before it is never sent
again; what came after it may be sent twice, as at-least-once allows.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Mapping, Sequence

from chalicelib.store import change_feed

log = logging.getLogger("skyhawk.change_feed")

Deliver = Callable[[Sequence["change_feed.Change | None"]], "int | None"]
Wants = Callable[[str], bool]


def _consumers() -> list[tuple[str, Wants, Deliver]]:
    """(name, wants(tenant): whether it has anything to do for the tenant's changes, deliver)."""
    from chalicelib.services import dmf_outbound, integration_events

    return [
        ("integration_events", integration_events.wants, integration_events.deliver),
        ("dmf_outbound", dmf_outbound.wants, dmf_outbound.deliver),
    ]


def run_batch(records: Iterable[Mapping[str, Any]], context: Any = None) -> dict[str, Any]:
    """Lambda's DynamoDB Streams records; answers the partial batch response (`batchItemFailures`) and counts.
    A record is decoded only when a consumer wants its tenant's changes (most tenants use neither DMF nor the
    events: their records cost a look at the keys)."""
    batch = list(records)
    consumers = _consumers()
    tenants = [change_feed.tenant_of(record) for record in batch]
    wanted = {tenant: [wants(tenant) for _name, wants, _deliver in consumers] for tenant in set(tenants) if tenant}
    changes = [
        change_feed.decode(record) if tenant and any(wanted[tenant]) else None for record, tenant in zip(batch, tenants)
    ]
    delivered = len(changes)
    for position, (name, _wants, deliver) in enumerate(consumers):
        mine = [
            change if change is not None and wanted[change.tenant][position] else None for change in changes[:delivered]
        ]
        try:
            stopped = deliver(mine)
        except Exception:
            log.exception("change feed consumer %s failed", name)
            stopped = 0
        if stopped is not None:
            log.warning("change feed consumer %s stopped at record %d of %d", name, stopped, len(batch))
            delivered = min(delivered, stopped)
    failures = [] if delivered == len(batch) else [{"itemIdentifier": batch[delivered]["dynamodb"]["SequenceNumber"]}]
    return {
        "batchItemFailures": failures,
        "records": len(batch),
        "changes": sum(c is not None for c in changes),
        "delivered": delivered,
    }
