"""What counts as a stated answer (grading round 2): unfinished and looping generations, hedges,
answer phrases that state nothing, closing statements, invented continuations, booleans worded
as properties, and multiple-choice forms seen in real samples. All strings are our own."""

from __future__ import annotations

import pytest

from cfteval.grading.extract import closing_statement, ends_in_loop, extract_answer
from cfteval.grading.profiles import grade_one
from cfteval.grading.types import GradeItem

WORK = (
    "We factor $x^2 - 5x + 6 = (x-2)(x-3)$, so the roots are $x = 2$ and $x = 3$.\n\n"
    "The sum of the first 8 odd numbers is $8^2 = 64$.\n\n"
)


# --- cut at max tokens, or looping: only a stated answer counts ---------------------------------


@pytest.mark.parametrize(
    "tail",
    [
        "Now consider the case $n = 3$. Then we need to check whether the divisors of",
        "So far we have 64. Let me double check the second term: $2 \\cdot",
        "Let me check if 3 works: 3^2 = 9",
    ],
)
def test_a_cut_generation_with_no_statement_states_nothing(tail):
    assert extract_answer(WORK + tail, "math", finish_reason="length") is None
    assert extract_answer(WORK + tail, "integer", finish_reason="length") is None


def test_a_cut_generation_keeps_the_answer_it_stated():
    text = WORK + "The answer is $\\boxed{64}$.\n\nLet me verify once more: 8 times 8 ="
    assert extract_answer(text, "math", finish_reason="length") == "64"


def test_a_finished_generation_keeps_its_fallbacks():
    assert extract_answer("The total comes out to 64", "math", finish_reason="stop") == "64"


@pytest.mark.parametrize(
    "loop",
    [
        "So $x = 3$. Wait, let me recheck. " * 30,
        "We have 2 + 1 = 3, and so on.\n" * 40,
        "\\[ x = 3 \\]\n" * 50,
    ],
)
def test_a_degenerate_loop_states_nothing(loop):
    assert ends_in_loop(WORK + loop)
    assert extract_answer(WORK + loop, "math") is None


def test_a_loop_after_a_box_keeps_the_box():
    text = WORK + "\\boxed{3}\n" + "Double-checking the computation. " * 30
    assert extract_answer(text, "math") == "3"


@pytest.mark.parametrize("text", [WORK, "The answer is 12.", "x" * 100, "ab" * 50])
def test_ordinary_text_is_no_loop(text):
    assert not ends_in_loop(text)


def test_the_finish_reason_reaches_the_grader():
    text = WORK + "Next, consider whether 64 is"
    assert grade_one(GradeItem(text, "64", "math", "gsm8k")).correct
    assert not grade_one(GradeItem(text, "64", "math", "gsm8k", finish_reason="length")).correct


# --- hedges state no answer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answer_type", "gold"),
    [
        ("The answer is A or B.", "multiple_choice", "B"),
        ("The answer is (B)/(C).", "multiple_choice", "C"),
        ("Answer: A, B, C, D", "multiple_choice", "C"),
        ("\\boxed{A, B, C, D}", "multiple_choice", "A"),
        ("True False", "bool", "True"),
        ("The answer is Yes and no.", "bool", "True"),
        ("Yes/No", "bool", "False"),
        ("(a) (b) (c) (d)", "option", "(a)"),
        ("The answer is (a) or (b).", "option", "(b)"),
    ],
)
def test_a_hedge_states_no_answer(text, answer_type, gold):
    assert extract_answer(text, answer_type, n_choices=4) is None


@pytest.mark.parametrize(
    ("text", "gold"),
    [
        ("The answer is $72 \\text{ or } 73$.", "72"),
        ("\\boxed{72 \\text{ or } 73}", "72"),
        ("So the answer is either 72 or 73.", "72"),
        ("\\boxed{12} or \\boxed{13}", "12"),
    ],
)
def test_a_hedge_between_numbers_gets_no_credit(text, gold):
    assert not grade_one(GradeItem(text, gold, "math", "math")).correct


def test_several_letters_joined_by_and_still_give_the_last():
    assert extract_answer("The answer is (D) and (F).", "multiple_choice") == "F"


# --- answer phrases that state nothing, fillers ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "We get $\\boxed{42}$.\n\nThe final answer is clearly highlighted above.",
        "So $n = \\boxed{42}$. The answer is correct.",
        "Thus $\\boxed{42}$; the final answer is as shown above.",
        "Hence the answer is definitely $42$.",
        "The final answer is: obviously 42",
    ],
)
def test_phrases_stating_nothing_and_fillers(text):
    assert extract_answer(text, "math") == "42"


