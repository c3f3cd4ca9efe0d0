"""The software catalogue as stored: module types, modules, artifacts, set types and sets (plain data).

Field names are the stored attributes' (chalicelib/store/tables.py, where they are registered):
the keys (`tenant`, `sk`), and `version`, the optimistic-locking counter a conditional write checks (None for
an entity not stored yet). `version_name` is the module's or set's user-facing version ("1.0.2").
Counts kept beside the entity (`used_by`, `in_sets`, `artifact_count`) decide whether a delete is soft
(chalicelib.domain.catalog.soft_delete).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

Metadata = dict[str, dict[str, Any]]  # key -> {"value": str, "targetVisible": bool (modules only)}


@dataclass(frozen=True)
class CatalogItem:
    """What every stored kind has: its keys, its id (per tenant and kind) and the audit fields."""

    tenant: str
    sk: str
    id: int
    created_at: int
    created_by: str
    last_modified_at: int
    last_modified_by: str


@dataclass(frozen=True)
class _Type(CatalogItem):
    key: str
    name: str
    description: str | None = None
    colour: str | None = None


@dataclass(frozen=True)
class SoftwareModuleType(_Type):
    max_assignments: int = 2147483647
    deleted: bool = False
    used_by: int = 0  # software modules of this type that still exist (soft-deleted ones too)
    version: int | None = None


@dataclass(frozen=True)
class DistributionSetType(_Type):
    mandatory: list[int] = field(default_factory=list)  # software module type ids
    optional: list[int] = field(default_factory=list)
    deleted: bool = False
    used_by: int = 0  # distribution sets of this type that still exist: module types are read-only then
    version: int | None = None

    def module_types(self, which: str) -> list[int]:
        return [int(i) for i in (self.mandatory if which == "mandatory" else self.optional)]


@dataclass(frozen=True)
class TargetType(_Type):
    """A kind of target; its targets accept sets of the distribution set types it lists (chalicelib.domain.
    target_types). `deleted` is never true (a type is removed), but the catalogue lists kinds by it."""

    compatible: list[int] = field(default_factory=list)  # distribution set type ids
    deleted: bool = False
    version: int | None = None

    def accepts(self, ds_type_id: int) -> bool:
        return int(ds_type_id) in {int(i) for i in self.compatible}


@dataclass(frozen=True)
class _Typed(CatalogItem):
    name: str
    version_name: str
    type_key: str
    type_id: int
    type_name: str | None = None  # a type's name never changes (PUT has no name), so it is kept here
    description: str | None = None


@dataclass(frozen=True)
class SoftwareModule(_Typed):
    vendor: str | None = None
    encrypted: bool = False
    locked: bool = False
    deleted: bool = False
    artifact_count: int = 0
    in_sets: int = 0  # distribution sets listing this module
    purge: str | None = None  # the purge's work item while a deleted module's artifacts are removed
    metadata: Metadata = field(default_factory=dict)
    version: int | None = None

    @property
    def natural_key(self) -> tuple[str, str, str]:
        """Unique per tenant among modules not deleted."""
        return (self.type_key, self.name, self.version_name)


@dataclass(frozen=True)
class Artifact(CatalogItem):
    sm_id: int
    filename: str
    size: int
    md5: str
    sha1: str
    sha256: str
    s3_key: str


@dataclass(frozen=True)
class DistributionSet(_Typed):
    modules: list[int] = field(default_factory=list)  # software module ids
    complete: bool = False  # every mandatory module type present
    required_migration_step: bool = False
    locked: bool = False
    deleted: bool = False
    valid: bool = True
    metadata: Metadata = field(default_factory=dict)
    tags: list[int] | None = None  # distribution set tag ids (chalicelib/domain/tags.py)
    version: int | None = None

    @property
    def natural_key(self) -> tuple[str, str]:
        """Unique per tenant among sets not deleted."""
        return (self.name, self.version_name)

    @property
    def module_ids(self) -> list[int]:
        return [int(i) for i in self.modules]


@dataclass(frozen=True)
class DistributionSetWithModules(DistributionSet):
    """A set with its module entities (set order), as the Management API renders it; never stored."""

    loaded_modules: tuple[SoftwareModule, ...] = ()


def set_with_modules(ds: DistributionSet, found: dict[int, SoftwareModule]) -> DistributionSetWithModules:
    """`ds` with those of its modules that `found` holds (a module purged meanwhile is left out)."""
    values = {f.name: getattr(ds, f.name) for f in dataclasses.fields(DistributionSet)}
    return DistributionSetWithModules(**values, loaded_modules=tuple(found[i] for i in ds.module_ids if i in found))
