"""Is a predicted final answer equivalent to the gold answer?

`is_equivalent(pred, gold, answer_type, *, benchmark="", rules=None) -> bool` takes an *already extracted*
answer (extract.py) and never raises: anything it cannot decide safely is "not equivalent".

Conventions (those of /work/shared/grading/README.md, made precise here):
- Cheap checks first: normalised string equality, then plain numbers (numbers.py, exact
  Fractions, microseconds); sympy only for what is left.
- Numbers: exact values (integers, fractions, mixed numbers: `3\\frac12` = 7/2) must be equal;
  when either side is written as a decimal the relative tolerance applies: 1e-4 for maths,
  4% (TheoremQA's official rule) for the theoremqa benchmark, none for GSM8K and AIME (integer
  answers: `18451.5` ≠ 18450, `1000.00` = 1000). Never an absolute rounding, so
  `4.7e-34` ≠ `4.7e-35` and `1/2004!` ≠ `1/2006!`. `3.83e35`, `3.83\\times10^{35}` are numbers.
  Plain-text mixed numbers (`4 4/9` = 40/9) and `6.02 x 10^23` are numbers too; so is a
  number word ("four", "twenty-one", "four hundred"). Scale and operator words are values,
  not units: "10 thousand" = 10000, "3 dozen" = 36, "6 squared" = 36, "2 thirds" = 2/3.
  Clock times are times, not ratios: `9:00 a.m.` ≠ `9:00 p.m.` = `21:00`, `2:15` ≠ `4:30`.
- Percent: `X%` equals `X` or `X/100` only when a `%` (or the word "percent") is written on one
  side; `25` ≠ `0.25`.
- Thousands separators (`1,000`, `1{,}000`, `1\\,000`, `16,\\!386.20`), currency, degree
  signs, trailing units (units.py: `\\text{ m/s}`, `\\mathrm{~kg}^{-1}`, `\\Omega`, "apples"; not
  `mg` or `nRT`, which are products of variables) and `\\text{}` are presentation; variables,
  `\\pm` and signs are not. Inside a trig function a degree sign is an angle:
  `\\cos 60^\\circ` = 1/2.
- Lists of answers and `\\{…\\}` sets are unordered (items separated by commas, or by
  semicolons where there are any); tuples, points, vectors and intervals are
  ordered and keep their bracket types (`(1,2)` ≠ `[1,2]`); unions compare part by part,
  unordered; matrices cell by cell (a column vector may be written as a tuple).
- `a \\pm b` is the two-element list {a-b, a+b}.
- Equations compare as equations: (lhs - rhs) must be a nonzero constant multiple of the
  gold's, so `x^2/16 + y^2/12 = 1/4` = `x^2/4 + y^2/3 = 1` but `x^2+y^2=1` ≠ `x^2-y^2=1`.
  `x = 3` (or `(x, y) = (1, 2)`, `x \\in [0,1]`, `f(x) = 2x`) equals `3` (`2x`) when the gold
  is a value, and a gold `k = n+1` / `f(x) = 2x` equals a bare `n+1` / `2x` (lhs a variable or
  `f(x)`; `2x + z = 1` stays an equation). `x = 2, y = 3` equals the point `(2, 3)`, and a gold
  `(p, q) = (3, 2)`, `t \\in (-1, 6]`, `V_1:V_2 = 3:5` or `\\angle ABC = 45^\\circ` equals its
  value. The same name on both sides compares the values (`D = (0, 1)` = `D = (0, 1.0)`).
  A chain `x = \\frac{6}{2} = 3` and a computation `15 + 3 = 18` state their last member;
  `\\frac{\\pi}{4} \\approx 0.785` and `\\frac23 = 0.67` state both sides, which must agree
  within 2% (`\\frac{\\pi}{3} \\approx 0.7854` is neither π/4 nor 0.7854); "x > -1 and x < 1" is
  an intersection. On
  A quantity named with a constant value (`f(2) = 5`, `[ABC] = 24`, `m + n = 204`) states the
  value when the gold is one.
- Inequalities: each part must be a positive multiple of a gold part with the same strictness;
  a one-variable inequality (degree ≤ 2) also equals its solution interval (`x<3` = `(-\\infty,3)`),
  and a list of them ("x < -1 or x > 1") the union of their intervals; so do `|x| > 2` and
  `x \\ne 1`. `>=`, `<=`, `!=`, `≥`
  and `\\gt` are spellings of `\\ge`, `\\le`, `\\ne` and `>`.
- Expressions: sampled at fixed points at 25 digits; two *exact* expressions must agree to 1e-12
  (`20001/π` ≠ `20000/π`), the maths tolerance only applies once a decimal is involved; the
  free symbols must be the same (case-sensitive); radical-free expressions must also agree at
  negative points (`|x|` ≠ `x`). An exact expression equals an exact 0 only when it is zero
  (its value shrinks with the working precision, as cos(π/2)'s does), never when it is tiny
  (`1/2004!` ≠ 0); two exact numbers are equal only when their difference is zero, computed
  exactly for rational arithmetic (`2^{100}` ≠ 2^100 + 1, which agree to 30 digits). Two
  undefined values (`1:00` read as 1/0) never equal each other.
- Words (`\\text{Evelyn}`) compare case-insensitively; a number base subscript may be omitted
  (`1011` = `1011_2`) but two different bases never match; `0.\\overline{3}` = 1/3.
- Spellings: Unicode maths (`x²`, `3√2`, `½`, `π`, `≤`), `\\sqrt(2)`, `\\langle 1,2 \\rangle` (a
  tuple), ordinals (`12^{\\text{th}}`), a trailing `\\pmod 7`, `\\left.`/`\\right.`, "all real
  numbers", `0.\\dot{7}`, a base written `_{(2)}`.
- `i` is the imaginary unit and a lone `e` Euler's number; `\\varepsilon` is `\\epsilon`, and
  `R_\\odot` / `M_\\oplus` are names (the parser has no symbol for them).
- Multiple choice / TheoremQA options: the upper-case letters must match. TheoremQA bools:
  true/yes/correct vs false/no/incorrect. TheoremQA lists ("list", "list of integer", "list of
  float"): ordered, bracket type ignored, elementwise with the 4% tolerance. For benchmark
  theoremqa with answer_type "math" the type is inferred from the gold (True/False, (a)…(e),
  [..], integer, float).
Changed vs the README: nothing; one precision — exact values never get the tolerance
(`100001` ≠ `100000`, TheoremQA integer `216` ≠ `220`); it applies only when a decimal is
involved (so `920.26` = `920.25` under 1e-4, as the README's rule says).

Safety: inputs over 4000 characters or nested deeper than 40 brackets are refused up front,
textual power towers and trees that would create huge numbers before any evaluation
(safety.py); sympy objects come only from the LaTeX grammar (symbolic.py).

This module decides which comparison applies. Lists, tuples, vectors, matrices and unions are
compared in compare_shapes.py, single answers in compare_atoms.py; clock times, number bases
and option letters in answer_forms.py, inequalities against intervals in intervals.py.
"""

