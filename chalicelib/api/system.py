"""/rest/v1/system/configs, /rest/v1/system/quota, /rest/v1/userinfo and /health."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import errors
from chalicelib.api.common import base_url, empty, json_body, json_response, principal, route
from chalicelib.services import quotas, tenant_config

bp = Blueprint(__name__)


def _config_json(entry: tenant_config.ConfigEntry, root: str, full: bool, who=None) -> dict:
    hidden = who is not None and not who.may_read_config(entry.key)
    body = {"value": "" if hidden else entry.value, "global": entry.is_global}
    if full and not entry.is_global:
        body.update(
            createdBy=entry.created_by,
            createdAt=entry.created_at,
            lastModifiedAt=entry.last_modified_at,
            lastModifiedBy=entry.last_modified_by,
        )
    body["_links"] = {"self": {"href": f"{root}/rest/v1/system/configs/{entry.key}"}}
    return body


@route(bp, "/health")
def health():
    """200 UP when DynamoDB and S3 answer; 503 DOWN with the failing components (and Retry-After) otherwise."""
    from chalicelib.services import health as service  # loaded by probes only, not by every cold start

    current = service.current()
    if current.up:
        return json_response({"status": "UP"}, content_type="application/json")
    components = {name: {"status": "UP" if up else "DOWN"} for name, up in current.components.items()}
    return json_response(
        {"status": "DOWN", "components": components},
        status=503,
        content_type="application/json",
        extra_headers={"Retry-After": str(errors.ServiceUnavailable.RETRY_AFTER_SECONDS)},
    )


@route(bp, "/rest/v1/system/configs")
def list_configs():
    who = principal(bp, "READ_TENANT_CONFIGURATION")
    root = base_url(bp)
    return json_response({k: _config_json(e, root, True, who) for k, e in tenant_config.entries(who.tenant).items()})


@route(bp, "/rest/v1/system/configs", methods=["PUT"])
def put_configs():
    who = principal(bp, "TENANT_CONFIGURATION")
    body = json_body(bp, dict)
    changed = tenant_config.set_values(who.tenant, body, who.username)
    root = base_url(bp)
    # hawkBit answers a list of the new values; each names its key only through its self link.
    return json_response([_config_json(e, root, True, who) for e in changed.values()])


@route(bp, "/rest/v1/system/configs/{key}")
def get_config(key):
    who = principal(bp, "READ_TENANT_CONFIGURATION")
    who.require_config_read(key)
    return json_response(_config_json(tenant_config.entry(who.tenant, key), base_url(bp), True, who))


@route(bp, "/rest/v1/system/configs/{key}", methods=["PUT"])
def put_config(key):
    who = principal(bp, "TENANT_CONFIGURATION")
    body = json_body(bp, dict)
    if "value" not in body:
        raise errors.BodyNotReadable("The request body must carry 'value'.", ["value"])
    changed = tenant_config.set_values(who.tenant, {key: body["value"]}, who.username)
    return json_response(_config_json(changed[key], base_url(bp), True, who))


@route(bp, "/rest/v1/system/configs/{key}", methods=["DELETE"])
def delete_config(key):
    who = principal(bp, "TENANT_CONFIGURATION")
    tenant_config.delete_value(who.tenant, key)
    return empty(200)


@route(bp, "/rest/v1/system/quota")
def list_quota():
    who = principal(bp, "TENANT_CONFIGURATION")
    root = base_url(bp)
    return json_response(
        {
            name: {**q, "_links": {"self": {"href": f"{root}/rest/v1/system/quota/{name}"}}}
            for name, q in quotas.all_quotas(who.tenant).items()
        }
    )


@route(bp, "/rest/v1/system/quota/{key}")
def get_quota(key):
    who = principal(bp, "TENANT_CONFIGURATION")
    quota = quotas.one_quota(who.tenant, key)
    return json_response({**quota, "_links": {"self": {"href": f"{base_url(bp)}/rest/v1/system/quota/{key}"}}})


@route(bp, "/rest/v1/userinfo")
def userinfo():
    who = principal(bp)
    return json_response({"tenant": who.tenant, "username": who.username}, content_type="application/json")
