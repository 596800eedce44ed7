"""Grading: final-answer extraction and answer equivalence, run under a time limit.

The seam the rest of the pipeline uses:
- `extract_answer(text, answer_type, n_choices=None) -> str | None`   (grading/extract.py)
- `is_equivalent(pred, gold, answer_type, benchmark="") -> bool`       (grading/equivalence.py)
- `grade_one(item, profile) -> GradeResult`, in-process               (grading/profiles.py)
- `grade_items(items, profile, timeout, workers, progress)`           (grading/sandbox.py):
  the only entry point the pipeline calls; every item under a hard wall-clock limit.
"""

from cfteval.grading.types import GradeItem, GradeResult

__all__ = ["GradeItem", "GradeResult"]
