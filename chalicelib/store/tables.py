"""DynamoDB tables as PynamoDB models, access patterns first (docs/architecture.md, "Tables and indexes").

Every key starts with the tenant. Several models share one table where their items live side by side
(tenant configuration, counters and users in `tenants`; the software catalogue in `catalog`); each
model names one kind of item and its sort-key prefix.

Choices beyond one item kind per table, and why:
- `actions` items carry `cleanup_key = tenant#STATUS#shard` only while closed: the cleanup job queries
  exactly the statuses it deletes, so FINISHED actions (never cleaned by default) are never read.
- Tenant-wide index keys that every device or every action would write are sharded (domain/actions.py
  INDEX_SHARDS, domain/targets.py LIST_SHARDS): `tenant#shard` instead of the bare tenant, so one tenant's
  writes spread over many key ranges instead of one hot end of a time- or id-ordered range.
- Open actions carry `open_ds_key = tenant#dsId#shard` (sharded like the tenant index): an invalidated set's
  open actions are a Query away, and the key goes when the action closes, so the index holds open actions only.
- An action holds no deployment snapshot: what devices get for a distribution set is stored once per set
  (`DeploymentSnapshotPage`, immutable once the set is locked) and cached per container.
- Action-status ids are `actionId << 20 | n` with n from the action's own `status_seq`: unique per
  tenant and ordered within an action, without a counter write per feedback (the entries of an action are
  bounded below 2^20, domain/actions.py).
- No TTL on these tables: the scheduled jobs remove what expires, on the tenants' own settings (a TTL could
  not know them); only the idempotency records carry one.
- `tenants` also holds the reaper's work list (`pending#<due>#...`, store.pending): changes of several
  steps in progress, found by a Query on the due range, never a Scan or an extra index.
- A target being deleted keeps its item, marked (`deletion`), until what it owns is gone: the idle poll
  reads the mark with the item it reads anyway.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.connection import base as pynamodb_connection
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib import config
from chalicelib.store import aws

pynamodb_connection.get_session = aws.botocore_session  # its table connections share the process's loader


# Tables whose changes feed the service integration events and the outbound DMF messages
# (chalicelib/store/change_feed.py): their stream carries both images of every changed item.
STREAMED_TABLES = ("targets", "actions", "action-status", "catalog", "workflow")


def _meta(name: str):
    timeouts = config.aws_timeouts()

    class Meta:
        table_name = config.table_prefix() + name
        region = config.region()
        billing_mode = "PAY_PER_REQUEST"
        connect_timeout_seconds = timeouts.connect_seconds
        read_timeout_seconds = timeouts.dynamodb_read_seconds
        max_retry_attempts = timeouts.max_attempts - 1

    if name in STREAMED_TABLES:
        Meta.stream_view_type = "NEW_AND_OLD_IMAGES"  # type: ignore[attr-defined]
    return Meta


def pad(number: int) -> str:
    """Sort keys hold numeric ids zero-padded, so a Query returns them in id order."""
    return f"{number:019d}"


# --- tenants: configuration values, counters, users, the tenant registry -------------------------
class TenantConfigValue(Model):
    Meta = _meta("tenants")
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)  # "config#<key name>"
    value = UnicodeAttribute()  # JSON-encoded typed value
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()


class Counter(Model):
    """Id sequences (`seq#<entity>`) and quota usage (`usage#<QUOTA>`)."""

    Meta = _meta("tenants")
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)


class DistributionSetActionCounts(Model):
    """One shard (`dsactions#<dsId>#<shard>`) of a distribution set's actions counted by status, moved in the
    transactions that create, change or delete its actions (store/action_counts.py); a status's count is the
    sum over the shards. Attribute names are the action statuses."""

    Meta = _meta("tenants")
    PREFIX = "dsactions#"
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    FINISHED = NumberAttribute(null=True)
    ERROR = NumberAttribute(null=True)
    WARNING = NumberAttribute(null=True)
    RUNNING = NumberAttribute(null=True)
    CANCELED = NumberAttribute(null=True)
    CANCELING = NumberAttribute(null=True)
    RETRIEVED = NumberAttribute(null=True)
    DOWNLOAD = NumberAttribute(null=True)
    SCHEDULED = NumberAttribute(null=True)
    CANCEL_REJECTED = NumberAttribute(null=True)
    DOWNLOADED = NumberAttribute(null=True)
    WAIT_FOR_CONFIRMATION = NumberAttribute(null=True)
    TIMEDOUT = NumberAttribute(null=True)  # a rollout group's open actions past the rollout's actionTimeout


class DistributionSetRolloutCounts(Model):
    """A distribution set's rollouts counted by status (`dsrollouts#<dsId>`), moved in the transactions that move
    its rollouts (store/rollouts.py): DS statistics/rollouts read one item. Attribute names are rollout statuses."""

    Meta = _meta("tenants")
    PREFIX = "dsrollouts#"
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    CREATING = NumberAttribute(null=True)
    READY = NumberAttribute(null=True)
    WAITING_FOR_APPROVAL = NumberAttribute(null=True)
    APPROVAL_DENIED = NumberAttribute(null=True)
    STARTING = NumberAttribute(null=True)
    RUNNING = NumberAttribute(null=True)
    PAUSED = NumberAttribute(null=True)
    STOPPING = NumberAttribute(null=True)
    STOPPED = NumberAttribute(null=True)
    FINISHED = NumberAttribute(null=True)
    DELETING = NumberAttribute(null=True)
    DELETED = NumberAttribute(null=True)


class User(Model):
    """A management user. Audit fields are absent on users created before they existed (rendered without)."""

    Meta = _meta("tenants")
    PREFIX = "user#"
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)  # "user#<name>"
    salt = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    iterations = NumberAttribute()  # PBKDF2-SHA256 rounds of this user's hash
    permissions = ListAttribute(of=UnicodeAttribute, default=list)  # held directly
    roles = ListAttribute(of=UnicodeAttribute, default=list)  # role names
    login_failures = NumberAttribute(null=True)  # failed logins since login_failures_since
    login_failures_since = NumberAttribute(null=True)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute(null=True)
    last_modified_at = NumberAttribute(null=True)
    last_modified_by = UnicodeAttribute(null=True)
    version = VersionAttribute()

    @property
    def username(self) -> str:
        return self.key[len(self.PREFIX) :]


class UserLogin(Model):
    """The same user item seen through what a login writes: failed-login counts and a re-hashed password.

    Version-less, like TargetPresence: a login must not make a concurrent change of the user retry, and its
    writes carry their own conditions (the item exists; the hash being replaced is still the stored one).
    """

    Meta = _meta("tenants")
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    salt = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    iterations = NumberAttribute(null=True)
    login_failures = NumberAttribute(null=True)
    login_failures_since = NumberAttribute(null=True)


class Role(Model):
    """A named set of permissions (`role#<name>`); `members` counts the users holding it."""

    Meta = _meta("tenants")
    PREFIX = "role#"
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    description = UnicodeAttribute(null=True)
    permissions = ListAttribute(of=UnicodeAttribute, default=list)
    members = NumberAttribute(default=0)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()

    @property
    def name(self) -> str:
        return self.key[len(self.PREFIX) :]


class SecurityTokenGuard(Model):
    """Claims a security token within its tenant for one target (`token#<sha256 of the token>`).

    Put (if absent) and deleted in the transactions that write and remove the target or change its token,
    so a token is unique per tenant without reading any index, and the device APIs without a tenant
    path find the device of a token in one GetItem (store/security_tokens.py).
    """

    Meta = _meta("tenants")
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    controller_id = UnicodeAttribute()


class PendingWork(Model):
    """A multi-step change in progress, in the reaper's work list (store.pending): due once abandoned."""

    Meta = _meta("tenants")
    tenant = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)  # "pending#<due ms, padded>#<kind>#<ref>"
    kind = UnicodeAttribute()
    ref = UnicodeAttribute()
    detail = JSONAttribute(null=True)
    created_at = NumberAttribute()


