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
# Exponent chains like a^{b^{c}}: three levels are already a tower.
_TOWER = re.compile(r"\^\s*\{?[^{}^]*\^\s*\{?[^{}^]*\^")
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
    """A textual sign of an exponent inside an exponent inside an exponent (`2^{2^{2^{n}}}`)."""
    return "^" in text and _TOWER.search(text) is not None


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
