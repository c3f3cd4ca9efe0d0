"""The Device Configuration Service (`/api/deviceconfiguration/v3`) and Deployment Workflow Service
(`/api/deploymentworkflow/v3`) documents, written from chalicelib/api/deviceconfig.py, workflow.py and dcs_wire.py.

Plain JSON (no HAL), times as ISO-8601 `...Z`, lists as `{"content": [...], "page": {...}}`, errors as
`{"errors": [{"code", "logref", "message"}]}`. Operators authenticate with HTTP Basic, devices (where an
operation admits them) with their target token as a Bearer token.
"""
from __future__ import annotations

from typing import Any

from tools.openapi_docs.parts import (
    JSON,
    SERVERS,
    array,
    body,
    errors,
    header_param,
    integer,
    nullable,
    obj,
    operation,
    path_param,
    query_param,
    ref,
    response,
    string,
)

ONLY_JSON = (JSON,)
ANY = ("*/*",)
BINARY = {"type": "string", "format": "binary"}
ERROR = ref("Errors")
READS = ("400", "401", "403", "404", "405", "406", "429", "500", "503")
WRITES = READS + ("409", "415")
OPERATORS: list[dict[str, list[str]]] = [{"basicAuth": []}]
OPERATORS_AND_DEVICES: list[dict[str, list[str]]] = [{"basicAuth": []}, {"deviceToken": []}]
DATE_TIME = string(format="date-time")
ANY_JSON: dict[str, Any] = {"description": "Any JSON value"}
ETAG = {"ETag": {"description": "The revision's hash, quoted", "schema": string()}}

COMMON_SCHEMAS: dict[str, Any] = {
    "Errors": obj({"errors": array(obj({
        "code": string("`mdsp.core.<service>.<reason>`"),
        "logref": string("The request's correlation id: quote it, the logs find it"),
        "message": string(),
    }, ["code", "logref", "message"]))}, ["errors"]),
    "Page": obj({"size": integer(fmt="int32"), "totalElements": integer(), "totalPages": integer(fmt="int32"),
                 "number": integer(fmt="int32")}, ["size", "totalElements", "totalPages", "number"]),
    "StateInfo": obj({
        "state": string(), "entered": DATE_TIME, "updated": DATE_TIME,
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "message": string(), "details": ANY_JSON,
    }, ["state", "entered", "updated", "progress", "message"]),
    "StateUpdate": obj({
        "state": string("The state to enter (or the current one, to update progress, message and details)"),
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "message": string(maxLength=200), "details": ANY_JSON,
    }, ["state"]),
}
PAGING = [
    query_param("page", integer(fmt="int32", minimum=0, default=0), "0-based page number"),
    query_param("size", integer(fmt="int32", minimum=1, maximum=500, default=10), "Page size"),
]


def _sort(fields: tuple[str, ...]) -> dict[str, Any]:
    return query_param("sort", string(), f"`field` or `field,asc|desc`; fields: {', '.join(fields)}")


def _page_of(item: str) -> dict[str, Any]:
    return obj({"content": array(ref(item)), "page": ref("Page")}, ["content", "page"])


def _document(title: str, description: str, tags: list[dict[str, str]], paths: dict[str, Any],
              schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.1",
        "info": {"title": title, "description": description, "version": "v3"},
        "servers": SERVERS,
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": dict(sorted({**COMMON_SCHEMAS, **schemas}.items())),
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic", "description": "An operator's login"},
                "deviceToken": {"type": "http", "scheme": "bearer",
                                "description": "A device's target token (`Bearer` or `TargetToken`)"},
            },
        },
        "security": OPERATORS,
    }


