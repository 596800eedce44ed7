"""The critique verdict parser on phrasings real critics (CFT models, GPT-4o, small models) write."""

from __future__ import annotations

import pytest

from cfteval.verdict import Verdict, parse_verdict

C, W, N = Verdict.CORRECT, Verdict.INCORRECT, Verdict.NONE


@pytest.mark.parametrize(
    ("critique", "expected"),
    [
        # WebInstruct-CFT's training format
        ("The student adds the fractions correctly.\n\nConclusion: right [END]", C),
        ("The derivative is wrong in step 2.\nConclusion: wrong [END]", W),
        # the two-stage prompt's own wording
        ("Step 3 drops a sign.\n\nCritique Conclusion: Incorrect", W),
        ("All steps check out.\nCritique Conclusion: Correct", C),
        # markdown bold and headings
        ("**Conclusion:** The solution is correct.", C),
        ("**Conclusion: Incorrect**", W),
        ("## Conclusion\n\nThe solution is **incorrect** because 3 + 4 ≠ 8.", W),
        ("### Conclusion:\nThe final answer $\\boxed{5}$ is right.", C),
        # true / false
        ("Conclusion: True", C),
        ("conclusion: false", W),
        # negations
        ("Conclusion: the answer is not correct.", W),
        ("Conclusion: The solution isn't right.", W),
        # "incorrect" contains "correct": whole words only
        ("Conclusion: incorrect", W),
        # the last conclusion wins (a critique may quote the solution's own conclusion first)
        ("The solution says 'Conclusion: correct'.\n\nConclusion: wrong [END]", W),
        # "critique:" as the marker
        ("Critique: The reasoning is correct.", C),
        # no verdict at all
        ("The solution looks plausible but I am not sure.", N),
        ("Conclusion: it depends on the interpretation.", N),
        ("", N),
        # a verdict word far from any conclusion marker does not count
        ("Step 1 is correct. Step 2 is wrong. Overall hard to say.", N),
    ],
)
def test_parse_verdict(critique: str, expected: Verdict) -> None:
    assert parse_verdict(critique) is expected


def test_verdict_belongs_to_the_conclusions_paragraph() -> None:
    # The paragraph after a conclusion with no verdict is not that conclusion's.
    text = "Conclusion: we need to check more cases.\n\nThe case n = 2 is correct."
    assert parse_verdict(text) is N
    # ... but a heading's verdict sits in the paragraph below it.
    assert parse_verdict("## Conclusion\n\nThe solution is correct.") is C
