"""/rest/v1/distributionsets: sets, their software modules (assignedSM) and metadata.

Target assignment (`/{dsId}/assignedTargets`, `/{dsId}/installedTargets`) lives in the deployments
blueprint; it renders sets with `ds_json` from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib import clock, errors
from chalicelib.api.catalog_views import audit, metadata_json, paged, path_text, without_none
from chalicelib.api.common import base_url, empty, int_param, json_body, json_response, principal, query, route
from chalicelib.api.softwaremodules import sm_json
from chalicelib.domain.listing import Paging
from chalicelib.lazy import lazy_import

if TYPE_CHECKING:
    from chalicelib.domain.catalog_entities import DistributionSetWithModules

rules = lazy_import("chalicelib.domain.catalog")
catalog_metadata = lazy_import("chalicelib.services.catalog_metadata")
distribution_sets = lazy_import("chalicelib.services.distribution_sets")
ds_invalidation = lazy_import("chalicelib.services.ds_invalidation")
ds_statistics = lazy_import("chalicelib.services.ds_statistics")

bp = Blueprint(__name__)

BASE = "/rest/v1/distributionsets"
READ, CREATE, UPDATE, DELETE = "READ_REPOSITORY", "CREATE_REPOSITORY", "UPDATE_REPOSITORY", "DELETE_REPOSITORY"


def ds_json(ds: DistributionSetWithModules, root: str) -> dict[str, Any]:
    """MgmtDistributionSet with full module objects. `ds` comes from a distribution_sets service call,
    which attaches the modules (`loaded_modules`)."""
    if getattr(ds, "loaded_modules", None) is None:
        raise errors.InternalError("distribution set rendered without its modules")
    href = f"{root}{BASE}/{int(ds.id)}"
    return without_none(
        {
            **audit(ds),
            "name": ds.name,
            "description": ds.description,
            "id": int(ds.id),
            "version": ds.version_name,
            "modules": [sm_json(sm, root) for sm in ds.loaded_modules],
            "requiredMigrationStep": bool(ds.required_migration_step),
            "type": ds.type_key,
            "typeName": ds.type_name,
            "complete": bool(ds.complete),
            "locked": bool(ds.locked),
            "deleted": bool(ds.deleted),
            "valid": bool(ds.valid),
            "_links": {
                "self": {"href": href},
                "modules": {"href": f"{href}/assignedSM?offset=0&limit=50"},
                "type": {"href": f"{root}/rest/v1/distributionsettypes/{int(ds.type_id)}"},
                "metadata": {"href": f"{href}/metadata?offset=0&limit=50"},
            },
        }
    )


def _ds_id(value: str) -> int:
    return int_param(value, "distributionSetId")


@route(bp, BASE)
def list_sets():
    who = principal(bp, READ)
    params = query(bp)
    paging = Paging.parse(params, distribution_sets.SORTABLE, "id:ASC")
    items, total = distribution_sets.list_distribution_sets(who.tenant, params.get("q"), paging)
    root = base_url(bp)
    return json_response(paged([ds_json(ds, root) for ds in items], total))


@route(bp, BASE, methods=["POST"])
def create_sets():
    who = principal(bp, CREATE)
    specs = [rules.distribution_set_spec(item) for item in json_body(bp, list)]
    created = distribution_sets.create_distribution_sets(who.tenant, specs, who.username)
    root = base_url(bp)
    return json_response([ds_json(ds, root) for ds in created], status=201)


@route(bp, BASE + "/{ds_id}")
def get_set(ds_id):
    who = principal(bp, READ)
    return json_response(ds_json(distribution_sets.get_distribution_set(who.tenant, _ds_id(ds_id)), base_url(bp)))


@route(bp, BASE + "/{ds_id}", methods=["PUT"])
def update_set(ds_id):
    who = principal(bp, UPDATE)
    change = rules.distribution_set_change(json_body(bp, dict))
    ds = distribution_sets.update_distribution_set(who.tenant, _ds_id(ds_id), change, who.username)
    return json_response(ds_json(ds, base_url(bp)))


@route(bp, BASE + "/{ds_id}", methods=["DELETE"])
def delete_set(ds_id):
    who = principal(bp, DELETE)
    distribution_sets.delete_distribution_set(who.tenant, _ds_id(ds_id))
    return empty(200)


@route(bp, BASE + "/{ds_id}/invalidate", methods=["POST"])
def invalidate_set(ds_id):
    """200 once the set is invalid; open actions past the first ones are canceled by the jobs worker."""
    who = principal(bp, UPDATE, "UPDATE_TARGET")
    cancelation, cancel_rollouts = ds_invalidation.parse_request(json_body(bp, dict))
    ds_invalidation.invalidate(who.tenant, _ds_id(ds_id), cancelation, who.username, clock.now_ms(), cancel_rollouts)
    return empty(200)


# --- statistics (MgmtDistributionSetStatistics) --------------------------------------------------------------
def _with_total(counts: dict[str, int], always: bool) -> dict[str, int]:
    """A status map with its `total`; an empty one is left out of a partial view (hawkBit's NON_EMPTY maps)."""
    if not counts and not always:
        return {}
    return {**counts, "total": sum(counts.values())}


def _statistics(
    actions: dict[str, int] | None = None, rollouts: dict[str, int] | None = None, full: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, counts in (("actions", actions), ("rollouts", rollouts)):
        rendered = _with_total(counts or {}, full)
        if rendered:
            body[name] = rendered
    return body


@route(bp, BASE + "/{ds_id}/statistics")
def statistics(ds_id):
    who = principal(bp, READ)
    actions, rollouts, auto_assignments = ds_statistics.of_set(who.tenant, _ds_id(ds_id))
    return json_response({**_statistics(actions, rollouts, full=True), "totalAutoAssignments": auto_assignments})


@route(bp, BASE + "/{ds_id}/statistics/actions")
def action_statistics(ds_id):
    who = principal(bp, READ)
    return json_response(_statistics(actions=ds_statistics.actions_by_status(who.tenant, _ds_id(ds_id))))


@route(bp, BASE + "/{ds_id}/statistics/rollouts")
def rollout_statistics(ds_id):
    who = principal(bp, READ)
    return json_response(_statistics(rollouts=ds_statistics.rollouts_by_status(who.tenant, _ds_id(ds_id))))


# --- software modules of a set -------------------------------------------------------------------
@route(bp, BASE + "/{ds_id}/assignedSM")
def list_assigned_modules(ds_id):
    who = principal(bp, READ)
    paging = Paging.parse(query(bp), distribution_sets.MODULE_SORTABLE, "id:ASC")
    modules, total = distribution_sets.assigned_modules(who.tenant, _ds_id(ds_id), paging)
    root = base_url(bp)
    return json_response(paged([sm_json(sm, root) for sm in modules], total))


@route(bp, BASE + "/{ds_id}/assignedSM", methods=["POST"])
def assign_modules(ds_id):
    who = principal(bp, UPDATE)
    module_ids = list(rules.ids_of(json_body(bp, list), "assignedSM"))
    distribution_sets.assign_modules(who.tenant, _ds_id(ds_id), module_ids, who.username)
    return empty(200)


@route(bp, BASE + "/{ds_id}/assignedSM/{sm_id}", methods=["DELETE"])
def unassign_module(ds_id, sm_id):
    who = principal(bp, UPDATE)
    distribution_sets.unassign_module(who.tenant, _ds_id(ds_id), int_param(sm_id, "softwareModuleId"), who.username)
    return empty(200)


# --- metadata -------------------------------------------------------------------------------------
@route(bp, BASE + "/{ds_id}/metadata")
def list_metadata(ds_id):
    who = principal(bp, READ)
    params = query(bp)
    paging = Paging.parse(params, catalog_metadata.SORTABLE, "key:ASC")
    entries, total = distribution_sets.list_metadata(who.tenant, _ds_id(ds_id), params.get("q"), paging)
    return json_response(paged([metadata_json(e, False) for e in entries], total))


@route(bp, BASE + "/{ds_id}/metadata", methods=["POST"])
def create_metadata(ds_id):
    who = principal(bp, UPDATE)
    entries = rules.metadata_entries(json_body(bp, list), with_target_visible=False)
    created = distribution_sets.create_metadata(who.tenant, _ds_id(ds_id), entries, who.username)
    return json_response([metadata_json(e, False) for e in created], status=201)


@route(bp, BASE + "/{ds_id}/metadata/{key}")
def get_metadata(ds_id, key):
    who = principal(bp, READ)
    entry = distribution_sets.get_metadata(who.tenant, _ds_id(ds_id), path_text(key))
    # hawkBit's getMetadataValue produces application/json only here (its software-module twin: HAL first).
    return json_response(metadata_json(entry, False), content_type="application/json")


@route(bp, BASE + "/{ds_id}/metadata/{key}", methods=["PUT"])
def update_metadata(ds_id, key):
    who = principal(bp, UPDATE)
    body = json_body(bp, dict)
    entry = distribution_sets.update_metadata(who.tenant, _ds_id(ds_id), path_text(key), body, who.username)
    return json_response(metadata_json(entry, False))


@route(bp, BASE + "/{ds_id}/metadata/{key}", methods=["DELETE"])
def delete_metadata(ds_id, key):
    who = principal(bp, UPDATE)
    distribution_sets.delete_metadata(who.tenant, _ds_id(ds_id), path_text(key), who.username)
    return empty(200)
