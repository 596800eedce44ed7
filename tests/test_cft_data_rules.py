"""The verification rule of `cfteval cft-data`, its statistics, balancing and the row format."""

from __future__ import annotations

import pytest

from cfteval.cftdata.balance import balance, target_counts
from cfteval.cftdata.output import training_output
from cfteval.cftdata.verify import (
    Agreement,
    KeepPolicy,
    TeacherAgreement,
    compare,
    critique_verdict,
    keeps,
)
from cfteval.errors import UserError
from cfteval.prompts import critique_messages, critique_row_fields
from cfteval.verdict import Verdict

RIGHT_CRITIQUE = "The arithmetic checks out: 3 + 4 = 7.\n\nConclusion: right"
WRONG_CRITIQUE = "Step 2 adds 3 and 4 to get 8, which is wrong.\n\nConclusion: wrong"
BOLD_WRONG = "## Critique\nThe sum is off by one.\n**Conclusion: wrong** "
NO_CONCLUSION = "Let me check the steps. The first step is fine. The second"
QUOTING = "The solution says 'Conclusion: right', but 3 + 4 is 7, not 8.\nConclusion: wrong"


@pytest.mark.parametrize(
    ("critique", "solution_correct", "expected"),
    [
        (RIGHT_CRITIQUE, True, Agreement.AGREE),
        (WRONG_CRITIQUE, False, Agreement.AGREE),
        (BOLD_WRONG, False, Agreement.AGREE),
        (QUOTING, False, Agreement.AGREE),  # the last conclusion is the teacher's
        (RIGHT_CRITIQUE, False, Agreement.CONTRADICT),
        (WRONG_CRITIQUE, True, Agreement.CONTRADICT),
        (QUOTING, True, Agreement.CONTRADICT),
        (NO_CONCLUSION, True, Agreement.UNPARSEABLE),
        (NO_CONCLUSION, False, Agreement.UNPARSEABLE),
        ("", False, Agreement.UNPARSEABLE),
    ],
)
def test_a_critique_agrees_contradicts_or_cannot_be_read(
    critique: str, solution_correct: bool, expected: Agreement
) -> None:
    assert compare(critique_verdict(critique), solution_correct) is expected


def test_a_critique_cut_off_at_max_tokens_has_no_conclusion() -> None:
    """A critique cut mid-way may hold a quoted "Conclusion: right" but never reached its own."""
    cut = "The solution ends with 'Conclusion: right' and I will now check step"
    assert critique_verdict(cut) is Verdict.CORRECT
    assert critique_verdict(cut, "length") is Verdict.NONE
    assert compare(critique_verdict(cut, "length"), True) is Agreement.UNPARSEABLE


def test_keep_agree_drops_contradicting_and_unparseable_rows_keep_all_keeps_them() -> None:
    assert keeps(KeepPolicy.AGREE, Agreement.AGREE)
    assert not keeps(KeepPolicy.AGREE, Agreement.CONTRADICT)
    assert not keeps(KeepPolicy.AGREE, Agreement.UNPARSEABLE)
    assert all(keeps(KeepPolicy.ALL, agreement) for agreement in Agreement)


def test_teacher_agreement_counts_and_rates() -> None:
    pairs = [
        (Verdict.INCORRECT, False),  # agree, true "wrong"
        (Verdict.INCORRECT, False),  # agree, true "wrong"
        (Verdict.INCORRECT, True),  # contradict: called a right solution wrong
        (Verdict.CORRECT, False),  # contradict: missed a wrong solution
        (Verdict.CORRECT, True),  # agree
        (Verdict.NONE, False),  # unparseable wrong solution: a miss for recall
    ]
    stats = TeacherAgreement.of(pairs)
    assert (stats.critiques, stats.agree, stats.contradict, stats.unparseable) == (6, 3, 2, 1)
    assert stats.agreement == 0.5
    assert stats.agreement_parseable == 0.6
    assert stats.wrong_solutions == 4
    assert stats.precision_wrong == round(2 / 3, 4)
    assert stats.recall_wrong == 0.5
    empty = TeacherAgreement.of([])
    assert empty.agreement is None and empty.precision_wrong is None


@pytest.mark.parametrize(
    ("wrong", "right", "ratio", "expected"),
    [
        (80, 20, 0.5, (20, 20)),
        (20, 80, 0.5, (20, 20)),
        (90, 30, 0.75, (90, 30)),  # already at the ratio
        (90, 30, 0.6, (45, 30)),
        (10, 30, 0.6, (10, 7)),
        (10, 30, 1.0, (10, 0)),
        (10, 30, 0.0, (0, 30)),
        (0, 5, 0.5, (0, 0)),
    ],
)
def test_target_counts_drop_only_from_the_larger_side(
    wrong: int, right: int, ratio: float, expected: tuple[int, int]
) -> None:
    assert target_counts(wrong, right, ratio) == expected


def test_balance_is_seeded_order_independent_and_keeps_order() -> None:
    rows = [(f"r{i}", i % 4 != 0) for i in range(40)]  # 30 wrong, 10 right
    kept = balance(rows, lambda r: r[1], lambda r: r[0], 0.5, seed=1)
    assert sum(r[1] for r in kept) == 10 and sum(not r[1] for r in kept) == 10
    assert kept == sorted(kept, key=rows.index)
    again = balance(list(reversed(rows)), lambda r: r[1], lambda r: r[0], 0.5, seed=1)
    assert sorted(again) == sorted(kept)
    other_seed = balance(rows, lambda r: r[1], lambda r: r[0], 0.5, seed=2)
    assert sorted(other_seed) != sorted(kept)
    assert balance(rows, lambda r: r[1], lambda r: r[0], None, seed=1) == rows


def test_wrong_ratio_outside_zero_one_is_refused() -> None:
    from cfteval.cftdata.balance import check_ratio

    with pytest.raises(UserError, match="--wrong-ratio 1.5"):
        check_ratio(1.5)


def test_training_rows_are_the_critique_prompt_and_end_with_end_mark() -> None:
    instruction, input_text = critique_row_fields("What is 3 + 4?", "3 + 4 = 8. \\boxed{8}\n\n")
    assert instruction == (
        "Please critique whether the following solution to the question is correct.\n\n"
    )
    assert input_text == "Question:\nWhat is 3 + 4?\n\nSolution:\n3 + 4 = 8. \\boxed{8}\n"
    # What cfteval train builds from the row is the prompt the eval's critique mode sends.
    assert (
        instruction + "\n" + input_text
        == critique_messages("What is 3 + 4?", "3 + 4 = 8. \\boxed{8}").user
    )
    assert (
        training_output("Bad sum.\n\nConclusion: wrong ") == "Bad sum.\n\nConclusion: wrong [END]"
    )
    assert training_output("Fine. Conclusion: right [END]") == "Fine. Conclusion: right [END]"
