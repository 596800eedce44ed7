"""Final-answer extraction (cfteval/grading/extract.py): one test per behaviour, real strings.

Most strings come from /work/shared/grading/cases.dev.jsonl and from real MMLU-Pro outputs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cfteval.grading.extract import ANSWER_TYPES, extract_answer

GRADING_DATA = Path(__file__).parents[2] / "shared" / "grading"
EXPECTED_DEV = Path(__file__).parent / "data" / "extract_expected.dev.jsonl"

# The answer type each category of cases.dev.jsonl is extracted as; the rest are maths.
CATEGORY_TYPES = {
    "mc_letter": "multiple_choice",
    "tqa_bool": "bool",
    "tqa_integer": "integer",
    "tqa_float_tol": "float",
    "tqa_list": "list",
    "tqa_option": "option",
}


def math(text: str) -> str | None:
    return extract_answer(text, "math")


# --- maths: boxes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Therefore, the area is $\\boxed{12}$ square units.", "12"),
        (
            "so $\\boxed{\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{15}}$.",
            "\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{15}",
        ),
        ("x \\in \\boxed{\\{-1\\} \\cup [0,7)}.$", "\\{-1\\} \\cup [0,7)"),
        ("The answer is $\\fbox{5}$.", "5"),
        ("The answer is $\\boxed 5$.", "5"),
        ("\\boxed {7}", "7"),
        (
            "$$\\boxed{(x, y) = (5, 8) \\quad \\text{and} \\quad (8, 5)}$$",
            "(x, y) = (5, 8) \\quad \\text{and} \\quad (8, 5)",
        ),
    ],
)
def test_boxed_content_is_brace_matched(text, expected):
    assert math(text) == expected


def test_last_of_several_boxes_wins():
    text = (
        "the answer should be \\boxed{003}.\n\nBut let me check again: the sum is 2,552,004. "
        "So, \\boxed{004} is the correct answer.\n\n**Final Answer**\n\\boxed{004}"
    )
    assert math(text) == "004"
    assert math("First \\boxed{1}, then corrected: \\boxed{2}") == "2"


def test_an_empty_box_is_skipped_and_an_unclosed_last_box_is_no_answer():
    # Cut off while writing its final answer: the earlier box was not the model's last word.
    assert math("So \\boxed{3}. Checking again we get \\boxed{\\frac{1}{2") is None
    assert extract_answer("The answer is \\boxed{", "integer") is None
    assert math("A stray \\boxed{x and then the answer is \\boxed{4}.") == "4"
    assert math("Put the answer in \\boxed{}. The answer is \\boxed{9}") == "9"
    assert math("put your final answer within \\boxed{}. The answer is 7.") == "7"


def test_box_beats_a_later_answer_phrase():
    assert (
        math("Thus, the answer is $x \\in \\boxed{(2,12) \\cup (12,102)}$")
        == "(2,12) \\cup (12,102)"
    )
    assert math("$\\boxed{6}$ ... so the answer is 7") == "6"


def test_a_final_answer_phrase_after_an_intermediate_box_wins():
    """Minerva's closing line is the model's last word; a box earlier was a partial result."""
    text = (
        "The first leg costs $\\boxed{120}$ dollars, and with the return we pay 120 + 95 = 215. "
        "Final Answer: The final answer is $215$. I hope it is correct."
    )
    assert math(text) == "215"
    assert math("So \\boxed{8}. The final answer is \\boxed{9}.") == "9"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The roots are $\\boxed{-3}$ and $\\boxed{5}$.", "-3, 5"),
        ("\\[ \\boxed{2} \\quad \\text{and} \\quad \\boxed{7} \\]", "2, 7"),
        ("\\boxed{(0, 1)}, \\boxed{(1, 0)}", "(0, 1), (1, 0)"),
        ("\\boxed{a = 2}, \\boxed{b = 3}", "a = 2, b = 3"),
        ("\\boxed{4}, \\boxed{4}", "4"),
        ("Hmm: $$\\boxed{30}$$ \\boxed{31}", "31"),
        ("Part one gives \\boxed{3}. Then part two gives \\boxed{5}.", "5"),
        ("\\boxed{3}\n\nand \\boxed{5}", "5"),
    ],
)
def test_boxes_joined_by_list_separators_state_one_list(text, expected):
    assert math(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hence $y \\le -2$ is the solution set we wanted.", "y \\le -2"),
        ("We conclude that $t > 1$ holds.", "t > 1"),
        ("the point $(x, y)$ we want is $(3, -4)$ and we are done", "(3, -4)"),
        ("So $y = 4$ and the total is 12 apples", "12"),
        ("So $2 + 2 = 4$ and we stop here", "4"),
    ],
)
def test_last_number_fallback_never_splits_an_inequality_or_a_point(text, expected):
    assert math(text) == expected


@pytest.mark.parametrize(
    ("text", "answer_type", "expected"),
    [
        ("The pair is $(2, 5)$.<|im_end|>\n<|im_start|>user\nNext: 7", "math", "(2, 5)"),
        ("So the answer is 6.</s> The answer is 9.", "math", "6"),
        ("<|im_start|>assistant\nThe answer is 6.", "math", "6"),
        ("The answer is (C).<|eot_id|>The answer is (D).", "multiple_choice", "C"),
    ],
)
def test_text_after_an_end_of_turn_token_is_not_the_answer(text, answer_type, expected):
    assert extract_answer(text, answer_type, n_choices=10) == expected


def test_an_ellipsis_survives_extraction():
    assert math("The terms are $1, 3, 5, \\dots$") == "1, 3, 5, \\dots"
    assert math("The sequence is $1, 3, 5, ...$") == "1, 3, 5, ..."


# --- maths: answer phrases ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Final Answer: The final answer is $5$. I hope it is correct.", "5"),
        (
            "Combining these conditions, the domain is $(0, 1)$. Final Answer: The final answer "
            "is $(0, 1)$. I hope it is correct.",
            "(0, 1)",
        ),
        ("She makes 9 * 2 = 18 dollars. The answer is $18.00.", "18.00"),
        ("The answer is 5.", "5"),
        ("So the answer is: 3.5 cm.\nDone.", "3.5 cm"),
        (
            "The answer is $(\\frac{-3-\\sqrt{17}}{4}, \\frac{-3+\\sqrt{17}}{4})$",
            "(\\frac{-3-\\sqrt{17}}{4}, \\frac{-3+\\sqrt{17}}{4})",
        ),
        ("Answer: 42", "42"),
        ("**Answer:** $x = 2$", "x = 2"),
        ("**Final Answer**\n$\\frac{3}{4}$", "\\frac{3}{4}"),
        ("He paid $1,080 in total.\n#### 1,080", "1,080"),
        ("The answer is 5, which is odd.", "5"),
        ("The correct answer is (2, 3), so we are done.", "(2, 3)"),
    ],
)
def test_answer_after_answer_phrase(text, expected):
    assert math(text) == expected


def test_last_answer_phrase_wins():
    text = "The answer is 5. Wait, I made an error. Final Answer: The final answer is $6$."
    assert math(text) == "6"


def test_prose_after_answer_phrase_is_not_an_answer():
    text = "The answer is 12. Let me double check: the answer is not obvious from this alone."
    assert math(text) == "12"


# --- maths: bare answers, bold, math spans, last number ----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5", "0.5"),
        ("14.0 + -1.0i", "14.0 + -1.0i"),
        ("\\frac{1}{2}", "\\frac{1}{2}"),
        ("(1,2]", "(1,2]"),
        ("x=3", "x=3"),
        ("$x^2/16 + y^2/12 = 1/4$", "x^2/16 + y^2/12 = 1/4"),
        ("30 degrees", "30 degrees"),
        ("$19, 46, and 82$", "19, 46, and 82"),
        ("-1 + exp(16)", "-1 + exp(16)"),
        ("pi/2", "pi/2"),
        (
            "c \\in \\left(-\\infty, 1\\right]\\cup[10,+\\infty)",
            "c \\in \\left(-\\infty, 1\\right]\\cup[10,+\\infty)",
        ),
        ("$\\frac{1}{3} \\text{meters}$", "\\frac{1}{3} \\text{meters}"),
        ("1{,}000", "1{,}000"),
        ("\\sqrt2", "\\sqrt2"),
        ("${-2021, 2021}$", "{-2021, 2021}"),
        ("28 %", "28 %"),
    ],
)
def test_bare_answer_is_returned_whole(text, expected):
    assert math(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I'm not sure how to solve this problem.",
        "We need more information about the triangle.",
        "Let me think about this step by step.",
    ],
)
def test_prose_without_a_number_has_no_answer(text):
    assert math(text) is None


def test_bold_answer_counts_but_a_bold_heading_does_not():
    assert math("**Step 1: add the terms.**\nThe sum is\n**42**") == "42"
    assert math("**Case 2**\nHere x is positive, so nothing changes.") == "2"  # last number


def test_last_math_span_when_nothing_else_states_the_answer():
    text = "The matrix is $\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}$"
    assert math(text) == "\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}"
    # A number written after the last span is later reasoning: the last number is taken.
    assert math("so $x = 5$ and thus 7 apples remain") == "7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Natalia sold 48/2 = 24 clips in May. The total is 72 clips, altogether.", "72"),
        (
            "P(A) = (1/2) / (3/4) P(A) = 2/3 Therefore, the probability that Alice wins the game "
            "is 2/3. <|im_start|>user",
            "2/3",
        ),
        ("He earns $5 per hour and works 3 hours, so he earns $15 in total.", "15"),
        ("The population grew to 1,250,000 people.", "1,250,000"),
    ],
)
def test_last_number_fallback(text, expected):
    assert math(text) == expected


# --- multiple choice -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n_choices", "expected"),
    [
        ("Answer: B", 4, "B"),
        ("(B)", 4, "B"),
        ("B", 4, "B"),
        ("C) 42 m/s", 4, "C"),
        ("The final answer is $\\boxed{B}$.", 4, "B"),
        ("Answer: \\boxed{C}", 4, "C"),
        ("The answer is (J)", 10, "J"),
        ("The answer is C because I computed the integral.", 10, "C"),
        ("The answer is B. Note that A is a common distractor.", 10, "B"),
        (
            "The perturbation is negligible because \\boxed{\\langle H\\rangle \\ll \\Delta E}.\n\n**Answer: D**",
            10,
            "D",
        ),
        ("Comparing all options, **C** is right.", 4, "C"),
        ("The correct answer is: **(C) 42 m/s**", 4, "C"),
        ("so the best option is (D).", 4, "D"),
        ("The answer is (b).", 4, "B"),
        ("The answer is A.", 4, "A"),
        ("The answer is A because the rate doubles.", 4, "A"),
        ("\\boxed{\\text{B}}", 4, "B"),
    ],
)
def test_choice_letter_from_a_stated_answer(text, n_choices, expected):
    assert extract_answer(text, "multiple_choice", n_choices=n_choices) == expected


def test_choice_last_stated_answer_wins():
    text = "The answer is B. Wait, let me re-check the second step. Actually, the answer is (C)."
    assert extract_answer(text, "multiple_choice", n_choices=10) == "C"
    text = (
        "The answer is (B) or (I), but since (I) is the only option, it is best. The answer is (I)."
    )
    assert extract_answer(text, "multiple_choice", n_choices=10) == "I"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is (D) and (F).", "F"),
        ("Thus, the answer is (C, D, E, F).", "F"),
        ("The answer is B or C.", None),  # a hedge between answers states none (issue 10)
        ("The answer is (A)/(B)", None),
        ("The answer is (B) and I think that is right.", "B"),
        ("The answer is (A), B is wrong.", "A"),
    ],
)
def test_choice_statement_naming_several_letters_gives_the_last(text, expected):
    """The spine issue's rule: where the model states several answers, the last one counts."""
    assert extract_answer(text, "multiple_choice", n_choices=10) == expected


