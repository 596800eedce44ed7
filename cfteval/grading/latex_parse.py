"""The shape of an answer: a single value, a list, a set, a tuple/interval, a union, a matrix.

Pure string work on normalised answers (normalize.py). Brackets are tracked with one depth
counter for (), [], {} and `\\{ \\}` alike, which is what lets half-open intervals such as `[0,7)`
be recognised as one group. Shapes are compared by compare_shapes.py: lists and sets are unordered,
bracketed sequences (tuples, points, intervals) are ordered and keep their bracket characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cfteval.grading.normalize import drop_plain_thousands
from cfteval.grading.units import strip_unit_tail

_MATRIX = re.compile(
    r"^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.DOTALL
)
_UNION = re.compile(r"\\cup|∪")
# A name an answer may be assigned to: `x`, `\theta`, `a_1`, `x_{max}`, `f'`, a segment `AB`.
_VARIABLE = (
    r"(?:[A-Z]{2,3}(?![a-zA-Z])|\\Delta\s*[a-zA-Z](?![a-zA-Z])|[a-zA-Z]|\\[a-zA-Z]+)"
    r"(?:_(?:\{[^{}=]*\}|[a-zA-Z0-9]))?'?"
)
# What an answer may name before `=` or `\in`: a variable, `f(x)`, a tuple of variables `(x, y)`,
# a ratio or quotient of names (`V_1:V_2`, `\frac{NO}{BO}`).
_NAMED = (
    rf"{_VARIABLE}(?:\([a-zA-Z]\))?"
    rf"|\(\s*{_VARIABLE}(?:\s*,\s*{_VARIABLE})+\s*\)"
    rf"|{_VARIABLE}\s*:\s*{_VARIABLE}"
    r"|\\frac\{[A-Za-z]{1,3}\}\{[A-Za-z]{1,3}\}"
    rf"|{_VARIABLE}\^\{{-1\}}\([a-zA-Z]\)"  # an inverse function, f^{-1}(x)
    r"|m?\\angle\s*[A-Z]{1,3}"  # an angle, \angle ABC
)
_VARIABLE_PREFIX = re.compile(rf"^\s*(?:{_NAMED})\s*(?:=|\\in)(?![<>=])\s*")
_RELATION = re.compile(r"<|>|\\le|\\ge|\\leq|\\geq|\\leqslant|\\geqslant|≤|≥|\\neq|\\ne")


@dataclass
class Shape:
    """One parsed answer. `kind`: atom, list, set, seq, union or matrix."""

    kind: str
    text: str = ""
    children: list[Shape] = field(default_factory=list)
    brackets: str = ""  # for seq: the opening and closing characters, e.g. "[)"
    rows: int = 0  # for matrix


def _depth_delta(text: str, index: int) -> int:
    char = text[index]
    if char in "([{":
        return 1
    if char in ")]}":
        return -1
    return 0


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split on `separator` outside all brackets; empty pieces are dropped."""
    pieces, depth, start = [], 0, 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "{}":
            depth += 1 if text[index + 1] == "{" else -1
            index += 2
            continue
        depth += _depth_delta(text, index)
        if depth == 0 and text.startswith(separator, index):
            pieces.append(text[start:index])
            start = index + len(separator)
            index = start
            continue
        index += 1
    pieces.append(text[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def _wraps_whole(text: str) -> bool:
    """Whether the opening bracket at text[0] is closed by the last character."""
    depth = 0
    for index in range(len(text)):
        depth += _depth_delta(text, index)
        if depth == 0 and index < len(text) - 1:
            return False
    return depth == 0


def _balanced(text: str) -> bool:
    """Brackets in `text` never close more than they opened and all close by the end."""
    depth = 0
    for index in range(len(text)):
        depth += _depth_delta(text, index)
        if depth < 0:
            return False
    return depth == 0


def has_top_level(text: str, pattern: re.Pattern[str]) -> bool:
    """Whether `pattern` occurs in `text` outside every bracket."""
    depth = 0
    for index in range(len(text)):
        depth += _depth_delta(text, index)
        if depth == 0 and pattern.match(text, index):
            return True
    return False


def is_relation(text: str) -> bool:
    """An inequality (or chain of them) at the top level."""
    return has_top_level(text, _RELATION)


def split_variable_prefix(text: str) -> tuple[str, str] | None:
    """(`x`, `3`) for `x = 3`, (`(x, y)`, `(5, 8)`) for `(x, y) = (5, 8)`, (`c`, `[1,2]`) for
    `c \\in [1,2]`: an answer that names what it gives. None for anything else, including
    chains (`x = 1 = y`) and relations (`x \\le 3`)."""
    if text.count("=") > 1:
        return None
    match = _VARIABLE_PREFIX.match(text)
    if match is None or _RELATION.search(text[: match.end()]):
        return None
    rest = drop_plain_thousands(text[match.end() :].strip())
    if not rest:
        return None
    name = re.sub(r"\s*(?:=|\\in(?![a-zA-Z]))\s*$", "", text[: match.end()].strip())
    return name, rest


def strip_variable_prefix(text: str) -> str:
    """`x = 3` → `3` (see `split_variable_prefix`); any other text unchanged."""
    named = split_variable_prefix(text)
    return named[1] if named is not None else text


def _matrix(body: str) -> Shape:
    rows = [row for row in re.split(r"\\\\", body) if row.strip() and row.strip() != "\\hline"]
    cells = [[cell.strip() for cell in row.split("&")] for row in rows]
    flat = [Shape("atom", cell) for row in cells for cell in row]
    width = len(cells[0]) if cells else 0
    if any(len(row) != width for row in cells):
        return Shape("atom", body)
    return Shape("matrix", body, flat, rows=len(cells))


def _bracketed_matrix(text: str) -> re.Match[str] | None:
    """`[\\begin{array}…\\end{array}]`: a matrix whose brackets were written as `\\left[…\\right]`."""
    if len(text) >= 2 and text[0] in "([" and text[-1] in ")]" and _wraps_whole(text):
        return _MATRIX.match(text[1:-1].strip())
    return None


def split_items(text: str) -> list[str]:
    """The items of a list: split on top-level semicolons where there are any (`-12;-11;-10`,
    `(0;0;0)`, `p=5,q=2;p=7,q=2`: NuminaMath's separator, stronger than a comma), else on
    top-level commas."""
    if ";" in text:
        by_semicolon = split_top_level(text, ";")
        if len(by_semicolon) >= 2:
            return by_semicolon
    return split_top_level(text)


def parse_shape(text: str) -> Shape:
    """Parse a normalised answer into its shape (recursively for the parts)."""
    text = text.strip()
    if match := _MATRIX.match(text) or _bracketed_matrix(text):
        return _matrix(match.group(2))
    union_parts = split_top_level(text, "\\cup")
    if len(union_parts) > 1:
        return Shape("union", text, [parse_shape(part) for part in union_parts])
    if text.startswith("\\{") and text.endswith("\\}") and _balanced(text[2:-2]):
        inner = text[2:-2].strip()
        return Shape("set", text, [parse_shape(item) for item in split_items(inner)])
    if len(text) >= 2 and text[0] in "([" and text[-1] in ")]" and _wraps_whole(text):
        items = split_items(text[1:-1])
        if len(items) >= 2:
            return Shape(
                "seq", text, [parse_shape(item) for item in items], brackets=text[0] + text[-1]
            )
    items = split_items(text)
    if len(items) >= 2:
        # each item may carry its own unit: "5 \\text{ cm}, 12 \\text{ cm}"
        return Shape("list", text, [parse_shape(strip_unit_tail(item)) for item in items])
    if len(items) == 1 and items[0] != text:
        return parse_shape(items[0])
    return Shape("atom", text)
