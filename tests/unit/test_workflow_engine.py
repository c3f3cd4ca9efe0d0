"""The workflow engine (pure): models as data, transitions by trigger type, in-place progress, limits, history."""
from __future__ import annotations

import pytest

from chalicelib.domain import config_model
from chalicelib.domain import workflow as wf
from chalicelib.domain.dcs_paging import PageRequest
from chalicelib.domain.workflow import Actor, StatusUpdate

MODEL = config_model.MODEL
DEVICE, OPERATOR = Actor.DEVICE, Actor.BACKEND


def run(*steps, model=MODEL, start=1000):
    """Start an instance and apply (state, actor[, extra]) steps one ms apart."""
    progress = wf.start(model, start)
    now = start
    for step in steps:
        state, actor, *extra = step
        now += 1
        progress = wf.apply(model, progress, StatusUpdate.parse({"state": state, **(extra[0] if extra else {})}),
                            actor, now)
    return progress


def test_built_in_configuration_model_matches_the_reference():
    # Given the built-in model / Then its states, groups and trigger types are those of its table
    # (chalicelib/domain/config_model.py; docs/architecture.md, "Workflow engine")
    assert MODEL.key == "mdsp-core-configurationDeployment"
    assert MODEL.initial.name == "CREATED"
    assert [s.name for s in MODEL.states if s.final] == ["CONFIGURED", "FAILED", "CANCELED"]
    assert MODEL.group_of("CONFIGURE") == "OPEN" and MODEL.group_of("CONFIGURING") == "OPEN"
    assert MODEL.group_of("CANCELED") == "CLOSED" and MODEL.group_of("CREATED") is None
    assert MODEL.transition("CREATED", "CONFIGURE").type == wf.BACKEND_TRIGGER
    assert MODEL.transition("CONFIGURING", "CONFIGURED").type == wf.DEVICE_TRIGGER
    assert len(MODEL.transitions) == 8


def test_full_run_keeps_every_state_in_history():
    # When the operator releases and the device configures with progress
    progress = run(("CONFIGURE", OPERATOR), ("CONFIGURING", DEVICE, {"progress": 0.2}),
                   ("CONFIGURING", DEVICE, {"progress": 0.7, "message": "file 2 of 3"}),
                   ("CONFIGURED", DEVICE, {"progress": 1}))
    # Then every state entered is in the history, oldest first, current last
    assert [h.state for h in progress.history] == ["CREATED", "CONFIGURE", "CONFIGURING", "CONFIGURED"]
    configuring = progress.history[2]
    assert configuring.entered == 1002 and configuring.updated == 1004  # left at the CONFIGURED step
    assert configuring.progress == 0.7 and configuring.message == "file 2 of 3"
    assert progress.current.state == "CONFIGURED" and progress.current.progress == 1.0
    assert progress.entered == ("CONFIGURED",)


def test_same_state_update_changes_progress_in_place():
    progress = run(("CONFIGURE", OPERATOR), ("CONFIGURING", DEVICE, {"progress": 0.1, "details": {"a": 1}}))
    updated = wf.apply(MODEL, progress, StatusUpdate.parse({"state": "CONFIGURING", "progress": 0.5}), DEVICE, 5000)
    assert updated.current.entered == progress.current.entered
    assert updated.current.updated == 5000 and updated.current.progress == 0.5
    assert updated.current.details == {"a": 1}  # unchanged when not sent
    assert len(updated.history) == len(progress.history) and updated.entered == ()


@pytest.mark.parametrize("steps, state, actor", [
    ((), "CONFIGURED", OPERATOR),                     # transition the model lacks
    ((), "CONFIGURE", DEVICE),                        # operator's transition taken by the device
    ((("CONFIGURE", OPERATOR),), "CONFIGURING", OPERATOR),  # device's transition taken by the operator
    ((("CONFIGURE", OPERATOR),), "CONFIGURED", DEVICE),     # skipping CONFIGURING
    ((("CONFIGURE", OPERATOR), ("CONFIGURING", DEVICE), ("CONFIGURED", DEVICE)), "CONFIGURING", DEVICE),  # from final
    ((("CONFIGURE", OPERATOR), ("FAILED", DEVICE)), "FAILED", DEVICE),  # same-state in a final state
    ((("CONFIGURE", OPERATOR),), "CONFIGURE", OPERATOR),  # in-place update by the party whose turn it is not
])
def test_illegal_transitions_and_wrong_triggers(steps, state, actor):
    progress = run(*steps)
    with pytest.raises(wf.IllegalTransition):
        wf.apply(MODEL, progress, StatusUpdate(state), actor, 9999)


