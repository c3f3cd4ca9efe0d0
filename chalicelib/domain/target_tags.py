"""Target tags (hawkBit TargetTag): plain data, the request rules and the per-target tag list.

A target lists its tags by id on its own item (`Target.tags`): an assignment is one write to the target,
and the target's delete takes its assignments with it. Ids, not names, so renaming a tag touches no target.
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
class TargetTag:
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


class TagSpec(NamedTuple):
    name: str
    description: str | None = None
    colour: str | None = None


class TagChange(NamedTuple):
    """A PUT: only the fields given change (hawkBit's update ignores absent ones)."""
    name: str | None
    description: str | None
    colour: str | None


def tag_spec(body: Any) -> TagSpec:
    body = catalog._object(body, "target tag")
    return TagSpec(name=catalog._text(body, "name", NAME_MAX, required=True),
                   description=catalog._text(body, "description", catalog.DESCRIPTION_MAX),
                   colour=catalog._text(body, "colour", catalog.COLOUR_MAX))


def tag_change(body: Any) -> TagChange:
    body = catalog._object(body, "target tag")
    name = catalog._text(body, "name", NAME_MAX)
    if name is not None and not name.strip():
        raise errors.ConstraintViolation("'name' must not be empty.", ["name"])
    return TagChange(name=name, description=catalog._text(body, "description", catalog.DESCRIPTION_MAX),
                     colour=catalog._text(body, "colour", catalog.COLOUR_MAX))


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
