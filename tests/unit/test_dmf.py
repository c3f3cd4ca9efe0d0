"""DMF messages both ways (chalicelib/domain/dmf.py): hawkBit's headers, bodies, status mapping and refusals."""
import json

import pytest

from chalicelib import errors
from chalicelib.domain import dmf
from chalicelib.domain.actions import Outcome, Status
from chalicelib.domain.dmf import ActionStatus, MessageType, Route, Topic, UpdateMode
from chalicelib.domain.targets import ATTRIBUTE_MODES

TENANT = "DEFAULT"
JSON = "application/json"


def headers(message_type: str, **more: str) -> dict[str, str]:
    return {"type": message_type, "tenant": TENANT, **more}


def event(topic: str, thing: str | None = "dev-1", **more: str) -> dict[str, str]:
    found = headers("EVENT", topic=topic, **{"content-type": JSON}, **more)
    if thing is not None:
        found["thingId"] = thing
    return found


def refused(error_class, message_headers, body="") -> errors.SkyhawkError:
    with pytest.raises(error_class) as caught:
        dmf.parse(message_headers, body)
    assert type(caught.value) is error_class
    return caught.value


def status_body(**fields) -> str:
    return json.dumps({"actionId": 137, "actionStatus": "RUNNING", **fields})


# --- vocabulary -------------------------------------------------------------------------------------------------
def test_the_enums_hold_hawkbits_names():
    assert [t.value for t in MessageType] == ["EVENT", "THING_CREATED", "THING_DELETED", "THING_REMOVED", "PING",
                                              "PING_RESPONSE"]
    assert {t.value for t in Topic} == {
        "UPDATE_ACTION_STATUS", "DOWNLOAD_AND_INSTALL", "CANCEL_DOWNLOAD", "UPDATE_ATTRIBUTES", "UPDATE_AUTO_CONFIRM",
        "DOWNLOAD", "REQUEST_ATTRIBUTES_UPDATE", "MULTI_ACTION", "BATCH_DOWNLOAD", "BATCH_DOWNLOAD_AND_INSTALL",
        "CONFIRM"}
    assert [s.value for s in ActionStatus] == ["DOWNLOAD", "RETRIEVED", "RUNNING", "FINISHED", "ERROR", "WARNING",
                                               "CANCELED", "CANCEL_REJECTED", "DOWNLOADED", "CONFIRMED", "DENIED"]


def test_update_modes_are_ddi_config_datas_modes():
    assert tuple(mode.value.lower() for mode in UpdateMode) == ATTRIBUTE_MODES


# --- common refusals --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("message_headers", [{"tenant": TENANT}, {"type": "PING"}, {"type": "", "tenant": TENANT}])
def test_type_and_tenant_headers_are_mandatory(message_headers):
    error = refused(errors.ConstraintViolation, message_headers)
    assert error.message == "Invalid message! tenant and type header are mandatory!"


@pytest.mark.parametrize("message_type", ["NOPE", "thing_created", "THING_DELETED", "PING_RESPONSE"])
def test_an_unknown_type_or_one_hawkbit_only_sends_is_refused(message_type):
    refused(errors.ConstraintViolation, headers(message_type, thingId="dev-1"))


def test_a_body_that_is_not_utf8_is_not_readable():
    refused(errors.BodyNotReadable, event("UPDATE_ACTION_STATUS"), b"\xff\xfe")


# --- THING_CREATED ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [None, "", b"", '""', "  "])
def test_thing_created_without_body_registers_the_thing_by_its_id(body):
    created = dmf.parse(headers("THING_CREATED", thingId="dev-1", replyTo="gateway-7"), body)
    assert created == dmf.ThingCreated(TENANT, "dev-1", "gateway-7")


def test_thing_created_with_name_type_and_attributes():
    body = {"name": "Device 1", "type": "gateway-child", "unknown": 1,
            "attributeUpdate": {"attributes": {"hw": "2", "serial": 12, "beta": True}, "mode": "REPLACE"}}
    created = dmf.parse(headers("THING_CREATED", thingId="dev-1", replyTo="q", **{"content-type": JSON}),
                        json.dumps(body))
    assert (created.name, created.target_type) == ("Device 1", "gateway-child")
    assert created.attribute_update == dmf.AttributeUpdate({"hw": "2", "serial": "12", "beta": "true"},
                                                           UpdateMode.REPLACE)


