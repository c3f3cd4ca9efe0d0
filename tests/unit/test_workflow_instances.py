"""What a state change writes on a workflow instance, and what a CONFIGURED task records (pure domain functions)."""
from __future__ import annotations

from chalicelib.domain import changes, config_model
from chalicelib.domain import workflow as wf
from chalicelib.domain.config_files import ConfigFile, head_moved, head_unchanged
from chalicelib.domain.device_configuration import configured_files, replacing
from chalicelib.domain.workflow import Actor, StatusUpdate
from chalicelib.domain.workflow_instances import becomes_configured, new_instance, progressed

MODEL = config_model.MODEL
FILES = [{"name": "app", "path": "/etc/app.json", "uri": "https://dcs/x", "checksum": "sha256:ab", "fileId": "f-1",
          "hash": "ab", "contentType": "application/json", "contentLength": 7},
         {"name": "ext", "path": "ext", "uri": "https://x.example/ext", "checksum": None, "fileId": None, "hash": None}]


def step(instance, state, actor, now):
    """The engine's next progress for `instance`, and the change that writes it."""
    progress = wf.apply(instance.model, instance.progress, StatusUpdate(state), actor, now)
    return progress, progressed(instance, instance.model, progress)


def task(now=1000):
    return new_instance("T", "i-1", "dev-1", MODEL, wf.start(MODEL, now), {"files": []}, "op", now,
                        file_refs=["f-1/ab"], resolved_files=FILES)


def test_a_new_task_starts_in_the_initial_state_and_joins_the_retention_index():
    created = task()
    assert (created.sk, created.device_key, created.model_index_key) == ("inst#i-1", "T#dev-1", f"T#{MODEL.key}")
    assert created.current_state == "CREATED" and created.group_name is None
    assert created.device_group_key == "#i-1" and created.device_visible is False
    assert created.expiry_key == "T" and created.model_json is None and created.is_task


def test_an_instance_of_another_model_keeps_its_model_and_stays_out_of_the_retention_index():
    model = wf.WorkflowModel.parse({"key": "loop", "states": [{"name": "A", "initial": True}, {"name": "B"}],
                                    "transitions": [{"from": "A", "to": "B", "type": "BACKEND_TRIGGER"}]})
    created = new_instance("T", "i-2", "dev-1", model, wf.start(model, 1), None, "op", 1)
    assert created.model == model and created.model_json == model.to_json()
    assert created.expiry_key is None and created.data == {} and not created.is_task


def test_each_state_change_moves_the_index_keys_with_the_state():
    created = task()
    progress, change = step(created, "CONFIGURE", Actor.BACKEND, 1001)
    released = changes.applied(created, change)
    assert (released.current_state, released.group_name, released.device_group_key) == ("CONFIGURE", "OPEN",
                                                                                         "OPEN#i-1")
    assert released.device_visible is True and "expiry_key" not in change  # joined the index once, at creation
    assert (released.progress.current, released.progress.history) == (progress.current, progress.history)
    assert not becomes_configured(created, progress)
    progress, change = step(released, "CONFIGURING", Actor.DEVICE, 1002)
    configuring = changes.applied(released, change)
    progress, change = step(configuring, "CONFIGURED", Actor.DEVICE, 1003)
    assert becomes_configured(configuring, progress)
    done = changes.applied(configuring, change)
    assert (done.current_state, done.group_name, done.device_group_key) == ("CONFIGURED", "CLOSED", "CLOSED#i-1")
    assert done.is_final()
    assert [h["state"] for h in done.history] == ["CREATED", "CONFIGURE", "CONFIGURING", "CONFIGURED"]


def test_a_state_without_group_removes_the_group():
    released = changes.applied(task(), step(task(), "CONFIGURE", Actor.BACKEND, 1001)[1])
    model = wf.WorkflowModel.parse({"key": "m", "states": [{"name": "A", "initial": True}]})
    assert progressed(released, model, wf.start(model, 2))["group_name"] is changes.REMOVE


def test_a_configured_task_records_one_entry_per_path():
    entries = configured_files(task(), 2000)
    assert [(e.device_key, e.path, e.file_id, e.hash, e.task_id, e.configured_at) for e in entries] == [
        ("T#dev-1", "/etc/app.json", "f-1", "ab", "i-1", 2000), ("T#dev-1", "ext", None, None, "i-1", 2000)]
    assert (entries[0].content_type, entries[0].content_length) == ("application/json", 7)
    assert replacing(None) == changes.Missing("path")
    assert replacing(entries[0]) == changes.eq("task_id", "i-1")


def test_moving_a_head_checks_the_head_read_only_when_asked():
    file = ConfigFile.new("T", "f-1", "/a", None, "op", 1)
    assert head_moved("cd", "op2", 5) == {"head": "cd", "last_modified_at": 5, "last_modified_by": "op2"}
    assert head_unchanged(file, checked=False) == changes.Exists("sk")
    assert head_unchanged(file, checked=True) == changes.Exists("sk") & changes.Missing("head")
    moved = changes.applied(file, head_moved("cd", "op2", 5))
    assert head_unchanged(moved, checked=True) == changes.Exists("sk") & changes.eq("head", "cd")
