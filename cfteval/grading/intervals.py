"""Inequalities against intervals: `x < 3` equals `(-\\infty, 3)`, "x < -1 or x > 1" the union
`(-\\infty, -1) \\cup (1, \\infty)`, "x > -1 and x < 1" their intersection.

Split from equivalence.py; compare_shapes.py decides when two answers are compared this way.
Both sides become (start, end, open start, open end) pieces, compared here. The sympy side of
that (an inequality's solution set, intersections, piece-by-piece equality) is here too rather
than in symbolic.py, which parses answers and compares single expressions and relations.
"""

from __future__ import annotations

from typing import Any

from cfteval.grading.latex_parse import Shape, is_relation, split_top_level

Interval = tuple[Any, Any, bool, bool]  # start, end, start open, end open


def is_interval(shape: Shape) -> bool:
    if shape.kind == "union":
        return all(is_interval(part) for part in shape.children)
    return shape.kind == "seq" and len(shape.children) == 2


def is_relation_shape(shape: Shape) -> bool:
    """An inequality, or a list of them ("x < -1 or x > 1": the union of their solutions)."""
    if shape.kind == "list":
        return all(child.kind == "atom" and is_relation(child.text) for child in shape.children)
    return shape.kind == "atom" and is_relation(shape.text)


def relation_against_interval(relation: Shape, interval: Shape) -> bool:
    return is_relation_shape(relation) and is_interval(interval)


def relation_matches_interval(pred: Shape, gold: Shape, rel_tol: float) -> bool:
    """`x < 3` against `(-\\infty, 3)` (either side may be the inequality)."""
    pieces = []
    for shape in (pred, gold):
        intervals = _relation_pieces(shape) if is_relation_shape(shape) else _interval_pieces(shape)
        if intervals is None:
            return False
        pieces.append(intervals)
    return intervals_equal(pieces[0], pieces[1], rel_tol)


def _relation_pieces(shape: Shape) -> list[Interval] | None:
    """The solution intervals of an inequality, or of each inequality in a list, together."""
    from cfteval.grading import symbolic

    pieces = []
    for part in shape.children if shape.kind == "list" else [shape]:
        intervals = None
        for conjunct in split_top_level(part.text, "\\land"):  # "x > -1 and x < 1"
            relation = symbolic.to_sympy(conjunct)
            solved = relation_intervals(relation) if relation is not None else None
            if solved is None:
                return None
            intervals = solved if intervals is None else intervals_intersection(intervals, solved)
        if intervals is None:
            return None
        pieces.extend(intervals)
    return pieces


def _interval_pieces(shape: Shape) -> list[Interval] | None:
    from cfteval.grading import symbolic

    pieces = []
    for part in shape.children if shape.kind == "union" else [shape]:
        start, end = (symbolic.to_sympy(child.text) for child in part.children)
        if start is None or end is None:
            return None
        pieces.append((start, end, part.brackets[0] == "(", part.brackets[1] == ")"))
    return pieces


def relation_intervals(relation: Any) -> list[Interval] | None:
    """A one-variable polynomial inequality (degree ≤ 2, in x or |x|; a chain; or `x \\ne a`) as
    its solution intervals."""
    import sympy

    from cfteval.grading import symbolic

    if len(relation.free_symbols) != 1:
        return None
    if symbolic.positive_forms(relation) is None and not isinstance(relation, sympy.Unequality):
        return None  # `x \ne 1` is the two open intervals either side of 1
    (symbol,) = relation.free_symbols
    parts = relation.args if isinstance(relation, sympy.And) else (relation,)
    try:
        # Degree ≤ 2 in the variable or in its absolute value (`|x| > 2`): sympy solves those.
        unsigned = [(part.lhs - part.rhs).replace(sympy.Abs, lambda inner: inner) for part in parts]
        if any(sympy.degree(side, symbol) > 2 for side in unsigned):
            return None
        solution = relation.as_set()
    except Exception:  # not a polynomial, or sympy cannot solve it: no interval form
        return None
    pieces = solution.args if isinstance(solution, sympy.Union) else (solution,)
    if not all(isinstance(piece, sympy.Interval) for piece in pieces):
        return None
    return [
        (piece.start, piece.end, bool(piece.left_open), bool(piece.right_open)) for piece in pieces
    ]


def intervals_intersection(first: list[Interval], second: list[Interval]) -> list[Interval]:
    """The intervals both lists cover (`x > -1` and `x < 1` → (-1, 1))."""
    import sympy

    def as_set(pieces: list[Interval]) -> Any:
        return sympy.Union(*(sympy.Interval(a, b, left, right) for a, b, left, right in pieces))

    common = as_set(first).intersect(as_set(second))
    parts = common.args if isinstance(common, sympy.Union) else (common,)
    return [
        (part.start, part.end, bool(part.left_open), bool(part.right_open))
        for part in parts
        if isinstance(part, sympy.Interval)
    ]


def intervals_equal(pred: list[Interval], gold: list[Interval], rel_tol: float) -> bool:
    """Same pieces in any order: endpoints equal and the same open/closed ends."""
    from cfteval.grading import symbolic

    if len(pred) != len(gold):
        return False
    unused = list(pred)
    for gold_start, gold_end, gold_left, gold_right in gold:
        for candidate in unused:
            start, end, left, right = candidate
            if (
                (left, right) == (gold_left, gold_right)
                and symbolic.expressions_equal(start, gold_start, rel_tol)
                and (symbolic.expressions_equal(end, gold_end, rel_tol))
            ):
                unused.remove(candidate)
                break
        else:
            return False
    return True
