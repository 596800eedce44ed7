"""`--wrong-ratio`: the share of critiques of wrong solutions in the data set.

A weak solver makes mostly wrong solutions, a strong one mostly right ones; either way the
critic learns a prior instead of reading the solution. Balancing drops rows of the larger side
only, never adds any, and picks them by a seeded hash of the row so that the choice is the same
on every rerun and independent of row order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TypeVar

from cfteval.errors import UserError

T = TypeVar("T")


def check_ratio(ratio: float | None) -> None:
    if ratio is not None and not 0.0 <= ratio <= 1.0:
        raise UserError(f"--wrong-ratio {ratio}: must be between 0 and 1")


def target_counts(wrong: int, right: int, ratio: float) -> tuple[int, int]:
    """The most (wrong, right) rows, each at most what there is, with wrong/(wrong+right) as
    close to `ratio` as whole rows allow."""
    if ratio >= 1.0:
        return wrong, 0
    if ratio <= 0.0:
        return 0, right
    if wrong + right == 0:
        return 0, 0
    if wrong / (wrong + right) > ratio:  # too many wrong: keep every right one
        return min(wrong, round(right * ratio / (1 - ratio))), right
    return wrong, min(right, round(wrong * (1 - ratio) / ratio))


def _order(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def balance(
    rows: Sequence[T],
    is_wrong: Callable[[T], bool],
    key: Callable[[T], str],
    ratio: float | None,
    seed: int,
) -> list[T]:
    """The rows kept for `ratio` (all of them when it is None), in their original order."""
    if ratio is None:
        return list(rows)
    wrong = [row for row in rows if is_wrong(row)]
    right = [row for row in rows if not is_wrong(row)]
    keep_wrong, keep_right = target_counts(len(wrong), len(right), ratio)
    chosen = {
        id(row)
        for side, count in ((wrong, keep_wrong), (right, keep_right))
        for row in sorted(side, key=lambda row: _order(seed, key(row)))[:count]
    }
    return [row for row in rows if id(row) in chosen]