def test_thing_created_without_attribute_update_has_none():
    created = dmf.parse(headers("THING_CREATED", thingId="dev-1", replyTo="q", **{"content-type": JSON}),
                        '{"name": "n"}')
    assert (created.name, created.target_type, created.attribute_update) == ("n", None, None)


@pytest.mark.parametrize("body, name, target_type", [
    ({"name": "", "type": ""}, None, ""), ({"name": "  ", "type": "  "}, None, ""), ({"type": None}, None, None)])
def test_a_blank_name_changes_nothing_and_a_blank_type_removes_the_type(body, name, target_type):
    created = dmf.parse(headers("THING_CREATED", thingId="dev-1", replyTo="q", **{"content-type": JSON}),
                        json.dumps(body))
    assert (created.name, created.target_type) == (name, target_type)


def test_thing_created_refusals():
    error = refused(errors.ConstraintViolation, headers("THING_CREATED", replyTo="q"))
    assert error.message == "ThingId is null"
    error = refused(errors.ConstraintViolation, headers("THING_CREATED", thingId="dev-1"))
    assert error.message == "No ReplyTo was set for the createThing message."
    refused(errors.ConstraintViolation, headers("THING_CREATED", thingId="a b", replyTo="q"))
    refused(errors.ConstraintViolation, headers("THING_CREATED", thingId="x" * 257, replyTo="q"))
    error = refused(errors.BodyNotReadable, headers("THING_CREATED", thingId="dev-1", replyTo="q"), '{"name": "n"}')
    assert error.message == "Content-Type is not JSON compatible"
    with_json = headers("THING_CREATED", thingId="dev-1", replyTo="q", **{"content-type": JSON})
    refused(errors.BodyNotReadable, with_json, "{not json")
    refused(errors.BodyNotReadable, with_json, "[1]")
    refused(errors.ConstraintViolation, with_json, json.dumps({"name": "n" * 129}))
    refused(errors.BodyNotReadable, with_json, json.dumps({"name": ["n"]}))
    refused(errors.BodyNotReadable, with_json, json.dumps({"attributeUpdate": {"mode": "merge"}}))


# --- THING_REMOVED ----------------------------------------------------------------------------------------------
def test_thing_removed_needs_a_thing_id_only():
    assert dmf.parse(headers("THING_REMOVED", thingId="dev-1"), None) == dmf.ThingRemoved(TENANT, "dev-1")
    assert refused(errors.ConstraintViolation, headers("THING_REMOVED")).message == "ThingId is null"


# --- PING -------------------------------------------------------------------------------------------------------
def test_a_ping_is_answered_only_with_a_correlation_id_and_a_reply_queue():
    ping = dmf.parse(headers("PING", correlationId="c-1", replyTo="gateway-7"), None)
    assert ping == dmf.Ping(TENANT, "c-1", "gateway-7") and ping.answered
    assert not dmf.parse(headers("PING", replyTo="gateway-7"), None).answered
    assert not dmf.parse(headers("PING", correlationId="c-1"), None).answered


# --- EVENT: topics ----------------------------------------------------------------------------------------------
def test_an_event_needs_a_json_content_type_and_a_topic_it_receives():
    no_json = {**event("UPDATE_ACTION_STATUS"), "content-type": "text/plain"}
    assert refused(errors.BodyNotReadable, no_json, status_body()).message == "Content-Type is not JSON compatible"
    assert dmf.parse({**no_json, "content-type": "application/json;charset=UTF-8"}, status_body()).action_id == 137
    assert refused(errors.ConstraintViolation, {k: v for k, v in event("X").items() if k != "topic"}).message \
        == "EventTopic is null"
    refused(errors.ConstraintViolation, event("NOPE"), status_body())
    for outbound_only in ("DOWNLOAD_AND_INSTALL", "CANCEL_DOWNLOAD", "MULTI_ACTION", "CONFIRM"):
        error = refused(errors.ConstraintViolation, event(outbound_only), status_body())
        assert error.message == "Got event without appropriate topic."


