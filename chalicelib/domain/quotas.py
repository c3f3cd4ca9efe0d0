"""Quotas: the tenant-level counters of GET /rest/v1/system/quota and hawkBit's finer limits."""
from __future__ import annotations

TENANT_QUOTAS: dict[str, int] = {
    # Bytes, for both limit and used: seed 002's example limit 1073741824 is hawkBit's 1 GiB in bytes (its
    # text says "MegaBytes", which would make the limit 1 PiB). README "Differences from hawkBit".
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

# hawkBit's finer quotas (hawkbit-api.md §5); violations are 403 quota.tooManyEntries as well.
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
MAX_ACTION_HISTORY = 100
# DynamoDB refuses items over 400 KB. Metadata lives as one map on its module or set item, whose other
# attributes are bounded far below this; 100 entries of 4,000 characters (up to 4 bytes each) would not be.
# Below half the item limit: a change rewrites the whole map, and moto (the tests' and `make run`'s
# DynamoDB) counts the replaced map and its replacement together.
MAX_METADATA_BYTES = 150_000


def metadata_bytes(metadata: dict[str, dict]) -> int:
    """What a metadata map costs in its item: keys and values as UTF-8, plus the attribute names around them."""
    return sum(len(key.encode("utf-8", "surrogatepass")) + len(str(entry.get("value") or "").encode(
        "utf-8", "surrogatepass")) + 32 for key, entry in metadata.items())
