"""Target lists (`/targets`, a set's assigned/installed targets, a tag's targets) that stay bounded at the
TARGET quota (docs/capacity.md, "Target lists").

- No `q=`, sorted by controllerId: one Query page of offset + limit items; by name, createdAt,
  lastControllerRequestAt or updateStatus: the order's sharded keys-only index merged (about offset + limit
  keys), then one BatchGet of the page. `total` is the TARGET usage counter.
- `q=` whose every match satisfies one indexed constraint (a top-level `controllerId==` / `id==` /
  `updateStatus==` / `name==` / `tag==` / `assignedDS.id|name|version==` / `installedDS.id|name|version==`, alone or
  and-ed with others): the matching keys from that index (a set's name or version: the catalogue's sets of it,
  then their indexes), then the targets. When the constraint is the whole query and the order is
  controllerId's, only the page is read. A controllerId, name or updateStatus value that ends with its only
  wildcard (`dev-*`) reads the entries of its order index that start so.
- Any other `q=` or sort reads the tenant's targets in Query pages and stops with 400 once SCAN_CAP items
  would be read: within API Gateway's 29 s at any tenant size (the cap is measured in docs/capacity.md).
Every candidate is checked against the whole query, so an index only narrows what is read.
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Callable, Iterable, Iterator

from chalicelib.domain import listing, rsql
from chalicelib.domain import targets as target_rules
from chalicelib.domain.listing import Paging
from chalicelib.domain.targets import Target
from chalicelib.services.targets import SEARCH_FIELDS, SORT_FIELDS, search_view
from chalicelib.store import counters, target_metadata
from chalicelib.store import targets as store
from chalicelib.store.catalog import all_visible
from chalicelib.store.tags import TARGET_TAG_MEMBERS, TARGET_TAGS

# Items a filtered list may read. A Query page of 1 MB holds about 1,600 targets and costs DynamoDB ~0.1 s;
# decoding and matching cost about SCAN_ITEM_MS each in Lambda (docs/capacity.md "Target lists" measures both),
# so SCAN_CAP items answer well inside API Gateway's 29 s.
SCAN_CAP = listing.SCAN_CAP
SCAN_PAGE = 1_000  # items a Query page of the scan reads (below 1 MB: about 600 bytes a target)
# Index keys (about 60 bytes each, 1 MB pages) an indexed `q=` may read to count its matches: the TARGET quota.
KEY_CAP = 200_000
DEFAULT_SORT = "controllerId:ASC"
# Keys a Query of one shard of an order reads at a time: 60 entries of about 64 bytes fit the 4 KB a read unit
# pays for; a page of offset + limit <= 60 reads each shard once.
ORDER_PAGE = 60


def list_targets(tenant: str, params: dict[str, str]) -> tuple[list[Target], int]:
    paging = Paging.parse(params, SORT_FIELDS, DEFAULT_SORT)
    node = rsql.parse(params["q"], SEARCH_FIELDS) if params.get("q") else None
    if node is None:
        paged = _unfiltered_page(tenant, paging)
        if paged is not None:
            return paged
        return filter_and_page(tenant, _capped(_scan(tenant)), None, paging)
    narrowed = _narrowed(tenant, node)
    if narrowed is not None:
        ids, exact = narrowed
        if exact and paging.sorted_by("controllerId") is False:
            keys = list(_capped(ids, "keys"))
            return _in_order(tenant, keys[paging.offset : paging.offset + paging.limit]), len(keys)
        return filter_and_page(tenant, _capped(_targets_of(tenant, ids)), node, paging)
    return filter_and_page(tenant, _capped(_scan(tenant)), node, paging)


def list_by_set(tenant: str, ds_id: int, installed: bool, params: dict[str, str]) -> tuple[list[Target], int]:
    """The targets a set is assigned to (or installed on), from the set's keys-only index."""
    return list_among(tenant, store.ids_by_ds(tenant, ds_id, installed), params)


def list_tagged(tenant: str, tag_id: int, params: dict[str, str]) -> tuple[list[Target], int]:
    """The targets holding a tag, from the tag's members (store.tags.TargetTagMembers), as a set's targets."""
    return list_among(tenant, TARGET_TAG_MEMBERS.holders(tenant, tag_id), params)


def list_among(tenant: str, ids: Iterator[str], params: dict[str, str]) -> tuple[list[Target], int]:
    """A page of the targets whose controllerIds `ids` yields in order (a set's, a tag's, a rollout group's): in
    that order only the page's targets are read; with `q=` or another sort, the targets of `ids` (capped)."""
    paging = Paging.parse(params, SORT_FIELDS, DEFAULT_SORT)
    node = rsql.parse(params["q"], SEARCH_FIELDS) if params.get("q") else None
    if node is None and paging.sorted_by("controllerId") is False:
        keys = list(_capped(ids, "keys"))
        return _in_order(tenant, keys[paging.offset : paging.offset + paging.limit]), len(keys)
    return filter_and_page(tenant, _capped(_targets_of(tenant, ids)), node, paging)


def filter_and_page(
    tenant: str, targets: Iterable[Target], node: rsql.Node | None, paging: Paging
) -> tuple[list[Target], int]:
    """Match `node` against each target's search view (reading what the query's fields need once), sort, page."""
    view = _viewer(tenant, node)
    return listing.filter_and_page(((view(t), t) for t in targets), node, paging)


