"""Configuration files and their revisions as stored (the DCS API, chalicelib/openapi/dcs.json), and the bytes read
from them.

A file is named by a random UUID and carries a unique path and, once written, a head revision. A revision is
named by the sha256 of its bytes within its file (`file_key` = "tenant#fileId"). Entities carry the stored
field names, keys included (chalicelib/store/records.py maps them); the keys are derived here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain import changes

FILE_PREFIX = "file#"  # the file's sort key in the tenant's partition of `config-files`


def file_key(tenant: str, file_id: str) -> str:
    """The partition of a file's revisions."""
    return f"{tenant}#{file_id}"


@dataclass
class ConfigFile:
    tenant: str
    sk: str
    file_id: str
    path: str
    created_at: int
    created_by: str
    last_modified_at: int
    last_modified_by: str
    description: str | None = None
    head: str | None = None  # sha256 of the head revision
    version: int | None = None

    @classmethod
    def new(cls, tenant: str, file_id: str, path: str, description: str | None, user: str, now: int) -> "ConfigFile":
        return cls(
            tenant,
            FILE_PREFIX + file_id,
            file_id,
            path,
            created_at=now,
            created_by=user,
            last_modified_at=now,
            last_modified_by=user,
            description=description or "",
        )


def head_moved(head: str, user: str, now: int) -> changes.Change:
    """The file's head becomes revision `head`."""
    return {"head": head, "last_modified_at": now, "last_modified_by": user}


def head_unchanged(file: ConfigFile, checked: bool) -> changes.Condition:
    """The file still exists and, when the caller named the head it saw (`checked`: an If-Match), still has the
    head read in `file`."""
    condition: changes.Condition = changes.Exists("sk")
    if checked:
        condition &= changes.Missing("head") if file.head is None else changes.eq("head", file.head)
    return condition


@dataclass
class ConfigRevision:
    file_key: str
    hash: str  # sha256 hex of the content
    file_id: str
    content_length: int
    content_type: str
    created_at: int
    sha1: str | None = None
    created_by: str | None = None

    @classmethod
    def new(
        cls, tenant: str, file_id: str, content: bytes, sha256: str, sha1: str, content_type: str, user: str, now: int
    ) -> "ConfigRevision":
        return cls(
            file_key(tenant, file_id), sha256, file_id, len(content), content_type, now, sha1=sha1, created_by=user
        )


@dataclass(frozen=True)
class Content:
    """A revision's bytes, with the content type stored with them."""

    data: bytes
    content_type: str
    hash: str
