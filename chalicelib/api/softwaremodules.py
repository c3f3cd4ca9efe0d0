"""/rest/v1/softwaremodules: modules, their artifacts (multipart upload, 302 download) and metadata."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import errors
from chalicelib.api import multipart
from chalicelib.api.catalog_views import audit, metadata_json, paged, path_text, without_none
from chalicelib.api.common import (
    BINARY,
    MULTIPART,
    base_url,
    empty,
    int_param,
    json_body,
    json_response,
    principal,
    query,
    route,
)
from chalicelib.domain.listing import Paging
from chalicelib.lazy import lazy_import

if TYPE_CHECKING:
    from chalicelib.domain.catalog_entities import Artifact, SoftwareModule

rules = lazy_import("chalicelib.domain.catalog")
catalog_metadata = lazy_import("chalicelib.services.catalog_metadata")
software_modules = lazy_import("chalicelib.services.software_modules")

bp = Blueprint(__name__)

BASE = "/rest/v1/softwaremodules"
READ, CREATE, UPDATE, DELETE = "READ_REPOSITORY", "CREATE_REPOSITORY", "UPDATE_REPOSITORY", "DELETE_REPOSITORY"
DOWNLOAD = "DOWNLOAD_REPOSITORY_ARTIFACT"


def sm_json(sm: SoftwareModule, root: str) -> dict[str, Any]:
    """MgmtSoftwareModule (also used inside MgmtDistributionSet.modules and by other blueprints)."""
    href = f"{root}{BASE}/{int(sm.id)}"
    return without_none(
        {
            **audit(sm),
            "name": sm.name,
            "description": sm.description,
            "id": int(sm.id),
            "version": sm.version_name,
            "type": sm.type_key,
            "typeName": sm.type_name,
            "vendor": sm.vendor,
            "encrypted": bool(sm.encrypted),
            "locked": bool(sm.locked),
            "deleted": bool(sm.deleted),
            "_links": {
                "self": {"href": href},
                "artifacts": {"href": f"{href}/artifacts"},
                "type": {"href": f"{root}/rest/v1/softwaremoduletypes/{int(sm.type_id)}"},
                "metadata": {"href": f"{href}/metadata?offset=0&limit=50"},
            },
        }
    )


def artifact_json(artifact: Artifact, root: str) -> dict[str, Any]:
    href = f"{root}{BASE}/{int(artifact.sm_id)}/artifacts/{int(artifact.id)}"
    return {
        **audit(artifact),
        "id": int(artifact.id),
        "hashes": {"sha1": artifact.sha1, "md5": artifact.md5, "sha256": artifact.sha256},
        "providedFilename": artifact.filename,
        "size": int(artifact.size),
        "_links": {"self": {"href": href}, "download": {"href": f"{href}/download"}},
    }


def _sm_id(value: str) -> int:
    return int_param(value, "softwareModuleId")


def _paging(sortable: dict[str, str]) -> tuple[str | None, Paging]:
    params = query(bp)
    return params.get("q"), Paging.parse(params, sortable, "id:ASC")


# --- modules ---------------------------------------------------------------------------------------
@route(bp, BASE)
def list_modules():
    who = principal(bp, READ)
    q, paging = _paging(software_modules.SORTABLE)
    items, total = software_modules.list_software_modules(who.tenant, q, paging)
    root = base_url(bp)
    return json_response(paged([sm_json(sm, root) for sm in items], total))


@route(bp, BASE, methods=["POST"])
def create_modules():
    who = principal(bp, CREATE)
    specs = [rules.software_module_spec(item) for item in json_body(bp, list)]
    created = software_modules.create_software_modules(who.tenant, specs, who.username)
    root = base_url(bp)
    return json_response([sm_json(sm, root) for sm in created], status=201)


@route(bp, BASE + "/{sm_id}")
def get_module(sm_id):
    who = principal(bp, READ)
    return json_response(sm_json(software_modules.get_software_module(who.tenant, _sm_id(sm_id)), base_url(bp)))


@route(bp, BASE + "/{sm_id}", methods=["PUT"])
def update_module(sm_id):
    who = principal(bp, UPDATE)
    change = rules.software_module_change(json_body(bp, dict))
    sm = software_modules.update_software_module(who.tenant, _sm_id(sm_id), change, who.username)
    return json_response(sm_json(sm, base_url(bp)))


@route(bp, BASE + "/{sm_id}", methods=["DELETE"])
def delete_module(sm_id):
    who = principal(bp, DELETE)
    software_modules.delete_software_module(who.tenant, _sm_id(sm_id))
    return empty(200)


# --- artifacts -------------------------------------------------------------------------------------
@route(bp, BASE + "/{sm_id}/artifacts")
def list_artifacts(sm_id):
    who = principal(bp, READ)
    root = base_url(bp)
    return json_response([artifact_json(a, root) for a in software_modules.list_artifacts(who.tenant, _sm_id(sm_id))])


@route(bp, BASE + "/{sm_id}/artifacts", methods=["POST"], consumes=MULTIPART)
def upload_artifact(sm_id):
    who = principal(bp, CREATE)
    request = bp.current_request
    form = multipart.parse_form(request.headers.get("content-type"), request.raw_body)
    file_part = form.files.get("file")
    if file_part is None:
        raise errors.BodyNotReadable("The multipart request has no 'file' part.", ["file"])
    params = query(bp)

    def given(name: str) -> str | None:
        return form.fields.get(name) or params.get(name) or None

    artifact = software_modules.upload_artifact(
        who.tenant,
        _sm_id(sm_id),
        given("filename") or file_part.filename,
        file_part.data,
        who.username,
        md5=given("md5sum"),
        sha1=given("sha1sum"),
        sha256=given("sha256sum"),
        content_type=file_part.content_type,
    )
    return json_response(artifact_json(artifact, base_url(bp)), status=201)


@route(bp, BASE + "/{sm_id}/uploads", methods=["POST"])
def start_upload(sm_id):
    """Artifacts beyond the Lambda request limit (about 6 MB): a presigned PUT straight to S3, then complete.

    Body `{"filename": "..."}`; answers 201 `{"uploadId", "uploadUrl", "method": "PUT", "expiresIn",
    "_links": {"complete"}}`.
    """
    who = principal(bp, CREATE)
    body = json_body(bp, dict)
    upload_id, url = software_modules.start_direct_upload(who.tenant, _sm_id(sm_id), body.get("filename"))
    complete = f"{base_url(bp)}{BASE}/{_sm_id(sm_id)}/uploads/{upload_id}/complete"
    return json_response(
        {
            "uploadId": upload_id,
            "uploadUrl": url,
            "method": "PUT",
            "expiresIn": software_modules.UPLOAD_URL_SECONDS,
            "_links": {"complete": {"href": complete}},
        },
        status=201,
    )


@route(bp, BASE + "/{sm_id}/uploads/{upload_id}/complete", methods=["POST"])
def complete_upload(sm_id, upload_id):
    """Verify and register an uploaded artifact; optional body `{"md5sum", "sha1sum", "sha256sum"}`."""
    who = principal(bp, CREATE)
    body = json_body(bp, dict, optional=True) or {}
    sums = {
        name: body.get(name) if isinstance(body.get(name), str) else None for name in ("md5sum", "sha1sum", "sha256sum")
    }
    artifact = software_modules.complete_direct_upload(
        who.tenant,
        _sm_id(sm_id),
        upload_id,
        who.username,
        md5=sums["md5sum"],
        sha1=sums["sha1sum"],
        sha256=sums["sha256sum"],
    )
    return json_response(artifact_json(artifact, base_url(bp)), status=201)


@route(bp, BASE + "/{sm_id}/artifacts/{artifact_id}")
def get_artifact(sm_id, artifact_id):
    who = principal(bp, READ)
    artifact = software_modules.get_artifact(who.tenant, _sm_id(sm_id), int_param(artifact_id, "artifactId"))
    return json_response(artifact_json(artifact, base_url(bp)))


@route(bp, BASE + "/{sm_id}/artifacts/{artifact_id}", methods=["DELETE"])
def delete_artifact(sm_id, artifact_id):
    who = principal(bp, DELETE)
    software_modules.delete_artifact(who.tenant, _sm_id(sm_id), int_param(artifact_id, "artifactId"))
    return empty(200)


@route(bp, BASE + "/{sm_id}/artifacts/{artifact_id}/download", produces=BINARY)
def download_artifact(sm_id, artifact_id):
    """302 to a signed S3 URL: a Lambda cannot stream large artifacts (docs/architecture.md, "Downloads")."""
    who = principal(bp, DOWNLOAD)
    url = software_modules.artifact_download(who.tenant, _sm_id(sm_id), int_param(artifact_id, "artifactId"))
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


# --- metadata -------------------------------------------------------------------------------------
@route(bp, BASE + "/{sm_id}/metadata")
def list_metadata(sm_id):
    who = principal(bp, READ)
    params = query(bp)
    paging = Paging.parse(params, catalog_metadata.SORTABLE_WITH_VISIBILITY, "key:ASC")
    entries, total = software_modules.list_metadata(who.tenant, _sm_id(sm_id), params.get("q"), paging)
    return json_response(paged([metadata_json(e, True) for e in entries], total))


@route(bp, BASE + "/{sm_id}/metadata", methods=["POST"])
def create_metadata(sm_id):
    who = principal(bp, UPDATE)
    entries = rules.metadata_entries(json_body(bp, list), with_target_visible=True)
    created = software_modules.create_metadata(who.tenant, _sm_id(sm_id), entries, who.username)
    return json_response([metadata_json(e, True) for e in created], status=201)


@route(bp, BASE + "/{sm_id}/metadata/{key}")
def get_metadata(sm_id, key):
    who = principal(bp, READ)
    entry = software_modules.get_metadata(who.tenant, _sm_id(sm_id), path_text(key))
    return json_response(metadata_json(entry, True))


@route(bp, BASE + "/{sm_id}/metadata/{key}", methods=["PUT"])
def update_metadata(sm_id, key):
    who = principal(bp, UPDATE)
    body = json_body(bp, dict)
    entry = software_modules.update_metadata(who.tenant, _sm_id(sm_id), path_text(key), body, who.username)
    return json_response(metadata_json(entry, True))


@route(bp, BASE + "/{sm_id}/metadata/{key}", methods=["DELETE"])
def delete_metadata(sm_id, key):
    who = principal(bp, UPDATE)
    software_modules.delete_metadata(who.tenant, _sm_id(sm_id), path_text(key), who.username)
    return empty(200)