def test_operator_may_cancel_a_running_task_through_allowed_types():
    progress = run(("CONFIGURE", OPERATOR), ("CONFIGURING", DEVICE))
    canceled = wf.cancel(MODEL, progress, OPERATOR, 5000)
    assert canceled.current.state == "CANCELED"
    assert wf.cancel(MODEL, run(), OPERATOR, 5000).current.state == "CANCELED"  # CREATED -> CANCELED
    with pytest.raises(wf.IllegalTransition):
        wf.cancel(MODEL, canceled, OPERATOR, 6000)  # nothing leaves a final state
    with pytest.raises(wf.IllegalTransition):
        wf.cancel(MODEL, run(), DEVICE, 5000)  # CREATED -> CANCELED is the operator's


@pytest.mark.parametrize("body", [
    {"state": "CONFIGURING", "progress": 1.5},
    {"state": "CONFIGURING", "progress": -0.1},
    {"state": "CONFIGURING", "progress": 100},
    {"state": "CONFIGURING", "progress": "half"},
    {"state": "CONFIGURING", "progress": True},
    {"state": "CONFIGURING", "message": "x" * 201},
    {"state": "CONFIGURING", "message": 42},
    {"state": "CONFIGURING", "details": {"trace": "y" * 20_001}},
    {"progress": 0.5},
    {"state": ""},
    "CONFIGURING",
])
def test_bad_updates_are_invalid_input(body):
    with pytest.raises(wf.InvalidInput):
        StatusUpdate.parse(body)


def test_limits_at_the_edge_are_accepted():
    update = StatusUpdate.parse({"state": "X", "progress": 0, "message": "m" * 200,
                                 "details": {"t": "d" * (20_000 - 8)}})
    assert update.progress == 0.0 and len(update.message) == 200
    assert StatusUpdate.parse({"state": "X", "progress": 1}).progress == 1.0


def test_unknown_state_is_invalid_input():
    with pytest.raises(wf.InvalidInput):
        wf.apply(MODEL, run(), StatusUpdate("NOPE"), OPERATOR, 2000)


def test_device_visibility_follows_release():
    assert not MODEL.device_visible("CREATED")
    assert MODEL.device_visible("CONFIGURE") and MODEL.device_visible("CANCELED")


def test_instantaneous_custom_transition_releases_at_once():
    model = MODEL.with_custom_transitions([{"from": "CREATED", "to": "CONFIGURE", "type": "INSTANTANEOUS"}])
    progress = wf.start(model, 1000)
    assert progress.current.state == "CONFIGURE"
    assert progress.current.message == wf.INSTANTANEOUS_MESSAGE
    assert [h.state for h in progress.history] == ["CREATED", "CONFIGURE"]


@pytest.mark.parametrize("custom", [
    [{"from": "CONFIGURE", "to": "CONFIGURING", "type": "INSTANTANEOUS"}],  # not in allowedTypes
    [{"from": "CREATED", "to": "CONFIGURED", "type": "BACKEND_TRIGGER"}],   # no such transition
    "nope",
])
def test_custom_transitions_are_checked(custom):
    with pytest.raises(wf.InvalidModel):
        MODEL.with_custom_transitions(custom)


def _user_model(**overrides):
    body = {"key": "fw", "states": [{"name": "STOPPED", "description": "", "initial": True},
                                    {"name": "RUN", "description": ""},
                                    {"name": "FINAL", "description": "", "final": True},
                                    {"name": "CANCEL", "description": "", "cancel": True}],
            "transitions": [{"from": "STOPPED", "to": "RUN", "type": "BACKEND_TRIGGER"},
                            {"from": "RUN", "to": "FINAL", "type": "DEVICE_TRIGGER"},
                            {"from": "RUN", "to": "CANCEL", "type": "BACKEND_TRIGGER"}],
            "groups": [{"name": "Machine", "states": ["STOPPED", "RUN", "CANCEL", "FINAL"]}]}
    body.update(overrides)
    return body


