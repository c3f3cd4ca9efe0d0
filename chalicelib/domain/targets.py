"""A target (hawkBit's device record) as the domain sees it: one item holds everything an idle poll needs.

`active_actions` summarises the target's open actions ({id, canceling, waiting, type, weight, forceTime, dsId,
maintenanceWindow}: chalicelib/domain/actions.py `summary`), so a poll decides its links without reading an
action. `deletion` is set while the target is being deleted: every read treats it as gone.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from chalicelib import errors
from chalicelib.domain.changes import REMOVE

MAX_CONTROLLER_ID = 256  # hawkBit Target.CONTROLLER_ID_MAX_SIZE
_CONTROLLER_ID = re.compile(r"^[^\s/\\?#%]+$")  # it is a path segment of every DDI URL
MAX_ATTRIBUTE_TEXT = 128  # hawkBit Target.CONTROLLER_ATTRIBUTE_KEY_SIZE and _VALUE_SIZE
_ATTRIBUTE_TEXT = re.compile(r"^[a-zA-Z0-9_\-!@#$%^&*()+=\[\]{}|;:'\",.<>/\\?\s]*$")
ATTRIBUTE_MODES = ("merge", "replace", "remove")  # DDI configData's `mode` and DMF's DmfUpdateMode, lower-cased


def valid_controller_id(controller_id: str) -> bool:
    return 0 < len(controller_id) <= MAX_CONTROLLER_ID and bool(_CONTROLLER_ID.match(controller_id))


def check_attribute(key: Any, value: Any, mode: str) -> None:
    """A controller attribute as DDI configData and DMF UPDATE_ATTRIBUTES take it (a removal needs a valid key only)."""
    if not isinstance(key, str) or not key or len(key) > MAX_ATTRIBUTE_TEXT or not _ATTRIBUTE_TEXT.match(key):
        raise errors.InvalidTargetAttributes(f"Attribute key '{key}' is invalid.", [key])
    if mode != "remove" and value is not None:
        if (
            not isinstance(value, (str, int, float, bool))
            or len(str(value)) > MAX_ATTRIBUTE_TEXT
            or not _ATTRIBUTE_TEXT.match(str(value))
        ):
            raise errors.InvalidTargetAttributes(f"Attribute value of '{key}' is invalid.", [key])


# The list orders spread each tenant over this many key ranges, by controllerId: every device's last-seen
# write moves its entry in the by-seen order, and one range per tenant would take them all (docs/capacity.md,
# hot keys). The overdue job walks the same ranges of the same order.
LIST_SHARDS = 16
OVERDUE_SHARDS = LIST_SHARDS


@dataclass
class Target:
    tenant: str
    controller_id: str
    name: str = ""
    security_token: str = ""
    description: str | None = None
    address: str | None = None
    update_status: str = "UNKNOWN"  # TargetUpdateStatus name
    request_attributes: bool = True
    attributes: dict[str, str] = field(default_factory=dict)  # from configData
    ip_address: str | None = None
    target_type: int | None = None
    assigned_ds: int | None = None
    installed_ds: int | None = None
    installed_at: int | None = None
    installed_action_id: int | None = None
    assigned_ds_key: str | None = None  # "tenant#dsId", the assigned-ds index
    installed_ds_key: str | None = None
    last_request_at: int | None = None  # coarse: written at most once per interval
    active_actions: list[dict[str, Any]] = field(default_factory=list)
    auto_confirm: dict[str, Any] | None = None  # {initiator, remark, activatedAt, activatedBy} while on
    action_count: int = 0
    tags: list[int] | None = None  # target tag ids (chalicelib/domain/tags.py), at most MAX_TAGS_PER_TARGET
    deletion: str | None = None
    created_at: int = 0
    created_by: str = ""
    last_modified_at: int = 0
    last_modified_by: str = ""
    version: int | None = None


def metadata_owner(tenant: str) -> str:
    """The partition of a tenant's target metadata items (tenant names never hold '#', auth.valid_tenant)."""
    return f"{tenant}#metadata"