REGISTRY_TENANT = "#registry"


class TenantRegistration(Model):
    """One item per tenant under a fixed partition, so scheduled jobs can walk the tenants."""

    Meta = _meta("tenants")
    tenant = UnicodeAttribute(hash_key=True)  # always REGISTRY_TENANT
    key = UnicodeAttribute(range_key=True)  # the tenant name
    created_at = NumberAttribute()


# --- targets --------------------------------------------------------------------------------------
class AssignedDsIndex(GlobalSecondaryIndex):
    """Keys only: a full projection would rewrite the index on every last-seen write of the target."""

    class Meta:
        index_name = "assigned-ds"
        projection = KeysOnlyProjection()

    assigned_ds_key = UnicodeAttribute(hash_key=True)  # "tenant#dsId"
    controller_id = UnicodeAttribute(range_key=True)


class InstalledDsIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "installed-ds"
        projection = KeysOnlyProjection()

    installed_ds_key = UnicodeAttribute(hash_key=True)  # "tenant#dsId"
    controller_id = UnicodeAttribute(range_key=True)


class TargetTypeIndex(GlobalSecondaryIndex):
    """Sparse, keys only: the targets holding a type (`type_key` = "tenant#typeId"), so "is this type in use"
    is one Query of one key, whatever the tenant's size. It moves only when a target's type does."""

    class Meta:
        index_name = "by-type"
        projection = KeysOnlyProjection()

    type_key = UnicodeAttribute(hash_key=True)
    controller_id = UnicodeAttribute(range_key=True)


