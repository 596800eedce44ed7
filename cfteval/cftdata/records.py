"""The records of a `cft-data` run: a noisy solution (Candidate) and its critique (CritiquedRow)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cfteval.cftdata.verify import Agreement, DropReason
from cfteval.records import Problem
from cfteval.verdict import Verdict


class SolutionSource(StrEnum):
    """Where a noisy solution came from (rows.jsonl's `source`)."""

    SOLVER = "solver"  # sampled from --solver
    REFERENCE = "reference"  # the questions file's --solutions-column (the paper's Table 6)


@dataclass
class Candidate:
    """One noisy solution of one question, with the grader's verdict once graded."""

    problem: Problem
    index: int  # the solution's number among its question's distinct solutions
    solution: str
    source: SolutionSource
    finish_reason: str | None = None
    extracted: str | None = None
    correct: bool = False
    timed_out: bool = False

    @property
    def row_id(self) -> str:
        return f"{self.problem.id}#{self.index}"


@dataclass
class CritiquedRow:
    """A candidate with the teacher's critique, its conclusion, and what became of the row."""

    candidate: Candidate
    critique: str
    critique_finish_reason: str | None
    verdict: Verdict
    agreement: Agreement
    drop_reason: DropReason | None = None  # None: the row is in cft.jsonl

    @property
    def kept(self) -> bool:
        return self.drop_reason is None

    @property
    def dropped_because(self) -> str | None:
        """The reason with the option that dropped the row, for rows.jsonl."""
        if self.drop_reason is None:
            return None
        return f"{self.drop_reason.value} ({self.drop_reason.option})"
