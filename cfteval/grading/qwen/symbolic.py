"""The symbolic half of the `qwen` profile: the reference's `symbolic_equal`, made safe.

The reference parses with sympy's `parse_latex`, then `parse_expr` (Python evaluation of model
text), then latex2sympy. Here only latex2sympy2_extended's LaTeX parser is used, with its own
normalisation switched off (the reference's latex2sympy did none), and text that could make sympy
explode is refused first. Comparison steps follow the reference: same string or `==`, then
`equals`/`simplify(a - b) == 0`, then equations as |lhs - rhs|, then numerically (rel. tol.
1e-4), then matrices rounded to 3 decimals.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from cfteval.grading.safety import is_safe_to_parse

logger = logging.getLogger(__name__)

_MAX_PARSE_CHARS = 600
# An exponent that itself holds an exponent (a power tower), chained `a^b^c`, Knuth arrows,
# exponents of six or more digits, factorials of four-digit numbers or of factorials.
_EXPLOSIVE = re.compile(
    r"\^\s*\{[^{}]*\^"  # 2^{3^{4}}
    r"|\^\s*\{[^{}]*\{[^{}]*\^"  # 2^{(3^{4})}
    r"|\^\s*[\w.]+\s*\^"  # 2^3^4
    r"|\*\*"  # Python power: never LaTeX, the reference only reached it through parse_expr
    r"|\\uparrow"
    r"|\^\s*\{?\s*[-+]?\d{6,}"  # 2^{1000000}
    r"|\\mathrm\{tetration\}"
)


# A factorial is only evaluated for a literal of at most three digits: `(10^{10})!` or `n!!`
# would otherwise be expanded numerically.
_SMALL_FACTORIAL = re.compile(r"(?<![\d.])\d{1,3}\s*!(?!\s*!)")


def is_explosive(text: str) -> bool:
    """True for text that sympy could spend unbounded time or memory on; such text is not parsed."""
    if len(text) > _MAX_PARSE_CHARS or _EXPLOSIVE.search(text) is not None:
        return True
    if not is_safe_to_parse(text):
        return True
    return text.count("!") > len(_SMALL_FACTORIAL.findall(text))


def _conversion_config() -> Any:
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig

    return ConversionConfig(
        interpret_as_mixed_fractions=False,
        interpret_simple_eq_as_assignment=False,
        interpret_contains_as_eq=True,
        lowercase_symbols=False,
    )


def _parse(text: str) -> Any:
    """A sympy object for `text`, or `text` itself when it does not parse (as the reference)."""
    from latex2sympy2_extended import latex2sympy

    # The reference's latex2sympy read `3\frac{1}{2}` as 3·½; latex2sympy2_extended reads it as
    # 3½ whatever its config says, so make the multiplication explicit.
    source = re.sub(r"(\d)\s*(\\frac)", r"\1 \\cdot \2", text)
    for candidate in (source.replace("\\\\", "\\"), source):
        if is_explosive(candidate):
            return text
        try:
            return latex2sympy(
                candidate, normalization_config=None, conversion_config=_conversion_config()
            )
        except Exception:  # noqa: BLE001 - any parser failure means "not an expression"
            continue
    return text


def _numeric_close(a: float, b: float) -> bool:
    return math.isclose(b, a, rel_tol=1e-4)


def symbolic_equal(prediction: str, reference: str) -> bool:
    """The reference's `symbolic_equal` on two stripped strings."""
    from sympy import N, simplify

    a, b = _parse(prediction), _parse(reference)
    try:
        if str(a) == str(b) or a == b:
            return True
    except Exception:  # noqa: BLE001
        pass
    if isinstance(a, str) or isinstance(b, str):
        return False  # the remaining steps need two sympy objects; the reference fails them too
    try:
        if a.equals(b) or simplify(a - b) == 0:
            return True
    except Exception:  # noqa: BLE001
        pass
    try:
        if abs(a.lhs - a.rhs).equals(abs(b.lhs - b.rhs)):
            return True
    except Exception:  # noqa: BLE001
        pass
    try:
        if _numeric_close(float(N(a)), float(N(b))):
            return True
    except Exception:  # noqa: BLE001
        pass
    try:
        if a.shape == b.shape:
            rounded_a = a.applyfunc(lambda x: round(x, 3))
            rounded_b = b.applyfunc(lambda x: round(x, 3))
            if rounded_a.equals(rounded_b):
                return True
    except Exception:  # noqa: BLE001
        pass
    return False