# The list orders of the targets (domain/targets.py ORDERS): keys only, `tenant#shard` ranges sorted by the
# order key. Keys only: an entry moves only when its order's own value does (docs/capacity.md, "Target lists").
class NameOrderIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-name"
        projection = KeysOnlyProjection()

    list_shard = UnicodeAttribute(hash_key=True)
    name_order = UnicodeAttribute(range_key=True)


class IdOrderIndex(GlobalSecondaryIndex):
    """controllerIds ignoring case: written once, with the target (a controllerId never changes)."""

    class Meta:
        index_name = "by-id"
        projection = KeysOnlyProjection()

    list_shard = UnicodeAttribute(hash_key=True)
    id_order = UnicodeAttribute(range_key=True)


class CreatedOrderIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-created"
        projection = KeysOnlyProjection()

    list_shard = UnicodeAttribute(hash_key=True)
    created_order = UnicodeAttribute(range_key=True)


class SeenOrderIndex(GlobalSecondaryIndex):
    """Also the overdue job's: a time range of it is the targets last seen in that range."""

    class Meta:
        index_name = "by-seen"
        projection = KeysOnlyProjection()

    list_shard = UnicodeAttribute(hash_key=True)
    seen_order = UnicodeAttribute(range_key=True)


class StatusOrderIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-status"
        projection = KeysOnlyProjection()

    list_shard = UnicodeAttribute(hash_key=True)
    status_order = UnicodeAttribute(range_key=True)


