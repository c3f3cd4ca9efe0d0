"""/rest/v1/targettags: target tags and the targets they are assigned to."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import errors
from chalicelib.api import tags
from chalicelib.api.catalog_views import paged
from chalicelib.api.common import base_url, int_param, json_body, json_response, principal, query, route
from chalicelib.api.mgmt_views import targets_json
from chalicelib.lazy import lazy_import

target_tags = lazy_import("chalicelib.services.target_tags")

bp = Blueprint(__name__)
BASE = "/rest/v1/targettags"


def _controller_ids(blueprint: Blueprint) -> list[str]:
    body = json_body(blueprint, list)
    if not all(isinstance(item, str) for item in body):
        raise errors.BodyNotReadable("The body must be a list of controller ids.", ["body"])
    return body


tags.add_routes(
    bp,
    tags.Kind(
        base=BASE,
        what="target tag",
        tag_param="targetTagId",
        assigned_rel="assignedTargets",
        read="READ_TARGET",
        create="CREATE_TARGET",
        update="UPDATE_TARGET",
        delete="DELETE_TARGET",
        service=lambda: target_tags.TAGS,
        holder_ids=_controller_ids,
        holder_id=str,
        policy=True,
    ),
)


@route(bp, BASE + "/{tag_id}/assigned")
def assigned_targets(tag_id):
    who = principal(bp, "READ_TARGET")
    content, total = target_tags.assigned_targets(who.tenant, int_param(tag_id, "targetTagId"), query(bp))
    return json_response(paged(targets_json(content, who, base_url(bp)), total))