# --- EVENT UPDATE_ACTION_STATUS ---------------------------------------------------------------------------------
def test_an_action_status_with_every_field():
    body = status_body(actionStatus="DOWNLOAD", softwareModuleId=17, message=["started", 5, None], code=201,
                       timestamp=1700000000000, extra="ignored")
    update = dmf.parse(event("UPDATE_ACTION_STATUS", thing=None, correlationId="corr-9"), body)
    assert update == dmf.ActionStatusUpdate(TENANT, 137, ActionStatus.DOWNLOAD, software_module_id=17,
                                            messages=("started", "5"), code=201, timestamp=1700000000000,
                                            correlation_id="corr-9")


def test_an_action_status_keeps_the_thing_id_it_was_sent_with():
    assert dmf.parse(event("UPDATE_ACTION_STATUS"), status_body()).thing_id == "dev-1"


@pytest.mark.parametrize("body, error_class", [
    ("", errors.BodyNotReadable),
    (json.dumps({"actionStatus": "RUNNING"}), errors.BodyNotReadable),
    (json.dumps({"actionId": 1}), errors.BodyNotReadable),
    (status_body(actionId="137"), errors.BodyNotReadable),
    (status_body(actionId=2 ** 63), errors.BodyNotReadable),
    (status_body(actionStatus="running"), errors.BodyNotReadable),
    (status_body(actionStatus="CANCELING"), errors.BodyNotReadable),
    (status_body(message="not a list"), errors.BodyNotReadable),
    (status_body(message=[{"a": 1}]), errors.BodyNotReadable),
    (status_body(code=2 ** 31), errors.BodyNotReadable),
    (status_body(code="200"), errors.BodyNotReadable),
    (status_body(timestamp=1.5), errors.BodyNotReadable),
    (status_body(softwareModuleId=True), errors.BodyNotReadable),
])
def test_action_status_refusals(body, error_class):
    refused(error_class, event("UPDATE_ACTION_STATUS", thing=None), body)


# --- EVENT UPDATE_ATTRIBUTES ------------------------------------------------------------------------------------
def test_attributes_merge_by_default():
    updated = dmf.parse(event("UPDATE_ATTRIBUTES"), '{"attributes": {"hw": "2", "gone": null}}')
    assert updated == dmf.AttributesUpdated(TENANT, "dev-1", dmf.AttributeUpdate({"hw": "2", "gone": None}))
    assert updated.update.mode == UpdateMode.MERGE


@pytest.mark.parametrize("mode", ["MERGE", "REPLACE", "REMOVE"])
def test_attributes_take_each_mode(mode):
    updated = dmf.parse(event("UPDATE_ATTRIBUTES"), json.dumps({"attributes": {"hw": "2"}, "mode": mode}))
    assert updated.update.mode == UpdateMode(mode)


def test_attributes_absent_are_none_so_replace_clears_them():
    assert dmf.parse(event("UPDATE_ATTRIBUTES"), '{"mode": "REPLACE"}').update == dmf.AttributeUpdate(
        {}, UpdateMode.REPLACE)


def test_a_removal_checks_the_keys_only():
    updated = dmf.parse(event("UPDATE_ATTRIBUTES"), json.dumps({"attributes": {"hw": "ü" * 200}, "mode": "REMOVE"}))
    assert list(updated.update.attributes) == ["hw"]


@pytest.mark.parametrize("body, error_class", [
    (json.dumps({"attributes": {"hw": "x" * 129}}), errors.InvalidTargetAttributes),
    (json.dumps({"attributes": {"k" * 129: "x"}}), errors.InvalidTargetAttributes),
    (json.dumps({"attributes": {"hw": "ü"}}), errors.InvalidTargetAttributes),
    (json.dumps({"attributes": {"hw": {"nested": 1}}}), errors.BodyNotReadable),
    (json.dumps({"attributes": ["hw"]}), errors.BodyNotReadable),
    (json.dumps({"attributes": {}, "mode": "merge"}), errors.BodyNotReadable),
    ("", errors.BodyNotReadable),
])
def test_attribute_refusals(body, error_class):
    refused(error_class, event("UPDATE_ATTRIBUTES"), body)


def test_attributes_need_a_thing_id():
    assert refused(errors.ConstraintViolation, event("UPDATE_ATTRIBUTES", thing=None), "{}").message \
        == "ThingId is null"