class Target(Model):
    """Everything an idle DDI poll needs is on this one item (docs/architecture.md, "Hot path")."""

    Meta = _meta("targets")
    tenant = UnicodeAttribute(hash_key=True)
    controller_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    security_token = UnicodeAttribute()
    update_status = UnicodeAttribute(default="UNKNOWN")  # TargetUpdateStatus name
    request_attributes = BooleanAttribute(default=True)
    attributes = JSONAttribute(default=dict)  # controller attributes from configData (str -> str)
    ip_address = UnicodeAttribute(null=True)
    target_type = NumberAttribute(null=True)
    assigned_ds = NumberAttribute(null=True)
    installed_ds = NumberAttribute(null=True)
    installed_at = NumberAttribute(null=True)
    installed_action_id = NumberAttribute(null=True)
    assigned_ds_key = UnicodeAttribute(null=True)
    installed_ds_key = UnicodeAttribute(null=True)
    last_request_at = NumberAttribute(null=True)  # coarse: written at most once a minute
    # Summary of the open actions: [{id, canceling, waiting, type, weight, forceTime, dsId, maintenanceWindow}];
    # `waiting` marks an action in WAIT_FOR_CONFIRMATION, so a poll links confirmationBase without reading it.
    active_actions = JSONAttribute(default=list)
    # Auto-confirmation while active: {initiator, remark, activatedAt, activatedBy}; absent when off.
    auto_confirm = JSONAttribute(null=True)
    action_count = NumberAttribute(default=0)
    # Target tag ids, absent when none: bounded by quotas.MAX_TAGS_PER_TARGET so the item every idle poll
    # reads stays within its 4 KB GetItem (ids, not names: a rename touches no target).
    tags = ListAttribute(of=NumberAttribute, null=True)
    # Set while the target is being deleted (its tombstone): the key of the deletion's work item
    # (store.pending). Every read treats the target as gone; the item goes last, after its actions and
    # device data, so a new target of the same controllerId can only appear once nothing of this one is left.
    deletion = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()

    # The list orders (domain/targets.py ORDERS, order_keys): written with the fields they order by.
    list_shard = UnicodeAttribute(null=True)  # "tenant#shard" of the order indexes, from the controllerId
    id_order = UnicodeAttribute(null=True)
    name_order = UnicodeAttribute(null=True)
    created_order = UnicodeAttribute(null=True)
    seen_order = UnicodeAttribute(null=True)
    status_order = UnicodeAttribute(null=True)
    type_key = UnicodeAttribute(null=True)  # "tenant#typeId" while the target has a type (by-type index)

    assigned_ds_index = AssignedDsIndex()
    installed_ds_index = InstalledDsIndex()
    id_index = IdOrderIndex()
    name_index = NameOrderIndex()
    created_index = CreatedOrderIndex()
    seen_index = SeenOrderIndex()
    status_index = StatusOrderIndex()
    type_index = TargetTypeIndex()


class TargetPresence(Model):
    """The same target item seen through its last-seen fields only.

    Last-seen writes must not bump the target's version (they would make every concurrent
    assignment or feedback retry), so they go through this version-less view of the item.
    """

    Meta = _meta("targets")
    tenant = UnicodeAttribute(hash_key=True)
    controller_id = UnicodeAttribute(range_key=True)
    last_request_at = NumberAttribute(null=True)
    ip_address = UnicodeAttribute(null=True)
    action_count = NumberAttribute(null=True)
    list_shard = UnicodeAttribute(null=True)
    seen_order = UnicodeAttribute(null=True)


class TargetMetadata(Model):
    """A target's metadata map, beside its target in the targets table but under the partition
    `<tenant>#metadata` (domain/targets.py TargetMetadata says why it is not on the target item): a Query of
    the tenant's targets never meets it, and it is in none of the targets' indexes."""

    Meta = _meta("targets")
    owner = UnicodeAttribute(hash_key=True, attr_name="tenant")
    controller_id = UnicodeAttribute(range_key=True)
    metadata: MapAttribute[str, Any] = MapAttribute(default=dict)  # key -> {"value": str}
    last_modified_at = NumberAttribute(null=True)
    last_modified_by = UnicodeAttribute(null=True)
    version = VersionAttribute()


class TargetTagMember(Model):
    """One tag on one target, under the partition `<tenant>#tag#<tagId>` of the targets table (store/tags.py
    TargetTagMembers): the target item lists its tag ids, which no index can key, so a tag's targets are a
    Query of this partition. Written in the transaction that changes the target's tags."""

    Meta = _meta("targets")
    owner = UnicodeAttribute(hash_key=True, attr_name="tenant")
    controller_id = UnicodeAttribute(range_key=True)


# --- actions and their status history ---------------------------------------------------------------
class ActionsByTenantIndex(GlobalSecondaryIndex):
    """The tenant's actions by id, keys only (completed with BatchGetItem), over INDEX_SHARDS key ranges."""

    class Meta:
        index_name = "by-tenant"
        projection = KeysOnlyProjection()

    tenant_shard = UnicodeAttribute(hash_key=True)
    action_id = NumberAttribute(range_key=True)


