"""Quotas, their one home: every limit, every check and every refusal's message.

Two kinds (every refusal is 403 `hawkbit.server.error.quota.*`; 429 is for rate limits only):
- tenant quotas (GET /rest/v1/system/quota): usage counters kept exact in the transactions that create and
  delete what they count. `limit` is the operator's setting; `room` is the condition the counter's update
  carries (so concurrent creates cannot pass the limit together) and `exceeded` the refusal when it fails;
  `check_create` refuses early what could never fit.
- hawkBit's finer quotas (entries per entity): `check_assign`, `check_messages`, `check_artifact_size`.
Services decide with these, the store only executes (chalicelib/store/counters.py); services/quotas.py reads
the usage and adds a counter's change to a transaction.
"""

from __future__ import annotations

import os

from chalicelib import errors
from chalicelib.domain.changes import Condition, Missing, le

TENANT_QUOTAS: dict[str, int] = {
    # Bytes, for both limit and used: seed 002's example limit 1073741824 is hawkBit's 1 GiB in bytes (its
    # text says "MegaBytes", which would make the limit 1 PiB). README "Compatibility notes".
    "ARTIFACT_STORAGE": 1073741824,
    "DISTRIBUTION_SET": 200000,
    "DISTRIBUTION_SET_TAG": 1000,
    "DISTRIBUTION_SET_TYPE": 500,
    "LOCAL_USER": 300,
    "ROLLOUT": 100000,
    "SOFTWARE_MODULE": 300000,
    "SOFTWARE_MODULE_TYPE": 500,
    "TARGET": 200000,
    "TARGET_FILTER_QUERY": 1000,
    "TARGET_TAG": 1000,
    "TARGET_TYPE": 500,
    "USER_ROLE": 300,
}

# hawkBit's finer quotas (its QuotaManagement); violations are 403 quota.tooManyEntries as well.
MAX_STATUS_ENTRIES_PER_ACTION = 1000
MAX_MESSAGES_PER_ACTION_STATUS = 50
MAX_MESSAGE_LENGTH = 512
MAX_ATTRIBUTE_ENTRIES_PER_TARGET = 100
MAX_METADATA_ENTRIES = 100
MAX_SOFTWARE_MODULES_PER_DS = 100
MAX_ARTIFACTS_PER_SOFTWARE_MODULE = 50
MAX_ACTIONS_PER_TARGET = 2000
MAX_TARGETS_PER_MANUAL_ASSIGNMENT = 5000
MAX_ARTIFACT_SIZE = 1073741824
MAX_SOFTWARE_MODULE_TYPES_PER_DS_TYPE = 50  # hawkBit maxSoftwareModuleTypesPerDistributionSetType
MAX_DISTRIBUTION_SET_TYPES_PER_TARGET_TYPE = 50  # hawkBit maxDistributionSetTypesPerTargetType
MAX_ACTION_HISTORY = 100
MAX_ROLLOUT_GROUPS_PER_ROLLOUT = 500  # hawkBit maxRolloutGroupsPerRollout
MAX_TARGETS_PER_ROLLOUT_GROUP = 20000  # hawkBit maxTargetsPerRolloutGroup
# Tags of one target (skyhawk's own limit; hawkBit has none): the target item lists its tag ids and every idle
# poll reads that item, whose budget is one GetItem of at most 4 KB. 50 ids take at most ~500 bytes.
MAX_TAGS_PER_TARGET = 50
# DynamoDB refuses items over 400 KB. Metadata lives as one map on its module or set item, whose other
# attributes are bounded far below this; 100 entries of 4,000 characters (up to 4 bytes each) would not be.
# Below half the item limit: a change rewrites the whole map, and moto (the tests' and `make run`'s
# DynamoDB) counts the replaced map and its replacement together.
MAX_METADATA_BYTES = 150_000


