"""Paging and sorting shared by every management list (hawkBit `PagingUtility` / `SortUtility`).

`offset` defaults to 0 (negative -> 0); `limit` defaults to 50 (< 1 -> 50, > 500 silently capped);
`sort=field:ASC,field2:DESC` with case-insensitive field names from the resource's whitelist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, TypeVar

from chalicelib import errors

if TYPE_CHECKING:
    from chalicelib.domain import rsql

E = TypeVar("E")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Entities a filtered list may read before it answers 400 QueryTooBroad: what one request decodes and matches
# within API Gateway's 29 s (docs/capacity.md, "Target lists").
SCAN_CAP = 50_000


@dataclass(frozen=True)
class SortKey:
    key: str  # entity key (the value of the resource's `sortable` map)
    descending: bool = False


@dataclass(frozen=True)
class Paging:
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    sort: tuple[SortKey, ...] = ()

    @classmethod
    def parse(cls, query_params: Mapping[str, str] | None, sortable: Mapping[str, str], default_sort: str) -> "Paging":
        """Read offset/limit/sort from the query string; `default_sort` uses the wire syntax (`id:ASC`)."""
        params = query_params or {}
        offset = max(0, _integer(params.get("offset"), "offset", 0))
        limit = _integer(params.get("limit"), "limit", DEFAULT_LIMIT)
        if limit < 1:
            limit = DEFAULT_LIMIT
        limit = min(limit, MAX_LIMIT)
        raw_sort = params.get("sort")
        sort = parse_sort(raw_sort if raw_sort not in (None, "") else default_sort, sortable)
        return cls(offset, limit, sort)

    def sorted_by(self, key: str) -> bool | None:
        """True/False if the list is sorted by `key` alone (descending?), else None: lets a store
        page straight from a key-ordered Query instead of reading everything."""
        if len(self.sort) == 1 and self.sort[0].key == key:
            return self.sort[0].descending
        return None


def parse_sort(text: str, sortable: Mapping[str, str]) -> tuple[SortKey, ...]:
    keys = []
    allowed = {name.lower(): key for name, key in sortable.items()}
    for term in text.split(","):
        parts = term.split(":")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise errors.SortParamSyntax(
                f"The given sort parameter {{{text}}} is not well formed: use field:ASC or field:DESC.", [text]
            )
        field, direction = parts[0].strip(), parts[1].strip()
        key = allowed.get(field.lower())
        if key is None:
            raise errors.SortInvalidField(
                f"The given sort parameter field {{{field}}} does not exist, must be one of the following "
                f"fields {sorted(allowed)}.",
                [field],
            )
        if direction.upper() not in ("ASC", "DESC"):
            raise errors.SortInvalidDirection(
                f"The given sort direction {{{direction}}} does not exist, use ASC or DESC.", [direction]
            )
        keys.append(SortKey(key, direction.upper() == "DESC"))
    return tuple(keys)


def filter_and_page(
    pairs: Iterable[tuple[Mapping[str, Any], E]], node: "rsql.Node | None", paging: Paging
) -> tuple[list[E], int]:
    """THE list step of every management list: keep the (view, entity) pairs whose view matches `node`
    (a parsed `q`; None keeps all), sort the views by the paging's keys, return (the page's entities, total)."""
    from chalicelib.domain.rsql import dict_lookup  # here: only lists with q= need the query engine loaded

    kept = [(view, entity) for view, entity in pairs if node is None or node.matches(dict_lookup(view))]
    views = [dict(view, **{_ENTITY: index}) for index, (view, _) in enumerate(kept)]
    content, total = page(views, paging)
    return [kept[v[_ENTITY]][1] for v in content], total


_ENTITY = "\x00entity"  # the position of a view's entity, in a key no field name can take


def capped(items: Iterable[E], cap: int, what: str, hint: str) -> Iterator[E]:
    """`items`, failing with 400 QueryTooBroad (`hint`: how to narrow the query) at the (cap + 1)-th."""
    for count, item in enumerate(items):
        if count >= cap:
            raise errors.QueryTooBroad(f"The query reads more than {cap} {what}: {hint}", [cap])
        yield item


def page(items: list[dict], paging: Paging) -> tuple[list[dict], int]:
    """Sort `items` (dicts keyed by entity key) by the paging's keys, return (one page, total)."""
    ordered = list(items)
    # Stable sorts from the least to the most significant key give a multi-key order with mixed directions.
    for sort_key in reversed(paging.sort):
        ordered.sort(key=partial(_sorted_by, sort_key.key), reverse=sort_key.descending)
    return ordered[paging.offset : paging.offset + paging.limit], len(ordered)


def _sorted_by(key: str, item: Mapping[str, Any]) -> tuple:
    return _sortable(item.get(key))


def _sortable(value: Any) -> tuple:
    # Absent values first (SQL NULLs sort low); text case-insensitively, as hawkBit's default collation.
    if value is None:
        return (0, 0, "")
    if isinstance(value, bool):
        return (1, int(value), "")
    if isinstance(value, (int, float)):
        return (1, value, "")
    text = str(value)
    return (2, 0, text.lower(), text)


def _integer(raw: Any, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(str(raw).strip())
    except ValueError as exc:
        raise errors.BadRequest(f"The paging parameter '{name}' must be a number, got '{raw}'.", [name]) from exc