# --- Device Configuration Service ---------------------------------------------------------------------
DCS = "/api/deviceconfiguration/v3"
_TASK_FILE = {"name": string("The file's name on the device (its path)"), "uri": string()}
DCS_SCHEMAS: dict[str, Any] = {
    "ConfigurationFile": obj({
        "id": string(format="uuid"), "path": string(), "description": string(),
        "head": nullable(string("Hash (SHA-256) of the current revision; null before the first")),
    }, ["id", "path", "description", "head"]),
    "ConfigurationFileRequest": obj({"path": string(), "description": string()}, ["path"]),
    "Revision": obj({"hash": string("SHA-256 of the content"), "fileId": string(format="uuid"),
                     "contentLength": integer(), "contentType": string()},
                    ["hash", "fileId", "contentLength", "contentType"]),
    "TaskFileRequest": obj({**_TASK_FILE, "checksum": nullable(string("`<algorithm>:<hex>`, checked against a DCS "
                                                                      "file's revision"))}, ["name", "uri"]),
    "TaskFile": obj({**_TASK_FILE, "checksum": nullable(string("`<algorithm>:<hex>`; for a DCS file the pinned "
                                                               "revision's `sha256:` unless the task named one"))},
                    ["name", "uri", "checksum"], "A file of the task, a DCS file's URI pinned to its revision"),
    "TaskDefinition": obj({"files": array(ref("TaskFileRequest"), "At most 100 files, unique names"),
                           "customData": obj({}), "target": obj({})}, ["files"]),
    "ConfigurationTask": obj({
        "id": string(format="uuid"), "deviceId": string(), "files": array(ref("TaskFile")),
        "customData": obj({}), "createdAt": DATE_TIME, "currentState": ref("StateInfo"), "target": obj({}),
        "history": array(ref("StateInfo"), "Every state entered, oldest first"),
        "transitions": array(obj({"from": string(), "to": string()}, ["from", "to"])),
    }, ["id", "deviceId", "files", "customData", "createdAt", "currentState", "target", "history", "transitions"]),
    "ConfiguredFile": obj({
        "path": string(), "fileId": nullable(string(format="uuid")), "hash": nullable(string()),
        "checksum": nullable(string()), "uri": string(), "taskId": string(format="uuid"), "configuredAt": DATE_TIME,
        "contentType": nullable(string()), "contentLength": nullable(integer()),
        "contentUri": nullable(string("Where the configured copy of a DCS file is read")),
    }, ["path", "fileId", "hash", "checksum", "uri", "taskId", "configuredAt", "contentType", "contentLength",
        "contentUri"], "One file of the device's actual configuration"),
    "PageOfConfigurationFile": _page_of("ConfigurationFile"),
    "PageOfRevision": _page_of("Revision"),
    "PageOfConfigurationTask": _page_of("ConfigurationTask"),
    "PageOfConfiguredFile": _page_of("ConfiguredFile"),
}


def _content(summary: str, operation_id: str, params: list[dict[str, Any]], tag: str) -> dict[str, Any]:
    return operation(tag, summary, operation_id, {
        "200": response("The bytes, with the media type stored with them", BINARY, ANY, ETAG),
        **errors(ERROR, READS)}, params, security=OPERATORS_AND_DEVICES,
        description="Operators (READ_DEVICE_CONFIGURATION) and devices")


