"""Default software module and distribution set types every tenant starts with (hawkBit's defaults).

Created once per tenant, in one transaction together with a marker item, so the check on every
`ensure_tenant` is a single GetItem. Deleting a default type later does not bring it back.
"""

from __future__ import annotations

from chalicelib import clock, errors
from chalicelib.domain import catalog as rules
from chalicelib.domain.catalog_entities import DistributionSetType, SoftwareModuleType
from chalicelib.services import catalog_types
from chalicelib.store import catalog, counters
from chalicelib.store.tx import Tx

SYSTEM_USER = "system"

DEFAULT_SM_TYPES = (
    rules.SoftwareModuleTypeSpec("os", "OS", "Core firmware or operation system", max_assignments=1),
    rules.SoftwareModuleTypeSpec(
        "application", "Application", "Application Addons", max_assignments=rules.UNLIMITED_ASSIGNMENTS
    ),
    rules.SoftwareModuleTypeSpec("runtime", "Runtime", "Runtime environment (e.g. a JVM)", max_assignments=1),
)
# (key, name, description, mandatory module type keys, optional module type keys)
DEFAULT_DS_TYPES = (
    ("os", "OS only", "Default type with Firmware/OS only.", ("os",), ()),
    ("os_app", "OS with app(s)", "Default type with Firmware/OS and optional app(s).", ("os",), ("application",)),
    ("app", "App(s) only", "Default type with app(s) only.", ("application",), ()),
)
DEFAULT_DS_TYPE_KEY = "os_app"  # hawkBit's tenant default distribution set type


class _AlreadyCreated(errors.EntityAlreadyExists):
    pass


def ensure_default_types(tenant: str) -> None:
    """Idempotent and cheap once done (one GetItem)."""
    if catalog.defaults_created(tenant):
        return
    now = clock.now_ms()
    sm_ids = counters.allocate_ids(tenant, catalog.SEQUENCE[SoftwareModuleType], len(DEFAULT_SM_TYPES))
    ds_ids = counters.allocate_ids(tenant, catalog.SEQUENCE[DistributionSetType], len(DEFAULT_DS_TYPES))
    sm_items = [
        catalog_types.new_sm_type_item(tenant, type_id, spec, SYSTEM_USER, now)
        for type_id, spec in zip(sm_ids, DEFAULT_SM_TYPES)
    ]
    id_of = {item.key: int(item.id) for item in sm_items}
    ds_items = [
        catalog_types.new_ds_type_item(
            tenant,
            type_id,
            rules.DistributionSetTypeSpec(
                key, name, description, None, tuple(id_of[k] for k in mandatory), tuple(id_of[k] for k in optional)
            ),
            SYSTEM_USER,
            now,
        )
        for type_id, (key, name, description, mandatory, optional) in zip(ds_ids, DEFAULT_DS_TYPES)
    ]
    tx = Tx()
    catalog.mark_defaults(tx, tenant, _AlreadyCreated)
    for sm_item in sm_items:
        catalog_types.add_sm_type_puts(tx, tenant, sm_item)
    for ds_item in ds_items:
        catalog_types.add_ds_type_puts(tx, tenant, ds_item)
    # The defaults count towards the type quotas (and so towards the list totals).
    counters.usage_update(tx, tenant, "SOFTWARE_MODULE_TYPE", len(sm_items))
    counters.usage_update(tx, tenant, "DISTRIBUTION_SET_TYPE", len(ds_items))
    try:
        tx.commit()
    except (errors.EntityAlreadyExists, errors.ConcurrentModification):
        pass  # a concurrent bootstrap of the same tenant won (or the keys exist already); those types stand