def test_user_model_round_trips():
    model = wf.WorkflowModel.parse(_user_model())
    again = wf.WorkflowModel.from_json(model.to_json())
    assert again == model
    assert model.to_json()["transitions"][0]["allowedTypes"] == ["BACKEND_TRIGGER"]
    assert model.to_instance_json()["stateGroups"][0]["name"] == "Machine"


@pytest.mark.parametrize("overrides", [
    {"key": ""},
    {"states": [], "transitions": [], "groups": []},
    {"states": [{"name": "A", "initial": True}, {"name": "A"}], "transitions": [], "groups": []},
    {"states": [{"name": "A"}, {"name": "B"}], "transitions": [], "groups": []},  # no initial state
    {"states": [{"name": "A", "initial": True}, {"name": "B", "initial": True}], "transitions": [], "groups": []},
    {"states": [{"name": "A", "initial": "yes"}], "transitions": [], "groups": []},
    {"transitions": [{"from": "STOPPED", "to": "NOWHERE", "type": "BACKEND_TRIGGER"}]},
    {"transitions": [{"from": "STOPPED", "to": "RUN", "type": "MAGIC"}]},
    {"transitions": [{"from": "FINAL", "to": "RUN", "type": "BACKEND_TRIGGER"}]},
    {"transitions": [{"from": "RUN", "to": "RUN", "type": "DEVICE_TRIGGER"}]},
    {"transitions": [{"from": "STOPPED", "to": "RUN", "type": "INSTANTANEOUS"},
                     {"from": "RUN", "to": "STOPPED", "type": "INSTANTANEOUS"}]},
    {"groups": [{"name": "A", "states": ["RUN"]}, {"name": "B", "states": ["RUN"]}]},
    {"groups": [{"name": "A#B", "states": ["RUN"]}]},
    {"groups": [{"name": "A", "states": ["NOPE"]}]},
])
def test_invalid_models_are_refused(overrides):
    with pytest.raises(wf.InvalidModel):
        wf.WorkflowModel.parse(_user_model(**overrides))


def test_minimal_model_is_accepted():
    model = wf.WorkflowModel.parse({"key": "k", "states": [{"name": "A", "initial": True}]})
    assert model.initial.name == "A" and model.groups == ()


def _loop_model():
    loop = [{"from": "STOPPED", "to": "RUN", "type": "BACKEND_TRIGGER"},
            {"from": "RUN", "to": "STOPPED", "type": "BACKEND_TRIGGER"}]
    return wf.WorkflowModel.parse(_user_model(transitions=loop))


def _toggle(model, progress, now, **update):
    state = "RUN" if progress.current.state == "STOPPED" else "STOPPED"
    return wf.apply(model, progress, StatusUpdate(state, **update), OPERATOR, now)


def _history_bytes(progress):
    return wf.json_bytes([h.to_store() for h in progress.history])


def test_history_stays_bounded():
    model = _loop_model()
    progress = wf.start(model, 0)
    big = {"trace": "z" * 19_000}
    for i in range(30):
        progress = _toggle(model, progress, i + 1, details=big, has_details=True)
    assert len(progress.history) == 31
    assert progress.history[0].details is None and progress.current.details == big
    assert _history_bytes(progress) <= wf.MAX_HISTORY_BYTES


def test_history_is_bounded_in_utf8_bytes_not_characters():
    # Given details within the reference's 20k characters, but of 4-byte characters (~76 KB)
    model = _loop_model()
    progress = wf.start(model, 0)
    wide = {"trace": "\U0001F600" * 19_000}
    assert wf.details_size(wide) <= wf.MAX_DETAILS_CHARS
    for i in range(10):
        progress = _toggle(model, progress, i + 1, details=wide, has_details=True)
        # and an in-place update with such details as well
        progress = wf.apply(model, progress, StatusUpdate(progress.current.state, details=wide, has_details=True),
                            OPERATOR, i + 1)
        assert _history_bytes(progress) <= wf.MAX_HISTORY_BYTES
    assert progress.current.details == wide and progress.history[-1] == progress.current


