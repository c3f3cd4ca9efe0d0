"""Paging of the Device Configuration / Deployment Workflow lists (chalicelib/openapi/dcs.json, dws.json).

Query `page` (0-based), `size` (default 10, at most 500), `sort` as Spring's `field,asc|desc`;
responses carry `{"content": [...], "page": {size, totalElements, totalPages, number}}`.
Each list sorts by one field; its whitelist names the fields it can serve from a key order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from chalicelib.lazy import lazy_import

workflow_rules = lazy_import("chalicelib.domain.workflow")  # its errors, raised only on bad input

DEFAULT_SIZE = 10
MAX_SIZE = 500


@dataclass(frozen=True)
class PageRequest:
    page: int = 0
    size: int = DEFAULT_SIZE
    sort_field: str = ""
    descending: bool = False

    @property
    def offset(self) -> int:
        return self.page * self.size

    @classmethod
    def parse(
        cls,
        params: Mapping[str, str] | None,
        sortable: Sequence[str],
        default_field: str,
        default_descending: bool = False,
    ) -> "PageRequest":
        params = params or {}
        page = _integer(params.get("page"), "page", 0)
        size = _integer(params.get("size"), "size", DEFAULT_SIZE)
        if page < 0:
            raise workflow_rules.InvalidInput("'page' must not be negative.")
        if not 1 <= size <= MAX_SIZE:
            raise workflow_rules.InvalidInput(f"'size' must lie between 1 and {MAX_SIZE}.")
        field, descending = default_field, default_descending
        raw = (params.get("sort") or "").strip()
        if raw:
            terms = [t.strip() for t in raw.split(",")]
            if "" in terms:
                raise workflow_rules.InvalidInput(
                    f"The sort parameter '{raw}' has an empty term; it must read 'field' or 'field,asc|desc'."
                )
            field = terms[0]
            if field not in sortable:
                raise workflow_rules.InvalidInput(f"Cannot sort by '{field}'; sortable: {', '.join(sortable)}.")
            direction = terms[1].lower() if len(terms) > 1 else "asc"
            if direction not in ("asc", "desc") or len(terms) > 2:
                raise workflow_rules.InvalidInput(f"The sort parameter '{raw}' must read 'field' or 'field,asc|desc'.")
            descending = direction == "desc"
        return cls(page, size, field, descending)

    def window(self, items: Sequence[Any]) -> list[Any]:
        return list(items[self.offset : self.offset + self.size])

    def metadata(self, total: int) -> dict[str, int]:
        return {"size": self.size, "totalElements": total, "totalPages": -(-total // self.size), "number": self.page}


def _integer(value: Any, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise workflow_rules.InvalidInput(f"'{name}' must be a whole number, got '{value}'.") from exc
