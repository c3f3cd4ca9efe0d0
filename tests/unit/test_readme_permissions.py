"""The README's Permissions table lists exactly the permissions skyhawk knows (chalicelib/domain/permissions.py)."""
from __future__ import annotations

import re
from pathlib import Path

from chalicelib.domain import permissions

README = Path(__file__).resolve().parents[2] / "README.md"


def _permissions_table() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Permissions\n")
    end = re.compile(r"^#{2,3} ", re.M).search(text, start + 1)
    section = text[start:end.start() if end else len(text)]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, re.M)


def test_the_readme_permissions_table_lists_every_permission_once():
    # Given the table's rows / Then each known permission has exactly one row, and no row names an unknown one
    rows = _permissions_table()
    assert sorted(rows) == sorted(permissions.PERMISSIONS)


def test_the_readme_names_what_each_permission_implies():
    # Given the implications the code applies / Then the README's Users and roles section states each of them
    text = README.read_text(encoding="utf-8")
    for held, implied in permissions.IMPLIED.items():
        for name in implied:
            assert f"`{held}` implies `{name}`" in text, (held, name)
