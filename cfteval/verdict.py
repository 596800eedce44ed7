"""The verdict of a critique: did the critic judge the solution Correct, Incorrect, or say nothing?

The paper's authors lower-cased the critique, dropped markdown bold (`**`) and headings (`##`),
and looked for "conclusion:" (or "critique:") followed by correct/right/true or
incorrect/wrong/false. This parser keeps that rule and makes three things explicit that a
substring test gets wrong:
- "incorrect" contains "correct", so verdict words are matched as whole words;
- "not correct" / "isn't right" are negations, hence Incorrect;
- the *last* conclusion wins (a critique may quote the solution's own "Conclusion:" first).
A conclusion heading without a colon ("## Conclusion" then the verdict on the next line) counts
too: CFT-trained models write both. Anything else is `Verdict.NONE`; the two-stage loop treats it
as Incorrect, and the run reports how often it happened.
"""

from __future__ import annotations

import re
from enum import Enum


class Verdict(str, Enum):
    """What a critique concluded about a solution."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    NONE = "none"  # no parseable conclusion


# "conclusion:" / "critique:" anywhere, or "conclusion" alone at the end of a (heading) line.
_MARKER_RE = re.compile(r"\b(?:conclusion|critique)\s*(?::|\n)")
# How far after the marker the verdict word may be: the rest of its sentence, roughly.
_WINDOW = 160
_WORD_RE = re.compile(
    r"(?P<neg>(?:\bnot|n't|\bnever)\s+)?\b(?P<word>incorrect|correct|right|wrong|true|false)\b"
)
_POSITIVE = {"correct", "right", "true"}


def _normalise(text: str) -> str:
    """Lower-case and drop the markdown the authors dropped (bold, headings), plus `[END]`."""
    text = text.lower().replace("**", "").replace("##", "").replace("#", "")
    text = text.replace("n’t", "n't")
    return re.sub(r"[ \t]+", " ", text)


def _verdict_in(window: str) -> Verdict:
    # The verdict belongs to the conclusion's own paragraph: stop at a blank line.
    window = window.split("\n\n", 1)[0]
    match = _WORD_RE.search(window)
    if match is None:
        return Verdict.NONE
    positive = match.group("word") in _POSITIVE
    if match.group("neg"):
        positive = not positive
    return Verdict.CORRECT if positive else Verdict.INCORRECT


def parse_verdict(critique: str) -> Verdict:
    """The verdict of `critique`: its last conclusion that names one, else `Verdict.NONE`."""
    text = _normalise(critique)
    for marker in reversed(list(_MARKER_RE.finditer(text))):
        window = text[marker.end() : marker.end() + _WINDOW].lstrip()
        verdict = _verdict_in(window)
        if verdict is not Verdict.NONE:
            return verdict
    return Verdict.NONE
