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
# Exponents inside exponents (`a^{b^{c}}`, `2^2^2`, `\\exp(\\exp(\\exp(x)))`): three levels are
# already a tower.
TOWER_LEVELS = 3
# A run of digits longer than this is no answer (2^2006 written out has ~600 digits); some
# normalisation patterns are quadratic in a digit run's length.
MAX_DIGIT_RUN = 1000
# The LaTeX parser's grammar is ambiguous on nested groups: its time grows exponentially with
# the nesting of parentheses and of sub/superscripts. Real answers stay far below these.
MAX_PARSER_DEPTH = 12
MAX_PARSER_PAREN_DEPTH = 6
MAX_SCRIPT_NESTING = 3
# Work the parser (or sympy's `doit`) does eagerly: a binomial, a sum or a product over more
# terms than this, or a symbolic determinant with more cells, is refused before parsing.
MAX_EAGER_TERMS = 1000
MAX_SYMBOLIC_DETERMINANT_CELLS = 16
_DIGIT_RUN = re.compile(rf"\d{{{MAX_DIGIT_RUN + 1}}}")
_BIG_OR_POWER = re.compile(r"\d{5,}|\^|\\cdot\s*10|\\times\s*10|[eE][-+]?\d")
_BINOMIAL = re.compile(r"\\[dt]?binom\s*(\{[^{}]*\}|\S)\s*(\{[^{}]*\}|\S)")
_SUM_LIMIT = re.compile(
    r"\\(?:sum|prod)\s*(?:(?:_\s*(?:\{[^{}]*\}|\S))?\s*\^\s*(\{[^{}]*\}|\S+)"
    r"|\^\s*(\{[^{}]*\}|\S+)\s*_)"
)
_DETERMINANT = re.compile(r"\\det|vmatrix")
_CELL_SEPARATOR = re.compile(r"&|\\\\")
_EXP_CALL = re.compile(r"\\exp\s*(?:\\left\s*)?[({]")
_SPACES_THEN_BRACE = re.compile(r"\s*(\{)?")
_EXPONENT_TOKEN = re.compile(r"\\[a-zA-Z]+|[\w.]+")
_OPENERS = "({["
_CLOSERS = ")}]"


def nesting_depth(text: str, openers: str = _OPENERS) -> int:
    """The deepest bracket nesting in `text` (all of (), {}, [] counted alike, or only the kinds
    given in `openers`)."""
    closers = "".join(_CLOSERS[_OPENERS.index(o)] for o in openers)
    depth = deepest = 0
    for char in text:
        if char in openers:
            depth += 1
            deepest = max(deepest, depth)
        elif char in closers:
            depth = max(depth - 1, 0)
    return deepest


def is_acceptable_text(text: str) -> bool:
    """Whether `text` is small and shallow enough to be looked at at all."""
    return (
        len(text) <= MAX_ANSWER_CHARS
        and nesting_depth(text) <= MAX_NESTING_DEPTH
        and _DIGIT_RUN.search(text) is None
    )


def is_safe_to_parse(text: str) -> bool:
    """Whether the LaTeX parser may see `text`: shallow enough for its ambiguous grammar, and no
    work it would do eagerly while parsing (huge binomials, long sums and products, symbolic
    determinants, exponential towers). Plain string scans, linear in the text."""
    if not is_acceptable_text(text) or nesting_depth(text) > MAX_PARSER_DEPTH:
        return False
    if (
        nesting_depth(text, "(") > MAX_PARSER_PAREN_DEPTH
        or script_nesting(text) > MAX_SCRIPT_NESTING
    ):
        return False
    if has_power_tower(text) or _exp_nesting(text) >= TOWER_LEVELS:
        return False
    for binomial in _BINOMIAL.finditer(text):
        if _is_big(binomial.group(1)) and _is_big(binomial.group(2)):
            return False
    for limit in _SUM_LIMIT.finditer(text):
        if _is_big(limit.group(1) or limit.group(2) or ""):
            return False
    if _DETERMINANT.search(text) and re.search(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", text)):
        if len(_CELL_SEPARATOR.findall(text)) + 1 > MAX_SYMBOLIC_DETERMINANT_CELLS:
            return False
    return True


def _is_big(argument: str) -> bool:
    """Whether a binomial argument or a sum's upper limit may exceed MAX_EAGER_TERMS: a number
    above it, or any power or scientific notation."""
    if _BIG_OR_POWER.search(argument):
        return True
    return any(int(number) > MAX_EAGER_TERMS for number in re.findall(r"\d+", argument))


def script_nesting(text: str) -> int:
    """How deep braced sub/superscripts nest: `x_{1}` 1, `x_{a_{1}}` 2. One linear pass."""
    stack: list[bool] = []  # per open brace: does it open a script?
    depth = deepest = 0
    previous = ""
    for char in text:
        if char == "{":
            is_script = previous in "_^"
            stack.append(is_script)
            depth += is_script
            deepest = max(deepest, depth)
        elif char == "}" and stack:
            depth -= stack.pop()
        if not char.isspace():
            previous = char
    return deepest


def _exp_nesting(text: str) -> int:
    """How deep `\\exp(…)` calls and exponents nest together: `\\exp(\\exp(x))` 2,
    `\\exp(e^{x})` 2. Linear; brackets of other kinds keep the level they opened at."""
    stack: list[tuple[str, int]] = []
    level = deepest = 0
    index = 0
    closer_of = {"(": ")", "{": "}", "[": "]"}
    while index < len(text):
        call = _EXP_CALL.match(text, index) if text[index] == "\\" else None
        if call is not None:
            stack.append((closer_of[text[call.end() - 1]], level))
            level += 1
            deepest = max(deepest, level)
            index = call.end()
            continue
        char = text[index]
        if char == "^":
            deepest = max(deepest, level + 1)
            brace = _SPACES_THEN_BRACE.match(text, index + 1)
            if brace.group(1):
                stack.append(("}", level))
                level += 1
                index = brace.end()
                continue
        elif char in closer_of:
            stack.append((closer_of[char], level))
        elif stack and char == stack[-1][0]:
            level = stack.pop()[1]
        index += 1
    return deepest


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