def test_choice_letters_beyond_n_choices_are_not_answers():
    assert extract_answer("The answer is (E).", "multiple_choice", n_choices=4) is None
    assert extract_answer("The answer is (E).", "multiple_choice", n_choices=10) == "E"
    assert (
        extract_answer("Answer: B ... so the answer is (F)", "multiple_choice", n_choices=4) == "B"
    )


@pytest.mark.parametrize(
    "text",
    [
        "ANSWER: None of the above",
        "A farmer has 3 fields; option A is cheapest but D is fastest.",
        "The answer is not among the choices, but the closest is (E).",
        "The answer is I think (B)",
        "Both B and C look plausible.",
        "",
    ],
)
def test_choice_without_a_single_stated_answer_is_none(text):
    assert extract_answer(text, "multiple_choice", n_choices=10) is None


# --- TheoremQA typed answers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is False", "False"),
        ("Therefore the statement holds. \\boxed{True}", "True"),
        ("\\boxed{\\text{False}}", "False"),
        ("The answer is: **True**.", "True"),
        ("Yes", "True"),
        ("No, because the group is not abelian.", "False"),
        ("The answer is yes.", "True"),
    ],
)
def test_bool_answers(text, expected):
    assert extract_answer(text, "bool") == expected


@pytest.mark.parametrize(
    "text",
    [
        "The answer is not true",
        "The answer is 5 nanometers",
        "The claim is not correct.",
        "Nothing follows.",
    ],
)
def test_bool_substring_traps_are_not_answers(text):
    assert extract_answer(text, "bool") is None


