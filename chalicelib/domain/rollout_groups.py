"""A rollout's groups from its spec, and which of the matching targets each group takes (hawkBit's group fill).

hawkBit fills groups in order (JpaRolloutExecutor.fillRolloutGroupWithTargets): group i takes
`round(p_i / 100 * available_i)` targets, where `available_i` counts the targets matching the rollout's filter and
the group's own (a group without one matches all) that no earlier group took, and `p_i` is the group's
percentage *of what is left to serve among the groups with the same filter* (RolloutHelper.toPercentFromTheRest):
`amountGroups: 4` gives every group 25 %, which is 25 % of all, then 33.3 %, 50 % and 100 % of the rest, so the
last group takes everything left. hawkBit refuses a rollout (400) whose groups leave targets in no group, or
that matches none, and one whose group would pass maxTargetsPerRolloutGroup (20,000; for `amountGroups`, checked
as total / amountGroups).

skyhawk fills from one counting pass over the matching targets: each target's *signature* is the set of groups
whose filter it matches; `allocate` plays hawkBit's fill on the counts per signature (which signatures a group
takes from is hawkBit's database order there, here those that fewer later groups could take first), and
`Placer` then hands each target of the second pass, in the same order, to the first group whose share of its
signature is not used up. Both passes run in batches over the jobs queue; the Placer's state travels with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from chalicelib import errors
from chalicelib.domain import quotas
from chalicelib.domain.rollout_spec import RolloutSpec
from chalicelib.domain.rollouts import GroupStatus, Rollout, RolloutGroup, group_sk

Signature = frozenset[int]  # positions of the static groups whose filter a target matches


def group_count(spec: RolloutSpec) -> int:
    """How many groups the rollout starts with (with a dynamic template, the first dynamic group too)."""
    if spec.groups:
        return len(spec.groups)
    return int(spec.amount_groups or 0) + (1 if spec.dynamic_group_size is not None else 0)


def groups_of(
    rollout: Rollout, spec: RolloutSpec, group_ids: Sequence[int], confirmation_flow: bool, now: int
) -> list[RolloutGroup]:
    """The groups as created with the rollout (CREATING; a dynamic template's group READY, it fills later)."""
    if len(group_ids) != group_count(spec):
        raise ValueError(f"{group_count(spec)} group ids needed, {len(group_ids)} given")
    default_confirmation = confirmation_flow if spec.confirmation_required is None else spec.confirmation_required
    groups: list[RolloutGroup] = []

    def add(name: str, **fields: Any) -> None:
        position = len(groups)
        groups.append(
            RolloutGroup(
                tenant=rollout.tenant,
                sk=group_sk(rollout.id, position),
                id=int(group_ids[position]),
                rollout_id=rollout.id,
                position=position,
                name=name,
                created_at=now,
                created_by=rollout.created_by,
                last_modified_at=now,
                last_modified_by=rollout.created_by,
                **fields,
            )
        )

    for group in spec.groups:
        conditions = group.conditions.filled_from(spec.conditions)
        add(
            group.name,
            description=group.description,
            target_filter_query=group.target_filter_query or "",
            target_percentage=group.target_percentage,
            confirmation_required=default_confirmation
            if group.confirmation_required is None
            else group.confirmation_required,
            **_condition_fields(conditions),
        )
    amount = int(spec.amount_groups or 0) if not spec.groups else 0
    for index in range(amount):
        add(
            f"group-{index + 1}",
            description=f"group-{index + 1}",
            target_percentage=100.0 / amount,
            confirmation_required=default_confirmation,
            **_condition_fields(spec.conditions),
        )
    if spec.dynamic_group_size is not None:
        name = f"group-{amount + 1}{spec.dynamic_group_suffix or ''}"
        add(
            name,
            description=name,
            dynamic=True,
            status=GroupStatus.READY.value,
            target_percentage=float(spec.dynamic_group_size),
            confirmation_required=default_confirmation,
            **_condition_fields(spec.conditions),
        )
    return groups


def next_dynamic_group(
    rollout: Rollout, last: RolloutGroup, group_id: int, status: GroupStatus, now: int
) -> RolloutGroup:
    """Another dynamic group after `last` (JpaRolloutExecutor.createDynamicGroup): its name keeps the suffix,
    its size is the last dynamic group's (or, after a static group, that group's target count)."""
    position = last.position + 1
    plain = f"group-{position}"
    suffix = last.name[len(plain) :] if last.name.startswith(plain) else ""
    name = f"group-{position + 1}{suffix}"
    size = last.target_percentage if last.dynamic else float(last.total_targets)
    fields = {key: getattr(last, key) for key in _CONDITION_FIELDS}
    return RolloutGroup(
        tenant=rollout.tenant,
        sk=group_sk(rollout.id, position),
        id=int(group_id),
        rollout_id=rollout.id,
        position=position,
        name=name,
        description=name,
        dynamic=True,
        status=status.value,
        target_percentage=size,
        target_filter_query=last.target_filter_query,
        confirmation_required=last.confirmation_required,
        created_at=now,
        created_by="system",
        last_modified_at=now,
        last_modified_by="system",
        **fields,
    )


def dynamic_room(group: RolloutGroup) -> int:
    """How many more targets a dynamic group takes (its target count, at least 1, less those it has)."""
    return max(int(group.target_percentage), 1) - int(group.total_targets)


_CONDITION_FIELDS = (
    "success_condition",
    "success_expression",
    "success_action",
    "success_action_expression",
    "error_condition",
    "error_expression",
    "error_action",
    "error_action_expression",
)


def _condition_fields(conditions: Any) -> dict[str, Any]:
    return {name: getattr(conditions, name) for name in _CONDITION_FIELDS}


# --- sizes --------------------------------------------------------------------------------------------------
def percent_of_rest(groups: Sequence[RolloutGroup], position: int) -> float:
    """A group's percentage of the targets still to serve among the groups sharing its filter."""
    group = groups[position]
    to_serve = 100.0
    for earlier in groups[:position]:
        if earlier.target_filter_query == group.target_filter_query:
            to_serve -= earlier.target_percentage
    return 100.0 if to_serve <= 1 else min(100.0, group.target_percentage * 100.0 / to_serve)


def java_round(value: float) -> int:
    """Java's Math.round: halves go up."""
    return int(math.floor(value + 0.5))


@dataclass
class Allocation:
    """How many targets of each signature each static group takes."""

    shares: list[dict[Signature, int]]
    unassigned: int

    @property
    def sizes(self) -> list[int]:
        return [sum(share.values()) for share in self.shares]

    @property
    def total(self) -> int:
        return sum(self.sizes)


def allocate(groups: Sequence[RolloutGroup], counts: Mapping[Signature, int]) -> Allocation:
    """hawkBit's sequential fill played on the number of matching targets per signature."""
    static = [g for g in groups if not g.dynamic]
    remaining = {signature: int(n) for signature, n in counts.items() if n > 0}
    shares: list[dict[Signature, int]] = []
    for position in range(len(static)):
        candidates = [s for s in remaining if position in s and remaining[s] > 0]
        wanted = java_round(percent_of_rest(static, position) / 100.0 * sum(remaining[s] for s in candidates))
        # Targets that fewer later groups could take go first, so the later groups find theirs.
        candidates.sort(key=lambda s: (sum(1 for p in s if p > position), sorted(s)))
        share: dict[Signature, int] = {}
        for signature in candidates:
            if wanted <= 0:
                break
            taken = min(wanted, remaining[signature])
            share[signature] = taken
            remaining[signature] -= taken
            wanted -= taken
        shares.append(share)
    return Allocation(shares, sum(remaining.values()))


def check_allocation(allocation: Allocation, amount_groups: int | None, matched: int) -> None:
    """hawkBit's refusals once the targets are counted (`matched`: targets matching the rollout's filter)."""
    if matched == 0:
        raise errors.ConstraintViolation("Rollout does not match any existing targets")
    if allocation.unassigned > 0:
        raise errors.ConstraintViolation("Rollout groups don't match all targets that are targeted by the rollout")
    sizes = [matched // amount_groups] if amount_groups else allocation.sizes
    for size in sizes:
        quotas.check_assign(
            size, 0, quotas.MAX_TARGETS_PER_ROLLOUT_GROUP, "Target entities", "a rollout group", more=False
        )


@dataclass
class Placer:
    """Hands targets of the second pass to groups within the allocation; `state()` travels with the batches."""

    left: list[dict[Signature, int]] = field(default_factory=list)

    @classmethod
    def of(cls, allocation: Allocation) -> "Placer":
        return cls([dict(share) for share in allocation.shares])

    def place(self, signature: Signature) -> int | None:
        """The position of the group that takes a target of this signature, or None (no group has room left:
        the target matched after the count, or is one too many for its signature)."""
        for position, share in enumerate(self.left):
            if share.get(signature, 0) > 0:
                share[signature] -= 1
                return position
        return None

    def state(self) -> list[list[list[Any]]]:
        """JSON-ready: per group, [[positions...], count] pairs still open."""
        return [[[sorted(signature), n] for signature, n in share.items() if n > 0] for share in self.left]

    @classmethod
    def from_state(cls, state: Iterable[Iterable[Any]]) -> "Placer":
        return cls([{frozenset(int(p) for p in positions): int(n) for positions, n in share} for share in state])


def signature(matching_positions: Iterable[int]) -> Signature:
    return frozenset(int(p) for p in matching_positions)
