"""Target types (hawkBit TargetType): the request rules and the compatibility rule (the entity, a catalogue
kind, is chalicelib.domain.catalog_entities.TargetType).

A type lists the distribution set types its targets accept (`compatible`, ids). A target names its type by id
on its own item (`Target.target_type`); a target without a type accepts any set (hawkBit).
A PUT changes name, description and colour, as a tag's (chalicelib.domain.tags.tag_change).
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

from chalicelib.domain import quotas
from chalicelib.domain.catalog_entities import TargetType
from chalicelib.lazy import lazy_import

catalog = lazy_import("chalicelib.domain.catalog")  # its text rules; loaded with the first type request


class TargetTypeSpec(NamedTuple):
    key: str
    name: str
    description: str | None = None
    colour: str | None = None
    compatible: tuple[int, ...] = ()


def target_type_spec(body: Any) -> TargetTypeSpec:
    body = catalog._object(body, "target type")
    name = catalog._text(body, "name", catalog.TYPE_NAME_MAX, required=True)
    compatible = catalog.ids_of(body.get("compatibledistributionsettypes"), "compatibledistributionsettypes")
    check_compatible_count(len(compatible))
    # hawkBit takes the name as the key when none is given.
    return TargetTypeSpec(
        key=catalog._text(body, "key", catalog.TYPE_KEY_MAX) or name,
        name=name,
        description=catalog._text(body, "description", catalog.DESCRIPTION_MAX),
        colour=catalog._text(body, "colour", catalog.COLOUR_MAX),
        compatible=compatible,
    )


def check_compatible_count(count: int) -> None:
    quotas.check_assign(
        count,
        0,
        quotas.MAX_DISTRIBUTION_SET_TYPES_PER_TARGET_TYPE,
        "DistributionSetType entities",
        "a target type",
        more=False,
    )


def with_compatible(current: Iterable[int], added: Iterable[int]) -> list[int]:
    ids = [int(i) for i in current]
    return ids + [int(i) for i in added if int(i) not in ids]


def incompatible(types: Iterable[TargetType], ds_type_id: int) -> list[TargetType]:
    """The types that do not list the set's type, id order."""
    return sorted((t for t in types if not t.accepts(ds_type_id)), key=lambda t: int(t.id))
