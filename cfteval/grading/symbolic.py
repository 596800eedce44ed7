"""Symbolic comparison: LaTeX → sympy (latex2sympy2_extended's parser), then numeric sampling.

Why sampling rather than `simplify(a - b) == 0`: simplify's run time is unbounded and it misses
identities anyway; evaluating both sides at a few fixed points at 25-digit precision is fast,
deterministic and, for the expressions that appear as answers, decisive. Values are compared as
sympy Floats (arbitrary exponent range) so that `1/2004!` and `1/2006!` never both underflow to 0.

Nothing here calls `sympify`/`parse_expr`/`eval`: the only route from text to sympy is the
LaTeX grammar, and every parsed tree passes safety.is_tame_expression before it is evaluated.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from cfteval.grading.safety import is_safe_to_parse, is_tame_expression

logger = logging.getLogger(__name__)

MAX_SYMBOLIC_CHARS = 600
_PRECISION = 25
EXACT_REL_TOL = 1e-12
# Fixed, irrational-looking sample points: deterministic verdicts, few accidental coincidences.
# Spread over magnitudes so that floor/ceiling/mod-like answers also differ somewhere.
_SAMPLE_POINTS = (
    0.6180339887,
    1.3247179572,
    2.2360679775,
    3.7320508076,
    7.3890560989,
    12.566370614,
    31.006276680,
)


@lru_cache(maxsize=4096)
def to_sympy(text: str) -> Any | None:
    """Parse a normalised LaTeX answer into a sympy object, or None when unparsable or unsafe.

    Cached: the same gold is compared against many predictions.
    """
    if len(text) > MAX_SYMBOLIC_CHARS or not is_safe_to_parse(text):
        return None
    import sympy
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig
    from latex2sympy2_extended.math_normalization import NormalizationConfig
    from sympy.core.function import AppliedUndef

    try:
        expr = latex2sympy(
            text,
            normalization_config=NormalizationConfig(
                basic_latex=True,
                units=False,
                malformed_operators=False,
                nits=False,
                boxed="none",
                equations=False,
            ),
            # Case matters (`L` is not `l`); `x \in S` is not an equation.
            conversion_config=ConversionConfig(
                interpret_as_mixed_fractions=True,
                interpret_simple_eq_as_assignment=False,
                interpret_contains_as_eq=False,
                lowercase_symbols=False,
            ),
        )
    except Exception as error:  # the parser raises bare Exceptions on malformed LaTeX
        logger.debug("latex2sympy could not parse %r: %s", text, error)
        return None
    if not isinstance(expr, sympy.Basic) or not is_tame_expression(expr):
        return None
    # A sum or product in closed form (`\sum_{k=1}^{n} k^2`): sampling needs no summation index.
    if expr.has(sympy.Sum, sympy.Product):
        try:
            expr = expr.doit()
        except Exception:  # no closed form: compare as written
            return None
    # In answers `i` is the imaginary unit and a lone `e` (e.g. `\mathrm{e}`) is Euler's number,
    # unless `i` is bound as a summation index.
    replacements = {sympy.Symbol("e"): sympy.E}
    if sympy.Symbol("i") in expr.free_symbols:
        replacements[sympy.Symbol("i")] = sympy.I
    # `f(n)` of an unknown f cannot be evaluated: treat each such call as one more variable.
    replacements.update({call: sympy.Symbol(str(call)) for call in expr.atoms(AppliedUndef)})
    return expr.xreplace(replacements)


def _evaluate(expr: Any) -> Any | None:
    """A finite sympy number for `expr` (no free symbols), or None."""
    import sympy

    try:
        value = sympy.N(expr, _PRECISION)
    except Exception:  # evalf can raise many things on odd trees
        return None
    if not value.is_number or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    return value


def _is_zero(expr: Any) -> bool:
    """Whether an exact expression is zero.

    Rational arithmetic (`1/6 - (2^2005 + 1)/(3·2^2006)`) is computed exactly: evalf gives up on
    such cancellations and reports a zero. Anything else is zero when its value shrinks with the
    working precision (rounding noise, as for cos(π/2)) instead of staying put (1/2004!).
    """
    import sympy

    if _is_rational_arithmetic(expr):
        try:
            return bool(expr.doit() == 0)
        except Exception:  # doit on an odd tree: fall back to evaluation
            pass
    try:
        coarse, fine = sympy.N(expr, _PRECISION), sympy.N(expr, 3 * _PRECISION)
        if fine == 0 or coarse == 0:
            return True
        return bool(sympy.Abs(fine) < sympy.Abs(coarse) * sympy.Float(10) ** (-_PRECISION))
    except Exception:  # evalf can raise many things on odd trees
        return False


def _is_rational_arithmetic(expr: Any) -> bool:
    """Only +, ×, integer powers and rational numbers: exact evaluation is cheap and final.
    (Sizes are already bounded by safety.is_tame_expression.)"""
    import sympy

    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow):
            if not node.exp.is_Integer:
                return False
        elif not (isinstance(node, (sympy.Add, sympy.Mul)) or node.is_Rational):
            return False
    return True


def numbers_close(first: Any, second: Any, rel_tol: float) -> bool:
    """Relative closeness of two finite sympy numbers, real or complex."""
    import sympy

    try:
        difference = sympy.Abs(sympy.N(first - second, _PRECISION))
        scale = sympy.Max(sympy.Abs(first), sympy.Abs(second))
        return bool(difference <= rel_tol * scale) or bool(difference == 0)
    except (TypeError, ValueError):
        return False


def _sample_values(expr: Any, symbols: list[Any], point: int) -> Any | None:
    import sympy

    substitution = {
        symbol: sympy.Float(_SAMPLE_POINTS[(point + index) % len(_SAMPLE_POINTS)] + 0.1 * index)
        for index, symbol in enumerate(symbols)
    }
    return _evaluate(expr.xreplace(substitution))


# Names models and golds give an arbitrary constant (of integration, of a general solution).
_CONSTANT_NAMES = frozenset(
    "A B C D K c k C_1 C_2 c_1 c_2 C_{1} C_{2} c_{1} c_{2} C_0 c_0 C_{0} c_{0} A_1 A_2 B_1 B_2"
    " A_{1} A_{2} B_{1} B_{2}".split()
)


def rename_arbitrary_constant(pred: Any, gold: Any) -> list[Any]:
    """`pred` with its arbitrary constants renamed to the gold's, one candidate per way of
    pairing them up; [] when there is nothing to rename.

    Applies only when the two differ in the same number of symbols (one or two: `C`, or `c_1`
    and `c_2`), all usual constant names (`C`, `c`, `A`, `B`, `K`, `C_1`, ...), each side also
    has a variable (`C e^{-2t}`, not `2C`), and each side is linear in each constant (a factor
    or a term, as constants of integration and general solutions are). So `C e^{-2t}` =
    `A e^{-2t}` and `c_1 \\cos 2t + c_2 \\sin 2t` = `A \\cos 2t + B \\sin 2t`, but `2a` ≠ `2b`."""
    from itertools import permutations

    import sympy

    if not (isinstance(pred, sympy.Expr) and isinstance(gold, sympy.Expr)):
        return []
    pred_only = sorted(pred.free_symbols - gold.free_symbols, key=str)
    gold_only = sorted(gold.free_symbols - pred.free_symbols, key=str)
    if not 1 <= len(pred_only) == len(gold_only) <= 2:
        return []
    names = {str(symbol) for symbol in (*pred_only, *gold_only)}
    if not names <= _CONSTANT_NAMES or not gold.free_symbols - set(gold_only):
        return []
    try:
        for expr, constants in ((pred, pred_only), (gold, gold_only)):
            if any(sympy.diff(expr, constant).has(constant) for constant in constants):
                return []
    except Exception:  # noqa: BLE001 - an odd tree: no renaming
        return []
    return [
        pred.xreplace(dict(zip(pred_only, order, strict=True))) for order in permutations(gold_only)
    ]


def expressions_equal(pred: Any, gold: Any, rel_tol: float) -> bool:
    """Two scalar sympy expressions denote the same value (or the same function of the same symbols)."""
    import sympy

    if not (isinstance(pred, sympy.Expr) and isinstance(gold, sympy.Expr)):
        return bool(pred == gold)
    if pred.has(sympy.zoo, sympy.nan) or gold.has(sympy.zoo, sympy.nan):
        return False  # `1:00` parses as 1/0; every undefined value would equal every other
    if pred == gold:
        return True
    if pred.free_symbols != gold.free_symbols:
        return False
    if not (pred.has(sympy.Float) or gold.has(sympy.Float)):
        # Two exact expressions: the tolerance is only for rounded decimals, not for 20001/π vs 20000/π.
        rel_tol = min(rel_tol, EXACT_REL_TOL)
    symbols = sorted(gold.free_symbols, key=str)
    if not symbols:
        pred_value, gold_value = _evaluate(pred), _evaluate(gold)
        if pred_value is None or gold_value is None:
            return False
        if rel_tol > EXACT_REL_TOL:
            return numbers_close(pred_value, gold_value, rel_tol)
        # Two exact values: close at 25 digits is not enough (2^100 and 2^100 + 1 are), so
        # their difference must be zero, as cos(π/2) - 0 is: it shrinks with the precision.
        if not (
            numbers_close(pred_value, gold_value, rel_tol) or pred_value == 0 or gold_value == 0
        ):
            return False
        return _is_zero(pred - gold)
    agreeing = 0
    for point in range(len(_SAMPLE_POINTS)):
        pred_value, gold_value = (
            _sample_values(pred, symbols, point),
            _sample_values(gold, symbols, point),
        )
        if pred_value is None or gold_value is None:
            continue
        if not numbers_close(pred_value, gold_value, rel_tol):
            return False
        agreeing += 1
    return agreeing >= 2 and not _real_values_differ_at_negatives(pred, gold, symbols, rel_tol)


def _real_values_differ_at_negatives(
    pred: Any, gold: Any, symbols: list[Any], rel_tol: float
) -> bool:
    """Catch `|x|` vs `x`: at negative points, two *real* values that differ decide it.

    Skipped for radicals and logarithms, so `\\sqrt{x}\\sqrt{y}` vs `\\sqrt{xy}` (equal for the
    positive values answers assume) is not rejected on a branch-cut technicality.
    """
    import sympy

    for expr in (pred, gold):
        if expr.has(sympy.log) or any(not power.exp.is_Integer for power in expr.atoms(sympy.Pow)):
            return False

    for point in range(2):
        substitution = {
            symbol: sympy.Float(-_SAMPLE_POINTS[(point + index) % len(_SAMPLE_POINTS)])
            for index, symbol in enumerate(symbols)
        }
        pred_value, gold_value = (
            _evaluate(pred.xreplace(substitution)),
            _evaluate(gold.xreplace(substitution)),
        )
        if (
            pred_value is None
            or gold_value is None
            or not (pred_value.is_real and gold_value.is_real)
        ):
            continue
        if not numbers_close(pred_value, gold_value, rel_tol):
            return True
    return False


def _constant_ratio(pred: Any, gold: Any, rel_tol: float) -> Any | None:
    """The constant c with pred = c·gold at every sample point, or None when there is none."""
    import sympy

    if pred.free_symbols != gold.free_symbols:
        return None
    if not (pred.has(sympy.Float) or gold.has(sympy.Float)):
        rel_tol = min(rel_tol, EXACT_REL_TOL)  # exact equations: `2n+1008` is not `2n+1007`
    symbols = sorted(gold.free_symbols, key=str)
    ratio = None
    agreeing = 0
    for point in range(len(_SAMPLE_POINTS)):
        pred_value, gold_value = (
            _sample_values(pred, symbols, point),
            _sample_values(gold, symbols, point),
        )
        if pred_value is None or gold_value is None or gold_value == 0:
            continue
        current = _evaluate(pred_value / gold_value)
        if current is None or current == 0:
            return None
        if ratio is not None and not numbers_close(current, ratio, rel_tol):
            return None
        ratio = current if ratio is None else ratio
        agreeing += 1
    return ratio if agreeing >= 2 or (agreeing == 1 and not symbols) else None


def equations_equal(pred: Any, gold: Any, rel_tol: float) -> bool:
    """`a = b` and `c = d` describe the same equation: (a - b) is a nonzero multiple of (c - d)."""
    import sympy

    if not (isinstance(pred, sympy.Equality) and isinstance(gold, sympy.Equality)):
        return False
    pred_side, gold_side = pred.lhs - pred.rhs, gold.lhs - gold.rhs
    if not (isinstance(pred_side, sympy.Expr) and isinstance(gold_side, sympy.Expr)):
        return bool(pred == gold)
    if not gold_side.free_symbols:
        return expressions_equal(pred.lhs, gold.lhs, rel_tol) and expressions_equal(
            pred.rhs, gold.rhs, rel_tol
        )
    return _constant_ratio(pred_side, gold_side, rel_tol) is not None


def positive_forms(relation: Any) -> list[tuple[Any, bool]] | None:
    """A relation (or a chain: And of relations) as [(expr, strict)] meaning expr > 0 / expr ≥ 0."""
    import sympy

    parts = relation.args if isinstance(relation, sympy.And) else (relation,)
    forms = []
    for part in parts:
        if isinstance(part, (sympy.StrictLessThan, sympy.LessThan)):
            forms.append((part.rhs - part.lhs, isinstance(part, sympy.StrictLessThan)))
        elif isinstance(part, (sympy.StrictGreaterThan, sympy.GreaterThan)):
            forms.append((part.lhs - part.rhs, isinstance(part, sympy.StrictGreaterThan)))
        else:
            return None
    return forms


def relations_equal(pred: Any, gold: Any, rel_tol: float) -> bool:
    """Inequalities match when each part is a positive multiple of a part of the other, same strictness.

    A relation between constants (`0 < 1`, `\\sqrt{3} > \\sqrt{2}`) is a truth value, not a
    condition on anything: two of them never match here (only as identical text)."""
    if not getattr(pred, "free_symbols", None) or not getattr(gold, "free_symbols", None):
        return False
    pred_forms, gold_forms = positive_forms(pred), positive_forms(gold)
    if pred_forms is None or gold_forms is None or len(pred_forms) != len(gold_forms):
        return False
    unused = list(pred_forms)
    for gold_expr, gold_strict in gold_forms:
        for candidate in unused:
            pred_expr, pred_strict = candidate
            if pred_strict != gold_strict:
                continue
            ratio = _constant_ratio(pred_expr, gold_expr, rel_tol)
            if ratio is not None and ratio.is_real and ratio > 0:
                unused.remove(candidate)
                break
        else:
            return False
    return True
