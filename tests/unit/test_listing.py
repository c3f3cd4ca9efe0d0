"""Paging and sorting of management lists (pure, no AWS)."""
from __future__ import annotations

import pytest

from chalicelib import errors
from chalicelib.domain.listing import MAX_LIMIT, Paging, SortKey, page

SORTABLE = {"id": "id", "name": "name", "createdat": "createdAt"}


def parse(**params):
    return Paging.parse(params, SORTABLE, "id:ASC")


def test_defaults():
    paging = parse()
    assert (paging.offset, paging.limit, paging.sort) == (0, 50, (SortKey("id", False),))


@pytest.mark.parametrize("raw,expected", [("10", 10), ("0", 50), ("-3", 50), ("500", 500), ("501", MAX_LIMIT),
                                          ("100000", 500), ("", 50)])
def test_limit(raw, expected):
    assert parse(limit=raw).limit == expected


@pytest.mark.parametrize("raw,expected", [("5", 5), ("-1", 0), ("0", 0), ("", 0)])
def test_offset(raw, expected):
    assert parse(offset=raw).offset == expected


@pytest.mark.parametrize("params", [{"limit": "ten"}, {"offset": "1.5"}])
def test_non_numeric_paging_is_bad_request(params):
    with pytest.raises(errors.BadRequest) as caught:
        parse(**params)
    assert caught.value.status == 400


def test_sort_terms_case_insensitive():
    paging = parse(sort="NAME:desc, createdAt:ASC")
    assert paging.sort == (SortKey("name", True), SortKey("createdAt", False))


@pytest.mark.parametrize("sort,error", [
    ("name", errors.SortParamSyntax),
    ("name:ASC:x", errors.SortParamSyntax),
    ("name:", errors.SortParamSyntax),
    ("name:ASC,", errors.SortParamSyntax),
    ("colour:ASC", errors.SortInvalidField),
    ("name:UP", errors.SortInvalidDirection),
])
def test_sort_errors(sort, error):
    with pytest.raises(error) as caught:
        parse(sort=sort)
    assert caught.value.status == 400


def test_error_codes():
    assert errors.SortParamSyntax.code == "hawkbit.server.error.rest.param.sortParamSyntax"
    assert errors.SortInvalidField.code == "hawkbit.server.error.rest.param.invalidField"
    assert errors.SortInvalidDirection.code == "hawkbit.server.error.rest.param.invalidDirection"


def test_sorted_by_single_key():
    assert parse().sorted_by("id") is False
    assert parse(sort="id:DESC").sorted_by("id") is True
    assert parse(sort="name:ASC").sorted_by("id") is None
    assert parse(sort="id:ASC,name:ASC").sorted_by("id") is None


ITEMS = [
    {"id": 1, "name": "beta", "createdAt": 30},
    {"id": 2, "name": "Alpha", "createdAt": 10},
    {"id": 3, "name": "alpha", "createdAt": 20},
    {"id": 4, "name": None, "createdAt": 20},
]


def test_page_sorts_multi_key_with_mixed_directions():
    content, total = page(ITEMS, parse(sort="createdAt:DESC,id:DESC"))
    assert [i["id"] for i in content] == [1, 4, 3, 2]
    assert total == 4


def test_page_text_is_case_insensitive_and_absent_values_first():
    content, _ = page(ITEMS, parse(sort="name:ASC"))
    assert [i["id"] for i in content] == [4, 2, 3, 1]  # None first; equal names keep input order


def test_page_slices_after_sorting():
    content, total = page(ITEMS, parse(sort="id:DESC", offset="1", limit="2"))
    assert [i["id"] for i in content] == [3, 2]
    assert total == 4
    content, total = page(ITEMS, parse(offset="10"))
    assert content == [] and total == 4