# --- the unfiltered orders --------------------------------------------------------------------------------
def _unfiltered_page(tenant: str, paging: Paging) -> tuple[list[Target], int] | None:
    """A page read in an indexed order (None when the sort has no index: the caller scans)."""
    end = paging.offset + paging.limit
    descending = paging.sorted_by("controllerId")
    if descending is not None:
        content = store.first_in_key_order(tenant, end, descending)[paging.offset :]
        return content, counters.usage(tenant, "TARGET")
    for key, (attribute, _) in target_rules.ORDERS.items():
        descending = paging.sorted_by(key)
        if descending is not None:
            ids = list(
                islice(store.ids_in_order(tenant, attribute, descending, page=min(end, ORDER_PAGE)), paging.offset, end)
            )
            return _in_order(tenant, ids), counters.usage(tenant, "TARGET")
    return None


def _in_order(tenant: str, ids: list[str]) -> list[Target]:
    found = store.find_many(tenant, ids)
    return [found[cid] for cid in ids if cid in found]


# --- q= narrowed by an index ------------------------------------------------------------------------------
def _narrowed(tenant: str, node: rsql.Node) -> tuple[Iterator[str], bool] | None:
    """(controllerIds in key order that include every match, whether they are exactly the matches) from the
    first indexed constraint every match must meet; None when there is none."""
    if isinstance(node, rsql.And):
        for child in node.children:
            found = _narrowed(tenant, child)
            if found is not None:
                return found[0], False
        return None
    if not isinstance(node, rsql.Comparison) or node.operator not in ("==", "=in="):
        return None
    order = _TEXT_ORDERS.get(node.field)
    values = node.plain_values()
    if values is None:
        start = node.prefix_value()
        if order is None or not start:
            return None
        # `dev-*`: the entries starting so (the order is the value's, not controllerId's: not the page itself)
        return store.ids_in_order(tenant, order, False, target_rules.order_value(start), page=None), False
    if order is not None:
        return _merged(store.ids_in_order(tenant, order, False, _prefix(v), page=None) for v in values), True
    if node.field == "tag":  # the members of the tags of those names
        wanted = {v.lower() for v in values}
        tag_ids = [t.id for t in TARGET_TAGS.all_of(tenant) if t.name.lower() in wanted]
        return _merged(TARGET_TAG_MEMBERS.holders(tenant, i) for i in tag_ids), True
    if node.field in ("assignedds.id", "installedds.id"):
        ids = [int(v) for v in values if v.isdigit()]
        return _merged(store.ids_by_ds(tenant, i, node.field == "installedds.id") for i in ids), True
    if node.field in ("assignedds.name", "assignedds.version", "installedds.name", "installedds.version"):
        # the sets of that name (version) from the catalogue, then their indexes
        part = 0 if node.field.endswith(".name") else 1
        wanted = {v.lower() for v in values}
        ids = [i for i, named in _sets(tenant).items() if named[part].lower() in wanted]
        installed = node.field.startswith("installedds")
        return _merged(store.ids_by_ds(tenant, i, installed) for i in ids), True
    return None


# Fields whose order index holds their value ignoring case, as `==` compares: an exact value, or one that ends
# with its only wildcard, reads just its entries.
_TEXT_ORDERS = {"id": "id_order", "controllerid": "id_order", "name": "name_order", "updatestatus": "status_order"}


def _prefix(value: str) -> str:
    return target_rules.order_value(value) + target_rules.ORDER_SEPARATOR


def _merged(streams: Iterable[Iterator[str]]) -> Iterator[str]:
    import heapq

    last = None
    for cid in heapq.merge(*streams):
        if cid != last:
            yield cid
        last = cid


def _targets_of(tenant: str, ids: Iterator[str], batch: int = 100) -> Iterator[Target]:
    """The targets of `ids`, a BatchGet of `batch` keys at a time, in the order of `ids`."""
    while True:
        chunk = list(islice(ids, batch))
        if not chunk:
            return
        yield from _in_order(tenant, chunk)


# --- the capped scan --------------------------------------------------------------------------------------
def _scan(tenant: str) -> Iterator[Target]:
    for page in store.scan_pages(tenant, SCAN_PAGE):
        yield from page


def _capped(items: Iterable[Any], what: str = "targets") -> Iterator[Any]:
    return listing.capped(
        items,
        KEY_CAP if what == "keys" else SCAN_CAP,
        what,
        "narrow it with an indexed field (controllerId==, name==, updateStatus==, tag==, assignedDS.*==, "
        "installedDS.*==; a value may end with *) "
        "or sort by controllerId, name, createdAt, lastControllerRequestAt or updateStatus.",
    )


# --- what a query's fields need ---------------------------------------------------------------------------
def _viewer(tenant: str, node: rsql.Node | None) -> Callable[[Target], dict[str, Any]]:
    """search_view with the tenant data the query names read once: metadata (one Query of the tenant's
    metadata items), tag names (at most TARGET_TAG), set names and versions, target types."""
    fields = {f.lower() for f in node.fields()} if node is not None else set()

    def names(prefix: str) -> bool:
        return any(f.startswith(prefix) for f in fields)

    metadata = target_metadata.maps_of_tenant(tenant) if names("metadata.") else {}
    tag_names = {t.id: t.name for t in TARGET_TAGS.all_of(tenant)} if "tag" in fields else None
    sets = (
        _sets(tenant)
        if any(
            f in fields for f in ("assignedds.name", "assignedds.version", "installedds.name", "installedds.version")
        )
        else None
    )
    types = _types(tenant) if names("targettype.") else None
    return lambda target: search_view(target, metadata.get(target.controller_id), tag_names, sets, types)


def _sets(tenant: str) -> dict[int, tuple[str, str]]:
    from chalicelib.domain.catalog_entities import DistributionSet

    return {int(ds.id): (ds.name, ds.version_name) for ds in all_visible(DistributionSet, tenant)}


def _types(tenant: str) -> dict[int, tuple[str, str]]:
    from chalicelib.domain.catalog_entities import TargetType

    return {int(t.id): (t.key, t.name) for t in all_visible(TargetType, tenant)}
