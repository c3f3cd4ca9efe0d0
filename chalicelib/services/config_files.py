"""Configuration files and their content-addressed revisions (the DCS API, chalicelib/openapi/dcs.json).

A revision's id is the sha256 of its bytes: identical bytes give the same hash, within a file and
across files, and share one S3 object whose users are counted (`blob#<sha256>`), so deleting a file
removes only the bytes no other file's revision still uses. Bytes are written to S3 before the
metadata that names them, so metadata never points at missing bytes; a refused write can leave
unreferenced bytes behind, which the next upload of the same content reuses.

A configuration task pins what it sends: each file it names is resolved to a revision when the task is
created (a head URI becomes that revision's content URI), and the task takes its own copy of those
bytes. Devices read only what their open tasks pin (`file_refs` on the task, read from the device-poll
index in one Query), from the task's copy; the actual configuration keeps the copies of what was
configured. So a file's later changes, or its deletion, never change what an open task sends nor
what a device's recorded configuration holds (and DELETE /files stays the reference's unconditional 204).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from chalicelib import clock, errors
from chalicelib.domain import changes, config_model, dcs_ids
from chalicelib.domain.config_files import ConfigFile, ConfigRevision, Content, head_moved, head_unchanged
from chalicelib.domain.config_model import TaskDefinition
from chalicelib.domain.dcs_paging import PageRequest
from chalicelib.domain.workflow import InvalidInput
from chalicelib.domain.workflow_instances import WorkflowInstance
from chalicelib.services.callers import Caller
from chalicelib.store import config_files as repo
from chalicelib.store import tx as tx_store
from chalicelib.store import workflow_instances
from chalicelib.store.tx import Tx


@dataclass(frozen=True)
class FileView:
    id: str
    path: str
    description: str
    head: str | None


@dataclass(frozen=True)
class RevisionView:
    hash: str
    file_id: str
    content_length: int
    content_type: str
    created_at: int


# --- files --------------------------------------------------------------------------------------------
def create_file(caller: Caller, body: Any) -> FileView:
    if not isinstance(body, Mapping):
        raise errors.BadRequest("The file must be a JSON object {path, description?}.")
    path, description = body.get("path"), body.get("description")
    if not isinstance(path, str) or not path:
        raise errors.BadRequest("'path' is required and must be a non-empty string.", ["path"])
    if len(path.encode("utf-8")) > config_model.MAX_PATH_BYTES:
        raise errors.BadRequest(f"'path' is longer than {config_model.MAX_PATH_BYTES} bytes.", ["path"])
    if description is not None and (
        not isinstance(description, str) or len(description) > config_model.MAX_DESCRIPTION_CHARS
    ):
        raise errors.BadRequest(
            f"'description' must be a string of at most {config_model.MAX_DESCRIPTION_CHARS} characters.",
            ["description"],
        )
    now = clock.now_ms()
    file_id = str(uuid.uuid4())
    item = ConfigFile.new(caller.tenant, file_id, path, description, caller.name, now)
    repo.create(Tx(), item).commit()
    return _file_view(item)


def get_file(caller: Caller, file_id: str) -> FileView:
    return _file_view(_file(caller, file_id))


def list_files(caller: Caller, path_prefix: str, page: PageRequest) -> tuple[list[FileView], int]:
    """Files whose path starts with `path_prefix`, by path; one Query on the path guards, then the page."""
    rows = repo.paths(caller.tenant, path_prefix, page.descending)
    window = page.window(rows)
    found = repo.find_many(caller.tenant, [file_id for _, file_id in window])
    return [_file_view(found[fid]) for _, fid in window if fid in found], len(rows)


def delete_file(caller: Caller, file_id: str) -> None:
    """Idempotent. The file disappears first (one transaction); its revisions and unused bytes follow.

    Open tasks that pin one of its revisions keep working, and recorded configurations keep their content:
    both read the copies the tasks took when they were created (copy_task_files).
    """
    item = repo.find(caller.tenant, file_id, consistent=True)
    if item is not None:
        try:
            repo.delete(Tx(), item).commit()
        except errors.ConcurrentModification:
            pass  # deleted concurrently
    for revision in list(repo.revisions(caller.tenant, file_id)):
        try:
            repo.remove_revision(Tx(), revision, caller.tenant).commit()
        except errors.ConcurrentModification:
            continue
        repo.drop_blob_if_unused(caller.tenant, revision.hash)


# --- revisions ----------------------------------------------------------------------------------------
def add_revision(caller: Caller, file_id: str, content: bytes, content_type: str | None) -> tuple[RevisionView, bool]:
    """POST /revisions: a revision of these bytes (head unmoved); (revision, created?)."""

    def attempt() -> tuple[RevisionView, bool]:
        item = _file(caller, file_id)
        existing = repo.find_revision(caller.tenant, file_id, digest)
        if existing is not None:
            return _revision_view(existing), False
        revision = _store_bytes(caller, item, content, kind, digest)
        tx = Tx().check(
            ConfigFile,
            caller.tenant,
            item.sk,
            changes.Exists("sk"),
            on_fail=lambda: errors.EntityNotFound.of("ConfigurationFile", file_id),
        )
        repo.add_revision(tx, revision, caller.tenant).commit()
        return _revision_view(revision), True

    _check_size(content)
    kind = _content_type(content_type)
    digest = hashlib.sha256(content).hexdigest()
    return tx_store.retrying(tx_store.ATTEMPTS, attempt)


def update_head(
    caller: Caller, file_id: str, content: bytes, content_type: str | None, if_match: str | None
) -> FileView:
    """PATCH /head: a revision of these bytes becomes the head; a stale If-Match is 412."""

    def attempt() -> FileView:
        item = _file(caller, file_id, consistent=True)
        if not config_model.if_match_ok(if_match, item.head):
            raise errors.PreconditionFailed(
                f"The head of file {file_id} is {config_model.etag(item.head) if item.head else 'absent'}, "
                "not the given If-Match."
            )
        now = clock.now_ms()
        tx = Tx()
        if repo.find_revision(caller.tenant, file_id, digest) is None:
            repo.add_revision(tx, _store_bytes(caller, item, content, kind, digest), caller.tenant)
        checked = if_match is not None
        moved = head_moved(digest, caller.name, now)
        tx.update(
            item,
            moved,
            condition=head_unchanged(item, checked),
            on_fail=lambda: (
                errors.PreconditionFailed("The file's head changed since the given ETag (If-Match); read it again.")
                if checked
                else errors.ConcurrentModification()
            ),
        )
        tx.commit()
        return _file_view(changes.applied(item, moved))

    _check_size(content)
    kind = _content_type(content_type)
    digest = hashlib.sha256(content).hexdigest()
    return tx_store.retrying(tx_store.ATTEMPTS, attempt)


def list_revisions(caller: Caller, file_id: str, page: PageRequest) -> tuple[list[RevisionView], int]:
    """A file's revisions (one Query on its partition), sorted in memory by the requested field."""
    _file(caller, file_id)
    views = [_revision_view(r) for r in repo.revisions(caller.tenant, file_id)]
    field = {"createdAt": "created_at", "hash": "hash", "contentLength": "content_length"}[page.sort_field]
    views.sort(key=lambda v: (getattr(v, field), v.hash), reverse=page.descending)
    return page.window(views), len(views)