def test_history_of_a_cyclic_model_drops_its_oldest_entries():
    # Given a loop taken thousands of times, each entry small (no details) but with a 200-character message
    model = _loop_model()
    progress = wf.start(model, 0)
    for i in range(3000):
        progress = _toggle(model, progress, i + 1, message="\u00e9" * 200)
    # Then the history keeps the newest entries within its byte budget, the current one last
    assert _history_bytes(progress) <= wf.MAX_HISTORY_BYTES
    assert 100 < len(progress.history) < 3001
    assert progress.history[-1] == progress.current and progress.history[-1].entered == 3000


def test_model_size_is_bounded_in_bytes():
    # A 450 KB description, or one of 20k 4-byte characters (80 KB), makes the model too large
    for description in ("d" * 450_000, "\U0001F600" * 20_000):
        states = [{"name": "STOPPED", "description": description, "initial": True}]
        with pytest.raises(wf.InvalidModel, match="bytes"):
            wf.WorkflowModel.parse(_user_model(states=states, transitions=[], groups=[]))
    # as are many transitions whose details add up, whether in the model or as custom transitions
    details = {"note": "\u00e9" * 9_000}
    many = [{"from": "STOPPED", "to": f"S{i}", "type": "BACKEND_TRIGGER", "details": details} for i in range(5)]
    states = [{"name": "STOPPED", "initial": True}] + [{"name": f"S{i}"} for i in range(5)]
    with pytest.raises(wf.InvalidModel, match="bytes"):
        wf.WorkflowModel.parse(_user_model(states=states, transitions=many, groups=[]))
    custom = [{"from": t["from"], "to": t["to"], "type": "BACKEND_TRIGGER", "details": details} for t in many]
    plain = wf.WorkflowModel.parse(_user_model(states=states, transitions=[dict(t, details=None) for t in many],
                                               groups=[]))
    with pytest.raises(wf.InvalidModel, match="bytes"):
        plain.with_custom_transitions(custom)
    # a model at the budget is fine
    fits = "d" * (wf.MAX_MODEL_BYTES - 1_000)
    wf.WorkflowModel.parse(_user_model(states=[{"name": "A", "description": fits, "initial": True}],
                                       transitions=[], groups=[]))


def test_sizes_count_utf8_bytes_of_the_stored_form():
    assert wf.json_bytes({"a": "\U0001F600"}) == len('{"a":""}') + 4
    assert wf.details_size({"a": "\U0001F600"}) == len('{"a":""}') + 1
    with pytest.raises(wf.InvalidInput):
        wf.check_bytes({"a": "x" * 10}, "'data'", 5)
    with pytest.raises(wf.InvalidInput):
        wf.json_bytes({"a": object()})


def test_file_references_and_checksums():
    task = config_model.parse_task({"files": [
        {"name": "a", "uri": "https://h/api/deviceconfiguration/v3/files/F1/revisions/abc/content"},
        {"name": "b", "uri": "/stage/api/deviceconfiguration/v3/files/F2/head", "checksum": "sha1:00"},
        {"name": "c", "uri": "https://elsewhere.example/c.json", "checksum": "md5:11"}]})
    a, b, c = task.files
    assert (a.file_id, a.revision, a.names_head) == ("F1", "abc", False)
    assert (b.file_id, b.revision, b.names_head) == ("F2", None, True)
    assert c.file_id is None
    assert config_model.checksum_matches("sha256:AB", "ab", "cd")
    assert not config_model.checksum_matches("sha1:ab", "ab", "cd")
    assert config_model.checksum_matches("md5:whatever", "ab", "cd")  # not computed: passed on


@pytest.mark.parametrize("body", [None, {}, {"files": "x"}, {"files": [{"name": "a"}]},
                                  {"files": [{"uri": "u"}]}, {"files": [], "customData": []},
                                  {"files": [{"name": "a", "uri": "u"}, {"name": "a", "uri": "v"}]},
                                  {"files": [{"name": "a", "uri": "u", "checksum": "nocolon"}]},
                                  {"files": [{"name": f"f{i}", "uri": "u"} for i in range(51)]}])
