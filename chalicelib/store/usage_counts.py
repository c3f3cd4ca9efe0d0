"""Counting a quota's usage from the items it counts, and correcting its counter (services.usage_recount).

One consistent Query over the kind's items of a tenant, a page at a time, reading only what the count needs;
the counter is read consistently and written only if it still holds the value read.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from pynamodb.exceptions import UpdateError

from chalicelib.store.tables import (
    Artifact,
    Counter,
    DistributionSet,
    DistributionSetType,
    SoftwareModule,
    SoftwareModuleType,
    Target,
)

PAGE = 500


def _catalog(model) -> Callable:
    def query(tenant: str, after, page_size: int):
        live = model.deleted == False  # noqa: E712
        return model.query(tenant, model.sk.startswith(model.PREFIX), filter_condition=live, consistent_read=True,
                           attributes_to_get=["tenant", "sk", "deleted"], last_evaluated_key=after,
                           page_size=page_size)
    return query


def _targets(tenant: str, after, page_size: int):
    return Target.query(tenant, filter_condition=Target.deletion.does_not_exist(), consistent_read=True,
                        attributes_to_get=["tenant", "controller_id", "deletion"], last_evaluated_key=after,
                        page_size=page_size)


def _artifacts(tenant: str, after, page_size: int):
    return Artifact.query(tenant, Artifact.sk.startswith(Artifact.PREFIX), consistent_read=True,
                          attributes_to_get=["tenant", "sk", "size"], last_evaluated_key=after, page_size=page_size)


# quota -> (the Query of what it counts, what one item adds)
_COUNTED: dict[str, tuple[Callable, Callable]] = {
    "TARGET": (_targets, lambda item: 1),
    "SOFTWARE_MODULE": (_catalog(SoftwareModule), lambda item: 1),
    "DISTRIBUTION_SET": (_catalog(DistributionSet), lambda item: 1),
    "SOFTWARE_MODULE_TYPE": (_catalog(SoftwareModuleType), lambda item: 1),
    "DISTRIBUTION_SET_TYPE": (_catalog(DistributionSetType), lambda item: 1),
    "ARTIFACT_STORAGE": (_artifacts, lambda item: int(item.size or 0)),
}
QUOTAS = frozenset(_COUNTED)


class Counting:
    """What each counted item adds, in key order; `position` is where a count stopped part-way goes on."""

    def __init__(self, tenant: str, quota: str, after: Any, page_size: int) -> None:
        query, self._weight = _COUNTED[quota]
        self._results = query(tenant, after, page_size)

    def __iter__(self) -> Iterator[int]:
        for item in self._results:
            yield self._weight(item)

    @property
    def position(self) -> Any:
        return self._results.last_evaluated_key


def count(tenant: str, quota: str, after: Any = None) -> Counting:
    return Counting(tenant, quota, after, PAGE)


def stored(tenant: str, quota: str) -> int | None:
    """The counter's value (consistent read); None if it was never written."""
    try:
        return int(Counter.get(tenant, f"usage#{quota}", consistent_read=True).value)
    except Counter.DoesNotExist:
        return None


def set_if_unchanged(tenant: str, quota: str, total: int, read: int | None) -> bool:
    """Write `total` if the counter still holds `read` (None: still missing); False if it moved meanwhile."""
    condition = Counter.value.does_not_exist() if read is None else Counter.value == read
    try:
        Counter(tenant, f"usage#{quota}").update(actions=[Counter.value.set(total)], condition=condition)
        return True
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
