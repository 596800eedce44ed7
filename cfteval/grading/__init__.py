"""Grading: final-answer extraction and answer equivalence, run under a time limit.

The public API (stable; see grading/api.py and the README's "Grading as a library"):

    from cfteval.grading import extract_answer, verify, grade_batch, MathReward

The seam the rest of the pipeline uses:
- `extract.extract_answer(text, answer_type, n_choices=None, ...) -> str | None`
- `equivalence.is_equivalent(pred, gold, answer_type, *, rules=None) -> bool`
- `profiles.grade_one(item, profile) -> GradeResult`, in-process
- `sandbox.grade_items(items, profile, timeout, workers, progress)`: the only entry point the
  pipeline calls; every item under a hard wall-clock limit.
Grading rules per benchmark come from its YAML (`rules.py`).
"""

from cfteval.grading.types import GradeItem, GradeResult

__all__ = ["GradeItem", "GradeResult", "MathReward", "extract_answer", "grade_batch", "verify"]


def __getattr__(name: str):
    # Lazy: importing cfteval.grading (as the records and the sandbox do) must not load the
    # benchmark registry or the extractor.
    if name in ("MathReward", "extract_answer", "grade_batch", "verify"):
        from cfteval.grading import api

        return getattr(api, name)
    raise AttributeError(f"module 'cfteval.grading' has no attribute {name!r}")
