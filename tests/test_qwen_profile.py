"""The `qwen` profile reproduces the reference toolkit's verdicts, leniencies included."""

from __future__ import annotations

import json

import pytest

from cfteval.grading.qwen import qwen_extract_answer, qwen_is_equivalent, qwen_math_equal
from cfteval.grading.qwen.normalize import strip_string
from cfteval.grading.qwen.symbolic import is_explosive
from tests.helpers import GRADING_DIR, needs_grading_data


def qwen_grade(
    generation: str,
    gold: str,
    answer_type: str = "math",
    benchmark: str = "math",
    n_choices: int | None = None,
) -> bool:
    extracted = qwen_extract_answer(generation, answer_type, n_choices=n_choices)
    return extracted is not None and qwen_is_equivalent(
        extracted, gold, answer_type, benchmark=benchmark
    )


# The documented defects of the reference grader (docs/protocol.md, "Known defects").
@pytest.mark.parametrize(
    ("generation", "gold"),
    [
        ("The probability is $\\boxed{25}$.", "0.25"),  # ×100 for every number
        ("So the rate is \\boxed{0.5}", "50"),  # ÷100 for every number
        ("The solutions are $\\boxed{6, 8}$.", "68"),  # commas deleted
        ("The interval is $\\boxed{(1,2)}$.", "[1,2]"),  # bracket types ignored
        ("Hence $x \\in \\boxed{[0, 1]}$", "(0,1)"),
        ("The answer is $\\boxed{3\\frac12}$", "\\frac{3}{2}"),  # 3·½, not 3½
    ],
)
def test_known_leniencies_are_reproduced(generation, gold):
    assert qwen_grade(generation, gold)


def test_mixed_number_is_not_three_and_a_half():
    assert not qwen_grade("The answer is $\\boxed{3\\frac{1}{2}}$", "\\frac{7}{2}")


def test_percent_leniency_against_the_cfteval_profile():
    assert qwen_is_equivalent("25", "0.25", "math", benchmark="math")
    equivalence = pytest.importorskip("cfteval.grading.equivalence")
    assert not equivalence.is_equivalent("25", "0.25", "math", benchmark="math")


@pytest.mark.parametrize(
    ("generation", "gold", "expected"),
    [
        ("Therefore, the area is $\\boxed{12}$ square units.", "12", True),
        ("Rounded, the investment is worth $\\boxed{\\$16,\\!386.20}$.", "16386.20", True),
        ("The answer is $\\boxed{\\frac{x}{7}+\\frac{2}{7}}$", "\\frac{x+2}{7}", True),
        (
            "We get \\boxed{\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}}",
            "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
            True,
        ),
        ("The circle is \\boxed{x^2+y^2=1}", "y^2+x^2=1", True),
        ("The curve is \\boxed{x^2-y^2=1}", "x^2+y^2=1", False),
        ("The angle is 30 degrees", "30", True),  # unit words are cut
        ("so k = 5.", "5", True),
        ("Final Answer: The final answer is $(0, 1)$. I hope it is correct.", "(0,1)", True),
        ("The answer is $\\boxed{13}$", "12", False),
        ("First 3, then 5, finally 1,234 apples", "1234", True),  # last number, commas removed
    ],
)
def test_maths_verdicts(generation, gold, expected):
    assert qwen_grade(generation, gold) is expected


def test_extraction_follows_the_reference_order():
    assert qwen_extract_answer("\\boxed{1} then \\boxed{\\frac{2}{3}}", "math") == "\\frac{2}{3}"
    assert qwen_extract_answer("The answer is 7. Later: 9", "math") == "7. Later: 9"
    assert qwen_extract_answer("no numbers here", "math") is None
    assert qwen_extract_answer("$\\boxed 5$", "math") == "5"


def test_mmlu_pro_first_answer_wins_even_when_corrected():
    text = "The answer is (B). Wait, that is wrong. The answer is (D)."
    assert qwen_extract_answer(text, "multiple_choice", n_choices=10) == "B"
    assert qwen_grade(text, "B", "multiple_choice", "mmlu_pro", 10)
    assert not qwen_grade(text, "D", "multiple_choice", "mmlu_pro", 10)


def test_mmlu_pro_fallbacks_and_no_random_guess():
    assert qwen_extract_answer("Reasoning...\nAnswer: G", "multiple_choice", n_choices=10) == "G"
    assert qwen_extract_answer("I would go with J overall", "multiple_choice", n_choices=10) == "J"
    assert qwen_extract_answer("no letter here at all", "multiple_choice", n_choices=10) is None


def test_gpqa_letter_rules():
    assert (
        qwen_extract_answer(
            "Option A is wrong, so the answer is C.", "multiple_choice", n_choices=4
        )
        == "C"
    )
    assert qwen_extract_answer("Comparing A and D, I pick D", "multiple_choice", n_choices=4) == "D"
    assert not qwen_grade("The answer is (B)", "C", "multiple_choice", "gpqa", 4)


def test_theoremqa_bool_is_a_substring_test():
    assert qwen_grade("The statement holds, so \\boxed{True}", "True", "bool", "theoremqa")
    assert qwen_grade("The answer is no, it does not converge", "False", "bool", "theoremqa")


def test_strip_string_steps():
    assert strip_string("\\dfrac{1}{2}") == "\\frac{1}{2}"
    assert strip_string("\\frac12") == "\\frac{1}{2}"
    assert strip_string("3/4") == "\\frac{3}{4}"
    assert strip_string("10\\%") == "10"
    assert strip_string("x = 5") == "5"
    assert strip_string("5.000") == "5"
    assert strip_string("\\left( 1, 2 \\right)") == "(1,2)"
    assert strip_string("two") == "2"


def test_minerva_keeps_units_in_the_gold():
    # Minerva answers are not unit-stripped: "m" stays and so does the mismatch.
    assert qwen_is_equivalent("5", "5", "math", benchmark="minerva_math")
    assert not qwen_math_equal("5", "5 m")


@pytest.mark.parametrize(
    "text", ["2^{2^{2^{2}}}", "10^10^10", "9^{(9^{9})}", "2^{1000000}", "(10^{10})!", "x**2", "5!!"]
)
def test_explosive_inputs_are_refused(text):
    assert is_explosive(text)


@pytest.mark.parametrize("text", ["2^{10}", "5!", "\\frac{1}{2}", "x^2+y^2=1"])
def test_ordinary_inputs_are_parsed(text):
    assert not is_explosive(text)


@needs_grading_data
def test_mmlu_pro_letters_match_the_official_extractor_on_real_outputs():
    rows = [json.loads(line) for line in (GRADING_DIR / "mmlu_pro_outputs.dev.jsonl").open()]
    stated = [r for r in rows if r["official_pred"] is not None]
    assert len(stated) > 2000
    mismatches = [
        r["question_id"]
        for r in stated
        if qwen_extract_answer(r["generated_text"], "multiple_choice", n_choices=10)
        != r["official_pred"]
    ]
    assert mismatches == []
