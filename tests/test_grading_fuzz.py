"""Random LaTeX-ish answers through the real sandbox: always a verdict, always within the limit."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfteval.grading.sandbox import GradingPool
from cfteval.grading.types import GradeItem

TIMEOUT = 2.0
WORKERS = 2

# fmt: off
TOKENS = [
    "\\frac", "\\dfrac", "{", "}", "^", "_", "\\sqrt", "\\boxed{", "\\fbox{", "2", "10", "0.5", "x", "y",
    "=", ",", "(", ")", "[", "]", "!", "\\pi", "\\infty", "%", "\\%", "\\$", ".", "-", "+", "*", "/",
    "\\cdot", "\\times", "\\left(", "\\right)", "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\",
    "The answer is ", "final answer is $", "$. I hope", " ", "e", "i", "\\text{", "9^{9^{9}}",
    "\\in", "\\cup", "\\le", "(A)", "J", "True", "degrees", "1,000", "3\\frac12",
]
# fmt: on
latexish = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)
answer_text = st.one_of(latexish, st.text(max_size=60))
items = st.lists(
    st.builds(
        GradeItem,
        text=answer_text,
        gold=answer_text,
        answer_type=st.sampled_from(["math", "multiple_choice", "bool", "float", "list"]),
        benchmark=st.sampled_from(
            ["math", "minerva_math", "gsm8k", "gpqa", "mmlu_pro", "theoremqa"]
        ),
        n_choices=st.sampled_from([None, 4, 10]),
    ),
    min_size=1,
    max_size=6,
)


@pytest.fixture(scope="module")
def pool():
    with GradingPool(WORKERS) as shared:
        yield shared


@pytest.mark.parametrize("profile", ["qwen", "cfteval"])
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=items)
def test_random_answers_always_get_a_timely_verdict(pool, profile, batch):
    start = time.monotonic()
    results = pool.grade(batch, profile=profile, timeout=TIMEOUT)
    elapsed = time.monotonic() - start
    assert len(results) == len(batch)
    for result in results:
        assert isinstance(result.correct, bool)
        assert result.extracted is None or isinstance(result.extracted, str)
        if result.timed_out:
            assert not result.correct
        else:
            assert result.seconds <= TIMEOUT + 0.5
    # Worst case: every item on a worker times out, plus a replacement start per time-out.
    rounds = -(-len(batch) // WORKERS)
    assert elapsed <= rounds * (TIMEOUT + 2.0) + 5.0