def dcs_document() -> dict[str, Any]:
    file_id = path_param("fileId", string(format="uuid"))
    sha = path_param("hash", string("SHA-256 of the revision", pattern="^[0-9a-f]{64}$"))
    device = path_param("deviceId", string())
    task = path_param("taskId", string(format="uuid"))
    read, update = "Required permission: READ_DEVICE_CONFIGURATION", "Required permission: UPDATE_DEVICE_CONFIGURATION"
    files_tag, tasks_tag, actual_tag = "Configuration Files", "Configuration Tasks", "Actual Configuration"
    paths = {
        f"{DCS}/files": {
            "get": operation(files_tag, "List configuration files", "listFiles", {
                "200": response("The page", ref("PageOfConfigurationFile"), ONLY_JSON), **errors(ERROR, READS)},
                [*PAGING, _sort(("path",)), query_param("pathPrefix", string(), "Only files whose path starts so")],
                description=read),
            "post": operation(files_tag, "Create a configuration file", "createFile", {
                "201": response("Created (no revision yet)", ref("ConfigurationFile"), ONLY_JSON),
                **errors(ERROR, WRITES)}, request_body=body(ref("ConfigurationFileRequest"), ONLY_JSON),
                description=update),
        },
        f"{DCS}/files/{{fileId}}": {
            "get": operation(files_tag, "One configuration file", "getFile", {
                "200": response("The file", ref("ConfigurationFile"), ONLY_JSON), **errors(ERROR, READS)},
                [file_id], description=read),
            "delete": operation(files_tag, "Delete a configuration file", "deleteFile", {
                "204": response("Deleted (or there was none)"), **errors(ERROR, WRITES)}, [file_id],
                description=update),
        },
        f"{DCS}/files/{{fileId}}/head": {
            "get": _content("The head revision's content", "getHeadContent", [file_id], files_tag),
            "patch": operation(files_tag, "Write a new head revision", "patchHead", {
                "200": response("The file with its new head", ref("ConfigurationFile"), ONLY_JSON, ETAG),
                **errors(ERROR, WRITES + ("412", "413"))},
                [file_id, header_param("If-Match", "The head's ETag the change is based on")],
                body(BINARY, ANY, description="The content, of any media type"), description=update),
        },
        f"{DCS}/files/{{fileId}}/revisions": {
            "get": operation(files_tag, "List a file's revisions", "listRevisions", {
                "200": response("The page", ref("PageOfRevision"), ONLY_JSON), **errors(ERROR, READS)},
                [file_id, *PAGING, _sort(("createdAt", "hash", "contentLength"))], description=read),
            "post": operation(files_tag, "Add a revision (the head stays)", "createRevision", {
                "200": response("The same content was stored already", ref("Revision"), ONLY_JSON, ETAG),
                "201": response("Stored", ref("Revision"), ONLY_JSON, ETAG),
                **errors(ERROR, WRITES + ("413",))},
                [file_id], body(BINARY, ANY, description="The content, of any media type"), description=update),
        },
        f"{DCS}/files/{{fileId}}/revisions/{{hash}}": {
            "get": operation(files_tag, "One revision", "getRevision", {
                "200": response("The revision", ref("Revision"), ONLY_JSON), **errors(ERROR, READS)},
                [file_id, sha], security=OPERATORS_AND_DEVICES,
                description="Operators (READ_DEVICE_CONFIGURATION) and devices"),
        },
        f"{DCS}/files/{{fileId}}/revisions/{{hash}}/content": {
            "get": _content("A revision's content", "getRevisionContent", [file_id, sha], files_tag),
        },
        f"{DCS}/devices/{{deviceId}}/configurationTasks": {
            "get": operation(tasks_tag, "List a device's configuration tasks", "listTasks", {
                "200": response("The page", ref("PageOfConfigurationTask"), ONLY_JSON), **errors(ERROR, READS)},
                [device, *PAGING, _sort(("createdAt",))], security=OPERATORS_AND_DEVICES,
                description="Operators (READ_DEVICE_CONFIGURATION) and the device itself"),
            "post": operation(tasks_tag, "Create a configuration task", "createTask", {
                "201": response("Created, in state CREATED", ref("ConfigurationTask"), ONLY_JSON),
                **errors(ERROR, WRITES)},
                [device],
                body(ref("TaskDefinition"), ONLY_JSON), description=update),
        },
        f"{DCS}/devices/{{deviceId}}/configurationTasks/{{taskId}}": {
            "get": operation(tasks_tag, "One configuration task", "getTask", {
                "200": response("The task", ref("ConfigurationTask"), ONLY_JSON), **errors(ERROR, READS)},
                [device, task], security=OPERATORS_AND_DEVICES,
                description="Operators (READ_DEVICE_CONFIGURATION) and the device itself"),
            "patch": operation(tasks_tag, "Move a configuration task to a state", "patchTask", {
                "200": response("The task", ref("ConfigurationTask"), ONLY_JSON), **errors(ERROR, WRITES)},
                [device, task], body(ref("StateUpdate"), ONLY_JSON), security=OPERATORS_AND_DEVICES,
                description="Operators (UPDATE_DEVICE_CONFIGURATION) and the device, each on the transitions "
                            "its trigger type allows"),
        },
        f"{DCS}/devices/{{deviceId}}/configuration": {
            "get": operation(actual_tag, "A device's actual configuration", "getConfiguration", {
                "200": response("The page", ref("PageOfConfiguredFile"), ONLY_JSON), **errors(ERROR, READS)},
                [device, *PAGING, _sort(("path",))], security=OPERATORS_AND_DEVICES,
                description="What the device's CONFIGURED tasks recorded, per path"),
        },
        f"{DCS}/devices/{{deviceId}}/configuration/content": {
            "get": _content("The configured copy of a file", "getConfiguredContent",
                            [device, query_param("path", string(), "The file's path", required=True)], actual_tag),
        },
    }
    tags = [{"name": files_tag, "description": "Files and their revisions"},
            {"name": tasks_tag, "description": "Tasks that bring files to a device"},
            {"name": actual_tag, "description": "What a device has configured"}]
    return _document("skyhawk Device Configuration Service", "Configuration files, their revisions, and the "
                     "tasks that configure devices with them.", tags, paths, DCS_SCHEMAS)


# --- Deployment Workflow Service ----------------------------------------------------------------------
DWS = "/api/deploymentworkflow/v3"
TRIGGER = string(enum=["INSTANTANEOUS", "BACKEND_TRIGGER", "DEVICE_TRIGGER", "BACKEND_TIME_TRIGGER",
                       "DEVICE_TIME_TRIGGER"])
STATE = obj({"name": string(), "description": string(), "initial": {"type": "boolean"},
             "final": {"type": "boolean"}, "cancel": {"type": "boolean"}}, ["name"])