class ActionCleanupIndex(GlobalSecondaryIndex):
    """Sparse: closed actions carry `cleanup_key = tenant#STATUS#shard` and `closed_at`."""

    class Meta:
        index_name = "cleanup"
        projection = KeysOnlyProjection()

    cleanup_key = UnicodeAttribute(hash_key=True)
    closed_at = NumberAttribute(range_key=True)


class OpenActionsByDsIndex(GlobalSecondaryIndex):
    """Sparse: open actions carry `open_ds_key = tenant#dsId#shard` (domain/actions.py open_ds_key) until they
    close, so a set's open actions are found without the tenant's (an invalidation cancels them)."""

    class Meta:
        index_name = "open-by-ds"
        projection = KeysOnlyProjection()

    open_ds_key = UnicodeAttribute(hash_key=True)
    action_id = NumberAttribute(range_key=True)


class ActionTimeoutIndex(GlobalSecondaryIndex):
    """Sparse: open actions of a rollout with an actionTimeout carry `timeout_key = tenant#shard` and `timeout_at`
    until they time out or close, so the due ones are a range read (chalicelib/jobs/rollouts.py)."""

    class Meta:
        index_name = "timeout"
        projection = KeysOnlyProjection()

    timeout_key = UnicodeAttribute(hash_key=True)
    timeout_at = NumberAttribute(range_key=True)


class Action(Model):
    Meta = _meta("actions")
    target_key = UnicodeAttribute(hash_key=True)  # "tenant#controllerId"
    action_id = NumberAttribute(range_key=True)
    tenant = UnicodeAttribute()
    controller_id = UnicodeAttribute()
    ds_id = NumberAttribute()
    ds_name = UnicodeAttribute()
    ds_version = UnicodeAttribute()
    action_type = UnicodeAttribute()  # forced | soft | timeforced | downloadonly
    force_time = NumberAttribute(null=True)
    weight = NumberAttribute(null=True)
    status = UnicodeAttribute()  # Action.Status name, e.g. RUNNING
    active = BooleanAttribute()
    maintenance_window = JSONAttribute(null=True)  # {schedule, duration, timezone}
    last_status_code = NumberAttribute(null=True)
    status_seq = NumberAttribute(default=0)
    intermediate_count = NumberAttribute(default=0)  # quota: maxStatusEntriesPerAction
    server_entries = NumberAttribute(default=0)  # RETRIEVED / DOWNLOAD entries noted (bounded)
    latest_entry = UnicodeAttribute(null=True)  # status of the newest history entry
    rollout_id = NumberAttribute(null=True)
    rollout_group = NumberAttribute(null=True)  # the position of its rollout group
    rollout_name = UnicodeAttribute(null=True)
    timeout_key = UnicodeAttribute(null=True)
    timeout_at = NumberAttribute(null=True)
    timed_out = BooleanAttribute(null=True)
    external_ref = UnicodeAttribute(null=True)
    tenant_shard = UnicodeAttribute(null=True)  # "tenant#shard" of the by-tenant index
    cleanup_key = UnicodeAttribute(null=True)
    closed_at = NumberAttribute(null=True)
    open_ds_key = UnicodeAttribute(null=True)  # "tenant#dsId#shard" of the open-by-ds index, while open
    counted = BooleanAttribute(null=True)  # in its set's status counts (store/action_counts.py); absent: older
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()

    by_tenant = ActionsByTenantIndex()
    cleanup_index = ActionCleanupIndex()
    open_by_ds = OpenActionsByDsIndex()
    timeout_index = ActionTimeoutIndex()


class ActionStatusEntry(Model):
    Meta = _meta("action-status")
    action_key = UnicodeAttribute(hash_key=True)  # "tenant#actionId"
    status_id = NumberAttribute(range_key=True)
    status = UnicodeAttribute()
    messages = ListAttribute(of=UnicodeAttribute, default=list)
    reported_at = NumberAttribute()
    timestamp = NumberAttribute()
    code = NumberAttribute(null=True)


