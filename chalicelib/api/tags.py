"""The routes every tag kind shares (hawkBit MgmtTargetTagRestApi, MgmtDistributionSetTagRestApi): CRUD and
assignment by a list or one by one. Each kind's blueprint adds them with `add_routes` and lists its own
assigned entities."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from chalice import Blueprint

from chalicelib.api.catalog_views import paged, tag_json
from chalicelib.api.common import base_url, empty, int_param, json_body, json_response, principal, query, route
from chalicelib.domain.listing import Paging
from chalicelib.lazy import lazy_import

rules = lazy_import("chalicelib.domain.tags")
shared = lazy_import("chalicelib.services.tags")


class Kind(NamedTuple):
    base: str  # "/rest/v1/targettags"
    what: str  # "target tag", for messages
    tag_param: str  # the path parameter's name in hawkBit's errors
    assigned_rel: str  # the link to what a single tag is assigned to
    read: str
    create: str
    update: str
    delete: str
    service: Callable[[], Any]  # the kind's services.tags.Tags (a call, so the service loads on first use)
    holder_ids: Callable[[Blueprint], list]  # the assignment body's ids
    holder_id: Callable[[str], Any]  # one id from the path
    policy: bool  # takes onNotFoundPolicy


def add_routes(bp: Blueprint, kind: Kind) -> None:
    base = kind.base

    def tag_id_of(value: str) -> int:
        return int_param(value, kind.tag_param)

    def render(tag: Any, detailed: bool = False) -> dict[str, Any]:
        return tag_json(tag, base_url(bp), detailed, base, kind.assigned_rel)

    def policy() -> str:
        return (query(bp).get("onNotFoundPolicy") or "FAIL") if kind.policy else "FAIL"

    @route(bp, base)
    def list_tags():
        who = principal(bp, kind.read)
        params = query(bp)
        paging = Paging.parse(params, shared.TAG_SORTABLE, "id:ASC")
        tags, total = kind.service().list_tags(who.tenant, params.get("q"), paging)
        return json_response(paged([render(t) for t in tags], total))

    @route(bp, base, methods=["POST"])
    def create_tags():
        who = principal(bp, kind.create)
        specs = [rules.tag_spec(item, kind.what) for item in json_body(bp, list)]
        created = kind.service().create_tags(who.tenant, specs, who.username)
        return json_response([render(t) for t in created], status=201)

    @route(bp, base + "/{tag_id}")
    def get_tag(tag_id):
        who = principal(bp, kind.read)
        return json_response(render(kind.service().get_tag(who.tenant, tag_id_of(tag_id)), detailed=True))

    @route(bp, base + "/{tag_id}", methods=["PUT"])
    def update_tag(tag_id):
        who = principal(bp, kind.update)
        change = rules.tag_change(json_body(bp, dict), kind.what)
        tag = kind.service().update_tag(who.tenant, tag_id_of(tag_id), change, who.username)
        return json_response(render(tag, detailed=True))

    @route(bp, base + "/{tag_id}", methods=["DELETE"])
    def delete_tag(tag_id):
        who = principal(bp, kind.delete)
        kind.service().delete_tag(who.tenant, tag_id_of(tag_id))
        return empty(200)

    # PUT as the documented API; POST as hawkBit's newest release takes it.
    @route(bp, base + "/{tag_id}/assigned", methods=["PUT", "POST"])
    def assign_list(tag_id):
        who = principal(bp, kind.update)
        kind.service().assign(who.tenant, tag_id_of(tag_id), kind.holder_ids(bp), policy())
        return empty(200)

    @route(bp, base + "/{tag_id}/assigned", methods=["DELETE"])
    def unassign_list(tag_id):
        who = principal(bp, kind.update)
        kind.service().unassign(who.tenant, tag_id_of(tag_id), kind.holder_ids(bp), policy())
        return empty(200)

    @route(bp, base + "/{tag_id}/assigned/{holder_id}", methods=["POST"])
    def assign_one(tag_id, holder_id):
        who = principal(bp, kind.update)
        kind.service().assign(who.tenant, tag_id_of(tag_id), [kind.holder_id(holder_id)])
        return empty(200)

    @route(bp, base + "/{tag_id}/assigned/{holder_id}", methods=["DELETE"])
    def unassign_one(tag_id, holder_id):
        who = principal(bp, kind.update)
        kind.service().unassign(who.tenant, tag_id_of(tag_id), [kind.holder_id(holder_id)])
        return empty(200)
