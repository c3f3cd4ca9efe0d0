"""Software modules, their artifacts and metadata (hawkBit `SoftwareModuleManagement`, `ArtifactManagement`).

- name + version + type are unique per tenant (guard item in the creating transaction -> 409).
  Creating several modules is all or nothing: taken names are refused before the first write (one
  BatchGet), and if a later transaction still fails, the earlier ones are undone.
- A module that was ever assigned (locked) or is listed by a distribution set is soft-deleted
  (`deleted=true`, hidden from lists, name free again) and keeps its artifacts and their bytes, so
  devices whose actions name it can still download them; otherwise it is purged, its artifacts and
  their bytes with it (`delete_software_module`: steps a retry or the reaper finish).
- Artifact bytes live in S3 only. The service hashes them; client hashes are checked and a
  mismatch stores nothing. The bytes are written before the transaction that records the artifact
  and removed again if that transaction is refused, so a refused upload leaves no object, item or count;
  bytes that a dying request leaves without an item (upload, artifact delete, abandoned direct upload)
  are named by a work item the reaper acts on (store.pending).
- Quotas (403): SOFTWARE_MODULE, ARTIFACT_STORAGE (bytes), artifacts per module, artifact size.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections import Counter as Tally
from urllib.parse import quote, unquote

from chalicelib import clock, errors
from chalicelib.domain import catalog as rules
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain.catalog_entities import Artifact, SoftwareModule, SoftwareModuleType
from chalicelib.domain.changes import Add, Exists, Missing, eq
from chalicelib.domain.listing import Paging
from chalicelib.domain.pending import PendingItem
from chalicelib.services import bulk_creates, catalog_lists, catalog_metadata, catalog_types, quotas
from chalicelib.store import blobs, catalog, counters, pending
from chalicelib.store.all_or_nothing import AllOrNothing
from chalicelib.store.tx import ATTEMPTS, Tx, refused, retrying

KIND = "SoftwareModule"
FIELDS = catalog_lists.BASE_FIELDS | {
    "version",
    "type",
    "type.key",
    "type.name",
    "vendor",
    "locked",
    "encrypted",
    "metadata.*",
}
SORTABLE = catalog_lists.sortable(FIELDS)
MANAGEMENT_DOWNLOAD_URL_SECONDS = 3600  # the client follows the redirect at once; S3 checks expiry at start


def record(sm: SoftwareModule) -> dict:
    metadata = sm.metadata or {}
    return {
        **catalog_lists.base_record(sm),
        "version": sm.version_name,
        "type": sm.type_key,
        "type.key": sm.type_key,
        "type.name": sm.type_name,
        "vendor": sm.vendor,
        "locked": bool(sm.locked),
        "encrypted": bool(sm.encrypted),
        "metadata": {k: v.get("value") for k, v in metadata.items()},
    }


# --- software modules ------------------------------------------------------------------------------
def list_software_modules(tenant: str, q: str | None, paging: Paging) -> tuple[list[SoftwareModule], int]:
    return catalog_lists.list_kind(SoftwareModule, tenant, q, paging, FIELDS, record, "SOFTWARE_MODULE")


def get_software_module(tenant: str, sm_id: int) -> SoftwareModule:
    """By id; a soft-deleted module is still answered (with `deleted=true`), as hawkBit does."""
    sm = catalog.get(SoftwareModule, tenant, sm_id)
    if sm is None:
        raise errors.EntityNotFound.of(KIND, sm_id)
    return sm


def live_software_module(tenant: str, sm_id: int) -> SoftwareModule:
    sm = get_software_module(tenant, sm_id)
    if sm.deleted:
        raise errors.EntityNotFound.of(KIND, sm_id)
    return sm


# Modules per transaction: 2 items each + one per type used (at most one per module) + the usage counter
# + the journal's room (store.all_or_nothing).
CREATE_CHUNK = 32


def _duplicate(name: str, version: str, type_key: str) -> errors.EntityAlreadyExists:
    return errors.EntityAlreadyExists(
        f"SoftwareModule with name {{{name}}}, version {{{version}}} and type {{{type_key}}} already exists.",
        [KIND, name, version, type_key],
    )


def create_software_modules(tenant: str, specs: list[rules.SoftwareModuleSpec], user: str) -> list[SoftwareModule]:
    seen: set[tuple] = set()
    for spec in specs:
        natural = (spec.name, spec.version, spec.type_key)
        if natural in seen:
            raise errors.EntityAlreadyExists(
                f"SoftwareModule {spec.name}:{spec.version} ({spec.type_key}) is given twice.",
                [KIND, spec.name, spec.version, spec.type_key],
            )
        seen.add(natural)
    if any(spec.encrypted for spec in specs):
        # hawkBit refuses encrypted modules when no artifact encryption service is configured; none is here.
        raise errors.EncryptionNotSupported()
    types = {
        key: catalog_types.software_module_type_by_key(tenant, key) for key in dict.fromkeys(s.type_key for s in specs)
    }
    limit = quotas.limit("SOFTWARE_MODULE")
    quota_rules.check_create(len(specs), limit, "more software modules", counters.usage(tenant, "SOFTWARE_MODULE"))
    if not specs:
        return []
    keys = [("sm", (s.type_key, s.name, s.version)) for s in specs]
    taken = catalog.taken_unique(tenant, keys)
    for spec, key in zip(specs, keys):
        if key in taken:
            raise _duplicate(spec.name, spec.version, spec.type_key)
    ids = counters.allocate_ids(tenant, catalog.SEQUENCE[SoftwareModule], len(specs))
    now = clock.now_ms()
    modules = [
        SoftwareModule(
            tenant=tenant,
            sk=catalog.sort_key(SoftwareModule, sm_id),
            id=sm_id,
            name=spec.name,
            version_name=spec.version,
            type_key=spec.type_key,
            type_id=int(types[spec.type_key].id),
            type_name=types[spec.type_key].name,
            description=spec.description,
            vendor=spec.vendor,
            encrypted=spec.encrypted,
            locked=False,
            deleted=False,
            artifact_count=0,
            in_sets=0,
            metadata={},
            created_at=now,
            created_by=user,
            last_modified_at=now,
            last_modified_by=user,
        )
        for sm_id, spec in zip(ids, specs)
    ]
    with AllOrNothing(tenant, bulk_creates.SOFTWARE_MODULES) as steps:
        for start in range(0, len(modules), CREATE_CHUNK):
            chunk = modules[start : start + CREATE_CHUNK]
            tx, undo = Tx(), Tx()
            for sm in chunk:
                natural = sm.natural_key
                tx.put(sm, condition=Missing("sk"))
                catalog.claim_unique(
                    tx, tenant, "sm", natural, sm.id, lambda sm=sm: _duplicate(sm.name, sm.version_name, sm.type_key)
                )
                undo.delete(sm, add_version_condition=False)
                catalog.release_unique(undo, tenant, "sm", natural)
            for type_key, count in Tally(sm.type_key for sm in chunk).items():
                sm_type = types[type_key]
                tx.update(
                    sm_type,
                    {"used_by": Add(count)},
                    condition=eq("deleted", False),
                    on_fail=functools.partial(errors.EntityNotFound.of, "SoftwareModuleType", type_key),
                    add_version_condition=False,
                )
                undo.update(sm_type, {"used_by": Add(-count)}, add_version_condition=False, condition=Exists("sk"))
            quotas.charge(tx, tenant, "SOFTWARE_MODULE", len(chunk))
            quotas.release(undo, tenant, "SOFTWARE_MODULE", len(chunk))
            steps.commit(tx, undo, created=[int(sm.id) for sm in chunk])
    return modules


def update_software_module(tenant: str, sm_id: int, change: rules.SoftwareModuleChange, user: str) -> SoftwareModule:
    def attempt() -> SoftwareModule:
        sm = live_software_module(tenant, sm_id)
        Tx().update(sm, rules.software_module_update(change, user, clock.now_ms())).commit()
        return live_software_module(tenant, sm_id)

    return retrying(ATTEMPTS, attempt)


PURGE = "module-purge"  # work kinds (store.pending)
ORPHAN_OBJECT = "s3-object"
UPLOAD = "s3-upload"
PURGE_CHUNK = 48  # artifacts per transaction: item + guard each, and the usage counter


def delete_software_module(tenant: str, sm_id: int) -> None:
    """Soft delete (locked or in a set) keeps the artifacts; a hard delete purges the module.

    A hard delete is an ordered sequence whose every prefix is safe, and a retry or the reaper finishes it:
    1. one transaction marks the module deleted (hidden, no upload can add to it, its name free and its
       SOFTWARE_MODULE usage released) and writes the purge's work item (store.pending);
    2. per chunk of artifacts, their bytes and then, in one transaction, their items, name guards and
       ARTIFACT_STORAGE usage (bytes first: an unlocked module is in no deployment, nothing downloads them);
    3. one transaction removes the module item, its type's use and the work item.
    """

    def attempt() -> bool:
        current = get_software_module(tenant, sm_id)
        soft = rules.soft_delete(bool(current.locked), int(current.in_sets or 0))
        if current.deleted and (soft or current.purge):
            # hawkBit answers 200 and marks it deleted again: a module some set or action still needs stays;
            # a purge that was interrupted goes on.
            return not soft
        tx = Tx()
        updates = dict(rules.marked_deleted(clock.now_ms()))
        if not soft:
            # Once no set holds it any more (now, or since its soft delete), the module is purged.
            work = pending.new(tenant, PURGE, str(int(sm_id)), clock.now_ms())
            updates["purge"] = work.key
            pending.add(tx, work)
        # Soft: devices whose actions name the module keep downloading its artifacts (hawkBit keeps the
        # binaries of assigned modules until the module is purged): items, bytes and usage stay.
        tx.update(current, updates)
        if not current.deleted:
            catalog.release_unique(tx, tenant, "sm", current.natural_key)
            quotas.release(tx, tenant, "SOFTWARE_MODULE", 1)
        tx.commit()
        return not soft

    if retrying(ATTEMPTS, attempt):
        finish_purge(tenant, sm_id)


def finish_purge(tenant: str, sm_id: int) -> None:
    """Steps 2 and 3 of a hard delete; idempotent (the reaper's entry too)."""
    sm = catalog.get(SoftwareModule, tenant, sm_id)
    if sm is None or not sm.purge:
        return
    conflicts = 0
    while artifacts := catalog.artifacts_of(tenant, sm_id)[:PURGE_CHUNK]:
        for artifact in artifacts:
            blobs.delete(artifact.s3_key)
        tx = Tx()
        for artifact in artifacts:
            # Conditional: a transaction repeated after an unknown outcome cannot release the usage twice.
            tx.delete(artifact, condition=Exists("sk"))
            catalog.release_unique(tx, tenant, "art", (int(sm_id), artifact.filename))
        quotas.release(tx, tenant, "ARTIFACT_STORAGE", sum(int(a.size) for a in artifacts))
        try:
            tx.commit()
        except errors.ConcurrentModification:
            conflicts += 1  # another purge of this module got there first: read what is left
            if conflicts == ATTEMPTS:
                raise
    tx = Tx().delete(sm, condition=eq("purge", sm.purge), add_version_condition=False)
    sm_type = catalog.get(SoftwareModuleType, tenant, int(sm.type_id))
    if sm_type is not None:
        tx.update(sm_type, {"used_by": Add(-1)}, add_version_condition=False, condition=Exists("sk"))
    pending.remove(tx, tenant, sm.purge)
    try:
        tx.commit()
    except errors.ConcurrentModification:
        if catalog.get(SoftwareModule, tenant, sm_id) is not None:
            raise


def reap_object(tenant: str, work: PendingItem, now: int) -> None:
    """An artifact's bytes whose upload or delete did not finish: kept if the artifact exists, else deleted."""
    if catalog.artifact_of_s3_key(tenant, work.ref) is None:
        blobs.delete(work.ref)
    pending.delete(tenant, work.key)


def reap_upload(tenant: str, work: PendingItem, now: int) -> None:
    """A direct upload whose URL has expired: whatever was staged and not completed is abandoned."""
    for key in blobs.keys_under(work.ref, limit=1000):
        blobs.delete(key)
    pending.delete(tenant, work.key)


# --- artifacts --------------------------------------------------------------------------------------
def list_artifacts(tenant: str, sm_id: int) -> list[Artifact]:
    get_software_module(tenant, sm_id)
    return catalog.artifacts_of(tenant, sm_id)


def get_artifact(tenant: str, sm_id: int, artifact_id: int) -> Artifact:
    get_software_module(tenant, sm_id)
    artifact = catalog.get_artifact(tenant, sm_id, artifact_id)
    if artifact is None:
        raise errors.EntityNotFound.of("Artifact", artifact_id)
    return artifact


def upload_artifact(
    tenant: str,
    sm_id: int,
    filename: str | None,
    data: bytes,
    user: str,
    md5: str | None = None,
    sha1: str | None = None,
    sha256: str | None = None,
    content_type: str = "application/octet-stream",
) -> Artifact:
    sm, filename = _accepting_module(tenant, sm_id, filename)
    quota_rules.check_artifact_size(filename, len(data))
    hashes = rules.hashes_of(data)
    rules.verify_checksums(hashes, md5=md5, sha1=sha1, sha256=sha256)
    return _add_artifact(
        tenant,
        sm,
        filename,
        len(data),
        hashes,
        user,
        lambda key: blobs.put_bytes(key, data, content_type or "application/octet-stream"),
    )


def _accepting_module(tenant: str, sm_id: int, filename: str | None) -> tuple[SoftwareModule, str]:
    sm = live_software_module(tenant, sm_id)
    if sm.locked:
        raise errors.Locked(f"SoftwareModule {sm_id} is locked: artifacts cannot be added.", [KIND, sm_id])
    return sm, rules.valid_filename(filename)


def _add_artifact(
    tenant: str, sm: SoftwareModule, filename: str, size: int, hashes: rules.Hashes, user: str, store_bytes
) -> Artifact:
    """Quotas and uniqueness checked, bytes stored at the artifact's key, then the items in one transaction
    (which removes the bytes again if it fails)."""
    sm_id = int(sm.id)
    quota_rules.check_assign(
        1,
        int(sm.artifact_count or 0),
        quota_rules.MAX_ARTIFACTS_PER_SOFTWARE_MODULE,
        "Artifact entities",
        f"SoftwareModule '{sm_id}'",
    )
    if catalog.find_artifact_by_filename(tenant, sm_id, filename) is not None:
        raise _duplicate_artifact(sm_id, filename)
    storage_limit = quotas.limit("ARTIFACT_STORAGE")
    quota_rules.check_storage(counters.usage(tenant, "ARTIFACT_STORAGE"), size, storage_limit)

    artifact_id = counters.allocate_id(tenant, catalog.SEQUENCE[Artifact])
    now = clock.now_ms()
    artifact = Artifact(
        tenant=tenant,
        sk=catalog.artifact_sort_key(sm_id, artifact_id),
        id=artifact_id,
        sm_id=int(sm_id),
        filename=filename,
        size=size,
        md5=hashes.md5,
        sha1=hashes.sha1,
        sha256=hashes.sha256,
        s3_key=catalog.artifact_s3_key(tenant, sm_id, artifact_id),
        created_at=now,
        created_by=user,
        last_modified_at=now,
        last_modified_by=user,
    )
    # Bytes without an item if this request dies before its transaction: the reaper's to delete.
    work = pending.put(pending.new(tenant, ORPHAN_OBJECT, artifact.s3_key, now))
    store_bytes(artifact.s3_key)
    tx = Tx()
    tx.put(artifact, condition=Missing("sk"))
    catalog.claim_unique(
        tx, tenant, "art", (int(sm_id), filename), artifact_id, lambda: _duplicate_artifact(sm_id, filename)
    )
    # The module's version condition: locked or given more artifacts meanwhile -> refused, nothing kept.
    tx.update(sm, {"artifact_count": Add(1), **rules.modified(user, now)})
    quotas.charge(tx, tenant, "ARTIFACT_STORAGE", size)
    pending.remove(tx, tenant, work.key)
    try:
        tx.commit()
    except Exception as exc:
        if refused(exc):  # nothing was written: the bytes go now (else the reaper decides, seeing the item)
            blobs.delete(artifact.s3_key)
            pending.delete(tenant, work.key)
        if isinstance(exc, errors.QuotaExceeded):
            raise quota_rules.storage_exceeded(storage_limit) from exc
        raise
    return artifact


# --- direct uploads: large artifacts go straight to S3 --------------------------------------------------
UPLOAD_URL_SECONDS = 3600


def upload_origin() -> str:
    """Where a browser sends the bytes of a direct upload (the presigned PUT URLs' scheme, host and port)."""
    return blobs.upload_origin()


def start_direct_upload(tenant: str, sm_id: int, filename: str | None) -> tuple[str, str]:
    """(uploadId, presigned PUT URL): the client PUTs the bytes to S3, then completes the upload."""
    sm, filename = _accepting_module(tenant, sm_id, filename)
    if catalog.find_artifact_by_filename(tenant, sm_id, filename) is not None:
        raise _duplicate_artifact(sm_id, filename)
    upload_id = uuid.uuid4().hex
    prefix = catalog.upload_prefix(tenant, sm_id, upload_id)
    # Abandoned once its URL has expired: the reaper deletes what was staged and never completed.
    pending.put(
        pending.new(tenant, UPLOAD, prefix, clock.now_ms(), delay_ms=UPLOAD_URL_SECONDS * 1000 + pending.GRACE_MS)
    )
    return upload_id, blobs.presigned_put(prefix + quote(filename, safe=""), UPLOAD_URL_SECONDS)


def complete_direct_upload(
    tenant: str,
    sm_id: int,
    upload_id: str,
    user: str,
    md5: str | None = None,
    sha1: str | None = None,
    sha256: str | None = None,
) -> Artifact:
    """Hash the uploaded object as a stream (hashes are computed here, never trusted), check the client's
    hashes and the quotas, then copy it to the artifact's key. Any refusal removes the upload."""
    if not re.fullmatch(r"[0-9a-f]{32}", upload_id or ""):
        raise errors.EntityNotFound.of("Upload", upload_id)
    keys = blobs.keys_under(catalog.upload_prefix(tenant, sm_id, upload_id), limit=1)
    if not keys:
        raise errors.EntityNotFound(f"No bytes were uploaded for upload {upload_id}.", ["Upload", upload_id])
    staged = keys[0]
    try:
        sm, filename = _accepting_module(tenant, sm_id, unquote(staged.rsplit("/", 1)[1]))
        hashes, size = rules.hashes_of_chunks(blobs.chunks(staged))
        quota_rules.check_artifact_size(filename, size)
        rules.verify_checksums(hashes, md5=md5, sha1=sha1, sha256=sha256)
        return _add_artifact(tenant, sm, filename, size, hashes, user, lambda key: blobs.copy(staged, key))
    finally:
        blobs.delete(staged)


def _duplicate_artifact(sm_id: int, filename: str) -> errors.EntityAlreadyExists:
    return errors.EntityAlreadyExists(
        f"Artifact with filename {{{filename}}} already exists in SoftwareModule {sm_id}.", ["Artifact", filename]
    )


def delete_artifact(tenant: str, sm_id: int, artifact_id: int) -> None:
    def attempt() -> tuple[Artifact, str]:
        sm = live_software_module(tenant, sm_id)
        if sm.locked:
            raise errors.Locked(f"SoftwareModule {sm_id} is locked: artifacts cannot be removed.", [KIND, sm_id])
        artifact = catalog.get_artifact(tenant, sm_id, artifact_id)
        if artifact is None:
            raise errors.EntityNotFound.of("Artifact", artifact_id)
        tx = Tx()
        tx.delete(artifact, condition=Exists("sk"))
        catalog.release_unique(tx, tenant, "art", (int(sm_id), artifact.filename))
        tx.update(sm, {"artifact_count": Add(-1), "last_modified_at": clock.now_ms()})
        quotas.release(tx, tenant, "ARTIFACT_STORAGE", int(artifact.size))
        # The bytes go after the items; should this request die in between, the reaper deletes them.
        work = pending.new(tenant, ORPHAN_OBJECT, artifact.s3_key, clock.now_ms())
        pending.add(tx, work)
        tx.commit()
        return artifact, work.key

    deleted, work_key = retrying(ATTEMPTS, attempt)
    blobs.delete(deleted.s3_key)
    pending.delete(tenant, work_key)


def artifact_download(tenant: str, sm_id: int, artifact_id: int) -> str:
    """A signed S3 URL for the artifact's bytes, answered by the API as a 302 redirect."""
    artifact = get_artifact(tenant, sm_id, artifact_id)
    return blobs.presigned_get(artifact.s3_key, MANAGEMENT_DOWNLOAD_URL_SECONDS, filename=artifact.filename)


# --- metadata -------------------------------------------------------------------------------------
def list_metadata(tenant: str, sm_id: int, q: str | None, paging: Paging) -> tuple[list[rules.MetadataEntry], int]:
    return catalog_metadata.page(get_software_module(tenant, sm_id), q, paging, with_visibility=True)


def get_metadata(tenant: str, sm_id: int, key: str) -> rules.MetadataEntry:
    return catalog_metadata.entry_of(get_software_module(tenant, sm_id), key, KIND)


def create_metadata(
    tenant: str, sm_id: int, entries: list[rules.MetadataEntry], user: str
) -> list[rules.MetadataEntry]:
    return catalog_metadata.create(
        lambda: live_software_module(tenant, sm_id), entries, user, KIND, with_visibility=True
    )


def update_metadata(tenant: str, sm_id: int, key: str, body: dict, user: str) -> rules.MetadataEntry:
    return catalog_metadata.update(
        lambda: live_software_module(tenant, sm_id), key, body, user, KIND, with_visibility=True
    )


def delete_metadata(tenant: str, sm_id: int, key: str, user: str) -> None:
    catalog_metadata.delete(lambda: live_software_module(tenant, sm_id), key, user, KIND)
