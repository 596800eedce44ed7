"""Records passed to and from the grader (kept picklable for the worker pool)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cfteval.grading.rules import GradingRules


class ProfileName(StrEnum):
    """Grading profiles: `cfteval` (the project's judgement) and `qwen` (the reference code's)."""

    CFTEVAL = "cfteval"
    QWEN = "qwen"


class FinishReason(StrEnum):
    """Why a generation ended, as backends report it; `length` means cut at max tokens."""

    STOP = "stop"
    LENGTH = "length"


@dataclass(frozen=True)
class GradeItem:
    """One thing to grade: a model's text (a whole generation or a bare answer) against a gold.

    `rules` are the benchmark's grading rules (from its YAML); None looks them up by
    `benchmark`. `finish_reason` is the generation's ("length": cut at max tokens), when known:
    a cut generation that never stated an answer states none, whatever numbers it wrote.
    """

    text: str
    gold: str
    answer_type: str
    benchmark: str = ""
    n_choices: int | None = None  # multiple choice: how many letters are valid (4 → A-D)
    finish_reason: str | None = None
    rules: GradingRules | None = None


@dataclass
class GradeResult:
    """The verdict for one GradeItem. A time-out is always `correct=False`."""

    extracted: str | None
    correct: bool
    timed_out: bool = False
    seconds: float = 0.0