# --- the value a closing sentence states, not its last number ---------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Adding 8 and 9 gives 17. Therefore 17 is the correct sum of 8 and 9.", "17"),
        ("The speed is 60 km/h, which is the ratio of 120 and 2.", "60"),
        ("First 3 + 4 = 7. So the total number of apples is 15.", "15"),
        ("Working it out, the perimeter is $12$ units, since 2(2+4) = 12 uses 2 and 4.", "12"),
    ],
)
def test_closing_statement(text, expected):
    assert closing_statement(text) == expected
    assert extract_answer(text, "math") == expected


def test_no_closing_statement_in_a_question():
    assert closing_statement("We wonder whether the sum of 3 and 4 is odd") is None


# --- invented continuations --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The answer is $\\boxed{5}$.\n\nSubproblem 2: What is the next value? The answer is $\\boxed{7}$.",
        "Final Answer: The final answer is 5. I hope it is correct.\n\nSubproblem 1: Find the mass.\n"
        "Final Answer: The final answer is 12.",
        "So the answer is 5.\n\nNew question: A train travels 60 miles. The answer is 60.",
        "The answer is $\\boxed{5}$.\n\nExercise 3: Compute the next term. The answer is $\\boxed{9}$.",
    ],
)
def test_an_invented_continuation_does_not_replace_the_answer(text):
    assert extract_answer(text, "math") == "5"


# --- booleans worded as properties -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A pole lies in the right half plane. Therefore, the answer is Not stable.", "False"),
        ("The answer is: not convergent", "False"),
        ("The answer is: unstable", "False"),
        ("The answer is non-convergent.", "False"),
        ("By the ratio test, the answer is convergent.", "True"),
        ("The answer is \\boxed{\\text{No}}", "False"),
        ("The answer is purple.", None),
    ],
)
def test_boolean_worded_as_a_property(text, expected):
    assert extract_answer(text, "bool") == expected


# --- seen in real samples ----------------------------------------------------------------------


def test_a_number_inside_a_closing_formula_is_no_answer():
    text = "We set $t = \\cosh u$, so $dt = \\sqrt{t^2 - 1}$."
    assert extract_answer(text, "float") is None
    assert extract_answer("Substituting gives $y = 2$.", "integer") == "2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The incorrect answer is (D).", None),
        ("The incorrect answer is (D). The correct answer is (B).", "B"),
        ("A wrong answer would be (A), since it ignores friction.", None),
        ("After computing the energy scale we get\n\n(C) 10^-4 eV", "C"),
        ("Energy resolution requires...\n(C) 10^-4 eV\n", "C"),
        ("Options:\n(A) 10^-8 eV\n(B) 10^-5 eV", None),
    ],
)
def test_choice_forms_from_real_samples(text, expected):
    assert extract_answer(text, "multiple_choice", n_choices=4) == expected


def test_the_incorrect_answer_phrase_is_no_statement_for_maths():
    text = "The incorrect answer is 5, the other one works."
    assert extract_answer(text, "math", plain_number_answers=False) is None


def test_an_ordinal_after_an_article():
    assert extract_answer("The answer is the 3rd day.", "math") == "3rd day"


# --- the last-number fallback on benchmarks whose answers are not plain numbers ---------------

COUNTING = "There are 33 multiples of 3 and 20 of 5, and 6 of 15. "


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (COUNTING + "So the count is 33 + 20 - 6 = 47.", "47"),
        (COUNTING + "Thus there are 47 such integers.", "47"),
        (COUNTING + "Therefore, 47.", "47"),
        (COUNTING + "Hence x = 47.", "47"),
        (COUNTING + "In total we get 47 integers.", "47"),
        ("The probability is one half, i.e. 1/2.", "1/2"),
        ("Multiply 3 by 4 to get 12.", "12"),
        (COUNTING + "but I am not sure whether to count 47 or not", None),
        (COUNTING + "We still need to subtract the 6 multiples of 15 from 53 before", None),
        ("zz qq 47", None),
        ("We need 3 boxes of 4 items, which gives 12 items. Hmm, and 2 left over", None),
    ],
)
def test_a_last_number_counts_where_its_sentence_states_it(text, expected):
    assert extract_answer(text, "math", plain_number_answers=False) == expected


def test_plain_number_benchmarks_keep_the_whole_fallback():
    assert extract_answer("zz qq 47", "math", plain_number_answers=True) == "47"