@dataclass
class TargetMetadata:
    """A target's metadata map (key -> {"value"}), one item beside the target item, keyed by the target.

    Not on the target item: hawkBit allows 100 entries of up to 128 + 4,000 characters per target, far past
    the 4 KB an idle poll reads for one half read unit (its one GetItem of the target item); a separate item
    costs only the metadata's own reads and writes. One item per target (not one per entry) keeps the quota
    and duplicate checks a single conditional write, as the catalogue's metadata maps do.
    """

    owner: str  # metadata_owner(tenant)
    controller_id: str
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_modified_at: int = 0
    last_modified_by: str = ""
    version: int | None = None

    @property
    def id(self) -> str:  # how quota messages name the owner (services/catalog_metadata.py)
        return self.controller_id


# --- list orders: the sharded sort indexes of the targets table (docs/capacity.md, "Target lists") -------------
# Each order is a keys-only index keyed `tenant#shard` (LIST_SHARDS key ranges per tenant: last-seen and status
# writes move entries at the fleet's rate) and sorted by a text key: the order's value (text lower-cased, as
# listing.page compares; numbers zero-padded; absent first), ORDER_SEPARATOR, the controllerId (ties in key
# order, and unique entries). A list merges the shards' ranges; the overdue job reads a time range of by-seen.
ORDER_SEPARATOR = "\x00"  # below every character a value holds: "ab" + separator sorts before "abc"
MAX_ORDER_KEY_BYTES = 1024  # DynamoDB's limit for an index sort key

# sort key (services.targets.SORT_FIELDS value) -> (order attribute, the entity field it orders by)
# controllerId's order ignores case (the table's key order does not): `q=controllerId==` finds its matches there.
ORDERS = {
    "controllerId": ("id_order", "controller_id"),
    "name": ("name_order", "name"),
    "createdAt": ("created_order", "created_at"),
    "lastControllerRequestAt": ("seen_order", "last_request_at"),
    "updateStatus": ("status_order", "update_status"),
}
_ORDER_OF_FIELD = {field: attribute for attribute, field in ORDERS.values()}


def list_shard(tenant: str, controller_id: str) -> str:
    return f"{tenant}#{shard_of(controller_id, LIST_SHARDS)}"


def order_value(value: Any) -> str:
    """The part of an order key a value gives: equal values give equal prefixes, and the prefixes sort as
    listing.page sorts the values (absent first, numbers by value, text ignoring case)."""
    if value is None:
        return "0"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"1{int(value):020d}"
    return "2" + str(value).lower()


def order_key(value: Any, controller_id: str) -> str:
    key = order_value(value) + ORDER_SEPARATOR + controller_id
    return key.encode()[:MAX_ORDER_KEY_BYTES].decode(errors="ignore")


def order_keys(tenant: str, controller_id: str, fields: dict[str, Any]) -> dict[str, str]:
    """The order attributes (and the list shard) a write of `fields` (entity field -> new value, None when
    removed) must write with them, so the indexes follow the values."""
    keys = {
        _ORDER_OF_FIELD[name]: order_key(value, controller_id)
        for name, value in fields.items()
        if name in _ORDER_OF_FIELD
    }
    if keys:
        keys["list_shard"] = list_shard(tenant, controller_id)
    return keys


def derived_keys(tenant: str, controller_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Every index key a write of `fields` (entity field -> new value, None when removed) must write with
    them: the list orders (order_keys) and the target-type index's key (`type_key`, removed with the type)."""
    keys: dict[str, Any] = order_keys(tenant, controller_id, fields)
    if "target_type" in fields:
        type_id = fields["target_type"]
        keys["type_key"] = REMOVE if type_id is None else type_key(tenant, type_id)
    return keys


def type_key(tenant: str, type_id: int) -> str:
    """The key of the sparse target-type index: which targets hold a type (a type in use cannot go)."""
    return f"{tenant}#{int(type_id)}"


def ds_key(tenant: str, ds_id: int) -> str:
    """The key of the assigned/installed-set indexes: sets are numbered per tenant."""
    return f"{tenant}#{int(ds_id)}"


def shard_of(controller_id: str, shards: int = LIST_SHARDS) -> int:
    """A stable spread of controller ids over `shards` key ranges."""
    return zlib.crc32(controller_id.encode()) % shards


def seen_between(after_ms: int | None, through_ms: int) -> tuple[str, str]:
    """The by-seen order keys of the targets last seen after `after_ms` (None: ever seen) and at or before
    `through_ms`, as an inclusive key range (never-seen targets sort below every seen one)."""
    low = order_value(0 if after_ms is None else int(after_ms) + 1)
    return low, order_value(int(through_ms)) + chr(ord(ORDER_SEPARATOR) + 1)