def get_revision(caller: Caller, file_id: str, sha256: str) -> RevisionView:
    if caller.is_device:
        return _pinned(caller, file_id, sha256).view
    _file(caller, file_id)
    return _revision_view(_revision(caller, file_id, sha256))


def revision_content(caller: Caller, file_id: str, sha256: str, accept: str | None) -> Content:
    if caller.is_device:
        return _pinned(caller, file_id, sha256).content(accept)
    _file(caller, file_id)
    return _content(caller, _revision(caller, file_id, sha256), accept)


def head_content(caller: Caller, file_id: str, accept: str | None) -> Content:
    """The head's bytes; for a device, the revision its newest open task pinned for this file (not the
    head of now: what a task sends was fixed when it was created)."""
    if caller.is_device:
        return _pinned(caller, file_id, None).content(accept)
    item = _file(caller, file_id)
    if item.head is None:
        raise errors.EntityNotFound(f"File {file_id} has no head revision yet.", ["ConfigurationFile", file_id])
    return _content(caller, _revision(caller, file_id, item.head), accept)


# --- configuration tasks name files -------------------------------------------------------------------
def resolve_task_files(tenant: str, definition: TaskDefinition) -> dict[str, Any]:
    """Pin each DCS file a task names to a revision (the URI's hash, or the head now) and check checksums.

    Returns the device-facing `files` (a head URI replaced by the pinned revision's content URI, checksum
    filled in as sha256 when absent), the resolved entries the actual configuration is recorded from
    (with each revision's content type and length), and the grants (`file_refs`) for downloads.
    """
    data: list[dict[str, Any]] = []
    resolved: list[dict[str, Any]] = []
    refs: list[str] = []
    for ref in definition.files:
        entry: dict[str, Any] = {"name": ref.name, "uri": ref.uri, "checksum": ref.checksum}
        if ref.file_id is None:
            data.append(entry)
            resolved.append({**entry, "path": ref.name, "fileId": None, "hash": None})
            continue
        item = repo.find(tenant, ref.file_id) if dcs_ids.is_uuid(ref.file_id) else None
        if item is None:
            raise errors.EntityNotFound.of("ConfigurationFile", dcs_ids.shortened(ref.file_id))
        sha256 = ref.revision or item.head
        if sha256 is None:
            raise errors.BadRequest(f"File '{item.path}' has no head revision to configure.", [ref.file_id])
        revision = repo.find_revision(tenant, ref.file_id, sha256) if dcs_ids.is_sha256(sha256) else None
        if revision is None:
            raise errors.EntityNotFound.of("Revision", dcs_ids.shortened(sha256))
        if revision.sha1 is None:  # every revision is written with its sha1 (the table's attribute is not null)
            raise ValueError(f"Revision {revision.hash} of file {ref.file_id} is stored without its sha1.")
        if not config_model.checksum_matches(ref.checksum, revision.hash, revision.sha1):
            raise errors.BadRequest(
                f"File '{ref.name}': checksum {ref.checksum} does not match revision {revision.hash}.", ["checksum"]
            )
        entry["uri"] = config_model.pinned_uri(ref.uri, revision.hash)
        entry["checksum"] = ref.checksum or f"sha256:{revision.hash}"
        data.append(entry)
        resolved.append(
            {
                **entry,
                "path": item.path,
                "fileId": item.file_id,
                "hash": revision.hash,
                "contentType": revision.content_type,
                "contentLength": int(revision.content_length),
            }
        )
        refs.append(f"{ref.file_id}/{revision.hash}")
    return {"data": data, "resolved": resolved, "refs": sorted(set(refs))}