@pytest.mark.parametrize(
    ("text", "answer_type", "expected"),
    [
        ("The answer is 5 nanometers", "integer", "5"),
        ("\\boxed{-12}", "integer", "-12"),
        ("so the count is 17 and we stop", "integer", "17"),
        ("The answer is $-\\frac{\\pi}{3}$", "float", "-\\frac{\\pi}{3}"),
        ("$L = \\boxed{3.83 \\times 10^{35}}$ ergs/s.", "float", "3.83 \\times 10^{35}"),
        ("The answer is 3.83e35 erg/s", "float", "3.83e35"),
        ("The answer is $-1.047$ radians.", "float", "-1.047"),
        ("The answer is 12.5%", "float", "12.5%"),
        ("The answer is 14.0 + -1.0i", "float", "14.0 + -1.0i"),
    ],
)
def test_numeric_answers(text, answer_type, expected):
    assert extract_answer(text, answer_type) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is (C)", "(C)"),
        ("\\boxed{(a)}", "(a)"),
        ("Answer: b", "B"),
        ("The answer is none", None),
    ],
)
def test_option_answers(text, expected):
    assert extract_answer(text, "option") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is [1/3, 1/4]", "[1/3, 1/4]"),
        ("\\boxed{[1, 2, 3]}", "[1, 2, 3]"),
        ("The answer is $(\\frac{1}{2}, 3)$", "(\\frac{1}{2}, 3)"),
        ("The answer is [2, [3, 4]] in that order", "[2, [3, 4]]"),
    ],
)
def test_list_answers(text, expected):
    assert extract_answer(text, "list") == expected


