"""Tags (hawkBit TargetTag, DistributionSetTag): plain data, the request rules and the holder's tag list.

A tagged entity (a target, a distribution set) lists its tags by id on its own item (`tags`): an assignment is
one write to it, and its delete takes its assignments with it. Ids, not names, so renaming a tag touches none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from chalicelib import errors
from chalicelib.domain.changes import REMOVE, Change
from chalicelib.lazy import lazy_import

catalog = lazy_import("chalicelib.domain.catalog")  # its text rules; loaded with the first tag request

NAME_MAX = 64  # hawkBit Tag: name 64, description 512, colour 16


@dataclass(frozen=True)
class Tag:
    tenant: str
    sk: str
    id: int
    name: str
    created_at: int
    created_by: str
    last_modified_at: int
    last_modified_by: str
    description: str | None = None
    colour: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class TargetTag(Tag):
    pass


@dataclass(frozen=True)
class DistributionSetTag(Tag):
    pass


class TagSpec(NamedTuple):
    name: str
    description: str | None = None
    colour: str | None = None


class TagChange(NamedTuple):
    """A PUT: only the fields given change (hawkBit's update ignores absent ones)."""

    name: str | None
    description: str | None
    colour: str | None


def tag_spec(body: Any, what: str = "tag") -> TagSpec:
    body = catalog._object(body, what)
    return TagSpec(
        name=catalog._text(body, "name", NAME_MAX, required=True),
        description=catalog._text(body, "description", catalog.DESCRIPTION_MAX),
        colour=catalog._text(body, "colour", catalog.COLOUR_MAX),
    )


def tag_change(body: Any, what: str = "tag") -> TagChange:
    body = catalog._object(body, what)
    name = catalog._text(body, "name", NAME_MAX)
    if name is not None and not name.strip():
        raise errors.ConstraintViolation("'name' must not be empty.", ["name"])
    return TagChange(
        name=name,
        description=catalog._text(body, "description", catalog.DESCRIPTION_MAX),
        colour=catalog._text(body, "colour", catalog.COLOUR_MAX),
    )


def tag_update(change: TagChange, user: str, now: int) -> Change:
    fields: dict[str, Any] = {"last_modified_at": now, "last_modified_by": user}
    fields.update({name: value for name, value in change._asdict().items() if value is not None})
    return fields


def tags_with(current: list[int] | None, tag_id: int) -> list[int]:
    ids = [int(i) for i in current or []]
    return ids if int(tag_id) in ids else ids + [int(tag_id)]


def tags_without(current: list[int] | None, tag_id: int) -> Any:
    """The list without `tag_id`; REMOVE when nothing is left (the attribute goes, the item stays small)."""
    ids = [int(i) for i in current or [] if int(i) != int(tag_id)]
    return ids if ids else REMOVE