# --- EVENT UPDATE_AUTO_CONFIRM ----------------------------------------------------------------------------------
def test_auto_confirm_on_with_hawkbits_default_remark_and_off():
    on = dmf.parse(event("UPDATE_AUTO_CONFIRM"), '{"enabled": true, "initiator": "ops"}')
    assert on == dmf.AutoConfirmUpdate(TENANT, "dev-1", True, "ops",
                                       "Activated using Device Management Federation API.")
    assert dmf.parse(event("UPDATE_AUTO_CONFIRM"), '{"enabled": true, "remark": "r"}').remark == "r"
    assert not dmf.parse(event("UPDATE_AUTO_CONFIRM"), "{}").enabled
    refused(errors.BodyNotReadable, event("UPDATE_AUTO_CONFIRM"), '{"enabled": "yes"}')
    refused(errors.BodyNotReadable, event("UPDATE_AUTO_CONFIRM"), '{"enabled": true, "remark": 5}')


# --- what a status means ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("status, action_type, expected", [
    (ActionStatus.DOWNLOAD, "forced", Outcome(Status.DOWNLOAD)),
    (ActionStatus.RETRIEVED, "forced", Outcome(Status.RETRIEVED)),
    (ActionStatus.RUNNING, "soft", Outcome(Status.RUNNING)),
    (ActionStatus.WARNING, "forced", Outcome(Status.WARNING)),
    (ActionStatus.DOWNLOADED, "forced", Outcome(Status.DOWNLOADED)),
    (ActionStatus.DOWNLOADED, "downloadonly",
     Outcome(Status.DOWNLOADED, Status.DOWNLOADED, closes=True, download_only_done=True)),
    (ActionStatus.FINISHED, "forced", Outcome(Status.FINISHED, Status.FINISHED, closes=True, installs=True)),
    (ActionStatus.ERROR, "forced", Outcome(Status.ERROR, Status.ERROR, closes=True, fails=True)),
])
def test_update_statuses_act_as_the_equivalent_ddi_feedback(status, action_type, expected):
    assert dmf.status_meaning(status, action_type, Status.RUNNING.value) == dmf.StatusMeaning(Route.UPDATE, expected)


def test_finished_on_a_canceling_action_still_takes_the_update_route_as_in_hawkbit():
    meaning = dmf.status_meaning(ActionStatus.FINISHED, "forced", Status.CANCELING.value)
    assert meaning.route == Route.UPDATE and meaning.outcome.installs


def test_cancel_answers_need_a_canceling_action():
    canceled = dmf.status_meaning(ActionStatus.CANCELED, "forced", Status.CANCELING.value)
    assert canceled == dmf.StatusMeaning(
        Route.CANCEL, Outcome(Status.CANCELED, Status.CANCELED, closes=True, cancel_completed=True))
    rejected = dmf.status_meaning(ActionStatus.CANCEL_REJECTED, "forced", Status.CANCELING.value)
    assert rejected == dmf.StatusMeaning(Route.CANCEL, Outcome(Status.CANCEL_REJECTED, Status.RUNNING))
    assert dmf.status_meaning(ActionStatus.CANCELED, "forced", Status.CANCELED.value).route == Route.CANCEL
    with pytest.raises(errors.ConstraintViolation) as caught:
        dmf.status_meaning(ActionStatus.CANCEL_REJECTED, "forced", Status.RUNNING.value)
    assert caught.value.message == "Cancel rejected message is not allowed, if action is on state: RUNNING"
    with pytest.raises(errors.ActionNotCancelable):
        dmf.status_meaning(ActionStatus.CANCELED, "forced", Status.RUNNING.value)


def test_confirmed_and_denied_go_to_the_confirmation_flow():
    assert dmf.status_meaning(ActionStatus.CONFIRMED, "forced", Status.WAIT_FOR_CONFIRMATION.value) \
        == dmf.StatusMeaning(Route.CONFIRMATION, confirmation="confirmed")
    assert dmf.status_meaning(ActionStatus.DENIED, "forced", Status.WAIT_FOR_CONFIRMATION.value) \
        == dmf.StatusMeaning(Route.CONFIRMATION, confirmation="denied")


