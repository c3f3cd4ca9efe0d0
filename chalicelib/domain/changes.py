"""What a write does to a stored entity, said without the store: field changes and the conditions they need.

Services decide with domain rules and hand the store a `Change` (field -> new value, `REMOVE`, or `Add(n)`)
and, where a write must only happen in some state, a `Condition` over the entity's fields. The store
(chalicelib/store/records.py) turns both into DynamoDB update and condition expressions, so no layer above
it builds one. Field names are the entity's dataclass fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, TypeVar


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Any = _Remove()  # the field is removed (an optional attribute becomes absent)


@dataclass(frozen=True)
class Add:
    """Add to a number (negative: subtract), atomically in the store: concurrent adds all count."""

    amount: int | float


Change = Mapping[str, Any]  # field -> value | REMOVE | Add


# --- conditions ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    def __and__(self, other: "Condition") -> "Condition":
        return All((self, other))

    def __or__(self, other: "Condition") -> "Condition":
        return AnyOf((self, other))


@dataclass(frozen=True)
class Exists(Condition):
    field: str


@dataclass(frozen=True)
class Missing(Condition):
    field: str


@dataclass(frozen=True)
class Compare(Condition):
    field: str
    op: str  # "==", "!=", "<", "<=", ">", ">="
    value: Any


@dataclass(frozen=True)
class All(Condition):
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf(Condition):
    parts: tuple[Condition, ...]


def eq(field: str, value: Any) -> Compare:
    return Compare(field, "==", value)


def le(field: str, value: Any) -> Compare:
    return Compare(field, "<=", value)


def lt(field: str, value: Any) -> Compare:
    return Compare(field, "<", value)


E = TypeVar("E")


def applied(entity: E, change: Change) -> E:
    """The entity as the change leaves it (what the store will hold once the write commits)."""
    values: dict[str, Any] = {}
    for field, value in change.items():
        if value is REMOVE:
            values[field] = None
        elif isinstance(value, Add):
            values[field] = (getattr(entity, field) or 0) + value.amount
        else:
            values[field] = value
    return dataclasses.replace(entity, **values)  # type: ignore[type-var]