def copy_task_files(tenant: str, device_id: str, task_id: str, resolved: list[dict[str, Any]]) -> list[str]:
    """The task's own copy of each revision it pins; call before the task is written (bytes before metadata).

    The copies are what the device downloads and what its actual configuration keeps, so neither depends
    on the file any more. Returns the keys written (discard_copies undoes them when the task is refused).
    A revision whose bytes went meanwhile (its file was deleted) is a 404, and nothing stays copied.
    """
    keys: list[str] = []
    for entry in resolved:
        if entry["fileId"] is None:
            continue
        key = repo.copy_key(tenant, device_id, task_id, entry["fileId"], entry["hash"])
        if key in keys:
            continue
        if not repo.put_copy(tenant, entry["hash"], key):
            discard_copies(keys)
            raise errors.EntityNotFound.of("ConfigurationFile", entry["fileId"])
        keys.append(key)
    return keys


def discard_copies(keys: list[str]) -> None:
    for key in keys:
        repo.delete_copy(key)


def release_copy(tenant: str, device_id: str, task_id: str, file_id: str, sha256: str) -> None:
    """Delete a copy nothing needs any more (idempotent)."""
    repo.delete_copy(repo.copy_key(tenant, device_id, task_id, file_id, sha256))


def forget_copies(tenant: str, device_id: str) -> int:
    return repo.delete_copies(tenant, device_id)


def copied_content(
    tenant: str, device_id: str, task_id: str, file_id: str, sha256: str, content_type: str | None, accept: str | None
) -> Content:
    """The bytes a task copied (tasks and configurations recorded before copies existed fall back to the
    content-addressed original, the same bytes by their hash, while it exists)."""
    kind = content_type or _stored_type(tenant, file_id, sha256)
    if not config_model.accepts(accept, kind):
        raise errors.NotAcceptable(f"The revision's content type is {kind}; the request accepts only {accept}.")
    data = repo.get_copy(repo.copy_key(tenant, device_id, task_id, file_id, sha256))
    if data is None:
        data = repo.get_content(tenant, sha256)
    if data is None:
        raise errors.BinaryDeleted(f"The content of revision {sha256} is gone.")
    return Content(data, kind, sha256)


