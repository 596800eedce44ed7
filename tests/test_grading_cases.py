"""Agreement of the full cfteval grader (extraction + equivalence) with hand-checked verdicts.

The cases live outside the repository (shared/grading/cases.dev.jsonl, see its README); the test
is skipped, with the reason, where that folder is absent.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cfteval.grading.profiles import grade_one
from cfteval.grading.rules import infer_typed_answer as infer_theoremqa_type
from cfteval.grading.types import GradeItem

CASES_FILE = Path(__file__).resolve().parents[2] / "shared" / "grading" / "cases.dev.jsonl"
pytestmark = pytest.mark.skipif(
    not CASES_FILE.exists(), reason=f"labelled grading cases not found at {CASES_FILE}"
)


def answer_type_for(case: dict) -> str:
    """The answer type a benchmark spec would give: letters for GPQA/MMLU-Pro, TheoremQA from its gold."""
    benchmark = case["benchmark"].lower()
    if benchmark.startswith(("gpqa", "mmlu")):
        return "multiple_choice"
    if benchmark.startswith("theoremqa"):
        return infer_theoremqa_type(case["gold"])
    return "math"


def load_cases() -> list[dict]:
    return [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]


def grade(case: dict) -> tuple[bool, float]:
    item = GradeItem(
        text=case["pred"],
        gold=case["gold"],
        answer_type=answer_type_for(case),
        benchmark=case["benchmark"],
    )
    start = time.perf_counter()
    correct = grade_one(item).correct
    return correct, time.perf_counter() - start


def test_agreement_with_labelled_cases_and_no_false_positives() -> None:
    cases = load_cases()
    verdicts = [(case, grade(case)[0]) for case in cases]
    disagreements = [
        (case["category"], case["gold"], case["pred"][:80])
        for case, got in verdicts
        if got != case["equal"]
    ]
    false_positives = [
        (case["category"], case["gold"], case["pred"][:80])
        for case, got in verdicts
        if got and not case["equal"]
    ]
    agreement = 1 - len(disagreements) / len(cases)
    assert not false_positives, false_positives
    assert agreement >= 0.98, disagreements


def test_pathological_cases_end_fast_and_never_match() -> None:
    pathological = [case for case in load_cases() if case["category"] == "pathological"]
    assert pathological, "the case file should hold pathological cases"
    for case in pathological:
        correct, seconds = grade(case)
        assert correct is False
        # A bound on hanging, not a speed target (that is `cfteval bench grading`): a grader
        # that loops on these takes minutes, a loaded CI machine a few seconds.
        assert seconds < 15.0, (case["gold"][:60], seconds)
