"""/rest/v1/distributionsettags: distribution set tags and the sets they are assigned to."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import errors
from chalicelib.api import tags
from chalicelib.api.catalog_views import paged
from chalicelib.api.common import base_url, int_param, json_body, json_response, principal, query, route
from chalicelib.api.distributionsets import CREATE, DELETE, READ, UPDATE, ds_json
from chalicelib.lazy import lazy_import

ds_tags = lazy_import("chalicelib.services.distribution_set_tags")

bp = Blueprint(__name__)
BASE = "/rest/v1/distributionsettags"


def _set_ids(blueprint: Blueprint) -> list[int]:
    body = json_body(blueprint, list)
    if not all(isinstance(item, int) and not isinstance(item, bool) for item in body):
        raise errors.BodyNotReadable("The body must be a list of distribution set ids.", ["body"])
    return body


def _set_id(value: str) -> int:
    return int_param(value, "distributionsetId")


tags.add_routes(
    bp,
    tags.Kind(
        base=BASE,
        what="distribution set tag",
        tag_param="distributionsetTagId",
        assigned_rel="assignedDistributionSets",
        read=READ,
        create=CREATE,
        update=UPDATE,
        delete=DELETE,
        service=lambda: ds_tags.TAGS,
        holder_ids=_set_ids,
        holder_id=_set_id,
        policy=False,
    ),
)


@route(bp, BASE + "/{tag_id}/assigned")
def assigned_sets(tag_id):
    who = principal(bp, READ)
    content, total = ds_tags.assigned_sets(who.tenant, int_param(tag_id, "distributionsetTagId"), query(bp))
    root = base_url(bp)
    return json_response(paged([ds_json(ds, root) for ds in content], total))
