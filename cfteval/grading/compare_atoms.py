"""Are two single answers equal? One value, equation or inequality each: no top-level list.

Split from equivalence.py (which decides how two whole answers are compared) and from
compare_shapes.py (which walks lists, tuples and matrices down to their items): this is the
leaf both end in. Clock times, number bases and option letters go to answer_forms.py, plain
numbers to numbers.py; only what is left reaches sympy (symbolic.py, imported lazily: it is
slow to load).
"""

from __future__ import annotations

import re

from cfteval.grading.answer_forms import (
    BASE_NUMBER,
    CLOCK,
    bare_letter,
    base_numbers_equal,
    parenthesised_letter,
    times_equal,
)
from cfteval.grading.latex_parse import has_top_level, is_relation, strip_variable_prefix
from cfteval.grading.normalize import comparison_key
from cfteval.grading.numbers import numbers_equal, parse_number

EQUALS = re.compile(r"=")
_WORDS = re.compile(r"^[A-Za-z][A-Za-z '\-]+[A-Za-z]$")


def atoms_equal(pred: str, gold: str, rel_tol: float) -> bool:
    """Two single answers (no top-level list structure)."""
    if comparison_key(pred) == comparison_key(gold):
        return True
    if CLOCK.match(pred) or CLOCK.match(gold):
        return times_equal(pred, gold)
    gold_has_equation, pred_has_equation = (
        has_top_level(gold, EQUALS),
        has_top_level(pred, EQUALS),
    )
    if pred_has_equation and not gold_has_equation:
        pred = strip_variable_prefix(pred)
        pred_has_equation = has_top_level(pred, EQUALS)
    elif gold_has_equation and not pred_has_equation:
        value = strip_variable_prefix(gold)
        if value == gold:  # `2x + z = 1` is an equation, not a named value
            return False
        gold, gold_has_equation = value, False
    gold_number, pred_number = parse_number(gold), parse_number(pred)
    if gold_number is not None and pred_number is not None:
        return numbers_equal(pred_number, gold_number, rel_tol)
    if _WORDS.match(pred) and _WORDS.match(gold):
        return pred.lower() == gold.lower()
    pred_letter, gold_letter = parenthesised_letter(pred), parenthesised_letter(gold)
    if pred_letter or gold_letter:  # an option such as `\\text{(C)}`: a bare `C` names it too
        return bare_letter(pred) == bare_letter(gold)
    if (gold_base := BASE_NUMBER.match(gold)) or BASE_NUMBER.match(pred):
        return base_numbers_equal(pred, gold, gold_base)
    return _symbolic_equal(pred, gold, pred_has_equation, gold_has_equation, rel_tol)


def _symbolic_equal(
    pred: str, gold: str, pred_equation: bool, gold_equation: bool, rel_tol: float
) -> bool:
    """The sympy path: equations, inequalities and expressions (imported lazily: it is slow to load)."""
    from cfteval.grading import symbolic

    if pred_equation != gold_equation:
        return False
    if is_relation(pred) or is_relation(gold):
        pred_expr, gold_expr = symbolic.to_sympy(pred), symbolic.to_sympy(gold)
        return (
            pred_expr is not None
            and gold_expr is not None
            and symbolic.relations_equal(pred_expr, gold_expr, rel_tol)
        )
    pred_percent, gold_percent = pred.endswith("%"), gold.endswith("%")
    pred_expr = symbolic.to_sympy(pred.rstrip("%").strip())
    gold_expr = symbolic.to_sympy(gold.rstrip("%").strip())
    if pred_expr is None or gold_expr is None:
        return False
    if gold_equation:
        return symbolic.equations_equal(pred_expr, gold_expr, rel_tol)
    if symbolic.expressions_equal(pred_expr, gold_expr, rel_tol):
        return True
    for renamed in symbolic.rename_arbitrary_constant(pred_expr, gold_expr):
        if symbolic.expressions_equal(renamed, gold_expr, rel_tol):
            return True  # `A e^{-2t}` for `C e^{-2t}`: a constant's name is arbitrary
    if pred_percent != gold_percent:  # `X%` may also be read as X/100
        if pred_percent:
            return symbolic.expressions_equal(pred_expr / 100, gold_expr, rel_tol)
        return symbolic.expressions_equal(pred_expr, gold_expr / 100, rel_tol)
    return False
