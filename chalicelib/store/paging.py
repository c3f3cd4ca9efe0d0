"""One page of a Query and where the next one starts: how bounded work (the queued jobs) walks an index.

`after` is DynamoDB's own position (the last evaluated key, plain JSON) or None when the Query is done;
callers keep it opaque and hand it back to read the next page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    after: Any = None


def page(results: Any, convert: Callable[[Any], T]) -> Page[T]:
    """The items of a PynamoDB ResultIterator queried with `limit` (one page), and its position."""
    items = [convert(item) for item in results]
    return Page(items, results.last_evaluated_key)