def test_history_messages_add_the_correlation_id_and_the_code_as_hawkbit_does():
    update = dmf.ActionStatusUpdate(TENANT, 1, ActionStatus.RUNNING, messages=("a",), code=7, correlation_id="c")
    meaning = dmf.status_meaning(update.status, "forced", "RUNNING")
    assert dmf.history_messages(update, meaning) == [
        "a", "Update Server: DMF message correlation-id c", "Device reported status code: 7"]
    confirmed = dmf.ActionStatusUpdate(TENANT, 1, ActionStatus.CONFIRMED, code=7)
    meaning = dmf.status_meaning(confirmed.status, "forced", "WAIT_FOR_CONFIRMATION")
    assert dmf.history_messages(confirmed, meaning) == []
    assert dmf.history_messages(dmf.ActionStatusUpdate(TENANT, 1, ActionStatus.RUNNING), meaning) == []


def test_the_next_command_follows_a_closed_action_an_opened_window_or_a_confirmation():
    assert dmf.next_command_due(ActionStatus.FINISHED, active_after=False, window_opened=False)
    assert dmf.next_command_due(ActionStatus.RUNNING, active_after=True, window_opened=True)
    assert dmf.next_command_due(ActionStatus.CONFIRMED, active_after=True, window_opened=False)
    assert not dmf.next_command_due(ActionStatus.RUNNING, active_after=True, window_opened=False)


# --- outbound ---------------------------------------------------------------------------------------------------
ARTIFACT = dmf.Artifact("app.swu", 512, "sha1hash", "md5hash", {"HTTPS": "https://cdn.example/app.swu?sig=1"},
                        last_modified=1700000000000)
MODULE = dmf.SoftwareModule(7, "firmware", "7.7.7", (ARTIFACT,), (("installationType", "5784K#"),))
DEPLOYMENT = dmf.Deployment(137, "forced", "bH7XXAprK1ChnLfKSdtlsp7NOlPnZAYY", (MODULE,))
MODULE_JSON = {"moduleId": 7, "moduleType": "firmware", "moduleVersion": "7.7.7",
               "artifacts": [{"filename": "app.swu", "hashes": {"sha1": "sha1hash", "md5": "md5hash"}, "size": 512,
                              "lastModified": 1700000000000, "urls": {"HTTPS": "https://cdn.example/app.swu?sig=1"}}],
               "metadata": [{"key": "installationType", "value": "5784K#"}]}


def event_headers(topic: str, thing: str | None = "dev-1") -> dict[str, str]:
    found = {"type": "EVENT", "topic": topic, "tenant": TENANT, "content-type": JSON}
    if thing is not None:
        found["thingId"] = thing
    return found


def test_download_and_install_carries_the_action_token_and_modules():
    message = dmf.download_request(TENANT, "dev-1", DEPLOYMENT)
    assert message.headers == event_headers("DOWNLOAD_AND_INSTALL")
    assert message.json() == {"actionId": 137, "targetSecurityToken": "bH7XXAprK1ChnLfKSdtlsp7NOlPnZAYY",
                              "softwareModules": [MODULE_JSON]}


@pytest.mark.parametrize("action_type, waiting, window, topic", [
    ("forced", False, None, Topic.DOWNLOAD_AND_INSTALL),
    ("soft", False, None, Topic.DOWNLOAD_AND_INSTALL),
    ("timeforced", False, True, Topic.DOWNLOAD_AND_INSTALL),
    ("forced", False, False, Topic.DOWNLOAD),
    ("downloadonly", False, None, Topic.DOWNLOAD),
    ("downloadonly", True, None, Topic.CONFIRM),
    ("forced", True, False, Topic.CONFIRM),
])
def test_the_deployment_topic_follows_confirmation_download_only_and_the_maintenance_window(action_type, waiting,
                                                                                          window, topic):
    assert dmf.deployment_topic(action_type, waiting, window) == topic
    deployment = dmf.Deployment(1, action_type, waiting_confirmation=waiting, window_available=window)
    assert dmf.download_request(TENANT, "dev-1", deployment).headers["topic"] == topic.value


def test_absent_values_are_left_out_never_null():
    bare = dmf.Deployment(5, modules=(dmf.SoftwareModule(1, "os", "1"),))
    assert dmf.download_request(TENANT, "dev-1", bare).json() == {
        "actionId": 5, "softwareModules": [{"moduleId": 1, "moduleType": "os", "moduleVersion": "1", "artifacts": []}]}
    encrypted = dmf.Deployment(5, modules=(dmf.SoftwareModule(1, "os", "1", encrypted=True),))
    assert dmf.download_request(TENANT, "dev-1", encrypted).json()["softwareModules"][0]["encrypted"] is True


