"""The `qwen` grading profile: the reference evaluation toolkit's semantics, leniencies included,
kept apart from the cfteval grader so that neither's rules leak into the other.

- `grader.py`: extraction and `math_equal` as the reference does them;
- `normalize.py`: the reference's `strip_string`;
- `symbolic.py`: its sympy comparison, through the LaTeX grammar only and with bounded input.
"""

from cfteval.grading.qwen.grader import qwen_extract_answer, qwen_is_equivalent, qwen_math_equal

__all__ = ["qwen_extract_answer", "qwen_is_equivalent", "qwen_math_equal"]
