"""Which changes announce which service integration events, and what their detail says (pure domain rules,
docs/integration-events.md)."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from chalicelib.domain import changes as entity_changes
from chalicelib.domain import config_model, integration_events
from chalicelib.domain import workflow as wf
from chalicelib.domain.actions import Action, ActionStatusEntry
from chalicelib.domain.catalog_entities import DistributionSet, SoftwareModule
from chalicelib.domain.rollouts import Rollout, RolloutGroup
from chalicelib.domain.targets import Target
from chalicelib.domain.workflow_instances import new_instance, progressed


@dataclasses.dataclass(frozen=True)
class Change:
    kind: str
    event: str
    tenant: str
    old: Any
    new: Any
    sequence: str = "100"
    at_ms: int = 1_700_000_000_000


def announced(kind: str, old: Any, new: Any, sequence: str = "100") -> list[tuple[str, list[str] | None]]:
    event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    found = integration_events.events_of(Change(kind, event, "T", old, new, sequence))
    return [(e.detail_type, e.detail.get("changed")) for e in found]


def target(**fields: Any) -> Target:
    return Target(tenant="T", controller_id="dev-1", name="dev-1", security_token="s3cret-token",
                  created_at=1, created_by="op", last_modified_at=1, last_modified_by="op", version=1, **fields)


def change(entity: Any, **fields: Any) -> Any:
    return dataclasses.replace(entity, **fields)


# --- targets --------------------------------------------------------------------------------------------------
def test_a_new_target_is_created_and_a_new_polling_target_also_polled():
    assert announced("target", None, target()) == [("TargetCreatedEvent", None)]
    assert announced("target", None, target(last_request_at=5)) == [
        ("TargetCreatedEvent", None), ("TargetPollEvent", ["lastControllerRequestAt"])]


def test_bookkeeping_alone_announces_nothing():
    before = target()
    after = change(before, action_count=3, version=2, last_modified_at=99, last_modified_by="device",
                   active_actions=[{"id": 1}], assigned_ds_key="T#1", installed_action_id=7)
    assert announced("target", before, after) == []


def test_a_coarse_poll_is_a_poll_event_and_other_fields_an_update_next_to_it():
    before = target(last_request_at=1)
    assert announced("target", before, change(before, last_request_at=60_001)) == [
        ("TargetPollEvent", ["lastControllerRequestAt"])]
    assert announced("target", before, change(before, last_request_at=60_001, update_status="PENDING",
                                              assigned_ds=4)) == [
        ("TargetPollEvent", ["lastControllerRequestAt"]), ("TargetUpdatedEvent", ["assignedDS", "updateStatus"])]


def test_a_deletion_is_announced_at_the_tombstone_and_not_again_at_the_removal():
    live = target()
    tombstone = change(live, deletion="work#1")
    assert announced("target", live, tombstone) == [("TargetDeletedEvent", None)]
    assert announced("target", tombstone, change(tombstone, version=3)) == []
    assert announced("target", tombstone, None) == []
    assert announced("target", live, None) == [("TargetDeletedEvent", None)]  # removed without a tombstone


def test_the_target_detail_reads_like_the_rest_representation_without_the_token():
    [event] = integration_events.events_of(Change("target", "INSERT", "T", None, target(
        description="lab", attributes={"hw": "v2"}, target_type=3), "4200"))
    assert event.detail_type == "TargetCreatedEvent" and event.event_id == "4200:TargetCreatedEvent"
    assert event.detail == {
        "eventId": "4200:TargetCreatedEvent", "sequence": "4200", "tenant": "T", "eventTime": 1_700_000_000_000,
        "createdBy": "op", "createdAt": 1, "lastModifiedBy": "op", "lastModifiedAt": 1, "controllerId": "dev-1",
        "name": "dev-1", "description": "lab", "updateStatus": "unknown", "requestAttributes": True,
        "targetType": 3, "autoConfirmActive": False, "attributes": {"hw": "v2"}, "tags": []}
    entry = event.entry()
    assert (entry["Source"], entry["DetailType"]) == ("skyhawk", "TargetCreatedEvent")
    assert json.loads(entry["Detail"]) == event.detail and "s3cret" not in entry["Detail"]
    assert entry["Time"].timestamp() == 1_700_000_000


def test_the_same_change_always_gives_the_same_event_ids():
    first = integration_events.events_of(Change("target", "INSERT", "T", None, target(last_request_at=5), "77"))
    again = integration_events.events_of(Change("target", "INSERT", "T", None, target(last_request_at=5), "77"))
    assert [e.event_id for e in first] == [e.event_id for e in again] == [
        "77:TargetCreatedEvent", "77:TargetPollEvent"]


def test_an_oversized_detail_keeps_its_envelope_and_ids():
    big = target(attributes={f"k{i}": "v" * 100 for i in range(100)})
    [event] = integration_events.events_of(Change("target", "INSERT", "T", None, big, "9"))
    assert json.loads(event.entry(1000)["Detail"]) == {
        "eventId": "9:TargetCreatedEvent", "sequence": "9", "tenant": "T", "eventTime": 1_700_000_000_000,
        "controllerId": "dev-1", "truncated": True}
    assert "truncated" not in json.loads(event.entry(256 * 1024)["Detail"])


# --- actions and their history --------------------------------------------------------------------------------
def action(**fields: Any) -> Action:
    return Action(target_key="T#dev-1", action_id=7, tenant="T", controller_id="dev-1", ds_id=4, ds_name="os",
                  ds_version="1.0", created_at=1, created_by="op", last_modified_at=1, last_modified_by="op",
                  **fields)


def test_an_action_is_updated_when_its_status_changes_not_when_its_history_grows():
    running = action()
    assert announced("action", None, running) == [("ActionCreatedEvent", None)]
    assert announced("action", running, change(running, status_seq=3, latest_entry="DOWNLOAD",
                                                 intermediate_count=2, server_entries=1, last_status_code=200)) == []
    closed = change(running, status="FINISHED", active=False, closed_at=9, cleanup_key="T#FINISHED#7")
    assert announced("action", running, closed) == [("ActionUpdatedEvent", ["active", "detailStatus", "status"])]
    assert announced("action", closed, None) == []  # the cleanup's removal


def test_a_new_history_entry_is_an_action_status_event():
    entry = ActionStatusEntry(action_key="T#7", status_id=7 << 20 | 3, status="DOWNLOAD", messages=["fetching"],
                              reported_at=5, timestamp=6, code=200)
    [event] = integration_events.events_of(Change("action_status", "INSERT", "T", None, entry))
    assert event.detail_type == "ActionStatusUpdateEvent"
    assert {k: event.detail[k] for k in ("id", "actionId", "type", "messages", "reportedAt", "timestamp",
                                         "code")} == {"id": 7 << 20 | 3, "actionId": 7, "type": "download",
                                                      "messages": ["fetching"], "reportedAt": 5, "timestamp": 6,
                                                      "code": 200}
    assert announced("action_status", entry, None) == []


# --- the catalog ----------------------------------------------------------------------------------------------
def module(**fields: Any) -> SoftwareModule:
    return SoftwareModule(tenant="T", sk="sm#1", id=1, created_at=1, created_by="op", last_modified_at=1,
                          last_modified_by="op", name="os", version_name="1.0", type_key="os", type_id=1, **fields)


def test_a_module_is_updated_when_visible_fields_change_and_deleted_when_marked_or_removed():
    sm = module()
    assert announced("software_module", None, sm) == [("SoftwareModuleCreatedEvent", None)]
    assert announced("software_module", sm, change(sm, artifact_count=1, in_sets=2, version=5)) == []
    assert announced("software_module", sm, change(sm, locked=True)) == [("SoftwareModuleUpdatedEvent", ["locked"])]
    deleted = change(sm, deleted=True)
    assert announced("software_module", sm, deleted) == [("SoftwareModuleDeletedEvent", None)]
    assert announced("software_module", deleted, None) == []
    assert announced("software_module", sm, None) == [("SoftwareModuleDeletedEvent", None)]


def test_a_distribution_set_lists_its_modules_by_id():
    ds = DistributionSet(tenant="T", sk="ds#4", id=4, created_at=1, created_by="op", last_modified_at=1,
                         last_modified_by="op", name="os-DS", version_name="1.0", type_key="os", type_id=2,
                         modules=[1], complete=True)
    [event] = integration_events.events_of(Change("distribution_set", "INSERT", "T", None, ds))
    assert (event.detail_type, event.detail["modules"], event.detail["complete"]) == (
        "DistributionSetCreatedEvent", [1], True)
    assert announced("distribution_set", ds, change(ds, modules=[1, 2])) == [
        ("DistributionSetUpdatedEvent", ["modules"])]


# --- rollouts -------------------------------------------------------------------------------------------------
def test_a_rollout_announces_its_state_changes_not_its_progress_bookkeeping():
    rollout = Rollout(tenant="T", sk="rollout#1", id=1, name="r", target_filter_query="id==*", ds_id=4)
    assert announced("rollout", None, rollout) == [("RolloutCreatedEvent", None)]
    assert announced("rollout", rollout, change(rollout, total_targets=50, chain_status="CREATING",
                                                  chain_until=5, rate_window=2)) == []
    ready = change(rollout, status="READY", total_targets=50, total_groups=2)
    assert announced("rollout", rollout, ready) == [("RolloutUpdatedEvent", ["status", "totalGroups",
                                                                            "totalTargets"])]
    assert announced("rollout", ready, change(ready, status="DELETED", deleted=True)) == [
        ("RolloutDeletedEvent", None)]


def test_a_rollout_group_announces_its_status():
    group = RolloutGroup(tenant="T", sk="rgroup#1#0", id=11, rollout_id=1, position=0, name="g1")
    assert announced("rollout_group", None, group) == [("RolloutGroupCreatedEvent", None)]
    assert announced("rollout_group", group, change(group, activated_through="dev-9", total_targets=3)) == []
    assert announced("rollout_group", group, change(group, status="RUNNING")) == [
        ("RolloutGroupUpdatedEvent", ["status"])]
    assert announced("rollout_group", group, None) == [("RolloutGroupDeletedEvent", None)]


# --- configuration tasks --------------------------------------------------------------------------------------
def test_a_configuration_task_announces_its_state_and_other_workflows_nothing():
    model = config_model.MODEL
    created = new_instance("T", "i-1", "dev-1", model, wf.start(model, 1000), {"files": []}, "op", 1000)
    [event] = integration_events.events_of(Change("config_task", "INSERT", "T", None, created))
    assert event.detail_type == "ConfigurationTaskCreatedEvent"
    assert (event.detail["id"], event.detail["deviceId"], event.detail["currentState"]["state"]) == (
        "i-1", "dev-1", "CREATED")
    assert event.detail["createdAt"] == "1970-01-01T00:00:01.000Z"
    next_state = next(t.target for t in model.transitions if t.source == "CREATED")
    progress = wf.apply(model, created.progress, wf.StatusUpdate(next_state), wf.Actor.BACKEND, 2000)
    moved = entity_changes.applied(created, progressed(created, model, progress))
    assert announced("config_task", created, moved) == [("ConfigurationTaskUpdatedEvent", ["currentState"])]
    assert announced("config_task", moved, None) == [("ConfigurationTaskDeletedEvent", None)]
    other = wf.WorkflowModel.parse({"key": "loop", "states": [{"name": "A", "initial": True}, {"name": "B"}],
                                    "transitions": [{"from": "A", "to": "B", "type": "BACKEND_TRIGGER"}]})
    assert announced("config_task", None, new_instance("T", "i-2", "dev-1", other, wf.start(other, 1), None,
                                                       "op", 1)) == []


def test_the_catalogue_lists_every_event_name():
    assert set(integration_events.DETAIL_TYPES) == {
        "TargetCreatedEvent", "TargetUpdatedEvent", "TargetDeletedEvent", "TargetPollEvent", "ActionCreatedEvent",
        "ActionUpdatedEvent", "ActionStatusUpdateEvent", "SoftwareModuleCreatedEvent", "SoftwareModuleUpdatedEvent",
        "SoftwareModuleDeletedEvent", "DistributionSetCreatedEvent", "DistributionSetUpdatedEvent",
        "DistributionSetDeletedEvent", "RolloutCreatedEvent", "RolloutUpdatedEvent", "RolloutDeletedEvent",
        "RolloutGroupCreatedEvent", "RolloutGroupUpdatedEvent", "RolloutGroupDeletedEvent",
        "ConfigurationTaskCreatedEvent", "ConfigurationTaskUpdatedEvent", "ConfigurationTaskDeletedEvent"}
