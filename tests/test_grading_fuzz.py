"""Random LaTeX-ish answers through the real sandbox: always a verdict, always within the limit."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfteval.grading.sandbox import GradingPool
from cfteval.grading.types import GradeItem
from tests.sandbox_helpers import worker_startup_seconds

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
            # The limit held (with slack for a loaded machine's scheduling): longer is a time-out.
            assert result.seconds <= TIMEOUT + 2.0
    # Worst case: every item on a worker times out, plus a replacement start per time-out; the
    # bound catches a pool that hangs, with room for a loaded machine.
    rounds = -(-len(batch) // WORKERS)
    assert elapsed <= rounds * (TIMEOUT + 2.0 + worker_startup_seconds()) + 30.0


# --- hedges and junk never get credit (in-process: pure functions, many examples) -------------

_HEDGES = [
    "The answer is {a} or {b}.",
    "\\boxed{{{a} \\text{{ or }} {b}}}",
    "So the answer is either {a} or {b}.",
    "\\boxed{{{a}}} or \\boxed{{{b}}}",
    "The answer is ${a}$ or ${b}$.",
]


@settings(max_examples=60, deadline=None)
@given(
    gold=st.integers(0, 10_000),
    other=st.integers(0, 10_000),
    template=st.sampled_from(_HEDGES),
    benchmark=st.sampled_from(["math", "gsm8k", "math500", "aime24"]),
    swap=st.booleans(),
)
def test_a_hedge_between_numbers_never_scores(gold, other, template, benchmark, swap):
    from cfteval.grading.profiles import grade_one

    if gold == other:
        return
    a, b = (other, gold) if swap else (gold, other)
    text = template.format(a=a, b=b)
    assert not grade_one(GradeItem(text, str(gold), "math", benchmark)).correct


@settings(max_examples=60, deadline=None)
@given(
    letters=st.permutations("ABCD"),
    joiner=st.sampled_from([", ", " or ", " / ", " or maybe "]),
    gold=st.sampled_from("ABCD"),
)
def test_naming_every_option_or_a_choice_between_two_never_scores(letters, joiner, gold):
    from cfteval.grading.profiles import grade_one

    every = ", ".join(letters)
    for text in (f"The answer is {every}.", f"\\boxed{{{every}}}", every):
        assert not grade_one(GradeItem(text, gold, "multiple_choice", "gpqa_diamond")).correct
    two = f"The answer is ({letters[0]}){joiner}({letters[1]})."
    if "or" in joiner or "/" in joiner:
        assert not grade_one(GradeItem(two, gold, "multiple_choice", "gpqa_diamond")).correct


@settings(max_examples=60, deadline=None)
@given(
    junk=st.from_regex(r"[qwxzjk]{2,8}( [qwxzjk]{1,8}){0,6}\n?", fullmatch=True),
    number=st.integers(0, 999),
    benchmark=st.sampled_from(["math500", "minerva_math", "olympiadbench", "gpqa_diamond"]),
)
def test_junk_ending_in_a_number_never_scores(junk, number, benchmark):
    from cfteval.grading.profiles import grade_one
    from cfteval.grading.rules import rules_for

    answer_type = "multiple_choice" if rules_for(benchmark).choices else "math"
    gold = "B" if answer_type == "multiple_choice" else str(number)
    item = GradeItem(f"{junk} {number}", gold, answer_type, benchmark)
    assert not grade_one(item).correct


@settings(max_examples=40, deadline=None)
@given(gold=st.sampled_from(["True", "False"]), noise=st.sampled_from(["", "Hmm. ", "So: "]))
def test_both_verdicts_never_score(gold, noise):
    from cfteval.grading.profiles import grade_one

    for text in ("True False", "Yes and no", "The answer is Yes/No.", "True or False"):
        assert not grade_one(GradeItem(noise + text, gold, "bool", "theoremqa")).correct


# --- slow-input classes through the real sandbox: a verdict, never a time-out ------------------

_SLOW_BUILDERS = [
    lambda n: "\\boxed{" + "7" * (1000 + 40 * n) + "}",
    lambda n: "\\boxed{" + "(" * (10 + n) + "1" + ")" * (10 + n) + "}",
    lambda n: "\\boxed{x" + "_{x" * (5 + n) + "}" * (5 + n) + "}",
    lambda n: f"\\boxed{{\\binom{{10^{{{9 + n}}}}}{{5\\cdot10^{{{8 + n}}}}}}}",
    lambda n: "\\boxed{" + "\\exp(" * (3 + n % 4) + "100" + ")" * (3 + n % 4) + "}",
    lambda n: f"\\boxed{{\\prod_{{k=1}}^{{{2000 + n}}} k}}",
    lambda n: f"\\boxed{{\\sum_{{k=1}}^{{{100000 + n}}} \\frac{{1}}{{k}}}}",
    lambda n: (
        "\\boxed{\\det\\begin{pmatrix}"
        + "\\\\".join("&".join(f"a_{{{i}{j}}}" for j in range(6 + n % 3)) for i in range(6 + n % 3))
        + "\\end{pmatrix}}"
    ),
    lambda n: "lorem ipsum " * (80_000 + n) + "\\boxed{7}",  # a genuine megabyte generation
]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(builder=st.sampled_from(range(len(_SLOW_BUILDERS))), size=st.integers(0, 30))
def test_slow_input_classes_get_a_verdict_without_a_time_out(pool, builder, size):
    text = _SLOW_BUILDERS[builder](size)
    results = pool.grade([GradeItem(text, "7", "math", "math")], timeout=10.0)
    assert not results[0].timed_out
    assert results[0].correct is (builder == len(_SLOW_BUILDERS) - 1)
