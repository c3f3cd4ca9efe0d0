"""Filling a new rollout's groups with targets (docs/rollouts-hawkbit.md §9.3), in bounded steps.

Two passes over the candidates, each a page at a time with its position carried by the caller (the POST
itself for a small tenant, then units of the rollouts job): the *count* pass computes each matching target's
signature (the groups whose filter it matches, chalicelib/domain/rollout_groups.py) and counts them; once it
is done `allocate` plays hawkBit's sequential fill on the counts and `check_allocation` refuses what hawkBit
refuses. The *place* pass reads the same pages again and hands each target to its group (`Placer`, whose state
travels with the position), writing one member item per target, 25 a BatchWriteItem (N/25 write requests for
N targets). A page placed twice (a redelivered unit) writes the same items again.

Candidates are the tenant's targets (controllerId order) created no later than the rollout, matching its filter
(and a group's), whose type accepts the set's type; a retry's candidates are the targets whose action in the
retried rollout ended in ERROR (read from that rollout's members).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from chalicelib import errors
from chalicelib.domain import rollout_groups, rsql
from chalicelib.domain import rollouts as rules
from chalicelib.domain.actions import Status
from chalicelib.domain.rollouts import Rollout, RolloutGroup
from chalicelib.domain.targets import Target
from chalicelib.lazy import lazy_import
from chalicelib.services import target_matching
from chalicelib.store import actions as action_store
from chalicelib.store import rollouts as store
from chalicelib.store import targets as target_store

targets_service = lazy_import("chalicelib.services.targets")
distribution_sets = lazy_import("chalicelib.services.distribution_sets")

PAGE = 500  # targets a page of a pass reads


@dataclass
class Pass:
    """Where a creation stands: `phase` count | place | done; `key`: the next page's start (None: from the
    first); `counts`: targets per signature; `placer`: the place pass's state."""

    phase: str = "count"
    key: Any = None
    counts: dict[str, int] | None = None
    placer: list | None = None
    placed: list[int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "key": self.key,
            "counts": self.counts,
            "placer": self.placer,
            "placed": self.placed,
        }

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> "Pass":
        return cls(**raw) if raw else cls()


class Filters:
    """The rollout's filter and its groups' (ANDed with it), parsed once."""

    def __init__(self, rollout: Rollout, groups: list[RolloutGroup], ds_type_id: int) -> None:
        self.rollout = rollout
        self.static = [g for g in groups if not g.dynamic]
        self.retried = rules.retried_rollout_id(rollout.target_filter_query)
        self.node = (
            None if self.retried is not None else rsql.parse(rollout.target_filter_query, targets_service.SEARCH_FIELDS)
        )
        self.group_nodes = [
            rsql.parse(g.target_filter_query, targets_service.SEARCH_FIELDS) if g.target_filter_query else None
            for g in self.static
        ]
        self.ds_type_id = ds_type_id

    def signatures(self, tenant: str, items: list[Target]) -> list[tuple[Target, frozenset[int]]]:
        """The candidates among `items` (created no later than the rollout) with their signatures (empty
        signature: in no group)."""
        return self.matching(tenant, [t for t in items if int(t.created_at or 0) <= int(self.rollout.created_at)])

    def matching(self, tenant: str, items: list[Target]) -> list[tuple[Target, frozenset[int]]]:
        items = target_matching.compatible(tenant, items, self.ds_type_id)
        found = []
        for target, view in target_matching.views(tenant, items, [self.node, *self.group_nodes]):
            if self.node is not None and not self.node.matches(view):
                continue
            found.append(
                (
                    target,
                    rollout_groups.signature(
                        g.position
                        for g, node in zip(self.static, self.group_nodes)
                        if node is None or node.matches(view)
                    ),
                )
            )
        return found


def filters_of(tenant: str, rollout: Rollout, groups: list[RolloutGroup]) -> Filters:
    ds = distribution_sets.check_assignable(tenant, int(rollout.ds_id))
    return Filters(rollout, groups, int(ds.type_id))