from __future__ import annotations

import logging
import re

from cfteval.grading.compare_atoms import EQUALS
from cfteval.grading.compare_shapes import shapes_equal
from cfteval.grading.latex_parse import (
    has_top_level,
    parse_shape,
    split_top_level,
    split_variable_prefix,
)
from cfteval.grading.normalize import comparison_key, normalize_answer
from cfteval.grading.numbers import numbers_equal, parse_number
from cfteval.grading.rules import GradingRules, infer_typed_answer, rules_for
from cfteval.grading.safety import is_acceptable_text

logger = logging.getLogger(__name__)

ROUNDING_REL_TOL = 0.02  # how far a written rounding ("≈ 0.67") may be from the exact value

_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+")
_LETTERS = re.compile(r"[a-zA-Z]")
_OPTION_LABEL_PRED = re.compile(r"\s*(?:\\(?:text|textbf|mathrm)\s*\{\s*)?\(([A-E])\)")
_IN = re.compile(r"\\in(?![a-zA-Z])")
_LETTER = re.compile(r"^\(?\s*([A-Za-z])\s*\)?\s*[.:)]?(?:\s|$)")
_TRUE_WORDS = frozenset({"true", "yes", "correct", "t", "right"})
_FALSE_WORDS = frozenset({"false", "no", "incorrect", "f", "wrong"})