# --- software catalogue -------------------------------------------------------------------------------
class _CatalogItem(Model):
    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class SoftwareModuleType(_CatalogItem):
    Meta = _meta("catalog")
    PREFIX = "smtype#"
    id = NumberAttribute()
    key = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    colour = UnicodeAttribute(null=True)
    max_assignments = NumberAttribute(default=2147483647)
    deleted = BooleanAttribute(default=False)
    # Software modules of this type that still exist (soft-deleted ones too): > 0 -> delete is soft.
    used_by = NumberAttribute(default=0)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class SoftwareModule(_CatalogItem):
    Meta = _meta("catalog")
    PREFIX = "sm#"
    id = NumberAttribute()
    name = UnicodeAttribute()
    version_name = UnicodeAttribute(attr_name="swversion")
    type_key = UnicodeAttribute()
    type_id = NumberAttribute()
    type_name = UnicodeAttribute(null=True)  # denormalised: a type's name never changes (PUT has no name)
    description = UnicodeAttribute(null=True)
    vendor = UnicodeAttribute(null=True)
    encrypted = BooleanAttribute(default=False)
    locked = BooleanAttribute(default=False)
    deleted = BooleanAttribute(default=False)
    artifact_count = NumberAttribute(default=0)
    # Distribution sets listing this module: > 0 -> delete is soft (hawkBit keeps assigned modules).
    in_sets = NumberAttribute(default=0)
    # Set on a deleted module whose artifacts, bytes and item are being removed: the key of that purge's
    # work item (store.pending), so a retry or the reaper finishes it.
    purge = UnicodeAttribute(null=True)
    metadata: MapAttribute[str, Any] = MapAttribute(default=dict)  # key -> {"value": str, "targetVisible": bool}
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class Artifact(_CatalogItem):
    Meta = _meta("catalog")
    PREFIX = "art#"  # "art#<padded smId>#<padded artifactId>"
    id = NumberAttribute()
    sm_id = NumberAttribute()
    filename = UnicodeAttribute()
    size = NumberAttribute()
    md5 = UnicodeAttribute()
    sha1 = UnicodeAttribute()
    sha256 = UnicodeAttribute()
    s3_key = UnicodeAttribute()
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()


class DistributionSetType(_CatalogItem):
    Meta = _meta("catalog")
    PREFIX = "dstype#"
    id = NumberAttribute()
    key = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    colour = UnicodeAttribute(null=True)
    mandatory = ListAttribute(of=NumberAttribute, default=list)  # software module type ids
    optional = ListAttribute(of=NumberAttribute, default=list)
    deleted = BooleanAttribute(default=False)
    # Distribution sets of this type that still exist: > 0 -> module types are read-only, delete is soft.
    used_by = NumberAttribute(default=0)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class DistributionSet(_CatalogItem):
    Meta = _meta("catalog")
    PREFIX = "ds#"
    id = NumberAttribute()
    name = UnicodeAttribute()
    version_name = UnicodeAttribute(attr_name="dsversion")
    type_key = UnicodeAttribute()
    type_id = NumberAttribute()
    type_name = UnicodeAttribute(null=True)  # denormalised like SoftwareModule.type_name
    description = UnicodeAttribute(null=True)
    modules = ListAttribute(of=NumberAttribute, default=list)  # software module ids
    complete = BooleanAttribute(default=False)  # every mandatory module type present; kept on module changes
    required_migration_step = BooleanAttribute(default=False)
    locked = BooleanAttribute(default=False)
    deleted = BooleanAttribute(default=False)
    valid = BooleanAttribute(default=True)
    metadata: MapAttribute[str, Any] = MapAttribute(default=dict)
    tags = ListAttribute(of=NumberAttribute, null=True)  # distribution set tag ids (chalicelib/domain/tags.py)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class _Tag(_CatalogItem):
    id = NumberAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    colour = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class TargetTag(_Tag):
    Meta = _meta("catalog")
    PREFIX = "ttag#"


