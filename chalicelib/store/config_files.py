"""Configuration files: metadata in DynamoDB, content-addressed bytes in S3 at `{tenant}/config-files/{sha256}`,
and the copies configuration tasks take of what they send, under `{tenant}/config-copies/...`.

One function per access pattern; writes that must happen together are added to a caller's `Tx`.
"""

from __future__ import annotations

import hashlib
from typing import Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib import errors
from chalicelib.domain import changes
from chalicelib.domain import config_files as domain
from chalicelib.store import blobs, records
from chalicelib.store.tx import Tx
from chalicelib.store.workflow_tables import ConfigBlob, ConfigFile, ConfigFilePath, ConfigRevision


# --- S3 (through the project's adapter, store.blobs) ----------------------------------------------------
def blob_key(tenant: str, sha256: str) -> str:
    return f"{tenant}/config-files/{sha256}"


def put_content(tenant: str, sha256: str, content: bytes, content_type: str) -> None:
    blobs.put_bytes(blob_key(tenant, sha256), content, content_type)


def get_content(tenant: str, sha256: str) -> bytes | None:
    return blobs.get_bytes(blob_key(tenant, sha256))


# --- copies taken by configuration tasks -----------------------------------------------------------------
# Grouped by device so that forgetting a device deletes one prefix; the device id (up to 1 KB of UTF-8) is
# hashed to keep keys short and free of characters S3 tools mistreat.
def copies_prefix(tenant: str, device_id: str) -> str:
    return f"{tenant}/config-copies/{hashlib.sha256(device_id.encode('utf-8')).hexdigest()[:32]}/"


def copy_key(tenant: str, device_id: str, task_id: str, file_id: str, sha256: str) -> str:
    return f"{copies_prefix(tenant, device_id)}{task_id}/{file_id}/{sha256}"


def put_copy(tenant: str, sha256: str, key: str) -> bool:
    """Copy the content-addressed bytes to `key` (server-side, nothing passes through the Lambda);
    False when they are gone (their last file was deleted meanwhile)."""
    try:
        blobs.copy(blob_key(tenant, sha256), key)
    except Exception as exc:
        if blobs.is_missing(exc):
            return False
        raise
    return True


def get_copy(key: str) -> bytes | None:
    return blobs.get_bytes(key)


def delete_copy(key: str) -> None:
    blobs.delete(key)


def delete_copies(tenant: str, device_id: str) -> int:
    """Delete every copy a device's tasks took (one listing per 1000 copies)."""
    count = 0
    while keys := blobs.keys_under(copies_prefix(tenant, device_id), limit=1000):
        for key in keys:
            blobs.delete(key)
        count += len(keys)
    return count


# --- files --------------------------------------------------------------------------------------------
def _file(item: ConfigFile) -> domain.ConfigFile:
    return records.to_entity(domain.ConfigFile, item)


def _revision(item: ConfigRevision) -> domain.ConfigRevision:
    return records.to_entity(domain.ConfigRevision, item)


def find(tenant: str, file_id: str, consistent: bool = False) -> domain.ConfigFile | None:
    try:
        return _file(ConfigFile.get(tenant, ConfigFile.PREFIX + file_id, consistent_read=consistent))
    except DoesNotExist:
        return None


def find_many(tenant: str, file_ids: list[str]) -> dict[str, domain.ConfigFile]:
    keys = [(tenant, ConfigFile.PREFIX + fid) for fid in dict.fromkeys(file_ids)]
    return {f.file_id: _file(f) for f in ConfigFile.batch_get(keys)} if keys else {}


def paths(tenant: str, prefix: str, descending: bool) -> list[tuple[str, str]]:
    """(path, file id) of every file whose path starts with `prefix`, in path order (one Query)."""
    rows = ConfigFilePath.query(
        tenant, ConfigFilePath.sk.startswith(ConfigFilePath.PREFIX + prefix), scan_index_forward=not descending
    )
    return [(row.sk[len(ConfigFilePath.PREFIX) :], row.file_id) for row in rows]


def create(tx: Tx, file: domain.ConfigFile) -> Tx:
    """The file and the guard of its unique path (a taken path: 409)."""
    guard = ConfigFilePath(file.tenant, ConfigFilePath.PREFIX + file.path, file_id=file.file_id)
    tx.put(
        guard,
        condition=ConfigFilePath.sk.does_not_exist(),
        on_fail=lambda: errors.EntityAlreadyExists(
            f"A file with path '{file.path}' already exists.", ["path", file.path]
        ),
    )
    tx.put(file, condition=changes.Missing("sk"))
    return tx


def delete(tx: Tx, file: domain.ConfigFile) -> Tx:
    tx.delete(ConfigFilePath(file.tenant, ConfigFilePath.PREFIX + file.path, file_id=file.file_id))
    tx.delete(file, add_version_condition=False)
    return tx


# --- revisions ----------------------------------------------------------------------------------------
def find_revision(tenant: str, file_id: str, sha256: str) -> domain.ConfigRevision | None:
    try:
        return _revision(ConfigRevision.get(domain.file_key(tenant, file_id), sha256))
    except DoesNotExist:
        return None


def revisions(tenant: str, file_id: str) -> Iterator[domain.ConfigRevision]:
    """Every revision of the file (a Query; its cost grows with the file's revisions)."""
    return (_revision(r) for r in ConfigRevision.query(domain.file_key(tenant, file_id)))


def add_revision(tx: Tx, revision: domain.ConfigRevision, tenant: str) -> Tx:
    """The revision (new for this file) and one more reference to its bytes."""
    tx.put(revision, condition=changes.Missing("hash"), on_fail=lambda: errors.ConcurrentModification())
    tx.update(ConfigBlob(tenant, ConfigBlob.PREFIX + revision.hash), [ConfigBlob.refs.add(1)])
    return tx


def remove_revision(tx: Tx, revision: domain.ConfigRevision, tenant: str) -> Tx:
    tx.delete(revision)
    tx.update(ConfigBlob(tenant, ConfigBlob.PREFIX + revision.hash), [ConfigBlob.refs.add(-1)])
    return tx


def drop_blob_if_unused(tenant: str, sha256: str) -> bool:
    """Delete the blob's counter (and then its bytes) if no revision uses it any more."""
    blob = ConfigBlob(tenant, ConfigBlob.PREFIX + sha256)
    try:
        blob.delete(condition=ConfigBlob.refs <= 0)
    except Exception as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    blobs.delete(blob_key(tenant, sha256))
    return True
