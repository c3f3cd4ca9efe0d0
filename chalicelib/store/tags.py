"""Repositories of tags: `ttag#<padded id>` (target tags) and `dstag#<padded id>` (distribution set tags)
items in the catalog table, names guarded by `uniq#<kind>-name#...` items (chalicelib/store/catalog.py)
written in the same transaction.

A tenant has at most TARGET_TAG / DISTRIBUTION_SET_TAG (1000 by default) tags of a kind, so lists read them
all with one paginated Query. Which targets hold a target tag: TargetTagMembers (an item per tag and target in
the targets table); a set's tags are found on the sets (a tenant has few sets).
"""

from __future__ import annotations

from typing import Generic, Iterable, Iterator, TypeVar

from chalicelib.domain.tags import DistributionSetTag, Tag, TargetTag
from chalicelib.store import catalog, records, tables
from chalicelib.store.tables import pad
from chalicelib.store.tx import Tx

T = TypeVar("T", bound=Tag)


class TagRepository(Generic[T]):
    def __init__(
        self,
        entity: type[T],
        model: type[tables.TargetTag] | type[tables.DistributionSetTag],
        sequence: str,
        name_guard: str,
    ) -> None:
        self.entity, self.model, self.sequence, self.name_guard = entity, model, sequence, name_guard

    def sort_key(self, tag_id: int) -> str:
        return f"{self.model.PREFIX}{pad(int(tag_id))}"

    def get(self, tenant: str, tag_id: int) -> T | None:
        try:
            return records.to_entity(self.entity, self.model.get(tenant, self.sort_key(tag_id), consistent_read=True))
        except self.model.DoesNotExist:
            return None

    def get_many(self, tenant: str, ids: Iterable[int]) -> dict[int, T]:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        found = self.model.batch_get([(tenant, self.sort_key(i)) for i in wanted])
        return {int(item.id): records.to_entity(self.entity, item) for item in found}

    def all_of(self, tenant: str) -> list[T]:
        """Every tag of the tenant, id order (one paginated Query)."""
        items = self.model.query(tenant, self.model.sk.startswith(self.model.PREFIX), consistent_read=True)
        return [records.to_entity(self.entity, item) for item in items]

    def names_taken(self, tenant: str, names: Iterable[str]) -> set[str]:
        keys = [(self.name_guard, (n,)) for n in names]
        return {parts[0] for _, parts in catalog.taken_unique(tenant, keys)}

    def claim_name(self, tx: Tx, tenant: str, name: str, tag_id: int, on_fail) -> Tx:
        return catalog.claim_unique(tx, tenant, self.name_guard, (name,), tag_id, on_fail)

    def release_name(self, tx: Tx, tenant: str, name: str) -> Tx:
        return catalog.release_unique(tx, tenant, self.name_guard, (name,))


class TargetTagMembers:
    """Which targets hold a tag: one item per (tag, target) (tables.TargetTagMember), beside the tag ids the
    target item lists. The tag service writes both in one transaction; a target's purge deletes its items."""

    @staticmethod
    def owner(tenant: str, tag_id: int) -> str:
        return f"{tenant}#tag#{int(tag_id)}"

    def write(self, tx: Tx, tenant: str, tag_id: int, controller_id: str, holds: bool) -> Tx:
        item = tables.TargetTagMember(self.owner(tenant, tag_id), controller_id)
        return tx.put(item) if holds else tx.delete(item, add_version_condition=False)

    def holders(self, tenant: str, tag_id: int) -> Iterator[str]:
        """controllerIds holding the tag, in controllerId order (a Query of the tag's partition, 1 MB pages)."""
        return (item.controller_id for item in tables.TargetTagMember.query(self.owner(tenant, tag_id)))

    def forget_target(self, tx: Tx, tenant: str, controller_id: str, tag_ids: Iterable[int]) -> Tx:
        for tag_id in tag_ids:
            self.write(tx, tenant, tag_id, controller_id, holds=False)
        return tx


TARGET_TAG_MEMBERS = TargetTagMembers()
TARGET_TAGS = TagRepository(TargetTag, tables.TargetTag, "targettag", "ttag-name")
DISTRIBUTION_SET_TAGS = TagRepository(DistributionSetTag, tables.DistributionSetTag, "distributionsettag", "dstag-name")