def is_equivalent(
    pred: str,
    gold: str,
    answer_type: str,
    *,
    benchmark: str = "",
    rules: GradingRules | None = None,
) -> bool:
    """Whether the extracted answer `pred` is equivalent to `gold` (see the module docstring).

    The tolerance and typed-answer inference are the benchmark's declared `rules` (its YAML's
    `grading:` section), looked up by `benchmark` when not given.
    """
    if not isinstance(pred, str) or not isinstance(gold, str):
        return False
    if (
        not pred.strip()
        or not gold.strip()
        or not is_acceptable_text(pred)
        or not is_acceptable_text(gold)
    ):
        return False
    rules = rules or rules_for(benchmark or "")
    answer_type = (answer_type or "math").strip().lower()
    if answer_type.startswith("list"):  # TheoremQA's own names: "list of integer", "list of float"
        answer_type = "list"
    if rules.typed_answers and answer_type == "math":
        answer_type = infer_typed_answer(gold)
    rel_tol = rules.relative_tolerance
    try:
        if answer_type in ("multiple_choice", "option"):
            pred_letter, gold_letter = choice_letter(pred), choice_letter(gold)
            return pred_letter is not None and pred_letter == gold_letter
        if answer_type == "bool":
            pred_bool = bool_value(pred)
            return pred_bool is not None and pred_bool == bool_value(gold)
        if answer_type == "list":
            return _lists_equal(normalize_answer(pred), normalize_answer(gold), rel_tol)
        gold_letter = _option_label_gold(gold)
        if gold_letter is not None and (label := _OPTION_LABEL_PRED.match(pred)):
            return label.group(1) == gold_letter  # `\\text{(D)}\\ 17` for the gold `\\text{(D)}`
        return _answers_equal(normalize_answer(pred), normalize_answer(gold), rel_tol)
    except (RecursionError, MemoryError, OverflowError) as error:
        logger.debug("refused %r vs %r: %s", pred[:80], gold[:80], type(error).__name__)
        return False
    except Exception:  # a grader bug must cost one verdict, never the run
        logger.warning("equivalence check failed for %r vs %r", pred[:80], gold[:80], exc_info=True)
        return False


def choice_letter(text: str) -> str | None:
    """The upper-case letter an answer names: `B`, `(b)`, `\\text{(C)}`, `C) 42 m/s`; else None."""
    match = _LETTER.match(normalize_answer(text))
    return match.group(1).upper() if match else None


def bool_value(text: str) -> bool | None:
    """True/False from a TheoremQA boolean answer, or None when it is neither."""
    word = re.sub(r"[^a-z]", "", normalize_answer(text).lower())
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return None


def _lists_equal(pred: str, gold: str, rel_tol: float) -> bool:
    """TheoremQA lists: ordered, any brackets, elementwise."""
    pred_shape, gold_shape = parse_shape(pred), parse_shape(gold)
    pred_items = pred_shape.children if pred_shape.kind != "atom" else [pred_shape]
    gold_items = gold_shape.children if gold_shape.kind != "atom" else [gold_shape]
    if len(pred_items) != len(gold_items):
        return False
    return all(shapes_equal(p, g, rel_tol) for p, g in zip(pred_items, gold_items, strict=True))


def _answers_equal(pred: str, gold: str, rel_tol: float) -> bool:
    if not pred or not gold:
        return False
    if comparison_key(pred) == comparison_key(gold):
        return True
    approximation = split_top_level(pred, "\\approx")
    if len(approximation) == 2 and "\\approx" not in gold:
        # `\ln 2 \approx 0.693`, `L \approx 3.8 \times 10^{26}`
        return _exact_or_rounded(*approximation, gold, rel_tol)
    if _states_a_result(pred) and not has_top_level(gold, EQUALS):
        # `15 + 3 = 18` states 18 (and `2 + 3 = 6` states 6); `\frac{2}{3} = 0.67` states 2/3,
        # rounded.
        members = split_top_level(pred, "=")
        result = parse_number(members[-1])
        if result is not None and not result.exact:
            return _exact_or_rounded(members[0], members[-1], gold, rel_tol)
        return _answers_equal(members[-1], gold, rel_tol)
    pred, gold = _comparable_forms(pred, gold)
    gold_number = parse_number(gold)
    if gold_number is not None:
        pred_number = parse_number(pred)
        if pred_number is not None:
            return numbers_equal(pred_number, gold_number, rel_tol)
    return shapes_equal(parse_shape(pred), parse_shape(gold), rel_tol)


