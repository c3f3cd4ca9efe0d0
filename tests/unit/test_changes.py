"""Domain changes and conditions, and their one translation into PynamoDB (chalicelib/store/records.py)."""
from dataclasses import dataclass

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.domain import changes as ch
from chalicelib.store import records


class Thing(Model):
    class Meta:
        table_name = "things"
        region = "us-east-1"
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    count = NumberAttribute(null=True)
    version = VersionAttribute()


@dataclass
class ThingEntity:
    tenant: str
    key: str
    name: str | None = None
    count: int | None = None
    version: int | None = None


records.register(ThingEntity, Thing)


def test_applied_sets_removes_and_adds():
    thing = ThingEntity("T", "k", name="a", count=2, version=3)
    after = ch.applied(thing, {"name": ch.REMOVE, "count": ch.Add(5)})
    assert (after.name, after.count, thing.count) == (None, 7, 2)


def test_entities_and_models_map_by_field_name():
    entity = records.to_entity(ThingEntity, Thing("T", "k", name="a", count=1, version=4))
    assert entity == ThingEntity("T", "k", "a", 1, 4)
    model = records.to_model(entity)
    assert (model.tenant, model.key, model.name, model.version) == ("T", "k", "a", 4)


def test_changes_and_conditions_become_expressions():
    actions = records.update_actions(Thing, {"name": "b", "count": ch.Add(-1), "version": ch.REMOVE})
    assert [type(a).__name__ for a in actions] == ["SetAction", "AddAction", "RemoveAction"]
    cond = records.condition(Thing, ch.Exists("name") & (ch.le("count", 3) | ch.Missing("count")))
    names, values = {}, {}
    assert cond.serialize(names, values) == "(attribute_exists (#0) AND (#1 <= :0 OR attribute_not_exists (#1)))"


def test_an_entity_with_a_field_the_model_lacks_is_refused():
    @dataclass
    class Wrong:
        tenant: str
        colour: str

    with pytest.raises(TypeError):
        records.register(Wrong, Thing)