def test_unknown_answer_type_is_an_error():
    with pytest.raises(ValueError, match="answer_type"):
        extract_answer("5", "number")


# --- the labelled development cases -----------------------------------------------------------


def _dev_cases() -> list[dict]:
    path = GRADING_DATA / "cases.dev.jsonl"
    if not path.exists():
        pytest.skip(f"grading data not found at {path} (the shared folder is not mounted)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_dev_cases_extract_the_hand_checked_answer():
    """Every case's extraction equals the hand-checked answer in tests/data."""
    cases = _dev_cases()
    expected_rows = [
        json.loads(line) for line in EXPECTED_DEV.read_text(encoding="utf-8").splitlines()
    ]
    assert len(expected_rows) == len(cases)
    for case, row in zip(cases, expected_rows, strict=True):
        assert case["pred"].startswith(row["pred_start"]), (
            f"cases.dev.jsonl changed at line {row['line']}"
        )
        answer_type = CATEGORY_TYPES.get(case["category"], "math")
        n_choices = 4 if case["benchmark"] == "gpqa" else None
        got = extract_answer(case["pred"], answer_type, n_choices=n_choices)
        assert got == row["expected"], f"line {row['line']}: {case['pred']!r}"


def test_dev_cases_letters_and_booleans_match_the_verdict():
    """For letters, booleans and options extraction is the whole grade: got == gold iff equal."""
    for case in _dev_cases():
        answer_type = CATEGORY_TYPES.get(case["category"], "math")
        if answer_type not in ("multiple_choice", "bool", "option"):
            continue
        got = extract_answer(case["pred"], answer_type)
        assert (
            got is not None and got.strip("()").upper() == case["gold"].strip("()").upper()
        ) == case["equal"]


def test_dev_cases_extractions_are_substrings_of_the_text():
    for case in _dev_cases():
        answer_type = CATEGORY_TYPES.get(case["category"], "math")
        got = extract_answer(
            case["pred"], answer_type, n_choices=4 if case["benchmark"] == "gpqa" else None
        )
        if got is not None and answer_type not in ("multiple_choice", "bool"):
            assert got in case["pred"]


# --- linear time on megabyte inputs -----------------------------------------------------------

# Each builder makes a text of about n characters.
ADVERSARIAL_TEXTS = {
    "unclosed boxes": lambda n: "\\boxed{" * (n // 7),
    "many boxes": lambda n: "\\boxed{1}" * (n // 9),
    "nested braces": lambda n: "\\boxed{" + "{" * (n // 2) + "}" * (n // 2) + "}",
    "repeated answer phrase": lambda n: "the answer is " * (n // 14),
    "repeated answer label": lambda n: "Answer: " * (n // 8),
    "dollar signs": lambda n: "$" * n,
    "bold markers": lambda n: "**x" * (n // 3),
    "digits": lambda n: "1" * n,
    "thousands separators": lambda n: "1," * (n // 2),
    "spaces after a marker": lambda n: "The answer is" + " " * n,
    "dots in a box": lambda n: "\\boxed{1" + "." * n + "}",
    "degenerate repetition": lambda n: (
        "We refer to Wikipedia articles on law for help. " * (n // 48)
    ),
}


def _extraction_seconds(text: str) -> float:
    """Best of three: the least disturbed by other processes on a loaded machine."""
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        for answer_type in ANSWER_TYPES:
            extract_answer(text, answer_type, n_choices=4)
        timings.append(time.perf_counter() - start)
    return min(timings)


@pytest.mark.parametrize("name", list(ADVERSARIAL_TEXTS))
def test_adversarial_input_is_linear_time(name):
    # A scaling check, not a speed figure: 8 times the text costs about 8 times the work when
    # extraction is linear and 64 times when it is quadratic. Absolute timings fail under load.
    build = ADVERSARIAL_TEXTS[name]
    small, large = _extraction_seconds(build(8_000)), _extraction_seconds(build(64_000))
    assert large <= 24 * small + 0.25


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "So the matrix is $\\begin{pmatrix} 1 & 0 \\end{pmatrix}$.",
            "\\begin{pmatrix} 1 & 0 \\end{pmatrix}",
        ),
        # A variable named mid-sentence is no answer; the documented last-number fallback applies.
        (
            "We use $\\tan A = 2$ on the triangle with side lengths $A$ and $B$, which is basic.",
            "2",
        ),
    ],
)
def test_math_span_fallback_only_when_it_closes_the_text(text: str, expected: str) -> None:
    assert extract_answer(text, "math") == expected


@pytest.mark.parametrize(
    ("text", "answer_type", "expected"),
    [
        ("The answer is approximately 1.414.", "math", "1.414"),
        ("So the answer is about 12 km.", "float", "12"),
        ("Therefore, the answer is $\\approx 0.25$.", "float", "0.25"),
        ("The answer is roughly $3 \\times 10^{8}$ m/s.", "math", "3 \\times 10^{8}"),
    ],
)
def test_hedge_words_are_not_part_of_the_answer(text, answer_type, expected):
    assert extract_answer(text, answer_type) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Therefore, the answer is no.", "False"),
        ("The answer is No, since the map is not injective.", "False"),
        ("The answer is yes.", "True"),
    ],
)
def test_bool_answer_no_after_an_answer_phrase(text, expected):
    assert extract_answer(text, "bool") == expected


def test_plain_x_as_a_times_sign_keeps_the_power_of_ten():
    assert extract_answer("Thus the answer is 2.5 x 10^6.", "float") == "2.5 x 10^6"


def test_a_parenthetical_after_the_answer_is_cut_whole():
    assert math("The answer is 8 (since the total must be even).") == "8"


def test_last_number_fallback_takes_a_whole_fraction():
    text = "Hence the chance is $\\dfrac{3}{16}$, which is what we wanted."
    assert math(text) == "\\dfrac{3}{16}"


@pytest.mark.parametrize(
    ("text", "answer_type", "expected"),
    [
        ("So the chance is 40%.", "math", "40%"),
        ("So the diagonal is 3√2.", "math", "3√2"),
        ("Answer: `42`", "math", "42"),
        ("Checking every case, the statement is false.", "bool", "False"),
        ("So the claim is not true.", "bool", None),
        ("We get 6 cookies each.\n#### 6\n\nQuestion: Ann has 3 cats...\n#### 3", "math", "6"),
    ],
)
def test_more_answer_forms(text, answer_type, expected):
    assert extract_answer(text, answer_type) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thus \\boxed{C: the mitochondria produce ATP}.", "C"),
        ("Thus \\boxed{(D) 36 m/s}.", "D"),
        ("Thus \\boxed{A farmer}.", None),
    ],
)
def test_a_box_may_label_its_option_text(text, expected):
    assert extract_answer(text, "multiple_choice", n_choices=10) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is (A), (B), and (C).", "C"),
        ("The answer is A, B, and D.", "D"),
        ("The answer is (C) and (E) is wrong because it double counts.", "C"),
        ("The answer is (H), (G) being the opposite effect.", "H"),
        ("The answer is (B) or (K).", None),  # a hedge, whatever the options
        ("The answer is (N/A).", None),
        ("The answer is $\\textrm{(C)}$.", "C"),
        ("(B) or (D)", None),
        ("Weighing it all, the answer is (C", "C"),  # cut off right after the letter
    ],
)
def test_choice_lists_clauses_and_wrappers(text, expected):
    assert extract_answer(text, "multiple_choice", n_choices=10) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The answer is (C).\n\n**Explanation:**\n* **(A)** Wrong sign.\n* **(D)** Wrong units.",
        "**Answer: C**\n\n**A.** Too small.\n**D.** Wrong units.",
        "The answer is (C). Note that **A** is a common slip.",
        "The answer is (C). The speed stays below $\\boxed{c}$ throughout.",
    ],
)
def test_bold_labels_and_boxed_variables_after_the_answer_are_not_answers(text):
    assert extract_answer(text, "multiple_choice", n_choices=10) == "C"


