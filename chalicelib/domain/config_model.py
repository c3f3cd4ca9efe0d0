"""The built-in workflow model `mdsp-core-configurationDeployment` and the task <-> file links (docs/architecture.md,
"Workflow engine").

A Device Configuration task *is* an instance of this model; its `data` carries the TaskDefinition
(`files`, `customData`, `target`). State table (trigger type decides who may take a transition):

| from        | to          | type            | taken by                                   |
|-------------|-------------|-----------------|--------------------------------------------|
| CREATED     | CONFIGURE   | BACKEND_TRIGGER | operator (may be made INSTANTANEOUS)       |
| CREATED     | CANCELED    | BACKEND_TRIGGER | operator                                   |
| CONFIGURE   | CONFIGURING | DEVICE_TRIGGER  | device                                     |
| CONFIGURE   | FAILED      | DEVICE_TRIGGER  | device                                     |
| CONFIGURE   | CANCELED    | DEVICE_TRIGGER  | device, or operator (cancel, allowedTypes) |
| CONFIGURING | CONFIGURED  | DEVICE_TRIGGER  | device                                     |
| CONFIGURING | FAILED      | DEVICE_TRIGGER  | device                                     |
| CONFIGURING | CANCELED    | DEVICE_TRIGGER  | device, or operator (cancel, allowedTypes) |

Groups: OPEN = CONFIGURE, CONFIGURING (what devices poll); CLOSED = CONFIGURED, FAILED, CANCELED
(final). CREATED is in no group and invisible to the device. Same-state PATCHes update progress.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from chalicelib.domain.workflow import InvalidInput, WorkflowModel

KEY = "mdsp-core-configurationDeployment"
CONFIGURED = "CONFIGURED"
OPEN = "OPEN"
MAX_FILES_PER_TASK = 50

_DEFINITION = {
    "key": KEY,
    "states": [
        {
            "name": "CREATED",
            "description": "task created, not visible to device",
            "initial": True,
            "final": False,
            "cancel": False,
        },
        {"name": "CONFIGURE", "description": "released to device", "initial": False, "final": False, "cancel": False},
        {
            "name": "CONFIGURING",
            "description": "device applying files",
            "initial": False,
            "final": False,
            "cancel": False,
        },
        {
            "name": "CONFIGURED",
            "description": "device applied configuration",
            "initial": False,
            "final": True,
            "cancel": False,
        },
        {"name": "FAILED", "description": "device reported failure", "initial": False, "final": True, "cancel": False},
        {
            "name": "CANCELED",
            "description": "canceled by user or device",
            "initial": False,
            "final": True,
            "cancel": True,
        },
    ],
    "transitions": [
        {
            "from": "CREATED",
            "to": "CONFIGURE",
            "type": "BACKEND_TRIGGER",
            "allowedTypes": ["BACKEND_TRIGGER", "INSTANTANEOUS"],
        },
        {"from": "CREATED", "to": "CANCELED", "type": "BACKEND_TRIGGER", "allowedTypes": ["BACKEND_TRIGGER"]},
        {"from": "CONFIGURE", "to": "CONFIGURING", "type": "DEVICE_TRIGGER", "allowedTypes": ["DEVICE_TRIGGER"]},
        {"from": "CONFIGURE", "to": "FAILED", "type": "DEVICE_TRIGGER", "allowedTypes": ["DEVICE_TRIGGER"]},
        {
            "from": "CONFIGURE",
            "to": "CANCELED",
            "type": "DEVICE_TRIGGER",
            "allowedTypes": ["DEVICE_TRIGGER", "BACKEND_TRIGGER"],
        },
        {"from": "CONFIGURING", "to": "CONFIGURED", "type": "DEVICE_TRIGGER", "allowedTypes": ["DEVICE_TRIGGER"]},
        {"from": "CONFIGURING", "to": "FAILED", "type": "DEVICE_TRIGGER", "allowedTypes": ["DEVICE_TRIGGER"]},
        {
            "from": "CONFIGURING",
            "to": "CANCELED",
            "type": "DEVICE_TRIGGER",
            "allowedTypes": ["DEVICE_TRIGGER", "BACKEND_TRIGGER"],
        },
    ],
    "groups": [
        {"name": "OPEN", "states": ["CONFIGURE", "CONFIGURING"]},
        {"name": "CLOSED", "states": ["CONFIGURED", "FAILED", "CANCELED"]},
    ],
}

MODEL = WorkflowModel.parse(_DEFINITION)
# The states a DCS task PATCH names (CONFIGURING, CONFIGURED, CANCELED, FAILED) plus CONFIGURE, which operators
# need to release a task.
TASK_STATES = ("CONFIGURE", "CONFIGURING", "CONFIGURED", "CANCELED", "FAILED")

# A task file's `uri` naming a DCS file: .../api/deviceconfiguration/v3/files/{id}/head or .../revisions/{hash}/content
_DCS_URI = re.compile(
    r"/api/deviceconfiguration/v3/files/(?P<file>[^/]+)/"
    r"(?:head|revisions/(?P<hash>[^/]+)/content)/?$"
)


@dataclass(frozen=True)
class FileReference:
    """One entry of a task's `files`, with the DCS file/revision its URI names (None for foreign URIs)."""

    name: str
    uri: str
    checksum: str | None
    file_id: str | None = None
    revision: str | None = None  # the hash named by the URI; None for a head URI

    @property
    def names_head(self) -> bool:
        return self.file_id is not None and self.revision is None


@dataclass(frozen=True)
class TaskDefinition:
    files: tuple[FileReference, ...]
    custom_data: Any
    target: Any


