"""Multiple-choice extraction against 3,000 real MMLU-Pro outputs and the official extractor.

`official_pred` is the MMLU-Pro script's letter: the first match of `answer is \\(?([A-J])\\)?`.
The acceptance rule, computed here with a simple rule independent of the extractor:
- a *statement* is each match of the official pattern; its letters are every parenthesised or
  comma-listed letter A-J in the rest of its sentence ("(B) or (I)" → {B, I});
- the text states exactly one answer letter when every statement names the same one letter:
  the extractor must then agree with `official_pred`;
- it states several when statements disagree or one names several letters ("(D) and (F)"):
  the extractor must give the last letter of the last statement;
- it states none when there is no statement: the extractor must give None.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cfteval.grading.extract import extract_answer

OUTPUTS = Path(__file__).parents[2] / "shared" / "grading" / "mmlu_pro_outputs.dev.jsonl"

_STATEMENT_RE = re.compile(r"answer is \(?([A-J])\)?")
_SENTENCE_END_RE = re.compile(r"\.\s|\n")
_LISTED_LETTER_RE = re.compile(r"(?<=[(,\s])([A-J])(?=[),])")


def statements(text: str) -> list[list[str]]:
    """The letters each "answer is (X)" statement names, in text order."""
    found = []
    for match in _STATEMENT_RE.finditer(text):
        end = _SENTENCE_END_RE.search(text, match.end())
        sentence = text[match.start() : end.start() if end else len(text)]
        found.append(_LISTED_LETTER_RE.findall(sentence) or [match.group(1)])
    return found


def expected_letter(text: str, official_pred: str | None) -> tuple[str, str | None]:
    """(kind, the letter the extractor must give) for one output; kind is one/several/none."""
    stated = statements(text)
    if not stated:
        return "none", None
    if all(letters == stated[0] for letters in stated) and len(set(stated[0])) == 1:
        return "one", official_pred
    return "several", stated[-1][-1]


@pytest.fixture(scope="module")
def outputs() -> list[dict]:
    if not OUTPUTS.exists():
        pytest.skip(f"MMLU-Pro outputs not found at {OUTPUTS} (the shared folder is not mounted)")
    return [json.loads(line) for line in OUTPUTS.read_text(encoding="utf-8").splitlines()]


def test_the_independent_rule_reads_the_official_letter(outputs):
    """Sanity check of the rule itself: its single statements are the official letters."""
    for row in outputs:
        kind, letter = expected_letter(row["generated_text"], row["official_pred"])
        if kind == "one":
            assert letter is not None and letter == _STATEMENT_RE.search(
                row["generated_text"]
            ).group(1)


def test_extraction_agrees_on_all_outputs(outputs):
    disagreements = []
    for row in outputs:
        kind, expected = expected_letter(row["generated_text"], row["official_pred"])
        got = extract_answer(row["generated_text"], "multiple_choice", n_choices=10)
        if got != expected:
            disagreements.append((row["question_id"], kind, row["official_pred"], expected, got))
    assert disagreements == []


def test_all_three_kinds_occur(outputs):
    """The data exercises every branch of the rule (so the test above can fail on each)."""
    kinds = {expected_letter(row["generated_text"], row["official_pred"])[0] for row in outputs}
    assert kinds == {"one", "several", "none"}