@pytest.mark.parametrize(
    "continuation",
    [
        "\n\nQuestion: A 2 kg block slides ... The answer is (D).",
        " Question: A 2 kg block slides ... The answer is (D).",
        "\n\nQuestion 2: A 2 kg block slides ... The answer is (D).",
        "\n\n## Question: A 2 kg block slides ... The answer is (D).",
        "\n\n**Question:** A 2 kg block slides ... The answer is (D).",
        "<end_of_turn>\nThe answer is (D).",
    ],
)
def test_a_run_on_next_question_after_the_answer_is_cut(continuation):
    text = "The kinetic energy quadruples. The answer is (E)." + continuation
    assert extract_answer(text, "multiple_choice", n_choices=10) == "E"


def test_a_question_restated_before_any_answer_is_kept():
    text = "Let me restate it.\nQuestion: which is largest?\nSolution: ... The answer is (C)."
    assert extract_answer(text, "multiple_choice", n_choices=10) == "C"


def test_math_spans_listed_after_an_answer_phrase_are_one_list():
    text = "So the final answer is $\\frac12$, $\\frac13$ and $\\frac14$."
    assert math(text) == "\\frac12, \\frac13, \\frac14"


@pytest.mark.parametrize(
    ("text", "answer_type", "expected"),
    [
        ("Therefore, the answer is 0.0315 (or 3.15%).", "float", "0.0315"),
        (
            "Therefore, the answer is 2.5\\times10^{-3} (approximately).",
            "float",
            "2.5\\times10^{-3}",
        ),
        ("The answer is option (c).", "option", "(c)"),
        ("The answer is choice (A).", "option", "(A)"),
        ("The answer is \\textbf{(d)}.", "option", "(d)"),
    ],
)
def test_theoremqa_remarks_and_option_wording(text, answer_type, expected):
    assert extract_answer(text, answer_type) == expected