def parse_task(body: Any) -> TaskDefinition:
    """A TaskDefinition {files, customData?, target?}; InvalidInput when malformed."""
    if not isinstance(body, Mapping):
        raise InvalidInput("The task definition must be a JSON object.")
    files = body.get("files")
    if not isinstance(files, list):
        raise InvalidInput("'files' is required and must be an array.")
    if len(files) > MAX_FILES_PER_TASK:
        raise InvalidInput(f"A task references at most {MAX_FILES_PER_TASK} files, got {len(files)}.")
    refs = []
    for entry in files:
        if not isinstance(entry, Mapping):
            raise InvalidInput("Each entry of 'files' must be a JSON object.")
        name, uri, checksum = entry.get("name"), entry.get("uri"), entry.get("checksum")
        if not isinstance(name, str) or not name:
            raise InvalidInput("Each file needs a 'name'.")
        if len(name.encode("utf-8")) > MAX_PATH_BYTES:  # a foreign file's name keys the actual configuration
            raise InvalidInput(f"A file's 'name' is longer than {MAX_PATH_BYTES} bytes.")
        if not isinstance(uri, str) or not uri:
            raise InvalidInput(f"File '{name}' needs a 'uri'.")
        if checksum is not None and (not isinstance(checksum, str) or ":" not in checksum):
            raise InvalidInput(f"File '{name}': 'checksum' must read '<algorithm>:<hex>'.")
        match = _DCS_URI.search(urlsplit(uri).path)
        refs.append(
            FileReference(name, uri, checksum, match["file"] if match else None, match["hash"] if match else None)
        )
    names = [r.name for r in refs]
    if len(set(names)) != len(names):
        raise InvalidInput("File names within a task must be unique.")
    custom, target = body.get("customData"), body.get("target")
    if custom is not None and not isinstance(custom, Mapping):
        raise InvalidInput("'customData' must be a JSON object.")
    if target is not None and not isinstance(target, Mapping):
        raise InvalidInput("'target' must be a JSON object.")
    return TaskDefinition(tuple(refs), custom if custom is not None else {}, target if target is not None else {})


def pinned_uri(uri: str, sha256: str) -> str:
    """A DCS head URI turned into the URI of revision `sha256`'s content, everything else kept as sent.

    A task pins what it sends: the head resolved when the task was created is what the device downloads
    and what the actual configuration records, even if the head moves before the device fetches it.
    """
    parts = urlsplit(uri)
    match = _DCS_URI.search(parts.path)
    if match is None or match["hash"] is not None:
        return uri
    path = parts.path[: match.start()] + f"/api/deviceconfiguration/v3/files/{match['file']}/revisions/{sha256}/content"
    return urlunsplit(parts._replace(path=path))


def checksum_matches(checksum: str | None, sha256: str, sha1: str) -> bool:
    """A client checksum against a revision; algorithms we do not compute are passed on unchecked."""
    if not checksum:
        return True
    algorithm, _, digest = checksum.partition(":")
    known = {"sha256": sha256, "sha-256": sha256, "sha1": sha1, "sha-1": sha1}.get(algorithm.strip().lower())
    return known is None or known == digest.strip().lower()


def task_data(files: list[dict[str, Any]], custom_data: Any, target: Any) -> dict[str, Any]:
    """The instance `data` a device reads after polling: the TaskDefinition as the operator sent it (+ checksums)."""
    return {"files": files, "customData": custom_data, "target": target}


# --- files and revisions ----------------------------------------------------------------------------------
MAX_PATH_BYTES = 1000  # the path is a DynamoDB sort key (1 KiB) behind a short prefix
MAX_DESCRIPTION_CHARS = 1000
# Content travels through API Gateway and Lambda (6 MB payloads, base64 for binary types).
MAX_REVISION_BYTES = 4 * 1024 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# RFC 9110 media type (type/subtype; parameters) in printable ASCII: it is stored, sent to S3 and sent back
# as a response header, where anything else is refused or could split the header.
MAX_MEDIA_TYPE_CHARS = 255
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf'{_TOKEN}/{_TOKEN}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|"[ !#-\[\]-~]*"))*[ \t]*')


def content_type_of(header: str | None) -> str:
    """The media type a revision is stored with: the request's Content-Type, application/octet-stream when
    absent; InvalidInput when it is not a media type."""
    value = (header or "").strip()
    if not value:
        return DEFAULT_CONTENT_TYPE
    if len(value) > MAX_MEDIA_TYPE_CHARS or not _MEDIA_TYPE.fullmatch(value):
        raise InvalidInput(
            f"The Content-Type must be a media type (type/subtype; parameters) of at most "
            f"{MAX_MEDIA_TYPE_CHARS} printable ASCII characters."
        )
    return value


def etag(sha256: str) -> str:
    return f'"{sha256}"'


def if_match_ok(header: str | None, head: str | None) -> bool:
    """RFC 9110 If-Match against the head revision's ETag (`*` matches any existing head)."""
    if header is None:
        return True
    offered = [t.strip() for t in header.split(",") if t.strip()]
    if "*" in offered:
        return head is not None
    tags = {t[2:] if t.startswith("W/") else t for t in offered}
    return head is not None and any(t.strip('"') == head for t in tags)


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def accepts(accept: str | None, content_type: str) -> bool:
    """An `Accept` header admits the stored content type (absent, `*/*`, `type/*` or the type itself)."""
    if accept is None or not accept.strip():
        return True
    stored = _media(content_type)
    major = stored.split("/", 1)[0]
    for offered in accept.split(","):
        media = _media(offered)
        if media in ("*/*", "*", stored, f"{major}/*"):
            return True
    return False
