"""Tags (hawkBit TargetTagManagement, DistributionSetTagManagement and the tag assignment of targets and sets).

One `Tags` per kind; what differs between kinds (the tagged entity, its reads and its rules) is a `Holders`.
Tags live in the catalog table; a tagged entity lists its tag ids on its own item (chalicelib/domain/tags.py).
Names are unique per tenant and kind (a guard item in the creating / renaming transaction: 409). Creating several
tags is all or nothing (store.all_or_nothing). Assigning or unassigning many entities checks every one first
(404 names the missing ones, nothing written), then writes them in transactions of up to 100, each on the
versions it read; a retry of the request completes it, since assigning is idempotent.
Deleting a tag first takes it off its entities, then deletes it: a retry of the delete finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Generic, Hashable, TypeVar

from chalicelib import clock, errors
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain import rsql
from chalicelib.domain import tags as rules
from chalicelib.domain.changes import Condition, Missing
from chalicelib.domain.listing import Paging
from chalicelib.services import catalog_lists, quotas
from chalicelib.store import counters
from chalicelib.store.all_or_nothing import AllOrNothing
from chalicelib.store.tags import TagRepository
from chalicelib.store.tx import ATTEMPTS, MAX_ITEMS, Tx, retrying

TAG_FIELDS = catalog_lists.BASE_FIELDS | {"colour"}  # hawkBit TagFields (and the audit fields)
TAG_SORTABLE = catalog_lists.sortable(TAG_FIELDS)
CREATE_CHUNK = (MAX_ITEMS - 2) // 2  # a tag and its name guard; the usage counter and the journal's room
HOLDERS_PER_TRANSACTION = MAX_ITEMS

T = TypeVar("T", bound=rules.Tag)


@dataclass(frozen=True)
class Holders:
    """The tagged entities of one kind: hawkBit's name for them, how to read them and the rules they carry."""

    kind: str  # "Target", "DistributionSet": the 404's entity name
    id_of: Callable[[Any], Hashable]
    find_many: Callable[[str, list], dict]  # ids -> the live entities found
    all_of: Callable[[str], list]  # every live entity of the tenant
    live: Callable[[], Condition]  # the condition of a write to one
    check_room: Callable[[Any, int], None] = lambda holder, tag_id: None  # refuses one more tag (quota)
    changed: Callable[[str, list], None] = lambda tenant, ids: None  # told the ids whose tags were changed
    # Which entities hold a tag, kept beside their tag lists (store.tags.TargetTagMembers), or None: the
    # holders are found among all_of (a kind the tenant has few of)
    members: Any = None


def tag_ids(holder: Any) -> set[int]:
    return {int(i) for i in holder.tags or []}


