"""Configuration files: metadata in DynamoDB, content-addressed bytes in S3 at `{tenant}/config-files/{sha256}`,
and the copies configuration tasks take of what they send, under `{tenant}/config-copies/...`.

One function per access pattern; writes that must happen together are added to a caller's `Tx`.
"""
from __future__ import annotations

import hashlib
from typing import Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib import errors
from chalicelib.store import blobs
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
    except Exception as exc:  # noqa: BLE001 - botocore ClientError; only "missing" is an answer
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
def find(tenant: str, file_id: str, consistent: bool = False) -> ConfigFile | None:
    try:
        return ConfigFile.get(tenant, ConfigFile.PREFIX + file_id, consistent_read=consistent)
    except DoesNotExist:
        return None


def find_many(tenant: str, file_ids: list[str]) -> dict[str, ConfigFile]:
    keys = [(tenant, ConfigFile.PREFIX + fid) for fid in dict.fromkeys(file_ids)]
    return {f.file_id: f for f in ConfigFile.batch_get(keys)} if keys else {}


def paths(tenant: str, prefix: str, descending: bool) -> list[tuple[str, str]]:
    """(path, file id) of every file whose path starts with `prefix`, in path order (one Query)."""
    rows = ConfigFilePath.query(tenant, ConfigFilePath.sk.startswith(ConfigFilePath.PREFIX + prefix),
                                scan_index_forward=not descending)
    return [(row.sk[len(ConfigFilePath.PREFIX):], row.file_id) for row in rows]


def create(tx: Tx, item: ConfigFile) -> Tx:
    guard = ConfigFilePath(item.tenant, ConfigFilePath.PREFIX + item.path, file_id=item.file_id)
    tx.put(guard, condition=ConfigFilePath.sk.does_not_exist(),
           on_fail=lambda: errors.EntityAlreadyExists(f"A file with path '{item.path}' already exists.",
                                                      ["path", item.path]))
    tx.put(item, condition=ConfigFile.sk.does_not_exist())
    return tx


def move_head(tx: Tx, item: ConfigFile, head: str, expected_head: str | None, check_head: bool, user: str,
              now: int) -> Tx:
    """Point the file's head at `head`; with `check_head`, only if it still is `expected_head` (If-Match)."""
    condition = ConfigFile.sk.exists()
    if check_head:
        condition &= ConfigFile.head.does_not_exist() if expected_head is None else ConfigFile.head == expected_head
    tx.update(item, [ConfigFile.head.set(head), ConfigFile.last_modified_at.set(now),
                     ConfigFile.last_modified_by.set(user)], condition=condition,
              on_fail=lambda: errors.PreconditionFailed(
                  "The file's head changed since the given ETag (If-Match); read it again.")
              if check_head else errors.ConcurrentModification())
    return tx


def delete(tx: Tx, item: ConfigFile) -> Tx:
    tx.delete(ConfigFilePath(item.tenant, ConfigFilePath.PREFIX + item.path, file_id=item.file_id))
    tx.delete(item, add_version_condition=False)
    return tx


# --- revisions ----------------------------------------------------------------------------------------
def file_key(tenant: str, file_id: str) -> str:
    return f"{tenant}#{file_id}"


def find_revision(tenant: str, file_id: str, sha256: str) -> ConfigRevision | None:
    try:
        return ConfigRevision.get(file_key(tenant, file_id), sha256)
    except DoesNotExist:
        return None


def revisions(tenant: str, file_id: str) -> Iterator[ConfigRevision]:
    """Every revision of the file (a Query; its cost grows with the file's revisions)."""
    return ConfigRevision.query(file_key(tenant, file_id))


def add_revision(tx: Tx, revision: ConfigRevision, tenant: str) -> Tx:
    """The revision (new for this file) and one more reference to its bytes."""
    tx.put(revision, condition=ConfigRevision.hash.does_not_exist(),
           on_fail=lambda: errors.ConcurrentModification())
    tx.update(ConfigBlob(tenant, ConfigBlob.PREFIX + revision.hash), [ConfigBlob.refs.add(1)])
    return tx


def remove_revision(tx: Tx, revision: ConfigRevision, tenant: str) -> Tx:
    tx.delete(revision)
    tx.update(ConfigBlob(tenant, ConfigBlob.PREFIX + revision.hash), [ConfigBlob.refs.add(-1)])
    return tx


def drop_blob_if_unused(tenant: str, sha256: str) -> bool:
    """Delete the blob's counter (and then its bytes) if no revision uses it any more."""
    blob = ConfigBlob(tenant, ConfigBlob.PREFIX + sha256)
    try:
        blob.delete(condition=ConfigBlob.refs <= 0)
    except Exception as exc:  # noqa: BLE001 - pynamodb DeleteError; only a failed condition is an answer
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    blobs.delete(blob_key(tenant, sha256))
    return True
