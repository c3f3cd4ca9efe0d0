"""Distribution set tags: the shared tag service (chalicelib/services/tags.py) over distribution sets.
Soft-deleted sets count as missing (hawkBit tags only sets that are not deleted) and lose their tags."""

from __future__ import annotations

from chalicelib.domain.catalog_entities import DistributionSet, DistributionSetWithModules
from chalicelib.domain.changes import Condition, Exists, eq
from chalicelib.domain.listing import Paging
from chalicelib.domain.tags import DistributionSetTag
from chalicelib.services import bulk_creates
from chalicelib.services import distribution_sets as set_service
from chalicelib.services.tags import Holders, Tags
from chalicelib.store.tags import DISTRIBUTION_SET_TAGS


def _live() -> Condition:
    return Exists("sk") & eq("deleted", False)


TAGS: Tags[DistributionSetTag] = Tags(
    "DistributionSetTag",
    "distribution set tags",
    "DISTRIBUTION_SET_TAG",
    DISTRIBUTION_SET_TAGS,
    bulk_creates.DISTRIBUTION_SET_TAGS,
    Holders(
        kind=set_service.KIND,
        id_of=lambda ds: int(ds.id),
        find_many=set_service.live_sets,
        all_of=set_service.all_live_sets,
        live=_live,
    ),
)


def assigned_sets(tenant: str, tag_id: int, params: dict[str, str]) -> tuple[list[DistributionSetWithModules], int]:
    TAGS.get_tag(tenant, tag_id)
    paging = Paging.parse(params, set_service.SORTABLE, "id:ASC")
    sets: list[DistributionSet] = TAGS.tagged(tenant, tag_id)
    return set_service.page_of(tenant, sets, params.get("q"), paging)
