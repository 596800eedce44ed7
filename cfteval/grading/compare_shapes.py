"""Are two structured answers equal? Lists, sets, tuples, points, vectors, matrices, unions.

Split from equivalence.py, which normalises both answers and parses their shapes
(latex_parse.py); this module walks the two shapes together: lists and sets unordered, tuples,
points, vectors and matrices ordered with their bracket types, unions part by part, `a \\pm b`
as the list {a-b, a+b}. The single items it ends in are compared by compare_atoms.py, an
inequality against an interval by intervals.py.
"""

from __future__ import annotations

import re

from cfteval.grading.compare_atoms import atoms_equal
from cfteval.grading.intervals import relation_against_interval, relation_matches_interval
from cfteval.grading.latex_parse import Shape, strip_variable_prefix

MAX_LIST_ITEMS = 64
_PLUS_MINUS = re.compile(r"\\pm|\\mp|±")


def _expand_plus_minus(shape: Shape) -> Shape:
    """`a \\pm b` → the list [a - b, a + b]; in a list, each `\\pm` item gives two items."""
    if shape.kind in ("list", "set"):
        children: list[Shape] = []
        for child in shape.children:
            expanded = _expand_plus_minus(child)
            is_pm = child.kind == "atom" and expanded.kind == "list"
            children.extend(expanded.children if is_pm else [child])
        return Shape(shape.kind, shape.text, children)
    if (
        shape.kind != "atom"
        or not _PLUS_MINUS.search(shape.text)
        or len(_PLUS_MINUS.findall(shape.text)) > 1
    ):
        return shape
    minus = _PLUS_MINUS.sub("-", shape.text).strip()
    plus = _PLUS_MINUS.sub("+", shape.text).strip().lstrip("+").strip()
    return Shape("list", shape.text, [Shape("atom", minus), Shape("atom", plus)])


def shapes_equal(pred: Shape, gold: Shape, rel_tol: float) -> bool:
    pred, gold = _expand_plus_minus(pred), _expand_plus_minus(gold)
    if len(pred.children) > MAX_LIST_ITEMS or len(gold.children) > MAX_LIST_ITEMS:
        return False
    if relation_against_interval(pred, gold) or relation_against_interval(gold, pred):
        return relation_matches_interval(pred, gold, rel_tol)
    # `x = 2, y = 3` for the point (2, 3), either side: the values in the order written.
    if gold.kind == "seq" and gold.brackets == "()" and (values := _assigned_values(pred)):
        return _ordered_equal(values, gold.children, rel_tol)
    if pred.kind == "seq" and pred.brackets == "()" and (values := _assigned_values(gold)):
        return _ordered_equal(pred.children, values, rel_tol)
    # A tuple against the same items written as a bare list (`(1, 2, 3)` vs `1, 2, 3`): the
    # bare list is the tuple without its brackets, in the same order.
    if _is_tuple(pred) and gold.kind == "list" or _is_tuple(gold) and pred.kind == "list":
        return _ordered_equal(pred.children, gold.children, rel_tol)
    if gold.kind in ("list", "set"):
        return pred.kind in ("list", "set") and _unordered_equal(
            pred.children, gold.children, rel_tol
        )
    if gold.kind == "union":
        return pred.kind == "union" and _unordered_equal(pred.children, gold.children, rel_tol)
    if gold.kind == "seq":
        if pred.kind == "matrix" and gold.brackets == "()" and _is_vector(pred):
            return _ordered_equal(pred.children, gold.children, rel_tol)
        return (
            pred.kind == "seq"
            and pred.brackets == gold.brackets
            and _ordered_equal(pred.children, gold.children, rel_tol)
        )
    if gold.kind == "matrix":
        if pred.kind == "seq" and pred.brackets == "()" and _is_vector(gold):
            return _ordered_equal(pred.children, gold.children, rel_tol)
        return (
            pred.kind == "matrix"
            and pred.rows == gold.rows
            and _ordered_equal(pred.children, gold.children, rel_tol)
        )
    return pred.kind == "atom" and atoms_equal(pred.text, gold.text, rel_tol)


def _is_tuple(shape: Shape) -> bool:
    return shape.kind == "seq" and shape.brackets == "()" and len(shape.children) >= 2


def _assigned_values(shape: Shape) -> list[Shape] | None:
    """The values of a list of assignments (`x = 2, y = 3` → [2, 3]), else None."""
    if shape.kind != "list" or any(item.kind != "atom" for item in shape.children):
        return None
    values = [strip_variable_prefix(item.text) for item in shape.children]
    if any(value == item.text for value, item in zip(values, shape.children, strict=True)):
        return None
    return [Shape("atom", value) for value in values]


def _is_vector(matrix: Shape) -> bool:
    return matrix.rows == 1 or matrix.rows == len(matrix.children)


def _ordered_equal(pred: list[Shape], gold: list[Shape], rel_tol: float) -> bool:
    return len(pred) == len(gold) and all(
        shapes_equal(p, g, rel_tol) for p, g in zip(pred, gold, strict=True)
    )


def _unordered_equal(pred: list[Shape], gold: list[Shape], rel_tol: float) -> bool:
    """Same items in any order: each gold item is matched by a distinct predicted item."""
    if len(pred) != len(gold):
        return False
    unused = list(pred)
    for gold_item in gold:
        for candidate in unused:
            if shapes_equal(candidate, gold_item, rel_tol):
                unused.remove(candidate)
                break
        else:
            return False
    return True
