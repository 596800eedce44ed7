"""Guards that refuse answers which would make the grader slow or unsafe, before any parsing.

Model output is untrusted text. Nothing here evaluates it: the checks are plain string scans
(length, bracket depth, exponent towers) and, after LaTeX has been parsed into sympy objects, a
walk over the tree that bounds the size of every number it would produce. An answer that fails
a guard is simply "not equivalent"; the time-limited worker pool (sandbox.py) is the backstop
for anything these cheap checks miss.
"""

from __future__ import annotations

import math
import re
from typing import Any

# An answer is a short string; anything longer is a run-away generation or an attack.
MAX_ANSWER_CHARS = 4000
# Deeper bracket nesting than this never occurs in real answers but can blow parser recursion.
MAX_NESTING_DEPTH = 40
# Numbers with more decimal digits than this are refused (2^2006 has ~600 digits, which is fine).
MAX_LOG10_MAGNITUDE = 20000.0
# Exponents inside exponents (`a^{b^{c}}`, `2^2^2`): three levels are already a tower.
TOWER_LEVELS = 3
_SPACES_THEN_BRACE = re.compile(r"\s*(\{)?")
_EXPONENT_TOKEN = re.compile(r"\\[a-zA-Z]+|[\w.]+")
_OPENERS = "({["
_CLOSERS = ")}]"


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting in `text` (all of (), {}, [] counted alike)."""
    depth = deepest = 0
    for char in text:
        if char in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif char in _CLOSERS:
            depth = max(depth - 1, 0)
    return deepest


def is_acceptable_text(text: str) -> bool:
    """Whether `text` is small and shallow enough to be looked at at all."""
    return len(text) <= MAX_ANSWER_CHARS and nesting_depth(text) <= MAX_NESTING_DEPTH


def has_power_tower(text: str) -> bool:
    """A textual sign of an exponent inside an exponent inside an exponent (`2^{2^{2^{n}}}`).

    Levels are counted by nesting, not by carets: `x^4 - 10x^3 + 35x^2` has three exponents,
    all at level one, and is an ordinary polynomial.
    """
    return "^" in text and exponent_nesting(text) >= TOWER_LEVELS


def exponent_nesting(text: str) -> int:
    """How deep exponents nest in `text`: `x^2` 1, `2^{x^2}` 2, `2^2^2` (an unbraced exponent
    with a caret right after it) 3. One linear pass over the characters."""
    outer_levels: list[int] = []  # the level to restore at each open brace's close
    level = deepest = 0
    chained_level: int | None = None  # the level of an unbraced exponent just read
    index = 0
    while index < len(text):
        char = text[index]
        if char == "^":
            base = chained_level if chained_level is not None else level
            brace = _SPACES_THEN_BRACE.match(text, index + 1)
            deepest = max(deepest, base + 1)
            if brace.group(1):
                outer_levels.append(level)
                level, chained_level, index = base + 1, None, brace.end()
                continue
            token = _EXPONENT_TOKEN.match(text, brace.end())
            chained_level = base + 1 if token else None
            index = token.end() if token else brace.end()
            continue
        if char == "{":
            outer_levels.append(level)
        elif char == "}":
            level = outer_levels.pop() if outer_levels else 0
        if not char.isspace():
            chained_level = None
        index += 1
    return deepest


def _log10_bound(expr: Any) -> float:
    """An upper bound on log10 of the magnitude of any number `expr` can evaluate to.

    Symbols count as modest (their sampled values are small). Returns `math.inf` for anything
    whose evaluation would create an enormous number: a huge power or factorial.
    """
    import sympy

    if expr.is_Integer or expr.is_Rational:
        numerator, denominator = expr.as_numer_denom() if not expr.is_Integer else (expr, 1)
        return max(_int_digits(int(numerator)), _int_digits(int(denominator)))
    if expr.is_Float:
        value = abs(float(expr))
        return abs(math.log10(value)) + 1 if value not in (0.0, math.inf) else 1.0
    if expr.is_Atom:
        return 1.0
    if isinstance(expr, sympy.Pow):
        base_bound = _log10_bound(expr.base)
        exponent_bound = _log10_bound(expr.exp)
        if exponent_bound > 6:  # an exponent above a million
            return 0.0 if expr.base in (sympy.S.One, sympy.S.NegativeOne) else math.inf
        return max(base_bound, 0.5) * (10.0**exponent_bound) + exponent_bound
    if isinstance(expr, (sympy.factorial, sympy.factorial2, sympy.gamma)):
        argument_bound = _log10_bound(expr.args[0])
        if argument_bound > 4.5:  # (30000)! has ~120k digits
            return math.inf
        size = 10.0**argument_bound
        return size * max(math.log10(size), 1.0)
    if isinstance(expr, sympy.Mul):
        return sum(_log10_bound(arg) for arg in expr.args)
    if isinstance(expr, sympy.Add):
        return max((_log10_bound(arg) for arg in expr.args), default=0.0) + 1.0
    if isinstance(expr, sympy.Basic):
        return max((_log10_bound(arg) for arg in expr.args), default=1.0) + 1.0
    return 1.0


def _int_digits(value: int) -> float:
    """log10 of |value| (0 for 0 and ±1), from the bit length: no string conversion of huge ints."""
    return abs(value).bit_length() * 0.30103


def is_tame_expression(expr: Any) -> bool:
    """Whether a parsed sympy expression is safe to simplify and evaluate numerically."""
    try:
        return _log10_bound(expr) <= MAX_LOG10_MAGNITUDE
    except (RecursionError, OverflowError, ValueError, TypeError, AttributeError):
        return False