def metadata_bytes(metadata: dict[str, dict]) -> int:
    """What a metadata map costs in its item: keys and values as UTF-8, plus the attribute names around them."""
    return sum(
        len(key.encode("utf-8", "surrogatepass"))
        + len(str(entry.get("value") or "").encode("utf-8", "surrogatepass"))
        + 32
        for key, entry in metadata.items()
    )


# --- tenant quotas --------------------------------------------------------------------------------------
def limit(quota: str) -> int:
    """The tenant quota's limit: the operator's setting (env `SKYHAWK_QUOTA_<NAME>`) or hawkBit's default."""
    override = os.environ.get(f"SKYHAWK_QUOTA_{quota}")
    return int(override) if override else TENANT_QUOTAS[quota]


def exceeded(quota: str, maximum: int | None, message: str | None = None) -> errors.QuotaExceeded:
    return errors.QuotaExceeded(
        message or f"Quota exceeded: Cannot create more {quota} entities. The maximum is {maximum}."
    )


def room(maximum: int, adding: int) -> Condition:
    """The condition on a usage counter (field `value`) that `adding` more stay within `maximum`."""
    return Missing("value") | le("value", maximum - adding)


def check_create(adding: int, maximum: int, what: str, used: int = 0) -> None:
    """403 when `adding` more (`what`, e.g. "more software modules") cannot fit beside `used` ones. Early and
    cheap; the counter's `room` condition decides under concurrency."""
    if used + adding > maximum:
        raise errors.QuotaExceeded(f"Quota exceeded: Cannot create {adding} {what}. The maximum is {maximum}.")


# --- hawkBit's finer quotas -------------------------------------------------------------------------------
def check_assign(
    adding: int, current: int, maximum: int, what: str, owner: str, more: bool = True, args: list | None = None
) -> None:
    """hawkBit's AssignmentQuotaExceededException: 403 when `adding` more `what` (e.g. "Action entities")
    would take `owner` (e.g. "Target 'dev-1'") past `maximum`."""
    if adding > 0 and current + adding > maximum:
        raise errors.QuotaExceeded(
            f"Quota exceeded: Cannot assign {adding} {'more ' if more else ''}{what} to "
            f"{owner}. The maximum is {maximum}.",
            args or (),
        )


def check_messages(count: int) -> None:
    """maxMessagesPerActionStatus: the messages of one history entry."""
    if count > MAX_MESSAGES_PER_ACTION_STATUS:
        raise errors.QuotaExceeded(
            f"Quota exceeded: Cannot assign {count} messages to one action status. "
            f"The maximum is {MAX_MESSAGES_PER_ACTION_STATUS}."
        )


def check_artifact_size(filename: str, size: int) -> None:
    if size > MAX_ARTIFACT_SIZE:
        raise errors.FileSizeQuotaExceeded(
            f"Quota exceeded: The artifact '{filename}' ({size} bytes) exceeds the maximum artifact size of "
            f"{MAX_ARTIFACT_SIZE} bytes.",
            [filename, size, MAX_ARTIFACT_SIZE],
        )


def check_metadata_bytes(metadata: dict[str, dict], stored: dict[str, dict], owner_kind: str, owner_id: int) -> None:
    """A metadata map may not grow past MAX_METADATA_BYTES (one that already is may still shrink)."""
    size = metadata_bytes(metadata)
    if size > MAX_METADATA_BYTES and size > metadata_bytes(stored):
        raise errors.QuotaExceeded(
            f"Quota exceeded: the metadata of {owner_kind} '{owner_id}' would take {size} bytes. "
            f"The maximum is {MAX_METADATA_BYTES}.",
            [owner_id, size, MAX_METADATA_BYTES],
        )


def check_storage(used: int, adding: int, maximum: int) -> None:
    """ARTIFACT_STORAGE, in bytes, refused early with its own error code (the counter's room decides)."""
    if used + adding > maximum:
        raise storage_exceeded(maximum)


def storage_exceeded(maximum: int) -> errors.StorageQuotaExceeded:
    return errors.StorageQuotaExceeded(
        f"Quota exceeded: The artifact storage of the tenant would exceed {maximum} bytes.", [maximum]
    )