def test_an_option_called_correct_is_a_stated_answer():
    assert extract_answer("Therefore, option D is correct.", "multiple_choice", n_choices=4) == "D"
    text = "Option A is correct for small angles, but here the answer is (C)."
    assert extract_answer(text, "multiple_choice", n_choices=4) == "C"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Suppose the answer is 10. That contradicts the count, so $n = 9$.", "n = 9"),
        ("The answer would be 12 if order mattered; it does not, so we get 6.", "6"),
        ("So the answer is 12? Checking again gives 11.", "11"),
        ("The answer is 10 if repetition is allowed. Without it there are 9.", "9"),
        ("My first answer: 12 was wrong; the correct total is 15.", "15"),
        ("The answer should be a whole number, so we round to 8.", "8"),
        ("If we add them, the answer is 12.", "12"),
        ("I think the answer is 12.", "12"),
        ("The answer is probably 10.", "10"),
    ],
)
def test_hypothetical_questioned_or_retracted_answer_phrases_are_not_answers(text, expected):
    assert math(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is $5$, and $-5$ is rejected.", "5"),
        ("The answer is $x = 2$ or $x = 3$.", "x = 2, x = 3"),
        ("So $x = \\boxed{-2}$ or $x = \\boxed{1}$.", "-2, 1"),
        ("The final answer is $(1,2)$ since $x$ is positive.", "(1,2)"),
    ],
)
def test_listed_spans_and_boxes_after_a_phrase(text, expected):
    assert math(text) == expected