class DistributionSetTag(_Tag):
    Meta = _meta("catalog")
    PREFIX = "dstag#"


class TargetType(_CatalogItem):
    Meta = _meta("catalog")
    PREFIX = "ttype#"
    id = NumberAttribute()
    key = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    colour = UnicodeAttribute(null=True)
    compatible = ListAttribute(of=NumberAttribute, default=list)  # distribution set type ids
    deleted = BooleanAttribute(default=False)  # never set: lists of catalogue kinds filter on it
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class TargetFilterQuery(_CatalogItem):
    """A saved target filter (`tfq#<padded id>`); the auto_assign_* fields while it auto-assigns a set."""

    Meta = _meta("catalog")
    PREFIX = "tfq#"
    id = NumberAttribute()
    name = UnicodeAttribute()
    query_text = UnicodeAttribute(attr_name="query")  # (`query` is the model's Query method)
    auto_assign_ds = NumberAttribute(null=True)
    auto_assign_type = UnicodeAttribute(null=True)
    auto_assign_weight = NumberAttribute(null=True)
    confirmation_required = BooleanAttribute(null=True)
    auto_assign_initiated_by = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class AutoAssignment(_CatalogItem):
    """An auto-assigning filter's evaluation copy (`autoassign#<padded filter id>`), written in the transactions
    that change the filter: what evaluates a target Queries these only (chalicelib/domain/target_filters.py)."""

    Meta = _meta("catalog")
    PREFIX = "autoassign#"
    id = NumberAttribute()
    name = UnicodeAttribute()
    query_text = UnicodeAttribute(attr_name="query")
    ds_id = NumberAttribute()
    action_type = UnicodeAttribute()
    weight = NumberAttribute()
    confirmation_required = BooleanAttribute()
    initiated_by = UnicodeAttribute()


class Rollout(_CatalogItem):
    """A rollout (`rollout#<id:020>`, chalicelib/domain/rollouts.py); its groups are RolloutGroup items."""

    Meta = _meta("catalog")
    PREFIX = "rollout#"
    id = NumberAttribute()
    name = UnicodeAttribute()
    target_filter_query = UnicodeAttribute()
    ds_id = NumberAttribute()
    status = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    action_type = UnicodeAttribute()
    force_time = NumberAttribute(null=True)
    start_at = NumberAttribute(null=True)
    weight = NumberAttribute(null=True)
    dynamic = BooleanAttribute(default=False)
    dynamic_group_suffix = UnicodeAttribute(null=True)
    dynamic_group_size = NumberAttribute(null=True)
    dynamic_after = UnicodeAttribute(null=True)
    dynamic_checked_at = NumberAttribute(null=True)
    total_targets = NumberAttribute(default=0)
    total_groups = NumberAttribute(default=0)
    deleted = BooleanAttribute(default=False)
    approval_remark = UnicodeAttribute(null=True)
    approval_decided_by = UnicodeAttribute(null=True)
    approval_needed = BooleanAttribute(default=False)
    status_message = UnicodeAttribute(null=True)
    chain_status = UnicodeAttribute(null=True)
    chain_until = NumberAttribute(null=True)
    max_per_minute = NumberAttribute(null=True)
    base_per_minute = NumberAttribute(null=True)
    increment_factor = NumberAttribute(null=True)
    increase_every = NumberAttribute(null=True)
    increase_on = UnicodeAttribute(null=True)
    action_timeout_ms = NumberAttribute(null=True)
    running_since = NumberAttribute(null=True)
    rate_window = NumberAttribute(null=True)
    rate_window_started = NumberAttribute(default=0)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class RolloutGroup(_CatalogItem):
    """A rollout's group (`rgroup#<rolloutId:020>#<position:06>`)."""

    Meta = _meta("catalog")
    id = NumberAttribute()
    rollout_id = NumberAttribute()
    position = NumberAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    target_filter_query = UnicodeAttribute(default="")
    target_percentage = NumberAttribute(default=100.0)
    dynamic = BooleanAttribute(default=False)
    confirmation_required = BooleanAttribute(default=False)
    success_condition = UnicodeAttribute()
    success_expression = UnicodeAttribute()
    success_action = UnicodeAttribute()
    success_action_expression = UnicodeAttribute(null=True)
    error_condition = UnicodeAttribute(null=True)
    error_expression = UnicodeAttribute(null=True)
    error_action = UnicodeAttribute(null=True)
    error_action_expression = UnicodeAttribute(null=True)
    total_targets = NumberAttribute(default=0)
    activated_through = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class RolloutInProgress(_CatalogItem):
    """Present (`rolloutrun#<id:020>`) while a rollout has work the scheduled check must not miss (creating,
    starting, running, stopping, deleting, or waiting for its startAt): the safety net reads these, not every
    rollout the tenant ever had. Written in the transactions that move the rollout in and out of those states."""

    Meta = _meta("catalog")
    PREFIX = "rolloutrun#"
    rollout_id = NumberAttribute()


