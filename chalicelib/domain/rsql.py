"""FIQL/RSQL search (`q=`) parsed to an AST and evaluated against one entity's field values.

Grammar (rsql-parser, as hawkBit uses it):

    or         := and ((',' | ' or ') and)*
    and        := constraint ((';' | ' and ') constraint)*
    constraint := '(' or ')' | selector operator arguments
    arguments  := value | '(' value (',' value)* ')'
    value      := unquoted | "double quoted" | 'single quoted'     (backslash escapes inside quotes)

Operators: `==`, `!=`, `=lt=` (`<`), `=le=` (`<=`), `=gt=` (`>`), `=ge=` (`>=`), `=in=`, `=out=`, `=li=`.
In `==` / `!=` a `*` is a wildcard and `\\*` a literal star; `=li=` is SQL-like (`*` or `%` any run,
`_` one character; `\\*` a literal star). String comparisons ignore case, as hawkBit's default
`hawkbit.rsql.ignore-case`. Wildcards are matched without regular expressions: each piece between
stars is searched once, left to right (no backtracking, so no pattern can make a match exponential).
Queries are limited to `MAX_LENGTH` characters and `MAX_DEPTH` nested parentheses.

Field names are case-insensitive and checked against a whitelist (hawkBit's `*Fields` enums). A
whitelist entry `name` allows exactly that path; `attribute.*` allows any sub-key below `attribute`.
The evaluator calls `lookup(path)` with the lower-cased path (sub-keys lower-cased too, so resolve
map keys case-insensitively, e.g. with `dict_lookup`). A lookup may return a scalar, None (absent),
or a list (multi-valued fields such as `module.name` of a distribution set): positive operators
match if any element matches, `!=` / `=out=` only if none does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, NoReturn

from chalicelib import errors

Lookup = Callable[[str], Any]

_ALIASES = {"<": "=lt=", "<=": "=le=", ">": "=gt=", ">=": "=ge="}
_OPERATORS = {"==", "!=", "=lt=", "=le=", "=gt=", "=ge=", "=in=", "=out=", "=li="}
_MULTI_VALUE = {"=in=", "=out="}
_RESERVED = set("\"'();,=!<>~") | {" ", "\t", "\r", "\n"}
_VALUE_STOP = set("\"'();,") | {" ", "\t", "\r", "\n"}
_WILDCARD = object()  # a `*` that is not escaped, inside a parsed value
_ANY_ONE = object()  # `_` of =li=: exactly one character
MAX_LENGTH = 4096
MAX_DEPTH = 32


class Node:
    def matches(self, lookup: Lookup) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def fields(self) -> set[str]:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class _Junction(Node):
    children: tuple[Node, ...]

    def fields(self) -> set[str]:
        return set().union(*(child.fields() for child in self.children))


class And(_Junction):
    def matches(self, lookup: Lookup) -> bool:
        return all(child.matches(lookup) for child in self.children)


class Or(_Junction):
    def matches(self, lookup: Lookup) -> bool:
        return any(child.matches(lookup) for child in self.children)


@dataclass(frozen=True)
class Comparison(Node):
    field: str  # lower-cased path
    operator: str  # canonical: ==, !=, =lt=, =le=, =gt=, =ge=, =in=, =out=, =li=
    values: tuple[tuple, ...]  # each value is a tuple of str pieces and _WILDCARD markers

    def fields(self) -> set[str]:
        return {self.field}

    @property
    def arguments(self) -> list[str]:
        """The values as plain strings (wildcards shown as `*`), for callers that push filters down."""
        return ["".join("*" if p is _WILDCARD else p for p in value) for value in self.values]

    def plain_values(self) -> list[str] | None:
        """The values as plain strings when none holds a wildcard (an index can look them up), else None."""
        if self.operator == "==" and any(_WILDCARD in value for value in self.values):
            return None
        return [_plain(value) for value in self.values]

    def prefix_value(self) -> str | None:
        """The text before the one wildcard of a single `==` value that ends with it (`dev-*`), else None."""
        if self.operator != "==" or len(self.values) != 1:
            return None
        value = self.values[0]
        if not value or value[-1] is not _WILDCARD or any(piece is _WILDCARD for piece in value[:-1]):
            return None
        return _plain(value[:-1])

    def matches(self, lookup: Lookup) -> bool:
        actual = lookup(self.field)
        candidates = list(actual) if isinstance(actual, (list, tuple, set, frozenset)) else [actual]
        candidates = [c for c in candidates if c is not None]
        if self.operator in ("!=", "=out="):
            positive = "==" if self.operator == "!=" else "=in="
            return not any(_compare(positive, c, self.values) for c in candidates)
        return any(_compare(self.operator, c, self.values) for c in candidates)


def parse(q: str, fields: set[str]) -> Node:
    """Parse `q` against the whitelist `fields` (lower-case names; `prefix.*` allows sub-keys)."""
    if q is None or not q.strip():
        raise errors.RsqlSyntax("The search parameter is empty.", [q or ""])
    if len(q) > MAX_LENGTH:
        raise errors.RsqlSyntax(f"The search parameter is longer than {MAX_LENGTH} characters.", [q[:64] + "..."])
    parser = _Parser(q, {f.lower() for f in fields})
    node = parser.parse()
    return node


def dict_lookup(values: Mapping[str, Any]) -> Lookup:
    """A lookup over a flat dict of lower-case field names, plus nested maps for dotted sub-keys.

    `{"name": "x", "metadata": {"Color": "red"}}` answers `name` and `metadata.color` (map keys
    compared case-insensitively, since the evaluator hands over lower-cased paths).
    """

    def lookup(path: str) -> Any:
        if path in values:
            return values[path]
        root, dot, rest = path.partition(".")
        if not dot:
            return None
        nested = values.get(root)
        if isinstance(nested, Mapping):
            for key, value in nested.items():
                if str(key).lower() == rest:
                    return value
        return None

    return lookup


# --- comparison semantics ------------------------------------------------------------------------
def _plain(value: tuple) -> str:
    return "".join("*" if p is _WILDCARD else p for p in value)


def _compare(operator: str, actual: Any, values: tuple[tuple, ...]) -> bool:
    if operator == "==":
        return _equals(actual, values[0])
    if operator == "=in=":
        return any(_equals(actual, v, wildcards=False) for v in values)
    if operator == "=li=":
        return _like(actual, values[0])
    ordering = _order(actual, _plain(values[0]))
    if ordering is None:
        return False
    return {"=lt=": ordering < 0, "=le=": ordering <= 0, "=gt=": ordering > 0, "=ge=": ordering >= 0}[operator]


def _equals(actual: Any, expected: tuple, wildcards: bool = True) -> bool:
    if wildcards and _WILDCARD in expected:
        return _glob(_as_text(actual), expected)
    text = _plain(expected)
    if isinstance(actual, bool):
        return text.lower() == ("true" if actual else "false")
    if isinstance(actual, (int, float)):
        number = _number(text)
        return number is not None and number == actual
    return _as_text(actual).lower() == text.lower()


def _like(actual: Any, pattern: tuple) -> bool:
    """SQL LIKE: `*` / `%` any run of characters, `_` exactly one."""
    tokens: list[Any] = []
    for piece in pattern:
        if piece is _WILDCARD:
            tokens.append(_WILDCARD)
            continue
        for char in piece:
            tokens.append({"%": _WILDCARD, "_": _ANY_ONE}.get(char, char))
    return _glob(_as_text(actual), tuple(tokens))


# A segment is a fixed-length run of literal text and `_ANY_ONE` gaps: (length, ((offset, literal), ...)).
_Segment = tuple[int, tuple[tuple[int, str], ...]]


def _glob(text: str, pattern: tuple) -> bool:
    """Case-insensitive wildcard match without backtracking (no regex).

    The pattern is split on `_WILDCARD` into fixed-length segments. The first must match at the start,
    the last at the end, the ones between in order, each at its leftmost place after the previous one:
    taking the leftmost place never loses a match, since a later segment can only use more room.
    """
    text = text.lower()
    segments: list[list[Any]] = [[]]
    for token in pattern:
        if token is _WILDCARD:
            segments.append([])
        else:
            segments[-1].extend(token.lower() if isinstance(token, str) else [token])
    compiled = [_segment(tokens) for tokens in segments]
    if len(compiled) == 1:
        return compiled[0][0] == len(text) and _at(text, compiled[0], 0)
    first, middle, last = compiled[0], compiled[1:-1], compiled[-1]
    end = len(text) - last[0]
    if end < first[0] or not _at(text, first, 0) or not _at(text, last, end):
        return False
    position = first[0]
    for segment in middle:
        found = _find(text, segment, position, end)
        if found < 0:
            return False
        position = found + segment[0]
    return True


def _segment(tokens: list[Any]) -> _Segment:
    literals: list[tuple[int, str]] = []
    run: list[str] = []
    for offset, token in enumerate(tokens):
        if token is _ANY_ONE:
            if run:
                literals.append((offset - len(run), "".join(run)))
                run = []
        else:
            run.append(token)
    if run:
        literals.append((len(tokens) - len(run), "".join(run)))
    return len(tokens), tuple(literals)


def _at(text: str, segment: _Segment, start: int) -> bool:
    length, literals = segment
    return start + length <= len(text) and all(text.startswith(lit, start + offset) for offset, lit in literals)


def _find(text: str, segment: _Segment, start: int, end: int) -> int:
    """Leftmost place >= start where the segment matches and ends by `end`, or -1."""
    length, literals = segment
    if not literals:
        return start if start + length <= end else -1
    anchor_offset, anchor = max(literals, key=lambda item: len(item[1]))  # the rarest piece, likely
    search_from = start + anchor_offset
    while True:
        hit = text.find(anchor, search_from, end - length + anchor_offset + len(anchor))
        if hit < 0:
            return -1
        candidate = hit - anchor_offset
        if _at(text, segment, candidate):
            return candidate
        search_from = hit + 1


def _order(actual: Any, text: str) -> int | None:
    if isinstance(actual, bool):
        return None
    if isinstance(actual, (int, float)):
        number = _number(text)
        if number is None:
            return None
        return (actual > number) - (actual < number)
    left, right = _as_text(actual).lower(), text.lower()
    return (left > right) - (left < right)


def _number(text: str) -> float | int | None:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- parser -------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str, fields: set[str]) -> None:
        self.text = text
        self.pos = 0
        self.fields = fields
        self.depth = 0

    def parse(self) -> Node:
        node = self._or()
        self._skip_space()
        if self.pos != len(self.text):
            self._fail(f"unexpected '{self.text[self.pos]}'")
        return node

    def _fail(self, what: str) -> NoReturn:
        raise errors.RsqlSyntax(f"Invalid search parameter at position {self.pos}: {what}.", [self.text])

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _keyword(self, word: str) -> bool:
        """`and` / `or` between constraints, surrounded by whitespace."""
        start = self.pos
        if start == 0 or not self.text[start - 1].isspace():
            return False
        end = start + len(word)
        if self.text[start:end].lower() == word and end < len(self.text) and self.text[end].isspace():
            self.pos = end
            return True
        return False

    def _or(self) -> Node:
        children = [self._and()]
        while True:
            self._skip_space()
            if self._peek(",") or self._keyword("or"):
                if self._peek(","):
                    self.pos += 1
                children.append(self._and())
            else:
                break
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _and(self) -> Node:
        children = [self._constraint()]
        while True:
            self._skip_space()
            if self._peek(";") or self._keyword("and"):
                if self._peek(";"):
                    self.pos += 1
                children.append(self._constraint())
            else:
                break
        return children[0] if len(children) == 1 else And(tuple(children))

    def _peek(self, char: str) -> bool:
        return self.pos < len(self.text) and self.text[self.pos] == char

    def _constraint(self) -> Node:
        self._skip_space()
        if self._peek("("):
            if self.depth >= MAX_DEPTH:
                self._fail(f"more than {MAX_DEPTH} nested parentheses")
            self.pos += 1
            self.depth += 1
            node = self._or()
            self._skip_space()
            if not self._peek(")"):
                self._fail("missing ')'")
            self.pos += 1
            self.depth -= 1
            return node
        return self._comparison()

    def _comparison(self) -> Comparison:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _RESERVED:
            self.pos += 1
        selector = self.text[start : self.pos]
        if not selector:
            self._fail("a field name is expected")
        self._skip_space()
        operator = self._operator()
        self._skip_space()
        values = self._arguments()
        if operator not in _MULTI_VALUE and len(values) != 1:
            self._fail(f"operator {operator} takes exactly one value")
        field = selector.lower()
        if not self._known(field):
            raise errors.RsqlInvalidField(
                f"The given search parameter field {{{selector}}} does not exist, must be one of the following "
                f"fields {sorted(self.fields)}.",
                [selector],
            )
        return Comparison(field, operator, tuple(values))

    def _known(self, field: str) -> bool:
        if field in self.fields:
            return True
        root, dot, rest = field.partition(".")
        return bool(dot and rest and f"{root}.*" in self.fields)

    def _operator(self) -> str:
        text = self.text
        for symbol in ("<=", ">=", "<", ">"):
            if text.startswith(symbol, self.pos):
                self.pos += len(symbol)
                return _ALIASES[symbol]
        match = re.compile(r"==|!=|=[A-Za-z]*=").match(text, self.pos)
        if not match:
            self._fail("a comparison operator is expected")
        operator = match.group(0).lower()
        if operator not in _OPERATORS:
            self._fail(f"unknown operator {match.group(0)}")
        self.pos = match.end()
        return operator

    def _arguments(self) -> list[tuple]:
        if self._peek("("):
            self.pos += 1
            values = [self._value()]
            while True:
                self._skip_space()
                if self._peek(","):
                    self.pos += 1
                    values.append(self._value())
                elif self._peek(")"):
                    self.pos += 1
                    return values
                else:
                    self._fail("',' or ')' expected in the value list")
        return [self._value()]

    def _value(self) -> tuple:
        self._skip_space()
        if self.pos >= len(self.text):
            self._fail("a value is expected")
        quote = self.text[self.pos]
        if quote in "\"'":
            return self._quoted(quote)
        start = self.pos
        pieces: list[Any] = []
        buffer: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] not in _VALUE_STOP:
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                buffer.append(self.text[self.pos + 1])  # `\*` is a literal star
                self.pos += 2
                continue
            if char == "*":
                pieces += ["".join(buffer), _WILDCARD]
                buffer = []
            else:
                buffer.append(char)
            self.pos += 1
        if self.pos == start:
            self._fail("a value is expected")
        pieces.append("".join(buffer))
        return tuple(p for p in pieces if p != "")

    def _quoted(self, quote: str) -> tuple:
        self.pos += 1
        pieces: list[Any] = []
        buffer: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                buffer.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                pieces.append("".join(buffer))
                return tuple(p for p in pieces if p != "") or ("",)
            if char == "*":
                pieces += ["".join(buffer), _WILDCARD]
                buffer = []
            else:
                buffer.append(char)
            self.pos += 1
        self._fail(f"unterminated {quote}quoted{quote} value")
        return ()  # unreachable
