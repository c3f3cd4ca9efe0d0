"""Counting a quota's usage from the items it counts (services.usage_recount compares it with the counter).

One consistent Query over the kind's items of a tenant, a page at a time, reading only what the count needs;
the counter is read and corrected by store.counters (`stored_usage`, `correct_usage`).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from chalicelib.store.tables import (
    Artifact,
    DistributionSet,
    DistributionSetType,
    SoftwareModule,
    SoftwareModuleType,
    Target,
    TargetType,
)

PAGE = 500


def _catalog(model) -> Callable:
    def query(tenant: str, after, page_size: int):
        live = model.deleted == False  # noqa: E712
        return model.query(
            tenant,
            model.sk.startswith(model.PREFIX),
            filter_condition=live,
            consistent_read=True,
            attributes_to_get=["tenant", "sk", "deleted"],
            last_evaluated_key=after,
            page_size=page_size,
        )

    return query


def _targets(tenant: str, after, page_size: int):
    return Target.query(
        tenant,
        filter_condition=Target.deletion.does_not_exist(),
        consistent_read=True,
        attributes_to_get=["tenant", "controller_id", "deletion"],
        last_evaluated_key=after,
        page_size=page_size,
    )


def _artifacts(tenant: str, after, page_size: int):
    return Artifact.query(
        tenant,
        Artifact.sk.startswith(Artifact.PREFIX),
        consistent_read=True,
        attributes_to_get=["tenant", "sk", "size"],
        last_evaluated_key=after,
        page_size=page_size,
    )


# quota -> (the Query of what it counts, what one item adds)
_COUNTED: dict[str, tuple[Callable, Callable]] = {
    "TARGET": (_targets, lambda item: 1),
    "SOFTWARE_MODULE": (_catalog(SoftwareModule), lambda item: 1),
    "DISTRIBUTION_SET": (_catalog(DistributionSet), lambda item: 1),
    "SOFTWARE_MODULE_TYPE": (_catalog(SoftwareModuleType), lambda item: 1),
    "DISTRIBUTION_SET_TYPE": (_catalog(DistributionSetType), lambda item: 1),
    "TARGET_TYPE": (_catalog(TargetType), lambda item: 1),
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