@pytest.mark.parametrize(
    "run_on",
    [
        "<|user|>\nWhat is 3+4?<|assistant|>\n7",
        "\n\n### Instruction:\nWhat is 3+4?\n\n### Response:\n7",
        " [INST] What is 3+4? [/INST] 7",
        "\n\nProblem:\nWhat is 3+4?\nSolution: 7",
    ],
)
def test_more_run_on_turns_are_cut(run_on):
    assert math("She makes 9 * 2 = 18 dollars." + run_on) == "18"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is $E = 0.9$ J.", None),  # a variable, not option E
        ("The answer is $F = 3.0 \\times 10^3$ N, so option (D) is correct.", "D"),
        ("The answer is E。", "E"),
        ("The answer is A — 130/80 mm Hg.", "A"),
        ("The answer is I Peace of Westphalia.", "I"),
        ("The answer is I and II only.", "I"),
        ("The answer is I think (G).", None),
        ("The answer is A farmer's choice.", None),
    ],
)
def test_choice_letters_next_to_equations_dashes_and_option_text(text, expected):
    assert extract_answer(text, "multiple_choice", n_choices=10) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "True or False: every group of order 4 is cyclic. ... So the statement is false.",
            "False",
        ),
        ("True or False: the map is onto. Let us check the image", None),
        ("The answer is yes or no, depending on n.", None),
    ],
)
def test_a_restated_true_or_false_question_is_no_verdict(text, expected):
    assert extract_answer(text, "bool") == expected


@pytest.mark.parametrize(
    "run_on",
    [
        "\nProblem:\nFind 3+4.\nSolution: Final Answer: The final answer is $7$.",
        "\nQ: Tom has 3 pens and buys 4 more.\nA: The answer is 7.",
    ],
)
def test_a_run_on_few_shot_example_without_a_blank_line_is_cut(run_on):
    text = (
        "So the total is 2. Final Answer: The final answer is $2$. I hope it is correct." + run_on
    )
    assert math(text) == "2"


def test_the_correct_option_is_an_answer_phrase():
    assert extract_answer("The correct option is (b).", "option") == "(b)"
