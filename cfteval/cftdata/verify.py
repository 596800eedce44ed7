"""The verification rule: does a teacher's critique conclude what the grader found?

The paper names wrong teacher critiques as CFT's main limitation. Here the grader, which knows
the gold answer, decides whether each noisy solution's final answer is right; the critique's
conclusion (parsed as in the self-critique modes) either agrees, contradicts it, or cannot be
read. Only agreeing critiques are trustworthy training targets; `KeepPolicy` says what is kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cfteval.grading.types import FinishReason
from cfteval.verdict import Verdict, parse_verdict


class Agreement(StrEnum):
    """How a critique's conclusion compares with the grader's verdict on the solution."""

    AGREE = "agree"
    CONTRADICT = "contradict"
    UNPARSEABLE = "unparseable"  # no conclusion could be read (or the critique was cut off)


class DropReason(StrEnum):
    """Why a critiqued row is left out of cft.jsonl (counted in the manifest, written to
    rows.jsonl with the option that dropped it)."""

    CONTRADICT = "contradict"  # the conclusion contradicts the grader (--keep agree)
    UNPARSEABLE = "unparseable"  # no conclusion could be read (--keep agree)
    BALANCE = "balance"  # the larger side of --wrong-ratio

    @property
    def option(self) -> str:
        return "--wrong-ratio" if self is DropReason.BALANCE else f"--keep {KeepPolicy.AGREE}"


class KeepPolicy(StrEnum):
    """Which critiqued rows go into the data set (`--keep`)."""

    AGREE = "agree"  # only critiques whose conclusion matches the grader (default)
    ALL = "all"  # every critique, flagged ones included


def critique_verdict(critique: str, finish_reason: str | None = None) -> Verdict:
    """The conclusion of a critique; one cut off at max tokens never reached its conclusion."""
    if finish_reason == FinishReason.LENGTH:
        return Verdict.NONE
    return parse_verdict(critique)


def compare(verdict: Verdict, solution_correct: bool) -> Agreement:
    """The rule itself: a conclusion agrees when it calls a right solution right (or a wrong one
    wrong)."""
    if verdict is Verdict.NONE:
        return Agreement.UNPARSEABLE
    said_right = verdict is Verdict.CORRECT
    return Agreement.AGREE if said_right == solution_correct else Agreement.CONTRADICT


def keeps(policy: KeepPolicy, agreement: Agreement) -> bool:
    """Whether a row with this agreement is kept under `policy`."""
    return policy is KeepPolicy.ALL or agreement is Agreement.AGREE


@dataclass(frozen=True)
class TeacherAgreement:
    """The teacher against the grader over all critiques: counts and the rates people quote.

    "Positive" is a wrong solution: precision on wrong solutions is the share of the teacher's
    "wrong" conclusions that were wrong indeed; recall is the share of wrong solutions it called
    wrong (an unreadable conclusion counts as not calling it wrong).
    """

    critiques: int
    agree: int
    contradict: int
    unparseable: int
    wrong_solutions: int
    said_wrong: int
    said_wrong_and_wrong: int

    @classmethod
    def of(cls, pairs: Iterable[tuple[Verdict, bool]]) -> TeacherAgreement:
        """From (teacher verdict, grader says the solution is correct) pairs."""
        counts: Counter[str] = Counter()
        for verdict, correct in pairs:
            counts["critiques"] += 1
            counts[compare(verdict, correct).value] += 1
            counts["wrong_solutions"] += not correct
            counts["said_wrong"] += verdict is Verdict.INCORRECT
            counts["said_wrong_and_wrong"] += verdict is Verdict.INCORRECT and not correct
        return cls(
            critiques=counts["critiques"],
            agree=counts[Agreement.AGREE.value],
            contradict=counts[Agreement.CONTRADICT.value],
            unparseable=counts[Agreement.UNPARSEABLE.value],
            wrong_solutions=counts["wrong_solutions"],
            said_wrong=counts["said_wrong"],
            said_wrong_and_wrong=counts["said_wrong_and_wrong"],
        )

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def agreement(self) -> float | None:
        """Agreeing critiques over all critiques (unreadable ones count against the teacher)."""
        return self._rate(self.agree, self.critiques)

    @property
    def agreement_parseable(self) -> float | None:
        """Agreeing critiques over those whose conclusion could be read."""
        return self._rate(self.agree, self.agree + self.contradict)

    @property
    def precision_wrong(self) -> float | None:
        return self._rate(self.said_wrong_and_wrong, self.said_wrong)

    @property
    def recall_wrong(self) -> float | None:
        return self._rate(self.said_wrong_and_wrong, self.wrong_solutions)

    def as_dict(self) -> dict[str, int | float | None]:
        return {
            "critiques": self.critiques,
            "agree": self.agree,
            "contradict": self.contradict,
            "unparseable": self.unparseable,
            "agreement": self.agreement,
            "agreement_of_parseable": self.agreement_parseable,
            "wrong_solutions": self.wrong_solutions,
            "teacher_said_wrong": self.said_wrong,
            "precision_on_wrong": self.precision_wrong,
            "recall_on_wrong": self.recall_wrong,
        }