class RolloutMember(Model):
    """A target of a rollout group, under the partition `<tenant>#rollout#<rolloutId>#<position:06>` of the
    targets table, written while the rollout is created; `action_id` once the group's start created the target's
    action (the condition that makes a start run twice create one action)."""

    Meta = _meta("targets")
    owner = UnicodeAttribute(hash_key=True, attr_name="tenant")
    controller_id = UnicodeAttribute(range_key=True)
    action_id = NumberAttribute(null=True)


class UniqueKey(_CatalogItem):
    """Guards a natural key (`uniq#<kind>#<value>`) inside the creating transaction: duplicates -> 409."""

    Meta = _meta("catalog")
    PREFIX = "uniq#"
    owner_id = NumberAttribute()


class DeploymentSnapshotPage(_CatalogItem):
    """What devices get for a distribution set (the deployment chunks), written once when the set is first
    assigned: a locked set cannot change. Split in pages (`snap#<dsId>#<page>`), each far below an item's
    400 KB, since a set holding hawkBit's maximum of modules and artifacts is larger than one item."""

    Meta = _meta("catalog")
    PREFIX = "snap#"
    pages = NumberAttribute()  # how many pages the snapshot has
    body = UnicodeAttribute()  # this page's part of the JSON document


CORE_MODELS = (TenantConfigValue, Target, Action, ActionStatusEntry, SoftwareModule)


def _register_entities() -> None:
    from chalicelib.domain import actions, targets, tenant_keys, users
    from chalicelib.store import records

    records.register(
        targets.Target, Target, lambda target, values: targets.derived_keys(target.tenant, target.controller_id, values)
    )
    records.register(targets.TargetMetadata, TargetMetadata)
    records.register(actions.Action, Action)
    records.register(actions.ActionStatusEntry, ActionStatusEntry)
    from chalicelib.domain import catalog_entities as catalog

    records.register(catalog.SoftwareModuleType, SoftwareModuleType)
    records.register(catalog.SoftwareModule, SoftwareModule)
    records.register(catalog.Artifact, Artifact)
    records.register(catalog.DistributionSetType, DistributionSetType)
    records.register(catalog.DistributionSet, DistributionSet)
    records.register(users.User, User)
    from chalicelib.domain import tags

    records.register(tags.TargetTag, TargetTag)
    records.register(tags.DistributionSetTag, DistributionSetTag)
    records.register(catalog.TargetType, TargetType)
    records.register(users.Role, Role)
    from chalicelib.domain import target_filters

    records.register(target_filters.TargetFilter, TargetFilterQuery)
    records.register(target_filters.AutoAssignment, AutoAssignment)
    from chalicelib.domain import rollouts

    records.register(rollouts.Rollout, Rollout)
    records.register(rollouts.RolloutGroup, RolloutGroup)
    records.register(tenant_keys.StoredValue, TenantConfigValue)


_register_entities()