def check_queries(target_filter_query: str, group_queries: list[str | None]) -> None:
    """400 for a filter that does not parse or names an unknown field (the retry's own filter excepted)."""
    if rules.retried_rollout_id(target_filter_query) is None:
        rsql.parse(target_filter_query, targets_service.SEARCH_FIELDS)
    for query in group_queries:
        if query:
            rsql.parse(query, targets_service.SEARCH_FIELDS)


def _page(tenant: str, filters: Filters, key: Any) -> tuple[list[tuple[Target, frozenset[int]]], Any]:
    """One page of candidates with their signatures, and where the next page starts (None: done)."""
    if filters.retried is None:
        page = target_store.page_of_tenant(tenant, key, PAGE)
        return filters.signatures(tenant, page.items), page.after
    return _failed_page(tenant, filters, key)


def _failed_page(tenant: str, filters: Filters, key: Any) -> tuple[list[tuple[Target, frozenset[int]]], Any]:
    """A retry's page: the retried rollout's members whose action ended in ERROR, group by group."""
    position, after = key or [0, None]
    retried = filters.retried
    groups = store.groups_of(tenant, int(retried or 0))
    if position >= len(groups):
        return [], None
    page = store.members_with_actions(tenant, int(retried or 0), groups[position].position, after, PAGE)
    failed = {
        a.controller_id
        for a in action_store.find_many(tenant, [(cid, aid) for cid, aid in page.items])
        if a.status == Status.ERROR.value
    }
    found = target_store.find_many(tenant, sorted(failed))
    candidates = filters.signatures(tenant, [found[cid] for cid in sorted(found)])
    following = [position, page.after] if page.after is not None else [position + 1, None]
    return candidates, (None if following[0] >= len(groups) else following)


def _key(signature: frozenset[int]) -> str:
    return ",".join(str(p) for p in sorted(signature))


def _signature(key: str) -> frozenset[int]:
    return rollout_groups.signature(int(p) for p in key.split(",") if p)


def step(
    tenant: str,
    rollout: Rollout,
    groups: list[RolloutGroup],
    state: Pass,
    pages: int,
    has_time: Callable[[], bool] = lambda: True,
) -> Pass:
    """Read up to `pages` pages of the current pass while `has_time()`; returns where it stands. Raises hawkBit's
    refusals (errors.SkyhawkError) when the count pass ends in one."""
    filters = filters_of(tenant, rollout, groups)
    static = [g for g in groups if not g.dynamic]
    for _ in range(pages):
        if not has_time():
            break
        if state.phase == "count":
            counts = dict(state.counts or {})
            found, after = _page(tenant, filters, state.key)
            for _, signature in found:
                counts[_key(signature)] = counts.get(_key(signature), 0) + 1
            state = Pass("count", after, counts)
            if after is None:
                state = _counted(rollout, static, counts)
        elif state.phase == "place":
            placer = rollout_groups.Placer.from_state(state.placer or [])
            placed = list(state.placed or [0] * len(static))
            found, after = _page(tenant, filters, state.key)
            members = []
            for target, signature in found:
                position = placer.place(signature)
                if position is not None:
                    members.append((position, target.controller_id))
                    placed[position] += 1
            store.add_members(tenant, rollout.id, members)
            state = Pass("place" if after is not None else "done", after, None, placer.state(), placed)
        if state.phase == "done":
            break
    return state


def _counted(rollout: Rollout, static: list[RolloutGroup], counts: dict[str, int]) -> Pass:
    by_signature = {_signature(k): n for k, n in counts.items()}
    matched = sum(by_signature.values())
    allocation = rollout_groups.allocate(static, by_signature)
    if rules.retried_rollout_id(rollout.target_filter_query) is not None and matched == 0:
        raise errors.ConstraintViolation("No failed targets in Rollout")
    if rollout.dynamic and matched == 0:  # a dynamic rollout may start empty: its dynamic groups take later ones
        return Pass("done", None, counts, [], [0] * len(static))
    rollout_groups.check_allocation(allocation, None, matched)  # group sizes as allocated
    return Pass("place", None, counts, rollout_groups.Placer.of(allocation).state(), [0] * len(static))
