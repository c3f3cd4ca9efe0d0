"""skyhawk's additions to hawkBit's Management API: users and roles, quotas, direct (presigned) artifact
uploads, stopping a rollout, and POST on a target tag's assignment (hawkBit's newest release takes it)."""
from __future__ import annotations

import copy
from typing import Any

from tools.openapi_docs.parts import (
    array,
    body,
    errors,
    integer,
    obj,
    operation,
    path_param,
    query_param,
    ref,
    response,
    string,
)

ERROR = ref("ExceptionInfo")
READS = ("400", "401", "403", "404", "405", "406", "429", "500", "503")
WRITES = READS + ("409", "415")
LINK = obj({"href": string()}, ["href"])
_AUDIT = {
    "createdBy": string("Who created the entity"),
    "createdAt": integer("Created at (UTC, milliseconds)"),
    "lastModifiedBy": string("Who changed the entity last"),
    "lastModifiedAt": integer("Changed at (UTC, milliseconds)"),
}
_PAGING = [
    query_param("offset", integer(fmt="int32", default=0), "The paging offset"),
    query_param("limit", integer(fmt="int32", default=50), "At most this many entries (at most 500)"),
    query_param("sort", string(), "Sorting, e.g. `name:ASC`"),
    query_param("q", string(), "An RSQL search query"),
]
_PERMISSIONS = array(string(), "Permissions, e.g. READ_TARGET")