def test_bad_task_definitions(body):
    with pytest.raises(wf.InvalidInput):
        config_model.parse_task(body)


def test_accept_and_if_match():
    assert config_model.accepts(None, "application/json")
    assert config_model.accepts("*/*", "application/json")
    assert config_model.accepts("text/html, application/*;q=0.9", "application/json; charset=utf-8")
    assert not config_model.accepts("text/plain", "application/json")
    assert config_model.if_match_ok(None, None)
    assert config_model.if_match_ok('"abc"', "abc") and config_model.if_match_ok('W/"abc", "x"', "abc")
    assert not config_model.if_match_ok('"old"', "abc")
    assert config_model.if_match_ok("*", "abc") and not config_model.if_match_ok("*", None)


def test_paging_parameters():
    page = PageRequest.parse({"page": "2", "size": "5", "sort": "createdAt,desc"}, ("createdAt",), "createdAt")
    assert (page.offset, page.size, page.descending) == (10, 5, True)
    assert page.metadata(11) == {"size": 5, "totalElements": 11, "totalPages": 3, "number": 2}
    assert PageRequest.parse({}, ("path",), "path").size == 10
    for bad in ({"page": "-1"}, {"size": "0"}, {"size": "501"}, {"page": "x"}, {"sort": "nope"},
                {"sort": "path,sideways"}):
        with pytest.raises(wf.InvalidInput):
            PageRequest.parse(bad, ("path",), "path")


def test_ids_that_no_key_could_hold():
    from chalicelib.domain import dcs_ids
    assert dcs_ids.is_uuid("01a200b1-580b-705b-9dd1-73a7fa72cf3f") and not dcs_ids.is_uuid("nope")
    assert not dcs_ids.is_uuid("01A200B1-580B-705B-9DD1-73A7FA72CF3F\n")
    assert dcs_ids.is_sha256("ab" * 32) and not dcs_ids.is_sha256("ab" * 33)
    assert dcs_ids.is_device_id("dev-1") and dcs_ids.is_device_id("\U0001F600" * 256)
    for bad in ("", "x" * 257, "a b", "a/b", "a%b", "a#b", "a?b", None):
        assert not dcs_ids.is_device_id(bad), bad
    assert dcs_ids.is_model_key("k" * 200) and not dcs_ids.is_model_key("k" * 201)
    assert dcs_ids.is_group("OPEN") and not dcs_ids.is_group("A#B") and not dcs_ids.is_group("g" * 201)
    assert dcs_ids.is_path_prefix("") and not dcs_ids.is_path_prefix("\u00e9" * 501)
    assert dcs_ids.is_token("t" * 128) and not dcs_ids.is_token("t" * 129) and not dcs_ids.is_token("")
    assert dcs_ids.shortened("x" * 100) == "x" * 64 + "..."


def test_task_file_names_fit_the_actual_configuration_key():
    config_model.parse_task({"files": [{"name": "n" * 1000, "uri": "https://x.example/a"}]})
    with pytest.raises(wf.InvalidInput):
        config_model.parse_task({"files": [{"name": "\u00e9" * 501, "uri": "https://x.example/a"}]})


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_not_json(number):
    # JSON has no NaN or Infinity: stored, they would be rendered as bodies no client can parse
    with pytest.raises(wf.InvalidInput):
        StatusUpdate.parse({"state": "CONFIGURE", "details": {"value": number}})
    with pytest.raises(wf.InvalidInput):
        StatusUpdate.parse({"state": "CONFIGURE", "progress": number})
    with pytest.raises(wf.InvalidInput):
        wf.check_bytes({"data": [1, number]}, "'data'", wf.MAX_DATA_BYTES)
    transitions = [{"from": "STOPPED", "to": "RUN", "type": "BACKEND_TRIGGER", "details": {"n": number}}]
    with pytest.raises(wf.InvalidInput):
        wf.WorkflowModel.parse(_user_model(transitions=transitions))
    with pytest.raises(wf.InvalidInput):
        MODEL.with_custom_transitions([{"from": "CREATED", "to": "CONFIGURE", "type": "INSTANTANEOUS",
                                        "details": {"n": number}}])
