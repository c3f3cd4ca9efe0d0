"""What the ids of the Device Configuration / Deployment Workflow APIs can look like.

Every id of a path, query or body ends up in a DynamoDB key, and DynamoDB refuses (with an error,
not an empty answer) a sort key above 1024 bytes or a partition key above 2048. An id that cannot
name anything is therefore answered at the edge, before any GetItem or Query.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.domain.config_model import MAX_PATH_BYTES
from chalicelib.domain.workflow import MAX_KEY_CHARS, MAX_NAME_CHARS, is_addressable_key

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # file and instance ids
_SHA256 = re.compile(r"[0-9a-f]{64}")  # revision hashes
# A device is a target: its controllerId has at most 256 characters, none of them whitespace, '/', '\',
# '?', '#' or '%' (services/targets.py); 256 four-byte characters still fit a 1 KB sort key.
MAX_DEVICE_ID_CHARS = 256
_DEVICE_ID = re.compile(r"[^\s/\\?#%]{1," + str(MAX_DEVICE_ID_CHARS) + "}")
# Its security token has 1 to 128 characters (services/targets.py): a longer one names no device.
MAX_TOKEN_CHARS = 128


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def is_sha256(value: Any) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def is_device_id(value: Any) -> bool:
    return isinstance(value, str) and _DEVICE_ID.fullmatch(value) is not None


def is_model_key(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_KEY_CHARS and is_addressable_key(value)


def is_group(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS and "#" not in value


def is_path_prefix(value: Any) -> bool:
    return isinstance(value, str) and len(value.encode("utf-8")) <= MAX_PATH_BYTES


def is_token(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TOKEN_CHARS


def shortened(value: Any, limit: int = 64) -> str:
    """An id as an error message may quote it."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."