SCHEMAS: dict[str, Any] = {
    "SkyhawkUser": obj({
        **_AUDIT, "username": string(), "roles": array(string(), "Names of the roles the user holds"),
        "permissions": _PERMISSIONS, "effectivePermissions": array(string(), "Its own and its roles' permissions"),
        "_links": obj({"self": LINK, "roles": array(obj({"href": string(), "name": string()}, ["href", "name"]))}),
    }, ["username", "roles", "permissions", "effectivePermissions", "_links"],
        "A management user (passwords and hashes are never shown)"),
    "SkyhawkUserRequestBodyPost": obj({
        "username": string("1 to 64 letters, digits or . _ @ + -", pattern="^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$"),
        "password": string(), "roles": array(string()), "permissions": _PERMISSIONS,
    }, ["username", "password"]),
    "SkyhawkUserRequestBodyPut": obj({"password": string(), "roles": array(string()), "permissions": _PERMISSIONS},
                                     description="What the body names changes; a user may change its own password"),
    "PagedListSkyhawkUser": obj({"content": array(ref("SkyhawkUser")), "total": integer(),
                                 "size": integer(fmt="int32")}, ["content", "total", "size"]),
    "SkyhawkRole": obj({
        **_AUDIT, "name": string(), "description": string(), "permissions": _PERMISSIONS,
        "totalUsers": integer("Users holding the role"), "_links": obj({"self": LINK}),
    }, ["name", "permissions", "totalUsers", "_links"], "A named set of permissions"),
    "SkyhawkRoleRequestBodyPost": obj({
        "name": string("1 to 64 letters, digits or . _ -", pattern="^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
        "description": string(), "permissions": _PERMISSIONS,
    }, ["name"]),
    "SkyhawkRoleRequestBodyPut": obj({"description": string(), "permissions": _PERMISSIONS}),
    "PagedListSkyhawkRole": obj({"content": array(ref("SkyhawkRole")), "total": integer(),
                                 "size": integer(fmt="int32")}, ["content", "total", "size"]),
    "SkyhawkQuota": obj({"limit": integer("The tenant's limit"), "used": integer("How much of it is used"),
                         "_links": obj({"self": LINK})}, ["limit", "used", "_links"]),
    "SkyhawkUploadRequestBody": obj({"filename": string("The artifact's file name")}, ["filename"]),
    "SkyhawkUpload": obj({
        "uploadId": string(), "uploadUrl": string("A presigned URL: PUT the artifact's bytes to it"),
        "method": string(enum=["PUT"]), "expiresIn": integer("Seconds the URL stays valid", fmt="int32"),
        "_links": obj({"complete": LINK}, ["complete"]),
    }, ["uploadId", "uploadUrl", "method", "expiresIn", "_links"],
        "A direct upload: the bytes go straight to storage, then `complete` registers the artifact"),
    "SkyhawkUploadCompleteRequestBody": obj({"md5sum": string(), "sha1sum": string(), "sha256sum": string()},
                                            description="Optional checksums the uploaded bytes must match"),
}


def _users_and_roles() -> dict[str, Any]:
    user, role = path_param("username", string()), path_param("roleName", string())
    paths: dict[str, Any] = {}
    for kind, noun, param, entity in (("users", "User", user, "SkyhawkUser"), ("roles", "Role", role, "SkyhawkRole")):
        tag = "Users" if kind == "users" else "Roles"
        base = f"/rest/v1/{kind}"
        paths[base] = {
            "get": operation(tag, f"List {kind}", f"get{noun}s", {
                "200": response("The page", ref(f"PagedList{entity}")), **errors(ERROR, READS)},
                _PAGING, description="Required permission: USER_ADMIN"),
            "post": operation(tag, f"Create {kind}", f"create{noun}s", {
                "201": response("Created", array(ref(entity))), **errors(ERROR, WRITES)},
                request_body=body(array(ref(f"{entity}RequestBodyPost"))),
                description="Required permission: USER_ADMIN"),
        }
        item = f"{base}/{{{param['name']}}}"
        paths[item] = {
            "get": operation(tag, f"One {noun.lower()}", f"get{noun}", {
                "200": response("The entity", ref(entity)), **errors(ERROR, READS)}, [param],
                description="Required permission: USER_ADMIN" + (" (a user may read itself)" if kind == "users" else "")),
            "put": operation(tag, f"Change a {noun.lower()}", f"update{noun}", {
                "200": response("Changed", ref(entity)), **errors(ERROR, WRITES)}, [param],
                body(ref(f"{entity}RequestBodyPut")),
                description="Required permission: USER_ADMIN" + (" (a user may change its own password)"
                                                                 if kind == "users" else "")),
            "delete": operation(tag, f"Delete a {noun.lower()}", f"delete{noun}", {
                "200": response("Deleted"), **errors(ERROR, WRITES)}, [param],
                description="Required permission: USER_ADMIN"),
        }
    return paths


def _quota() -> dict[str, Any]:
    key = path_param("quotaName", string())
    return {
        "/rest/v1/system/quota": {"get": operation(
            "System Configuration", "The tenant's quotas", "getQuotas", {
                "200": response("Every quota by name", obj({}, additionalProperties=ref("SkyhawkQuota"))),
                **errors(ERROR, READS)}, description="Required permission: TENANT_CONFIGURATION")},
        "/rest/v1/system/quota/{quotaName}": {"get": operation(
            "System Configuration", "One quota", "getQuota", {
                "200": response("The quota", ref("SkyhawkQuota")), **errors(ERROR, READS)}, [key],
            description="Required permission: TENANT_CONFIGURATION")},
    }


def _uploads() -> dict[str, Any]:
    module = path_param("softwareModuleId", integer())
    upload = path_param("uploadId", string())
    return {
        "/rest/v1/softwaremodules/{softwareModuleId}/uploads": {"post": operation(
            "Software Modules", "Start a direct artifact upload", "startUpload", {
                "201": response("Started: PUT the bytes to uploadUrl, then POST to the complete link",
                                ref("SkyhawkUpload")), **errors(ERROR, WRITES)},
            [module], body(ref("SkyhawkUploadRequestBody")),
            description="For artifacts beyond the API's request size limit. Required permission: "
                        "CREATE_REPOSITORY")},
        "/rest/v1/softwaremodules/{softwareModuleId}/uploads/{uploadId}/complete": {"post": operation(
            "Software Modules", "Register a directly uploaded artifact", "completeUpload", {
                "201": response("The artifact", ref("MgmtArtifact")), **errors(ERROR, WRITES + ("410",))},
            [module, upload], body(ref("SkyhawkUploadCompleteRequestBody"), required=False),
            description="Checks the uploaded bytes (and the checksums, if given). Required permission: "
                        "CREATE_REPOSITORY")},
    }


def extend(doc: dict[str, Any]) -> None:
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    for name, schema in SCHEMAS.items():
        assert name not in schemas, f"hawkBit's document has a schema {name} now"
        schemas[name] = schema
    added = {**_users_and_roles(), **_quota(), **_uploads()}
    for template, item in added.items():
        assert template not in paths, f"hawkBit's document has {template} now"
        paths[template] = item
    rollout = paths["/rest/v1/rollouts/{rolloutId}"]
    assert "/rest/v1/rollouts/{rolloutId}/stop" not in paths
    pause = copy.deepcopy(paths["/rest/v1/rollouts/{rolloutId}/pause"]["post"])
    pause.update(summary="Stop a Rollout", operationId="stop",
                 description="Stops the rollout for good: its unfinished actions are cancelled and it ends STOPPED "
                             "(hawkBit's newest release). Required Permission: UPDATE_ROLLOUT")
    paths["/rest/v1/rollouts/{rolloutId}/stop"] = {"post": pause}
    assert rollout  # the rollout resource the stop belongs to
    assigned = paths["/rest/v1/targettags/{targetTagId}/assigned"]
    assert "post" not in assigned, "hawkBit's document has POST on a target tag's assignment now"
    assign = copy.deepcopy(assigned["put"])
    assign.update(operationId="assignTargetsByPost",
                  description=assign.get("description", "") + " POST as hawkBit's newest release takes it.")
    assigned["post"] = assign
