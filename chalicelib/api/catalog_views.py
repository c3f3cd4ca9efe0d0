"""Management API renderings shared by the catalogue blueprints: audit fields, types, metadata, and the
PagedList of every Management list (mgmt_views re-exports `paged` for targets and deployments).

Shapes follow hawkBit's classic/Oct-2025 JSON (`MgmtSoftwareModuleType`, `MgmtDistributionSetType`,
`MgmtSoftwareModuleMetadata`, `MgmtMetadata`, `PagedList`); absent optional values are omitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from chalicelib.domain.catalog import MetadataEntry
    from chalicelib.domain.catalog_entities import DistributionSetType, SoftwareModuleType, TargetType
    from chalicelib.domain.listing import Paging
    from chalicelib.domain.tags import Tag


def audit(entity: Any) -> dict[str, Any]:
    return {
        "createdBy": entity.created_by,
        "createdAt": int(entity.created_at),
        "lastModifiedBy": entity.last_modified_by,
        "lastModifiedAt": int(entity.last_modified_at),
    }


def without_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def paged(content: list[dict], total: int) -> dict[str, Any]:
    return {"content": content, "total": int(total), "size": len(content)}


def path_text(segment: str) -> str:
    """A free-text path parameter (a metadata key such as `a[0]`): chalice and API Gateway REST APIs
    hand path parameters over still percent-encoded, as the client sent them."""
    return unquote(segment)


def paging_query(paging: Paging) -> str:
    return f"offset={paging.offset}&limit={paging.limit}"


def sm_type_json(item: SoftwareModuleType, root: str) -> dict[str, Any]:
    return without_none(
        {
            **audit(item),
            "name": item.name,
            "description": item.description,
            "key": item.key,
            "colour": item.colour,
            "deleted": bool(item.deleted),
            "id": int(item.id),
            "maxAssignments": int(item.max_assignments),
            "_links": {"self": {"href": f"{root}/rest/v1/softwaremoduletypes/{int(item.id)}"}},
        }
    )


def _keyed_type(item: DistributionSetType | TargetType) -> dict[str, Any]:
    """What distribution set types and target types show alike."""
    return {
        **audit(item),
        "name": item.name,
        "description": item.description,
        "key": item.key,
        "colour": item.colour,
        "deleted": bool(item.deleted),
        "id": int(item.id),
    }


def ds_type_json(item: DistributionSetType, root: str) -> dict[str, Any]:
    href = f"{root}/rest/v1/distributionsettypes/{int(item.id)}"
    return without_none(
        {
            **_keyed_type(item),
            "_links": {
                "self": {"href": href},
                "mandatorymodules": {"href": f"{href}/mandatorymoduletypes"},
                "optionalmodules": {"href": f"{href}/optionalmoduletypes"},
            },
        }
    )


def target_type_json(item: TargetType, root: str) -> dict[str, Any]:
    href = f"{root}/rest/v1/targettypes/{int(item.id)}"
    return without_none(
        {
            **_keyed_type(item),
            "_links": {
                "self": {"href": href},
                "compatibledistributionsettypes": {"href": f"{href}/compatibledistributionsettypes"},
            },
        }
    )


def metadata_json(entry: MetadataEntry, with_target_visible: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"key": entry.key}
    if entry.value is not None:  # only entries stored before values were required lack one; hawkBit omits nulls
        body["value"] = entry.value
    if with_target_visible:
        body["targetVisible"] = bool(entry.target_visible)
    return body


def tag_json(
    tag: Tag,
    root: str,
    detailed: bool = False,
    base: str = "/rest/v1/targettags",
    assigned_rel: str = "assignedTargets",
) -> dict[str, Any]:
    """hawkBit MgmtTag under `base`; a single tag (GET, PUT) also links what it is assigned to."""
    href = f"{root}{base}/{int(tag.id)}"
    links = {"self": {"href": href}}
    if detailed:
        links[assigned_rel] = {"href": f"{href}/assigned?offset=0&limit=50"}
    return without_none(
        {
            **audit(tag),
            "name": tag.name,
            "description": tag.description,
            "colour": tag.colour,
            "id": int(tag.id),
            "_links": links,
        }
    )
