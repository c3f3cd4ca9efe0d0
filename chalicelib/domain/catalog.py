"""Software catalogue rules (pure): request specs and their limits, distribution-set composition,
metadata and artifact checksums. hawkBit's column sizes and `JpaDistributionSet` semantics.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Mapping, overload

from chalicelib import errors
from chalicelib.domain.changes import REMOVE, Change

NAME_MAX = 128
VERSION_MAX = 64
DESCRIPTION_MAX = 512
VENDOR_MAX = 256
TYPE_KEY_MAX = 64
TYPE_NAME_MAX = 64
COLOUR_MAX = 16
FILENAME_MAX_BYTES = 255  # UTF-8; a common file system limit, and it keeps the guard's sort key small
FILENAME_FORBIDDEN = frozenset("/\\?#%")
METADATA_KEY_MAX = 128
METADATA_VALUE_MAX = 4000
UNLIMITED_ASSIGNMENTS = 2147483647


# --- request specs -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SoftwareModuleSpec:
    name: str
    version: str
    type_key: str
    description: str | None = None
    vendor: str | None = None
    encrypted: bool = False


@dataclass(frozen=True)
class SoftwareModuleChange:
    description: str | None = None
    vendor: str | None = None
    locked: bool | None = None
    has_description: bool = False
    has_vendor: bool = False


@dataclass(frozen=True)
class SoftwareModuleTypeSpec:
    key: str
    name: str
    description: str | None = None
    colour: str | None = None
    max_assignments: int = 1


@dataclass(frozen=True)
class TypeChange:
    """PUT of a software module type or distribution set type: only description and colour change."""

    description: str | None = None
    colour: str | None = None
    has_description: bool = False
    has_colour: bool = False


@dataclass(frozen=True)
class DistributionSetTypeSpec:
    key: str
    name: str
    description: str | None = None
    colour: str | None = None
    mandatory: tuple[int, ...] = ()
    optional: tuple[int, ...] = ()


@dataclass(frozen=True)
class DistributionSetSpec:
    name: str
    version: str
    type_key: str | None = None
    description: str | None = None
    module_ids: tuple[int, ...] = ()
    required_migration_step: bool = False
    locked: bool = False


@dataclass(frozen=True)
class DistributionSetChange:
    name: str | None = None
    version: str | None = None
    description: str | None = None
    has_description: bool = False
    required_migration_step: bool | None = None
    locked: bool | None = None


@dataclass(frozen=True)
class MetadataEntry:
    key: str
    value: str | None
    target_visible: bool = False


def _object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise errors.BodyNotReadable(f"Each {what} must be a JSON object.")
    return body


@overload
def _text(body: Mapping[str, Any], field: str, limit: int, required: Literal[True]) -> str: ...


@overload
def _text(body: Mapping[str, Any], field: str, limit: int, required: bool = False) -> str | None: ...


def _text(body: Mapping[str, Any], field: str, limit: int, required: bool = False) -> str | None:
    """The field as text (a number is taken as its digits); absent or null -> None, unless `required`."""
    value = body.get(field)
    if value is None:
        if required:
            raise errors.ConstraintViolation(f"'{field}' must not be empty.", [field])
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise errors.BodyNotReadable(f"'{field}' must be a string.", [field])
    text = str(value)
    if required and not text.strip():
        raise errors.ConstraintViolation(f"'{field}' must not be empty.", [field])
    if len(text) > limit:
        raise errors.ConstraintViolation(f"'{field}' must be at most {limit} characters long.", [field])
    return text


def _flag(body: Mapping[str, Any], field: str, default: bool | None = None) -> bool | None:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise errors.BodyNotReadable(f"'{field}' must be true or false.", [field])
    return value


def _id(value: Any, field: str) -> int:
    candidate = value.get("id") if isinstance(value, Mapping) else value
    if isinstance(candidate, bool) or not isinstance(candidate, (int, str)):
        raise errors.BodyNotReadable(f"'{field}' entries must carry a numeric 'id'.", [field])
    try:
        return int(candidate)
    except ValueError as exc:
        raise errors.BodyNotReadable(f"'{field}' entries must carry a numeric 'id'.", [field]) from exc


def ids_of(body: Any, field: str) -> tuple[int, ...]:
    """`[{"id": 1}, ...]` (or a single `{"id": 1}`) as ids, order kept, duplicates dropped."""
    if body is None:
        return ()
    entries = body if isinstance(body, list) else [body]
    return tuple(dict.fromkeys(_id(entry, field) for entry in entries))


def software_module_spec(body: Any) -> SoftwareModuleSpec:
    body = _object(body, "software module")
    return SoftwareModuleSpec(
        name=_text(body, "name", NAME_MAX, required=True),
        version=_text(body, "version", VERSION_MAX, required=True),
        type_key=_text(body, "type", TYPE_KEY_MAX, required=True),
        description=_text(body, "description", DESCRIPTION_MAX),
        vendor=_text(body, "vendor", VENDOR_MAX),
        encrypted=bool(_flag(body, "encrypted", False)),
    )


def software_module_change(body: Any) -> SoftwareModuleChange:
    body = _object(body, "software module update")
    return SoftwareModuleChange(
        description=_text(body, "description", DESCRIPTION_MAX),
        vendor=_text(body, "vendor", VENDOR_MAX),
        locked=_flag(body, "locked"),
        has_description="description" in body,
        has_vendor="vendor" in body,
    )


def software_module_type_spec(body: Any) -> SoftwareModuleTypeSpec:
    body = _object(body, "software module type")
    max_assignments = body.get("maxAssignments", 1)
    if max_assignments is None:
        max_assignments = 1
    if isinstance(max_assignments, bool) or not isinstance(max_assignments, int):
        raise errors.BodyNotReadable("'maxAssignments' must be a number.", ["maxAssignments"])
    if max_assignments < 1:
        raise errors.ConstraintViolation("'maxAssignments' must be at least 1.", ["maxAssignments"])
    return SoftwareModuleTypeSpec(
        key=_text(body, "key", TYPE_KEY_MAX, required=True),
        name=_text(body, "name", TYPE_NAME_MAX, required=True),
        description=_text(body, "description", DESCRIPTION_MAX),
        colour=_text(body, "colour", COLOUR_MAX),
        max_assignments=min(max_assignments, UNLIMITED_ASSIGNMENTS),
    )


def type_change(body: Any) -> TypeChange:
    body = _object(body, "type update")
    return TypeChange(
        description=_text(body, "description", DESCRIPTION_MAX),
        colour=_text(body, "colour", COLOUR_MAX),
        has_description="description" in body,
        has_colour="colour" in body,
    )


def distribution_set_type_spec(body: Any) -> DistributionSetTypeSpec:
    body = _object(body, "distribution set type")
    mandatory = ids_of(body.get("mandatorymodules"), "mandatorymodules")
    optional = tuple(i for i in ids_of(body.get("optionalmodules"), "optionalmodules") if i not in mandatory)
    return DistributionSetTypeSpec(
        key=_text(body, "key", TYPE_KEY_MAX, required=True),
        name=_text(body, "name", TYPE_NAME_MAX, required=True),
        description=_text(body, "description", DESCRIPTION_MAX),
        colour=_text(body, "colour", COLOUR_MAX),
        mandatory=mandatory,
        optional=optional,
    )


def distribution_set_spec(body: Any) -> DistributionSetSpec:
    body = _object(body, "distribution set")
    module_ids = list(ids_of(body.get("modules"), "modules"))
    # [classic] shortcuts `os`, `runtime`, `application`: one module each, given as {"id": n}.
    for shortcut in ("os", "runtime", "application"):
        if body.get(shortcut) is not None:
            module_ids += ids_of(body[shortcut], shortcut)
    return DistributionSetSpec(
        name=_text(body, "name", NAME_MAX, required=True),
        version=_text(body, "version", VERSION_MAX, required=True),
        type_key=_text(body, "type", TYPE_KEY_MAX),
        description=_text(body, "description", DESCRIPTION_MAX),
        module_ids=tuple(dict.fromkeys(module_ids)),
        required_migration_step=bool(_flag(body, "requiredMigrationStep", False)),
        locked=bool(_flag(body, "locked", False)),
    )


def distribution_set_change(body: Any) -> DistributionSetChange:
    body = _object(body, "distribution set update")
    name = _text(body, "name", NAME_MAX)
    version = _text(body, "version", VERSION_MAX)
    if name is not None and not name.strip() or version is not None and not version.strip():
        raise errors.ConstraintViolation("'name' and 'version' must not be empty.", ["name", "version"])
    return DistributionSetChange(
        name=name,
        version=version,
        description=_text(body, "description", DESCRIPTION_MAX),
        has_description="description" in body,
        required_migration_step=_flag(body, "requiredMigrationStep"),
        locked=_flag(body, "locked"),
    )


def metadata_entries(body: Any, with_target_visible: bool) -> list[MetadataEntry]:
    if not isinstance(body, list):
        raise errors.BodyNotReadable("The request body must be a JSON array of metadata entries.")
    entries = [metadata_entry(item, with_target_visible) for item in body]
    keys = [e.key for e in entries]
    duplicate = next((k for k in keys if keys.count(k) > 1), None)
    if duplicate is not None:
        raise errors.EntityAlreadyExists(f"Metadata key '{duplicate}' is given twice.", [duplicate])
    return entries


def metadata_entry(
    body: Any, with_target_visible: bool, key: str | None = None, value_required: bool = True
) -> MetadataEntry:
    """One entry; a value may be empty but not absent or null (hawkBit's metadata maps reject null values, and
    DDI's DdiMetadata requires one). An update that leaves the value alone says `value_required=False`."""
    body = _object(body, "metadata entry")
    key = key if key is not None else _text(body, "key", METADATA_KEY_MAX, required=True)
    if len(key) > METADATA_KEY_MAX or not key:
        raise errors.ConstraintViolation(f"'key' must be 1 to {METADATA_KEY_MAX} characters long.", ["key"])
    visible = bool(_flag(body, "targetVisible", False)) if with_target_visible else False
    value = _text(body, "value", METADATA_VALUE_MAX)
    if value is None and value_required:
        raise errors.ConstraintViolation(f"Metadata '{key}' needs a 'value' (it may be empty, not null).", ["value"])
    return MetadataEntry(key, value, visible)


def stored_metadata(metadata: Mapping[str, Mapping[str, Any]] | None) -> list[MetadataEntry]:
    """Metadata as an entity keeps it (key -> {"value", "targetVisible"}) as entries, in key order."""
    return [
        MetadataEntry(key, value.get("value"), bool(value.get("targetVisible", False)))
        for key, value in sorted((metadata or {}).items())
    ]


# --- what an update writes (the Changes services hand the store) ----------------------------------------
def modified(user: str, now: int) -> Change:
    return {"last_modified_at": now, "last_modified_by": user}


def _texts(user: str, now: int, **given: tuple[bool, str | None]) -> dict:
    """`modified` and each text given as (present in the request, value): null removes the field."""
    fields: dict = dict(modified(user, now))
    fields.update({name: value if value is not None else REMOVE for name, (present, value) in given.items() if present})
    return fields


def software_module_update(change: SoftwareModuleChange, user: str, now: int) -> Change:
    """PUT of a module: description and vendor (null removes them) and the lock, as given."""
    fields = _texts(
        user, now, description=(change.has_description, change.description), vendor=(change.has_vendor, change.vendor)
    )
    if change.locked is not None:
        fields["locked"] = change.locked
    return fields


def type_update(change: TypeChange, user: str, now: int) -> Change:
    """PUT of a module type or set type: description and colour (null removes them)."""
    return _texts(
        user, now, description=(change.has_description, change.description), colour=(change.has_colour, change.colour)
    )


def distribution_set_update(change: DistributionSetChange, name: str, version: str, user: str, now: int) -> Change:
    """PUT of a set whose name and version are `name` and `version` (they are written only if they change)."""
    fields = _texts(user, now, description=(change.has_description, change.description))
    if (change.name or name, change.version or version) != (name, version):
        fields.update(name=change.name or name, version_name=change.version or version)
    if change.required_migration_step is not None:
        fields["required_migration_step"] = change.required_migration_step
    if change.locked is not None:
        fields["locked"] = change.locked
    return fields


def marked_deleted(now: int) -> Change:
    """A soft delete: the entity stays, hidden from lists (its natural key is released with it)."""
    return {"deleted": True, "last_modified_at": now}


# --- distribution set composition ---------------------------------------------------------------
@dataclass(frozen=True)
class ModuleRef:
    id: int
    type_id: int


def module_type_allowed(type_id: int, mandatory: Iterable[int], optional: Iterable[int]) -> bool:
    return int(type_id) in {int(t) for t in mandatory} | {int(t) for t in optional}


def add_modules(
    current: list[ModuleRef], added: list[ModuleRef], max_assignments: Mapping[int, int]
) -> tuple[list[ModuleRef], list[int]]:
    """hawkBit's `JpaDistributionSet.addModule`: a module already present is skipped; when its type has
    reached `maxAssignments`, a present module of that type is replaced (e.g. a new `os` module
    replaces the old one). Returns the new composition and the ids that were dropped."""
    modules = list(current)
    dropped: list[int] = []
    for module in added:
        if any(m.id == module.id for m in modules):
            continue
        same_type = [m for m in modules if m.type_id == module.type_id]
        if len(same_type) >= int(max_assignments.get(module.type_id, UNLIMITED_ASSIGNMENTS)):
            modules.remove(same_type[0])
            dropped.append(same_type[0].id)
        modules.append(module)
    # A module added and replaced within the same request was never stored: nothing to release.
    initial = {m.id for m in current}
    return modules, [i for i in dropped if i in initial]


def is_complete(module_type_ids: Iterable[int], mandatory: Iterable[int]) -> bool:
    """Complete: at least one module, and every mandatory module type present."""
    present = {int(t) for t in module_type_ids}
    return bool(present) and {int(t) for t in mandatory} <= present


def soft_delete(locked: bool, in_use: int) -> bool:
    """Entities that were ever assigned (locked) or are still referenced stay as `deleted=true`."""
    return bool(locked) or int(in_use or 0) > 0


# --- artifacts --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hashes:
    md5: str
    sha1: str
    sha256: str


def hashes_of(data: bytes) -> Hashes:
    return hashes_of_chunks([data])[0]


def hashes_of_chunks(chunks: Iterable[bytes]) -> tuple[Hashes, int]:
    """Hashes and size of bytes that arrive in pieces (an S3 object read as a stream)."""
    md5, sha1, sha256, size = hashlib.md5(), hashlib.sha1(), hashlib.sha256(), 0
    for chunk in chunks:
        md5.update(chunk)
        sha1.update(chunk)
        sha256.update(chunk)
        size += len(chunk)
    return Hashes(md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest()), size


def verify_checksums(
    actual: Hashes, md5: str | None = None, sha1: str | None = None, sha256: str | None = None
) -> None:
    """Client-given hashes are checked, never trusted: a mismatch refuses the upload (400)."""
    for algorithm, given, computed in (
        ("md5", md5, actual.md5),
        ("sha1", sha1, actual.sha1),
        ("sha256", sha256, actual.sha256),
    ):
        if given and given.strip().lower() != computed:
            raise errors.ChecksumMismatch(algorithm)


def valid_filename(name: str | None) -> str:
    """An artifact file name: a path segment of the DDI download URL and a `Content-Disposition` value.

    At most 255 UTF-8 bytes; no `/ \\ ? # %` (they change a URL's path or query) and no control
    characters (CR/LF would split a response header) or lone surrogates. Spaces and Unicode letters are fine.
    """
    if name is not None and not isinstance(name, str):
        raise errors.BodyNotReadable("'filename' must be a string.", ["filename"])
    if name is None or not name.strip():
        raise errors.ConstraintViolation(
            "The artifact needs a file name ('filename' or the file part's name).", ["filename"]
        )
    if name in (".", ".."):
        # URLs normalise these path segments away: the download link could never name the file.
        raise errors.ConstraintViolation("'filename' must not be '.' or '..'.", ["filename"])
    if len(name.encode("utf-8", errors="surrogatepass")) > FILENAME_MAX_BYTES:
        raise errors.ConstraintViolation(
            f"'filename' must be at most {FILENAME_MAX_BYTES} bytes long (UTF-8).", ["filename"]
        )
    if any(char in FILENAME_FORBIDDEN or unicodedata.category(char) in ("Cc", "Cs") for char in name):
        raise errors.ConstraintViolation(
            "'filename' must not contain '/', '\\', '?', '#', '%' or control characters.", ["filename"]
        )
    return name
