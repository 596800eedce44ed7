"""Records passed to and from the grader (kept picklable for the worker pool)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GradeItem:
    """One thing to grade: a model's text (a whole generation or a bare answer) against a gold."""

    text: str
    gold: str
    answer_type: str
    benchmark: str = ""
    n_choices: int | None = None  # multiple choice: how many letters are valid (4 → A-D)


@dataclass
class GradeResult:
    """The verdict for one GradeItem. A time-out is always `correct=False`."""

    extracted: str | None
    correct: bool
    timed_out: bool = False
    seconds: float = 0.0
