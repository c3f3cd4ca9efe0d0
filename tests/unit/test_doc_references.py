"""Every document a docstring or comment points at is in the repository.

Scanned: the code, templates and tests (`chalicelib`, `infra`, `app.py`, `bench`, `tests`, `tools`, `skyhawk_cli`,
`examples`), the Makefile, `.ci/` and the tool configuration at the root. Checked:
- a markdown path (`docs/capacity.md`, `hawkbit/README.md`) names a file, from the repository's root or from the
  file's own directory; URLs are left alone;
- a section named after it (`docs/architecture.md, "Hot path"`, `README "Compatibility notes"`) is a heading of
  that file, and a numbered one (`docs/dmf-hawkbit.md §9`) a numbered heading;
- none of the notes that were never part of the repository is cited (design notes, stack notes, the reference).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("chalicelib", "infra", "app.py", "bench", "tests", "tools", "skyhawk_cli", "examples", "Makefile", ".ci",
           "pyproject.toml", "ruff.toml", "mypy.ini", "requirements.txt", "requirements-dev.txt")
SUFFIXES = {".py", ".yaml", ".yml", ".json", ".toml", ".ini", ".cfg", ".sh", ".txt"}
SKIPPED = {"node_modules", "__pycache__", ".pytest_cache"}

MARKDOWN = re.compile(r"(?<![\w/.-])([\w][\w./-]*\.md)\b")
SECTION = re.compile(r"\b(README|[\w][\w./-]*\.md)(?:,|:)? (?:section )?\"([^\"\n]+)\"")
NUMBERED = re.compile(r"\b([\w][\w./-]*\.md),? §(\d+(?:\.\d+)?)")
# Notes that lived outside the repository; naming them sends a reader nowhere.
FOREIGN_WORDS = ("DESIGN.md", "stack-" "notes", "pitfall", "reference §", "reference/", "seed step")
FOREIGN = re.compile("|".join((r"DESIGN\.md", r"stack-" r"notes", r"\bpitfalls? \d", r"\breference §",
                               r"\breference/", r"\bseed step")))


def _files() -> list[Path]:
    found = []
    for name in SCANNED:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        for candidate in candidates:
            if (candidate.is_file() and (candidate.suffix in SUFFIXES or candidate == path or candidate.parent.name == ".ci")
                    and not SKIPPED.intersection(candidate.relative_to(ROOT).parts)):
                found.append(candidate)
    return found


def _resolve(name: str, where: Path) -> Path | None:
    for base in (ROOT, where.parent):
        if (base / name).is_file():
            return base / name
    return None


def _in_url(text: str, start: int) -> bool:
    token_start = max(text.rfind(c, 0, start) for c in " \n\t(\"'<`") + 1
    return "://" in text[token_start:start]


@functools.lru_cache(maxsize=None)
def _headings(document: Path) -> tuple[str, ...]:
    text = document.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # comments in code blocks are no headings
    return tuple(re.sub(r"[`*]", "", h).strip() for h in re.findall(r"^#{1,6} (.+)$", text, re.M))


def _unnumbered(heading: str) -> str:
    return re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", heading).lower()


def problems_in(path: Path, text: str) -> list[str]:
    """What in `text` (the content of `path`) points at nothing in the repository."""
    where = path.relative_to(ROOT)
    found = []
    if any(word in text for word in FOREIGN_WORDS):  # a plain search first: the regular expression is slow
        found += [f"{where}: cites {match[0]!r}, which is not in the repository" for match in FOREIGN.finditer(text)]
    if ".md" not in text and "README" not in text:
        return found  # the common case, and the large JSON documents: nothing to resolve
    for match in MARKDOWN.finditer(text):
        if not _in_url(text, match.start()) and _resolve(match[1], path) is None:
            found.append(f"{where}: {match[1]} is not in the repository")
    for match in SECTION.finditer(text):
        document = _resolve("README.md" if match[1] == "README" else match[1], path)
        if document is not None and match[2].lower() not in {_unnumbered(h) for h in _headings(document)}:
            found.append(f"{where}: {match[1]} has no section \"{match[2]}\"")
    for match in NUMBERED.finditer(text):
        document = _resolve(match[1], path)
        if document is not None and not any(re.match(rf"{re.escape(match[2])}\.?\s", h) for h in _headings(document)):
            found.append(f"{where}: {match[1]} has no section §{match[2]}")
    return found


def test_every_document_reference_points_into_the_repository():
    # Given every scanned file but this one (its patterns name what they forbid)
    files = [f for f in _files() if f != Path(__file__).resolve()]
    assert any(f.name == "tables.py" for f in files) and any(f.suffix == ".yaml" for f in files)
    # When each is searched for references / Then every one resolves
    problems = [p for f in files for p in problems_in(f, f.read_text(encoding="utf-8", errors="replace"))]
    assert problems == []


@pytest.mark.parametrize("text, expected", [
    ('"""Rules (DESIGN.md, Data)."""', "DESIGN.md is not in the repository"),
    ("# see docs/nowhere.md", "docs/nowhere.md is not in the repository"),
    ('# as docs/capacity.md, "No such heading" says', 'has no section "No such heading"'),
    ('# README "No such heading"', 'README has no section "No such heading"'),
    ("# docs/dmf-hawkbit.md §99", "has no section §99"),
    ("# (stack-" "notes pitfall 6)", "which is not in the repository"),
    ("# (reference §1.5)", "which is not in the repository"),
])
def test_a_reference_to_nothing_is_reported(text, expected):
    # Given a comment pointing at something the repository does not hold / Then it is reported
    problems = problems_in(ROOT / "chalicelib" / "example.py", text)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("text", [
    '# docs/capacity.md, "Target lists"',
    '# README "Compatibility notes"',
    "# docs/dmf-hawkbit.md §9 and docs/rollouts-hawkbit.md §9.3",
    "# https://github.com/eclipse-hawkbit/hawkbit/blob/master/README.md",
    '# docs/architecture.md, "Local runs", item 4',
])
def test_a_reference_into_the_repository_passes(text):
    assert problems_in(ROOT / "chalicelib" / "example.py", text) == []
