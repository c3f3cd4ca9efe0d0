"""Tables of the Device Configuration and Deployment Workflow APIs (docs/architecture.md, "Tables and indexes").

- `config-files` (tenant / sk): a file (`file#<id>`), the guard of its unique path (`path#<path>`,
  which doubles as the pathPrefix index: a Query on `begins_with(path#<prefix>)`), and the reference
  count of a content-addressed blob (`blob#<sha256>`), so deleting one file never deletes bytes that
  another file's revision shares.
- `config-revisions` (`tenant#fileId` / hash): revision metadata; bytes live in S3 at
  `{tenant}/config-files/{sha256}`.
- `workflow` (tenant / sk): models (`model#<key>`) and instances (`inst#<id>`). Instance ids are
  time-ordered UUIDs (version 7), so `sk` order is creation order and every list index ranges on it.
  Indexes: by device (`tenant#deviceId`, sk), by device + group (`tenant#deviceId`, `group#id`: the
  device poll), by model (`tenant#modelKey`, sk), and the sparse retention index (`expiry_key`,
  `created_at`) that only configuration tasks carry, so the retention job reads only what is due. Its
  keys never change after creation, so device updates never write to it.
  List indexes project the few attributes their filters need; pages are then read by BatchGetItem.
  JSON attributes are stored compact and as UTF-8 (PynamoDB's JSONAttribute \\u-escapes: 12 bytes an
  emoji), the form whose size domain.workflow bounds.
- `device-configuration` (`tenant#deviceId` / path): the device's actual configuration, newest per path.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.domain import config_files, device_configuration, workflow_instances
from chalicelib.store import records
from chalicelib.store.tables import _meta


class Utf8JSONAttribute(JSONAttribute):
    """JSON as compact UTF-8 text; reads both this and JSONAttribute's escaped form. NaN and Infinity are
    not JSON: writing them fails rather than storing what no client could parse back."""

    def serialize(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# --- configuration files -------------------------------------------------------------------------------
class ConfigFile(Model):
    Meta = _meta("config-files")
    PREFIX = config_files.FILE_PREFIX
    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    file_id = UnicodeAttribute()
    path = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    head = UnicodeAttribute(null=True)  # sha256 of the head revision
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    last_modified_at = NumberAttribute()
    last_modified_by = UnicodeAttribute()
    version = VersionAttribute()


class ConfigFilePath(Model):
    """Unique-path guard; its sort key is the path index."""

    Meta = _meta("config-files")
    PREFIX = "path#"
    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    file_id = UnicodeAttribute()


class ConfigBlob(Model):
    """How many revisions (file, hash) of the tenant use the bytes at `{tenant}/config-files/{sha256}`."""

    Meta = _meta("config-files")
    PREFIX = "blob#"
    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    refs = NumberAttribute(default=0)


class ConfigRevision(Model):
    Meta = _meta("config-revisions")
    file_key = UnicodeAttribute(hash_key=True)  # "tenant#fileId"
    hash = UnicodeAttribute(range_key=True)  # sha256 hex of the content
    file_id = UnicodeAttribute()
    content_length = NumberAttribute()
    content_type = UnicodeAttribute()
    sha1 = UnicodeAttribute()
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()


# --- workflow models and instances ---------------------------------------------------------------------
class InstancesByDevice(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-device"
        projection = IncludeProjection(["model_key", "current_state", "group_name", "device_visible"])

    device_key = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class InstancesByDeviceGroup(GlobalSecondaryIndex):
    """The device poll: open instances of one device, in creation order, with the file refs they grant."""

    class Meta:
        index_name = "by-device-group"
        projection = IncludeProjection(["model_key", "current_state", "device_visible", "file_refs"])

    device_key = UnicodeAttribute(hash_key=True)
    device_group_key = UnicodeAttribute(range_key=True)


class InstancesByModel(GlobalSecondaryIndex):
    class Meta:
        index_name = "by-model"
        projection = IncludeProjection(["current_state", "group_name", "device_visible"])

    model_index_key = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class InstancesDueForRetention(GlobalSecondaryIndex):
    """Sparse: only configuration tasks carry `expiry_key` (= tenant), from their creation on."""

    class Meta:
        index_name = "retention-due"
        projection = KeysOnlyProjection()

    expiry_key = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class WorkflowInstance(Model):
    Meta = _meta("workflow")
    PREFIX = workflow_instances.INSTANCE_PREFIX
    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    instance_id = UnicodeAttribute()
    device_id = UnicodeAttribute()
    device_key = UnicodeAttribute()  # "tenant#deviceId"
    device_group_key = UnicodeAttribute()  # "<group or empty>#<instance id>"
    model_key = UnicodeAttribute()
    model_index_key = UnicodeAttribute()  # "tenant#modelKey"
    # The instance's own model when it differs from the registered one (custom transitions, user models).
    model_json = Utf8JSONAttribute(null=True)
    data = Utf8JSONAttribute(null=True)
    current_state = UnicodeAttribute()
    group_name = UnicodeAttribute(null=True)
    current = Utf8JSONAttribute()
    history = Utf8JSONAttribute()
    device_visible = BooleanAttribute(default=True)
    # Configuration tasks: the DCS revisions the device may download while the task is open
    # ("<fileId>/<hash>", plus "<fileId>/head" for head URIs), and the files resolved at creation.
    file_refs = ListAttribute(of=UnicodeAttribute, null=True)
    resolved_files = Utf8JSONAttribute(null=True)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    expiry_key = UnicodeAttribute(null=True)
    version = VersionAttribute()

    by_device = InstancesByDevice()
    by_device_group = InstancesByDeviceGroup()
    by_model = InstancesByModel()
    retention_due = InstancesDueForRetention()


class WorkflowModelItem(Model):
    Meta = _meta("workflow")
    PREFIX = workflow_instances.MODEL_PREFIX
    tenant = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    key = UnicodeAttribute()
    definition = Utf8JSONAttribute()
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()


# --- the device's actual configuration -------------------------------------------------------------------
class DeviceConfigurationEntry(Model):
    Meta = _meta("device-configuration")
    device_key = UnicodeAttribute(hash_key=True)  # "tenant#deviceId"
    path = UnicodeAttribute(range_key=True)
    file_id = UnicodeAttribute(null=True)
    hash = UnicodeAttribute(null=True)
    checksum = UnicodeAttribute(null=True)
    uri = UnicodeAttribute()
    task_id = UnicodeAttribute()
    configured_at = NumberAttribute()
    # DCS files: their content is the configuring task's copy (services.config_files.copy_task_files).
    content_type = UnicodeAttribute(null=True)
    content_length = NumberAttribute(null=True)


TABLE_MODELS = (ConfigFile, ConfigRevision, WorkflowInstance, DeviceConfigurationEntry)

records.register(config_files.ConfigFile, ConfigFile)
records.register(config_files.ConfigRevision, ConfigRevision)
records.register(workflow_instances.RegisteredModel, WorkflowModelItem)
records.register(workflow_instances.WorkflowInstance, WorkflowInstance)
records.register(device_configuration.ConfiguredFile, DeviceConfigurationEntry)