GROUP = obj({"name": string(), "states": array(string())}, ["name", "states"])
DWS_SCHEMAS: dict[str, Any] = {
    "State": STATE,
    "Group": GROUP,
    "Transition": obj({"from": string(), "to": string(), "type": TRIGGER, "allowedTypes": array(TRIGGER),
                       "details": ANY_JSON}, ["from", "to", "type"]),
    "Model": obj({"key": string(maxLength=200), "states": array(ref("State")),
                  "transitions": array(ref("Transition")), "groups": array(ref("Group"))},
                 ["key", "states", "transitions", "groups"], "A state machine: states, transitions, groups"),
    "ModelRequest": obj({"key": string(maxLength=200), "states": array(ref("State")),
                         "transitions": array(ref("Transition")), "groups": array(ref("Group"))}, ["key", "states"]),
    "InstanceModel": obj({
        "key": string(), "states": array(ref("State")),
        "transitions": array(obj({"from": string(), "to": string(), "type": TRIGGER, "details": ANY_JSON},
                                 ["from", "to", "type"])),
        "stateGroups": array(ref("Group")),
    }, ["key", "states", "transitions", "stateGroups"], "The instance's model (`?model=true`)"),
    "Instance": obj({
        "id": string(format="uuid"), "deviceId": string(), "createdAt": DATE_TIME, "currentState": ref("StateInfo"),
        "history": array(ref("StateInfo"), "`?history=true`: every state entered, oldest first"),
        "model": ref("InstanceModel"), "data": ANY_JSON,
    }, ["id", "deviceId", "createdAt", "currentState", "data"]),
    "InstanceRequest": obj({
        "deviceId": string(),
        "model": obj({"key": string(), "customTransitions": array(ref("Transition"))}, ["key"]),
        "data": ANY_JSON,
    }, ["deviceId", "model"]),
    "PageOfInstance": _page_of("Instance"),
}


def dws_document() -> dict[str, Any]:
    key = path_param("modelKey", string())
    instance = path_param("instanceId", string(format="uuid"))
    shown = [query_param("model", {"type": "boolean", "default": False}, "Include the instance's model"),
             query_param("history", {"type": "boolean", "default": False}, "Include the state history")]
    read, update = "Required permission: READ_DEVICE_CONFIGURATION", "Required permission: UPDATE_DEVICE_CONFIGURATION"
    models_tag, instances_tag = "Models", "Instances"
    device_too = " Devices (their target token) reach their own released instances."
    paths = {
        f"{DWS}/models": {
            "post": operation(models_tag, "Register a model", "createModel", {
                "201": response("Registered", ref("Model"), ONLY_JSON), **errors(ERROR, WRITES)},
                request_body=body(ref("ModelRequest"), ONLY_JSON), description=update),
        },
        f"{DWS}/models/{{modelKey}}": {
            "get": operation(models_tag, "One model", "getModel", {
                "200": response("The model", ref("Model"), ONLY_JSON), **errors(ERROR, READS)}, [key],
                description=read),
            "delete": operation(models_tag, "Delete a model", "deleteModel", {
                "204": response("Deleted"), **errors(ERROR, WRITES)}, [key], description=update),
        },
        f"{DWS}/instances": {
            "get": operation(instances_tag, "List instances", "listInstances", {
                "200": response("The page", ref("PageOfInstance"), ONLY_JSON), **errors(ERROR, READS)},
                [*PAGING, _sort(("createdAt",)), query_param("deviceId"), query_param("modelKey"),
                 query_param("group", description="Only instances whose current state is in this state group"),
                 query_param("currentState"), *shown],
                security=OPERATORS_AND_DEVICES, description=read + "." + device_too),
            "post": operation(instances_tag, "Create an instance", "createInstance", {
                "201": response("Created, in the model's initial state", ref("Instance"), ONLY_JSON),
                **errors(ERROR, WRITES)},
                shown,
                body(ref("InstanceRequest"), ONLY_JSON), description=update),
        },
        f"{DWS}/instances/{{instanceId}}": {
            "get": operation(instances_tag, "One instance", "getInstance", {
                "200": response("The instance", ref("Instance"), ONLY_JSON), **errors(ERROR, READS)},
                [instance, *shown], security=OPERATORS_AND_DEVICES, description=read + "." + device_too),
            "patch": operation(instances_tag, "Move an instance to a state", "patchInstance", {
                "200": response("The instance", ref("Instance"), ONLY_JSON), **errors(ERROR, WRITES)},
                [instance, *shown], body(ref("StateUpdate"), ONLY_JSON), security=OPERATORS_AND_DEVICES,
                description=update + ", or the device, each on the transitions its trigger type allows."),
        },
        f"{DWS}/instances/{{instanceId}}/cancel": {
            "post": operation(instances_tag, "Cancel an instance", "cancelInstance", {
                "200": response("The instance, in the model's cancel state", ref("Instance"), ONLY_JSON),
                **errors(ERROR, WRITES)}, [instance, *shown], security=OPERATORS_AND_DEVICES,
                description=update + "." + device_too),
        },
    }
    tags = [{"name": models_tag, "description": "State machines"},
            {"name": instances_tag, "description": "A model run for one device"}]
    return _document("skyhawk Deployment Workflow Service", "Workflow models (state machines) and their "
                     "instances, one per device.", tags, paths, DWS_SCHEMAS)
