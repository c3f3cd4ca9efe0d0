"""Target tags (hawkBit TargetTagManagement and TargetManagement's tag assignment).

Tags live in the catalog table; a target lists its tag ids on its own item (chalicelib/domain/target_tags.py).
Names are unique per tenant (a guard item in the creating / renaming transaction: 409). Creating several tags
is all or nothing (store.all_or_nothing). Assigning or unassigning many targets checks every target first
(404 names the missing ones, nothing written), then writes them in transactions of up to 100 targets, each on
the versions it read; a retry of the request completes it, since assigning is idempotent.
Deleting a tag first takes it off its targets, then deletes it: a retry of the delete finishes the job.
"""
from __future__ import annotations

from functools import partial
from typing import Any

from chalicelib import clock, errors
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain import rsql
from chalicelib.domain import target_tags as rules
from chalicelib.domain.changes import Missing
from chalicelib.domain.listing import Paging
from chalicelib.domain.target_tags import TargetTag
from chalicelib.domain.targets import Target
from chalicelib.services import bulk_creates, catalog_lists, quotas
from chalicelib.services import targets as target_service
from chalicelib.store import counters
from chalicelib.store import target_tags as store
from chalicelib.store import targets as target_store
from chalicelib.store.all_or_nothing import AllOrNothing
from chalicelib.store.tx import ATTEMPTS, MAX_ITEMS, Tx, retrying

QUOTA = "TARGET_TAG"
TAG_FIELDS = catalog_lists.BASE_FIELDS | {"colour"}  # hawkBit TagFields (and the audit fields)
TAG_SORTABLE = catalog_lists.sortable(TAG_FIELDS)
CREATE_CHUNK = (MAX_ITEMS - 2) // 2  # a tag and its name guard; the usage counter and the journal's room
TARGETS_PER_TRANSACTION = MAX_ITEMS


def _duplicate(name: str) -> errors.EntityAlreadyExists:
    return errors.EntityAlreadyExists(f"TargetTag with given key or name {{{name}}} already exists.",
                                      ["TargetTag", name])


def _record(tag: TargetTag) -> dict[str, Any]:
    return {**catalog_lists.base_record(tag), "colour": tag.colour}


# --- tags --------------------------------------------------------------------------------------------
def list_tags(tenant: str, q: str | None, paging: Paging) -> tuple[list[TargetTag], int]:
    node = rsql.parse(q, TAG_FIELDS) if q else None
    return catalog_lists.filter_and_page([_record(t) for t in store.all_of(tenant)], node, paging)


def get_tag(tenant: str, tag_id: int) -> TargetTag:
    tag = store.get(tenant, tag_id)
    if tag is None:
        raise errors.EntityNotFound.of("TargetTag", tag_id)
    return tag


def create_tags(tenant: str, specs: list[rules.TagSpec], user: str) -> list[TargetTag]:
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise _duplicate(spec.name)
        seen.add(spec.name)
    limit = quotas.limit(QUOTA)
    quota_rules.check_create(len(specs), limit, "target tags", counters.usage(tenant, QUOTA))
    if not specs:
        return []
    taken = store.names_taken(tenant, seen)
    for spec in specs:
        if spec.name in taken:
            raise _duplicate(spec.name)
    ids = counters.allocate_ids(tenant, store.SEQUENCE, len(specs))
    now = clock.now_ms()
    tags = [TargetTag(tenant=tenant, sk=store.sort_key(tag_id), id=tag_id, name=spec.name,
                      description=spec.description, colour=spec.colour, created_at=now, created_by=user,
                      last_modified_at=now, last_modified_by=user) for tag_id, spec in zip(ids, specs)]
    with AllOrNothing(tenant, bulk_creates.TARGET_TAGS) as steps:
        for start in range(0, len(tags), CREATE_CHUNK):
            chunk = tags[start:start + CREATE_CHUNK]
            tx, undo = Tx(), Tx()
            for tag in chunk:
                tx.put(tag, condition=Missing("sk"))
                store.claim_name(tx, tenant, tag.name, tag.id, lambda name=tag.name: _duplicate(name))
                undo.delete(tag)
                store.release_name(undo, tenant, tag.name)
            counters.usage_update(tx, tenant, QUOTA, len(chunk), limit)
            counters.usage_update(undo, tenant, QUOTA, -len(chunk))
            steps.commit(tx, undo, created=[tag.id for tag in chunk])
    return tags


def update_tag(tenant: str, tag_id: int, change: rules.TagChange, user: str) -> TargetTag:
    def attempt() -> TargetTag:
        tag = get_tag(tenant, tag_id)
        fields = rules.tag_update(change, user, clock.now_ms())
        tx = Tx().update(tag, fields)  # on the version read: a concurrent change -> retry on fresh data
        if change.name is not None and change.name != tag.name:
            store.release_name(tx, tenant, tag.name)
            store.claim_name(tx, tenant, change.name, tag.id, lambda: _duplicate(str(change.name)))
        tx.commit()
        return get_tag(tenant, tag_id)
    return retrying(ATTEMPTS, attempt)