def test_cancel_download_carries_the_action_id():
    message = dmf.cancel_download(TENANT, "dev-1", 137)
    assert (message.headers, message.json()) == (event_headers("CANCEL_DOWNLOAD"), {"actionId": 137})


def test_multi_action_lists_each_open_action_with_its_topic_and_weight():
    waiting = dmf.Deployment(139, "soft", "tok", (MODULE,), waiting_confirmation=True, weight=600)
    message = dmf.multi_action(TENANT, "dev-1", [waiting, DEPLOYMENT, dmf.Deployment(138, canceling=True, weight=1)])
    assert message.headers == event_headers("MULTI_ACTION")
    assert message.json() == [
        {"topic": "CONFIRM", "action": {"actionId": 139, "targetSecurityToken": "tok",
                                        "softwareModules": [MODULE_JSON]}, "weight": 600},
        {"topic": "DOWNLOAD_AND_INSTALL", "action": dmf.download_request(TENANT, "d", DEPLOYMENT).json(),
         "weight": 1000},
        {"topic": "CANCEL_DOWNLOAD", "action": {"actionId": 138}, "weight": 1}]


@pytest.mark.parametrize("action_type, window, topic", [
    ("forced", None, "BATCH_DOWNLOAD_AND_INSTALL"), ("forced", False, "BATCH_DOWNLOAD"),
    ("downloadonly", True, "BATCH_DOWNLOAD")])
def test_a_batch_has_no_thing_id_and_lists_the_targets(action_type, window, topic):
    targets = [dmf.BatchTarget(11, "dev-1", "t1"), dmf.BatchTarget(12, "dev-2")]
    message = dmf.batch_download(TENANT, targets, [MODULE], action_type, window, now_ms=1700000000123)
    assert message.headers == event_headers(topic, thing=None)
    assert message.json() == {"timestamp": 1700000000123,
                              "targets": [{"actionId": 11, "controllerId": "dev-1", "targetSecurityToken": "t1"},
                                          {"actionId": 12, "controllerId": "dev-2"}],
                              "softwareModules": [MODULE_JSON]}


def test_request_attributes_update_and_thing_deleted_have_empty_bodies():
    request = dmf.request_attributes_update(TENANT, "dev-1")
    assert (request.headers, request.body) == (event_headers("REQUEST_ATTRIBUTES_UPDATE"), "")
    deleted = dmf.thing_deleted(TENANT, "dev-1")
    assert deleted.headers == {"type": "THING_DELETED", "thingId": "dev-1", "tenant": TENANT, "content-type": JSON}
    assert deleted.body == "" and deleted.json() is None


def test_ping_response_is_the_time_as_plain_text_with_the_pings_correlation_id():
    response = dmf.ping_response(TENANT, "c-1", 1505215891247)
    assert response.headers == {"type": "PING_RESPONSE", "tenant": TENANT, "correlationId": "c-1",
                                "content-type": "text/plain"}
    assert response.body == "1505215891247"


def test_modules_of_a_deployment_snapshot_take_their_urls_from_the_caller():
    chunk = {"part": "firmware", "version": "7.7.7", "name": "fw", "smId": 7, "encrypted": False,
             "metadata": [{"key": "installationType", "value": "5784K#"}],
             "artifacts": [{"filename": "app.swu", "size": 512, "s3Key": "k", "artifactId": 3,
                            "hashes": {"md5": "md5hash", "sha1": "sha1hash", "sha256": "x"}}]}
    modules = dmf.modules_of_snapshot([chunk], lambda sm_id, name: {"HTTPS": f"https://cdn.example/{sm_id}/{name}"})
    assert modules == (dmf.SoftwareModule(7, "firmware", "7.7.7", (dmf.Artifact(
        "app.swu", 512, "sha1hash", "md5hash", {"HTTPS": "https://cdn.example/7/app.swu"}),),
        (("installationType", "5784K#"),)),)


def test_an_outbound_message_parses_back_where_hawkbit_receives_its_kind():
    """The reference client's side: what skyhawk sends a gateway is what a gateway could not send back."""
    for message in (dmf.download_request(TENANT, "dev-1", DEPLOYMENT), dmf.cancel_download(TENANT, "dev-1", 1)):
        with pytest.raises(errors.ConstraintViolation):
            dmf.parse(message.headers, message.body)
