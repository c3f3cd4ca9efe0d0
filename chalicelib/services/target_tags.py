"""Target tags: the shared tag service (chalicelib/services/tags.py) over targets, at most
MAX_TAGS_PER_TARGET on a target (ids on its item, inside the poll's read)."""

from __future__ import annotations

from chalicelib import errors
from chalicelib.domain import quotas as quota_rules
from chalicelib.domain.tags import TargetTag
from chalicelib.domain.targets import Target
from chalicelib.services import auto_assignment, bulk_creates, target_lists
from chalicelib.services.tags import Holders, Tags
from chalicelib.store import targets as target_store
from chalicelib.store.tags import TARGET_TAG_MEMBERS, TARGET_TAGS


def _check_room(target: Target, tag_id: int) -> None:
    quota_rules.check_assign(
        1,
        len(target.tags or []),
        quota_rules.MAX_TAGS_PER_TARGET,
        "TargetTag entities",
        f"Target '{target.controller_id}'",
    )


def _targets(tenant: str) -> list[Target]:
    return list(target_store.query_all(tenant))


TAGS: Tags[TargetTag] = Tags(
    "TargetTag",
    "target tags",
    "TARGET_TAG",
    TARGET_TAGS,
    bulk_creates.TARGET_TAGS,
    Holders(
        kind="Target",
        id_of=lambda t: t.controller_id,
        find_many=lambda tenant, ids: target_store.find_many(tenant, ids),
        all_of=_targets,
        live=target_store.live_condition,
        check_room=_check_room,
        changed=lambda tenant, ids: auto_assignment.changed(tenant, ids),
        members=TARGET_TAG_MEMBERS,
    ),
)


def assigned_targets(tenant: str, tag_id: int, params: dict[str, str]) -> tuple[list[Target], int]:
    TAGS.get_tag(tenant, tag_id)
    return target_lists.list_tagged(tenant, tag_id, params)


def tags_of(tenant: str, controller_id: str) -> list[TargetTag]:
    target = target_store.find(tenant, controller_id)
    if target is None:
        raise errors.EntityNotFound.of("Target", controller_id)
    return TAGS.tags_on(tenant, target)
