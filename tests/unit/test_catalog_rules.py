"""What catalogue updates write (pure Changes, chalicelib/domain/catalog.py) and the catalogue entities' views."""
from chalicelib.domain import catalog as rules
from chalicelib.domain import catalog_entities as entities
from chalicelib.domain.changes import REMOVE, applied

AUDIT = {"last_modified_at": 5, "last_modified_by": "bob"}


def _module(sm_id: int, **fields) -> entities.SoftwareModule:
    return entities.SoftwareModule(tenant="t", sk=f"sm#{sm_id}", id=sm_id, created_at=1, created_by="amy",
                                   last_modified_at=1, last_modified_by="amy", name=f"m{sm_id}", version_name="1",
                                   type_key="os", type_id=1, **fields)


def test_a_module_put_writes_only_what_the_body_names_and_null_removes():
    assert rules.software_module_update(rules.SoftwareModuleChange(), "bob", 5) == AUDIT
    change = rules.software_module_update(rules.SoftwareModuleChange(
        description=None, has_description=True, vendor="ACME", has_vendor=True, locked=False), "bob", 5)
    assert change == {**AUDIT, "description": REMOVE, "vendor": "ACME", "locked": False}
    module = applied(_module(1, description="old", vendor="old"), change)
    assert (module.description, module.vendor, module.locked) == (None, "ACME", False)


def test_a_type_put_changes_description_and_colour_only():
    change = rules.type_update(rules.TypeChange(description="d", has_description=True, colour=None,
                                                has_colour=True), "bob", 5)
    assert change == {**AUDIT, "description": "d", "colour": REMOVE}
    assert rules.type_update(rules.TypeChange(colour="red"), "bob", 5) == AUDIT  # colour not in the body


def test_a_set_put_writes_name_and_version_only_when_they_change():
    same = rules.DistributionSetChange(name="ds", version="1")
    assert rules.distribution_set_update(same, "ds", "1", "bob", 5) == AUDIT
    renamed = rules.distribution_set_update(rules.DistributionSetChange(version="2", required_migration_step=True,
                                                                        locked=True), "ds", "1", "bob", 5)
    assert renamed == {**AUDIT, "name": "ds", "version_name": "2", "required_migration_step": True, "locked": True}


def test_a_soft_delete_hides_the_entity_and_keeps_it():
    assert rules.marked_deleted(7) == {"deleted": True, "last_modified_at": 7}


def test_stored_metadata_reads_as_entries_in_key_order():
    stored = {"b": {"value": "2"}, "a": {"value": "1", "targetVisible": True}}
    assert rules.stored_metadata(stored) == [rules.MetadataEntry("a", "1", True), rules.MetadataEntry("b", "2")]
    assert rules.stored_metadata(None) == []


def test_a_set_with_modules_keeps_set_order_and_leaves_out_purged_modules():
    ds = entities.DistributionSet(tenant="t", sk="ds#1", id=1, created_at=1, created_by="amy", last_modified_at=1,
                                  last_modified_by="amy", name="ds", version_name="1", type_key="os", type_id=1,
                                  modules=[3, 2, 9], version=4)
    view = entities.set_with_modules(ds, {2: _module(2), 3: _module(3)})
    assert [m.id for m in view.loaded_modules] == [3, 2]
    assert (view.natural_key, view.module_ids, view.version) == (("ds", "1"), [3, 2, 9], 4)
