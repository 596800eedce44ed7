"""Inequalities against intervals: `x < 3` equals `(-\\infty, 3)`, "x < -1 or x > 1" the union
`(-\\infty, -1) \\cup (1, \\infty)`, "x > -1 and x < 1" their intersection.

Split from equivalence.py, which decides when an answer is compared this way; both sides are
turned into (start, end, open start, open end) pieces and compared by symbolic.py.
"""

from __future__ import annotations

from cfteval.grading.latex_parse import Shape, is_relation, split_top_level


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
    from cfteval.grading import symbolic

    pieces = []
    for shape in (pred, gold):
        intervals = _relation_pieces(shape) if is_relation_shape(shape) else _interval_pieces(shape)
        if intervals is None:
            return False
        pieces.append(intervals)
    return symbolic.intervals_equal(pieces[0], pieces[1], rel_tol)


def _relation_pieces(shape: Shape) -> list | None:
    """The solution intervals of an inequality, or of each inequality in a list, together."""
    from cfteval.grading import symbolic

    pieces = []
    for part in shape.children if shape.kind == "list" else [shape]:
        intervals = None
        for conjunct in split_top_level(part.text, "\\land"):  # "x > -1 and x < 1"
            relation = symbolic.to_sympy(conjunct)
            solved = symbolic.relation_intervals(relation) if relation is not None else None
            if solved is None:
                return None
            intervals = (
                solved if intervals is None else symbolic.intervals_intersection(intervals, solved)
            )
        if intervals is None:
            return None
        pieces.extend(intervals)
    return pieces


def _interval_pieces(shape: Shape) -> list | None:
    from cfteval.grading import symbolic

    pieces = []
    for part in shape.children if shape.kind == "union" else [shape]:
        start, end = (symbolic.to_sympy(child.text) for child in part.children)
        if start is None or end is None:
            return None
        pieces.append((start, end, part.brackets[0] == "(", part.brackets[1] == ")"))
    return pieces