class Tags(Generic[T]):
    def __init__(
        self, entity: str, plural: str, quota: str, store: TagRepository[T], bulk_kind: str, holders: Holders
    ) -> None:
        """`entity`: hawkBit's name ("TargetTag"); `plural`: the quota message's ("target tags")."""
        self.entity, self.plural, self.quota, self.store = entity, plural, quota, store
        self.bulk_kind, self.holders = bulk_kind, holders

    def _duplicate(self, name: str) -> errors.EntityAlreadyExists:
        return errors.EntityAlreadyExists(
            f"{self.entity} with given key or name {{{name}}} already exists.", [self.entity, name]
        )

    # --- tags ----------------------------------------------------------------------------------------
    def list_tags(self, tenant: str, q: str | None, paging: Paging) -> tuple[list[T], int]:
        node = rsql.parse(q, TAG_FIELDS) if q else None
        records = [{**catalog_lists.base_record(t), "colour": t.colour} for t in self.store.all_of(tenant)]
        return catalog_lists.filter_and_page(records, node, paging)

    def get_tag(self, tenant: str, tag_id: int) -> T:
        tag = self.store.get(tenant, tag_id)
        if tag is None:
            raise errors.EntityNotFound.of(self.entity, tag_id)
        return tag

    def names(self, tenant: str) -> dict[int, str]:
        """id -> name of every tag of the tenant (at most the kind's quota)."""
        return {int(t.id): t.name for t in self.store.all_of(tenant)}

    def create_tags(self, tenant: str, specs: list[rules.TagSpec], user: str) -> list[T]:
        seen: set[str] = set()
        for spec in specs:
            if spec.name in seen:
                raise self._duplicate(spec.name)
            seen.add(spec.name)
        limit = quotas.limit(self.quota)
        quota_rules.check_create(len(specs), limit, self.plural, counters.usage(tenant, self.quota))
        if not specs:
            return []
        taken = self.store.names_taken(tenant, seen)
        for spec in specs:
            if spec.name in taken:
                raise self._duplicate(spec.name)
        ids = counters.allocate_ids(tenant, self.store.sequence, len(specs))
        now = clock.now_ms()
        tags = [
            self.store.entity(
                tenant=tenant,
                sk=self.store.sort_key(tag_id),
                id=tag_id,
                name=spec.name,
                description=spec.description,
                colour=spec.colour,
                created_at=now,
                created_by=user,
                last_modified_at=now,
                last_modified_by=user,
            )
            for tag_id, spec in zip(ids, specs)
        ]
        with AllOrNothing(tenant, self.bulk_kind) as steps:
            for start in range(0, len(tags), CREATE_CHUNK):
                chunk = tags[start : start + CREATE_CHUNK]
                tx, undo = Tx(), Tx()
                for tag in chunk:
                    tx.put(tag, condition=Missing("sk"))
                    self.store.claim_name(tx, tenant, tag.name, tag.id, partial(self._duplicate, tag.name))
                    undo.delete(tag)
                    self.store.release_name(undo, tenant, tag.name)
                quotas.charge(tx, tenant, self.quota, len(chunk))
                quotas.release(undo, tenant, self.quota, len(chunk))
                steps.commit(tx, undo, created=[tag.id for tag in chunk])
        return tags

    def update_tag(self, tenant: str, tag_id: int, change: rules.TagChange, user: str) -> T:
        def attempt() -> T:
            tag = self.get_tag(tenant, tag_id)
            fields = rules.tag_update(change, user, clock.now_ms())
            tx = Tx().update(tag, fields)  # on the version read: a concurrent change -> retry on fresh data
            if change.name is not None and change.name != tag.name:
                self.store.release_name(tx, tenant, tag.name)
                self.store.claim_name(tx, tenant, change.name, tag.id, partial(self._duplicate, str(change.name)))
            tx.commit()
            return self.get_tag(tenant, tag_id)

        return retrying(ATTEMPTS, attempt)

    def delete_tag(self, tenant: str, tag_id: int) -> None:
        tag = self.get_tag(tenant, tag_id)
        self._change_holders(tenant, [self.holders.id_of(h) for h in self.tagged(tenant, tag.id)], tag.id, assign=False)

        def attempt() -> None:
            current = self.get_tag(tenant, tag_id)
            tx = Tx().delete(current)
            self.store.release_name(tx, tenant, current.name)
            quotas.release(tx, tenant, self.quota, 1)
            tx.commit()

        retrying(ATTEMPTS, attempt)

    def delete_tag_if_exists(self, tenant: str, tag_id: int) -> None:
        """The reaper's rollback of a create that never completed."""
        if self.store.get(tenant, tag_id) is not None:
            self.delete_tag(tenant, tag_id)

    # --- assignment ----------------------------------------------------------------------------------
    def tagged(self, tenant: str, tag_id: int) -> list:
        """The tenant's entities carrying the tag: from its members when the kind keeps them (cost grows with
        the holders), else among all of the kind."""
        if self.holders.members is not None:
            ids = list(self.holders.members.holders(tenant, tag_id))
            return [h for h in self.holders.find_many(tenant, ids).values() if int(tag_id) in tag_ids(h)]
        return [h for h in self.holders.all_of(tenant) if int(tag_id) in tag_ids(h)]

    def tags_on(self, tenant: str, holder: Any) -> list[T]:
        found = self.store.get_many(tenant, holder.tags or [])
        return [found[int(i)] for i in holder.tags or [] if int(i) in found]  # a tag being deleted is left out

    def assign(self, tenant: str, tag_id: int, ids: list, policy: str = "FAIL") -> None:
        self._assignment(tenant, tag_id, ids, policy, assign=True)

    def unassign(self, tenant: str, tag_id: int, ids: list, policy: str = "FAIL") -> None:
        self._assignment(tenant, tag_id, ids, policy, assign=False)

    def _assignment(self, tenant: str, tag_id: int, ids: list, policy: str, assign: bool) -> None:
        if policy not in POLICIES:
            raise errors.ConstraintViolation(
                f"onNotFoundPolicy must be one of {', '.join(POLICIES)}.", ["onNotFoundPolicy"]
            )
        self.get_tag(tenant, tag_id)
        wanted = list(dict.fromkeys(ids))
        found = self.holders.find_many(tenant, wanted)
        missing = [i for i in wanted if i not in found]
        if missing and policy == "FAIL":
            raise errors.EntityNotFound.of(self.holders.kind, missing)  # hawkBit names them all, as a list
        self._change_holders(tenant, [i for i in wanted if i in found], tag_id, assign)
        if missing and policy == "ON_WHAT_FOUND_AND_FAIL":
            raise errors.EntityNotFound.of(self.holders.kind, missing)

    def _change_holders(self, tenant: str, ids: list, tag_id: int, assign: bool) -> None:
        """Add (remove) the tag on the entities: quota checks first for all, then transactions of up to 100."""
        if assign:
            for holder in self.holders.find_many(tenant, ids).values():
                self._check_room(holder, tag_id)
        per_transaction = HOLDERS_PER_TRANSACTION // (1 if self.holders.members is None else 2)
        for start in range(0, len(ids), per_transaction):
            chunk = ids[start : start + per_transaction]
            retrying(ATTEMPTS, partial(self._change_chunk, tenant, chunk, tag_id, assign))
        self.holders.changed(tenant, ids)

    def _change_chunk(self, tenant: str, ids: list, tag_id: int, assign: bool) -> None:
        tx = Tx()
        members = self.holders.members
        for holder in self.holders.find_many(tenant, ids).values():
            if members is not None:  # also when the entity is as wanted already: a retry completes its member
                members.write(tx, tenant, tag_id, self.holders.id_of(holder), assign)
            if (int(tag_id) in tag_ids(holder)) == assign:
                continue  # already as wanted
            if assign:
                self._check_room(holder, tag_id)
            # the version read: a concurrent write to the entity -> this chunk is read and written again
            tags = rules.tags_with(holder.tags, tag_id) if assign else rules.tags_without(holder.tags, tag_id)
            tx.update(holder, {"tags": tags}, condition=self.holders.live())
        tx.commit()  # an empty one writes nothing

    def _check_room(self, holder: Any, tag_id: int) -> None:
        if int(tag_id) not in tag_ids(holder):
            self.holders.check_room(holder, tag_id)


POLICIES = ("FAIL", "ON_WHAT_FOUND_AND_FAIL", "ON_WHAT_FOUND_AND_SUCCESS")