def _comparable_forms(pred: str, gold: str) -> tuple[str, str]:
    """Drop the names answers give their values when the other side is a value.

    - A chain `x = \\frac{6}{2} = 3` states its last member when the gold is no chain, and a
      computation `15 + 3 = 18` its result when the gold is no equation.
    - `x = 3` vs `x = 3.0`, `D = (0, 1)` vs `D = (0, 1.0)`: the same name, compare the values.
    - Gold `(p, q) = (3, 2)` or `x \\in [-2, 7]` vs a value, an inequality or a list of
      assignments (`p = 3, q = 2`): compare with the gold's value.
    - Gold a value vs `x = 3`: compare with the predicted value.
    Two equations with different names, or a nameless one (`2x - y = 1`), stay as written.
    """
    if _is_chain(pred) and not _is_chain(gold):
        pred = split_top_level(pred, "=")[-1]
    if not has_top_level(gold, EQUALS) and (value := _constant_right_side(pred)) is not None:
        return value, gold  # `f(2) = 5`, `[ABC] = 24`, `E[X] = \\frac72`, `m + n = 204`
    pred_named, gold_named = split_variable_prefix(pred), split_variable_prefix(gold)
    if pred_named and gold_named:
        if comparison_key(pred_named[0]) == comparison_key(gold_named[0]):
            return pred_named[1], gold_named[1]
        return pred, gold
    if gold_named:
        if not has_top_level(pred, EQUALS) or parse_shape(pred).kind == "list":
            return pred, gold_named[1]
        return pred, gold
    if pred_named and not has_top_level(gold, EQUALS) and not _IN.search(gold):
        return pred_named[1], gold
    return pred, gold


def _exact_or_rounded(exact: str, rounded: str, gold: str, rel_tol: float) -> bool:
    """`A ≈ B`, or `A = B` with B a decimal: when A names a quantity (`L ≈ 3.8e26`), B is the
    answer; otherwise A and B must agree (B a rounding of A, within 2%) and either may match
    the gold. So `\\ln 2 ≈ 0.693` is 0.693 and ln 2, but `\\frac{\\pi}{3} ≈ 0.7854` is neither."""
    from cfteval.grading import symbolic

    if _LETTERS.search(_LATEX_COMMAND.sub("", exact)):
        return _answers_equal(rounded, gold, rel_tol)  # a name on the left, not a value
    if not (_answers_equal(exact, gold, rel_tol) or _answers_equal(rounded, gold, rel_tol)):
        return False
    exact_value, rounded_value = symbolic.to_sympy(exact), symbolic.to_sympy(rounded)
    return (
        exact_value is not None
        and rounded_value is not None
        and symbolic.expressions_equal(exact_value, rounded_value, ROUNDING_REL_TOL)
    )


def _constant_right_side(pred: str) -> str | None:
    """The right side of `quantity = value` when the value is a constant (no letters): an answer
    that names what it computes (`f(2) = 5`, `\\cos A = \\frac35`, `\\lim_{x\\to0} ... = 1`)."""
    sides = split_top_level(pred, "=")
    if len(sides) != 2 or len(split_top_level(pred)) != 1:
        return None
    value = sides[1].strip()
    if not value or _LETTERS.search(_LATEX_COMMAND.sub("", value)):
        return None
    return value


def _option_label_gold(gold: str) -> str | None:
    """The letter of a gold that is an option label (`\\text{(D)}`, `(D)`), else None."""
    match = re.fullmatch(r"\(([A-E])\)", normalize_answer(gold))
    return match.group(1) if match else None


def _states_a_result(text: str) -> bool:
    """`15 + 3 = 18`, `\\frac{12}{4} = 3`: a computation (no variables) ending in its result."""
    sides = split_top_level(text, "=")
    if len(sides) < 2 or len(split_top_level(text)) != 1:
        return False
    return not any(_LETTERS.search(_LATEX_COMMAND.sub("", side)) for side in sides)


def _is_chain(text: str) -> bool:
    """`a = b = c`: two or more top-level equals signs in one answer (not in a list)."""
    return len(split_top_level(text, "=")) > 2 and len(split_top_level(text)) == 1