# --- internals ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pinned:
    """A revision one of the device's open tasks sends: the task and its resolved entry for the file."""

    caller: Caller
    task: WorkflowInstance
    entry: dict[str, Any]

    @property
    def view(self) -> RevisionView:
        entry = self.entry
        if entry.get("contentType") is None:  # pinned before tasks recorded it: the revision tells
            return _revision_view(_revision(self.caller, entry["fileId"], entry["hash"]))
        return RevisionView(
            entry["hash"], entry["fileId"], int(entry["contentLength"]), entry["contentType"], int(self.task.created_at)
        )

    def content(self, accept: str | None) -> Content:
        entry = self.entry
        return copied_content(
            self.caller.tenant,
            self.caller.name,
            self.task.instance_id,
            entry["fileId"],
            entry["hash"],
            entry.get("contentType"),
            accept,
        )


def _pinned(caller: Caller, file_id: str, sha256: str | None) -> _Pinned:
    """The revision of `file_id` an open task of the device pins (`sha256`, or for None the newest task's).

    One Query on the device-poll index finds the task, one consistent read confirms it is still open.
    Else the file looks absent, and the answer names no revision: a device must not learn the hashes of
    files it may not read.
    """
    wanted: tuple[str, str] | None = None
    for row in workflow_instances.rows_by_device_group(caller.tenant, caller.name, config_model.OPEN, False):
        if row.model_key != config_model.KEY:
            continue
        for ref in row.file_refs:
            ref_file, _, ref_hash = ref.partition("/")
            if ref_file == file_id and ref_hash != "head" and sha256 in (None, ref_hash):
                wanted = (row.instance_id, ref_hash)  # rows come oldest first
    if wanted is not None:
        task = workflow_instances.find(caller.tenant, wanted[0])
        if task is not None and task.device_id == caller.name and task.group_name == config_model.OPEN:
            for entry in task.resolved_files or []:
                if entry.get("fileId") == file_id and entry.get("hash") == wanted[1]:
                    return _Pinned(caller, task, entry)
    raise errors.EntityNotFound.of("ConfigurationFile", file_id)


def _stored_type(tenant: str, file_id: str, sha256: str) -> str:
    """The content type of a revision pinned before tasks recorded it: the revision's, while it exists."""
    revision = repo.find_revision(tenant, file_id, sha256)
    return revision.content_type if revision is not None else config_model.DEFAULT_CONTENT_TYPE


def _file(caller: Caller, file_id: str, consistent: bool = False) -> ConfigFile:
    item = repo.find(caller.tenant, file_id, consistent=consistent)
    if item is None:
        raise errors.EntityNotFound.of("ConfigurationFile", file_id)
    return item


def _revision(caller: Caller, file_id: str, sha256: str) -> ConfigRevision:
    revision = repo.find_revision(caller.tenant, file_id, sha256)
    if revision is None:
        raise errors.EntityNotFound.of("Revision", sha256)
    return revision


def _content(caller: Caller, revision: ConfigRevision, accept: str | None) -> Content:
    if not config_model.accepts(accept, revision.content_type):
        raise errors.NotAcceptable(
            f"The revision's content type is {revision.content_type}; the request accepts only {accept}."
        )
    data = repo.get_content(caller.tenant, revision.hash)
    if data is None:
        raise errors.BinaryDeleted(f"The content of revision {revision.hash} is gone.")
    return Content(data, revision.content_type, revision.hash)


def _check_size(content: bytes) -> None:
    if len(content) > config_model.MAX_REVISION_BYTES:
        raise errors.PayloadTooLarge(
            f"A revision holds at most {config_model.MAX_REVISION_BYTES} bytes, got {len(content)}."
        )


def _content_type(header: str | None) -> str:
    try:
        return config_model.content_type_of(header)
    except InvalidInput as exc:
        raise errors.BadRequest(str(exc), ["Content-Type"]) from exc


def _store_bytes(caller: Caller, item: ConfigFile, content: bytes, kind: str, digest: str) -> ConfigRevision:
    repo.put_content(caller.tenant, digest, content, kind)
    return ConfigRevision.new(
        caller.tenant,
        item.file_id,
        content,
        digest,
        hashlib.sha1(content).hexdigest(),
        kind,
        caller.name,
        clock.now_ms(),
    )


def _file_view(item: ConfigFile) -> FileView:
    return FileView(item.file_id, item.path, item.description or "", item.head)


def _revision_view(revision: ConfigRevision) -> RevisionView:
    return RevisionView(
        revision.hash, revision.file_id, int(revision.content_length), revision.content_type, int(revision.created_at)
    )
