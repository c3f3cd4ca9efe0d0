"""Taking back a bulk create that never completed (the reaper's part of store.all_or_nothing).

A create of several transactions leaves a journal header from its first step until its last; a header
still there once due means the request died or failed without undoing what it wrote. Its records name
the entities each committed step created; they are deleted the way an operator's DELETE would delete
them (so whatever happened to them meanwhile, an assignment, an artifact, a set using a module, is
handled as for any delete), then the journal goes. Records without a header belong to a create that
completed and are simply dropped.

A target is deleted only if it is still the one the request created (same creation time): a target of
the same controllerId created later by someone else is left alone.
"""

from __future__ import annotations

from typing import Any, Callable

from chalicelib import errors
from chalicelib.domain.pending import PendingItem
from chalicelib.lazy import lazy_import
from chalicelib.store import pending
from chalicelib.store.all_or_nothing import JOURNAL, JOURNAL_PART

KIND = JOURNAL
PART = JOURNAL_PART

TARGETS = "targets"
SOFTWARE_MODULES = "software-modules"
DISTRIBUTION_SETS = "distribution-sets"
SOFTWARE_MODULE_TYPES = "software-module-types"
DISTRIBUTION_SET_TYPES = "distribution-set-types"
TARGET_TAGS = "target-tags"
DISTRIBUTION_SET_TAGS = "distribution-set-tags"
TARGET_TYPES = "target-types"

targets = lazy_import("chalicelib.services.targets")
software_modules = lazy_import("chalicelib.services.software_modules")
distribution_sets = lazy_import("chalicelib.services.distribution_sets")
catalog_types = lazy_import("chalicelib.services.catalog_types")
target_tags = lazy_import("chalicelib.services.target_tags")
distribution_set_tags = lazy_import("chalicelib.services.distribution_set_tags")
target_types = lazy_import("chalicelib.services.target_types")


def _deleters() -> dict[str, Callable[[str, str, dict[str, Any]], None]]:
    return {
        TARGETS: lambda tenant, ref, detail: targets.delete_if_created_at(tenant, ref, int(detail["createdAt"])),
        SOFTWARE_MODULES: lambda tenant, ref, detail: software_modules.delete_software_module(tenant, int(ref)),
        DISTRIBUTION_SETS: lambda tenant, ref, detail: distribution_sets.delete_distribution_set(tenant, int(ref)),
        SOFTWARE_MODULE_TYPES: lambda tenant, ref, detail: catalog_types.delete_software_module_type(tenant, int(ref)),
        DISTRIBUTION_SET_TYPES: lambda tenant, ref, detail: catalog_types.delete_distribution_set_type(
            tenant, int(ref)
        ),
        TARGET_TAGS: lambda tenant, ref, detail: target_tags.TAGS.delete_tag_if_exists(tenant, int(ref)),
        DISTRIBUTION_SET_TAGS: lambda tenant, ref, detail: distribution_set_tags.TAGS.delete_tag_if_exists(
            tenant, int(ref)
        ),
        TARGET_TYPES: lambda tenant, ref, detail: target_types.delete_if_exists(tenant, int(ref)),
    }


QUOTAS = {
    TARGETS: ["TARGET"],
    SOFTWARE_MODULES: ["SOFTWARE_MODULE", "ARTIFACT_STORAGE"],
    DISTRIBUTION_SETS: ["DISTRIBUTION_SET"],
    SOFTWARE_MODULE_TYPES: ["SOFTWARE_MODULE_TYPE"],
    DISTRIBUTION_SET_TYPES: ["DISTRIBUTION_SET_TYPE"],
    TARGET_TAGS: ["TARGET_TAG"],
    DISTRIBUTION_SET_TAGS: ["DISTRIBUTION_SET_TAG"],
    TARGET_TYPES: ["TARGET_TYPE"],
}


def counted_by(header: PendingItem) -> list[str]:
    """The usage counters a rollback of this create changes."""
    return QUOTAS.get(str((header.detail or {}).get("entity")), [])


def roll_back(tenant: str, header: PendingItem, now: int, has_time: Callable[[], bool] = lambda: True) -> bool:
    """Delete what the uncompleted create's committed steps created, newest step first; then its journal.
    False when `has_time` ran out first: the records not yet done stay, and the next run goes on."""
    delete = _deleters()[header.detail["entity"]]
    parts = sorted(pending.with_prefix(tenant, header.key + "#"), key=lambda p: p.key, reverse=True)
    for part in parts:
        for ref in reversed(part.detail.get("created", [])):
            if not has_time():
                return False
            try:
                delete(tenant, ref, header.detail)
            except errors.EntityNotFound:
                pass  # never written, or deleted already
        pending.delete(tenant, part.key)
    pending.delete(tenant, header.key)
    return True


def drop_part(tenant: str, part: PendingItem, now: int) -> None:
    """A record whose header is gone: its create completed (or was rolled back), nothing to take back."""
    header_key = part.key.rsplit("#", 1)[0]
    if pending.get(tenant, header_key) is None:
        pending.delete(tenant, part.key)
