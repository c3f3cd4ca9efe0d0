"""The one mapping between domain entities (dataclasses) and their PynamoDB models.

An entity's fields carry the model's attribute names (keys and `version` included), so the mapping is by
name: `to_entity` copies a loaded item into its entity, `to_model` builds the item to write (with the
version a conditional write checks), `update_actions` and `condition` turn a domain `Change` and
`Condition` (chalicelib/domain/changes.py) into PynamoDB's expressions. Nothing above the store sees a model.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, TypeVar

from pynamodb.attributes import MapAttribute
from pynamodb.models import Model

from chalicelib.domain import changes as ch

E = TypeVar("E")
_MODELS: dict[type, type[Model]] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}
# entity class -> derive(entity, {field: new value or None}) -> further attributes to write with those fields
Derive = Callable[[Any, dict[str, Any]], dict[str, Any]]
_DERIVED: dict[type, Derive] = {}


def register(entity_cls: type, model_cls: type[Model], derive: Derive | None = None) -> None:
    """Entity class `entity_cls` is stored as `model_cls`; every field must be one of the model's attributes.
    `derive` names attributes kept in step with fields (index keys): every put and update writes them too."""
    names = tuple(f.name for f in dataclasses.fields(entity_cls))
    missing = [name for name in names if name not in model_cls.get_attributes()]
    if missing:
        raise TypeError(f"{entity_cls.__name__} fields without an attribute in {model_cls.__name__}: {missing}")
    _MODELS[entity_cls] = model_cls
    _FIELDS[entity_cls] = names
    if derive is not None:
        _DERIVED[entity_cls] = derive


def is_entity(value: Any) -> bool:
    return type(value) in _MODELS


def model_of(entity_cls: type) -> type[Model]:
    return _MODELS[entity_cls]


def _plain(value: Any) -> Any:
    return value.as_dict() if isinstance(value, MapAttribute) else value


def to_entity(entity_cls: type[E], item: Model) -> E:
    return entity_cls(**{name: _plain(getattr(item, name, None)) for name in _FIELDS[entity_cls]})


def to_model(entity: Any) -> Model:
    cls = type(entity)
    values = {name: getattr(entity, name) for name in _FIELDS[cls]}
    if cls in _DERIVED:
        values.update(_DERIVED[cls](entity, values))
    return _MODELS[cls](
        **{name: value for name, value in values.items() if value is not None and value is not ch.REMOVE}
    )


def key_model(entity_cls: type, *keys: Any, version: int | None = None) -> Model:
    """An item naming only its key (and the version a write must find): for deletes and checks."""
    model_cls = _MODELS[entity_cls]
    item = model_cls(*keys)
    if version is not None:
        item.version = version  # type: ignore[attr-defined]
    return item


def with_derived(entity: Any, change: ch.Change) -> ch.Change:
    """The change plus the derived attributes it moves (`register`'s `derive`)."""
    derive = _DERIVED.get(type(entity))
    if derive is None:
        return change
    values = {
        name: None if value is ch.REMOVE else value for name, value in change.items() if not isinstance(value, ch.Add)
    }
    return {**change, **derive(entity, values)}


def update_actions(model_cls: type[Model], change: ch.Change) -> list:
    actions = []
    for name, value in change.items():
        attribute = getattr(model_cls, name)
        if value is ch.REMOVE:
            actions.append(attribute.remove())
        elif isinstance(value, ch.Add):
            actions.append(attribute.add(value.amount))
        else:
            actions.append(attribute.set(value))
    return actions


_COMPARE = {
    "==": lambda a, v: a == v,
    "!=": lambda a, v: a != v,
    "<": lambda a, v: a < v,
    "<=": lambda a, v: a <= v,
    ">": lambda a, v: a > v,
    ">=": lambda a, v: a >= v,
}


def condition(model_cls: type[Model], cond: ch.Condition) -> Any:
    if isinstance(cond, ch.Exists):
        return getattr(model_cls, cond.field).exists()
    if isinstance(cond, ch.Missing):
        return getattr(model_cls, cond.field).does_not_exist()
    if isinstance(cond, ch.Compare):
        return _COMPARE[cond.op](getattr(model_cls, cond.field), cond.value)
    if isinstance(cond, (ch.All, ch.AnyOf)):
        parts = [condition(model_cls, part) for part in cond.parts]
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined & part) if isinstance(cond, ch.All) else (combined | part)
        return combined
    raise TypeError(f"not a condition: {cond!r}")