def delete_tag(tenant: str, tag_id: int) -> None:
    tag = get_tag(tenant, tag_id)
    _change_targets(tenant, [t.controller_id for t in _targets_with(tenant, tag.id)], tag.id, assign=False)

    def attempt() -> None:
        current = get_tag(tenant, tag_id)
        tx = Tx().delete(current)
        store.release_name(tx, tenant, current.name)
        counters.usage_update(tx, tenant, QUOTA, -1)
        tx.commit()
    retrying(ATTEMPTS, attempt)


def delete_tag_if_exists(tenant: str, tag_id: int) -> None:
    """The reaper's rollback of a create that never completed."""
    if store.get(tenant, tag_id) is not None:
        delete_tag(tenant, tag_id)


# --- assignment --------------------------------------------------------------------------------------
def _targets_with(tenant: str, tag_id: int) -> list[Target]:
    """The tenant's targets carrying the tag (a Query over its targets: cost grows with them)."""
    return [t for t in target_store.query_all(tenant) if int(tag_id) in {int(i) for i in t.tags or []}]


def assigned_targets(tenant: str, tag_id: int, params: dict[str, str]) -> tuple[list[Target], int]:
    get_tag(tenant, tag_id)
    paging = Paging.parse(params, target_service.SORT_FIELDS, "controllerId:ASC")
    return target_service.filter_and_page(tenant, _targets_with(tenant, tag_id), params.get("q"), paging)


def tags_of(tenant: str, controller_id: str) -> list[TargetTag]:
    target = target_store.find(tenant, controller_id)
    if target is None:
        raise errors.EntityNotFound.of("Target", controller_id)
    found = store.get_many(tenant, target.tags or [])
    return [found[int(i)] for i in target.tags or [] if int(i) in found]  # a tag being deleted is left out


POLICIES = ("FAIL", "ON_WHAT_FOUND_AND_FAIL", "ON_WHAT_FOUND_AND_SUCCESS")


def assign(tenant: str, tag_id: int, controller_ids: list[str], policy: str = "FAIL") -> None:
    _assignment(tenant, tag_id, controller_ids, policy, assign=True)


def unassign(tenant: str, tag_id: int, controller_ids: list[str], policy: str = "FAIL") -> None:
    _assignment(tenant, tag_id, controller_ids, policy, assign=False)


def _assignment(tenant: str, tag_id: int, controller_ids: list[str], policy: str, assign: bool) -> None:
    if policy not in POLICIES:
        raise errors.ConstraintViolation(f"onNotFoundPolicy must be one of {', '.join(POLICIES)}.",
                                         ["onNotFoundPolicy"])
    get_tag(tenant, tag_id)
    wanted = list(dict.fromkeys(controller_ids))
    found = target_store.find_many(tenant, wanted)
    missing = [cid for cid in wanted if cid not in found]
    if missing and policy == "FAIL":
        raise errors.EntityNotFound.of("Target", missing)  # hawkBit names them all, as a list
    _change_targets(tenant, [cid for cid in wanted if cid in found], tag_id, assign)
    if missing and policy == "ON_WHAT_FOUND_AND_FAIL":
        raise errors.EntityNotFound.of("Target", missing)  # hawkBit names them all, as a list


def _change_targets(tenant: str, controller_ids: list[str], tag_id: int, assign: bool) -> None:
    """Add (remove) the tag on the targets: quota checks first for all, then transactions of up to 100."""
    if assign:
        for target in target_store.find_many(tenant, controller_ids).values():
            _check_room(target, tag_id)
    for start in range(0, len(controller_ids), TARGETS_PER_TRANSACTION):
        chunk = controller_ids[start:start + TARGETS_PER_TRANSACTION]
        retrying(ATTEMPTS, partial(_change_chunk, tenant, chunk, tag_id, assign))


def _change_chunk(tenant: str, controller_ids: list[str], tag_id: int, assign: bool) -> None:
    tx = Tx()
    for target in target_store.find_many(tenant, controller_ids).values():
        if (int(tag_id) in {int(i) for i in target.tags or []}) == assign:
            continue  # already as wanted
        if assign:
            _check_room(target, tag_id)
        # the version read: a concurrent write to the target -> this chunk is read and written again
        tags = rules.tags_with(target.tags, tag_id) if assign else rules.tags_without(target.tags, tag_id)
        tx.update(target, {"tags": tags}, condition=target_store.live_condition())
    tx.commit()


def _check_room(target: Target, tag_id: int) -> None:
    current = [int(i) for i in target.tags or []]
    adding = 0 if int(tag_id) in current else 1
    quota_rules.check_assign(adding, len(current), quota_rules.MAX_TAGS_PER_TARGET, "TargetTag entities",
                             f"Target '{target.controller_id}'")
