"""Where a generation ends: a degenerate loop, a closing sentence that states its value, and the
last-number fallback restricted to a number its sentence states.

Helpers for `extract.py`. Why they matter: a generation cut at max tokens or looping has no
final answer even though it is full of numbers, and a model that never boxes still ends with a
sentence that states its answer ("Therefore 17 is the correct sum of 8 and 9") — whose last
number (9) is not the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cfteval.grading.extract_spans import strip_wrappers

# A number as written: thousands separators, decimals, a fraction a/b. Not preceded by a
# word character, a point or a slash, so the "2" of "x2" or "q_2" and a lone denominator are skipped.
NUMBER_RE = re.compile(
    r"(?<![\w./])-?√?(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:\.\d+)?(?:√\d+)?"
    r"(?:/\d+(?![\d]|\.\d))?(?:[ \t]?\\?%)?"
)
# A degenerate loop: the text's tail repeats one unit this many times over this many characters.
LOOP_MIN_REPEATS = 4
LOOP_MIN_CHARS = 160
_LOOP_TAIL_CHARS = 4000
_LOOP_PROBE_CHARS = 40
# A closing sentence that states a value (see `closing_statement`).
_CLOSING_WINDOW = 600
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])[ \t]+(?=[A-Z$\\\d-])|\n+")
_VALUE = rf"(\$[^$\n]{{1,200}}\$|{NUMBER_RE.pattern})"
_NEGATION_RE = re.compile(r"\b(?:incorrect|wrong|not|never|isn't|cannot)\b", re.IGNORECASE)
_CONCLUDING = r"(?:therefore|thus|hence|so|finally|overall|in[ \t]+total|altogether),?[ \t]+"
_CLOSING_RE = re.compile(
    rf"(?:^(?:{_CONCLUDING})?|\b{_CONCLUDING}|,[ \t]+)"
    r"(?:the[ \t]+[^=.!?\n]{1,80}?[ \t]+(?:is|are|equals|was|comes[ \t]+to)[ \t]+"
    rf"(?:equal[ \t]+to[ \t]+)?{_VALUE}(?![\d/^_])(?=[ \t]*(?:[.!?,;:)]|[A-Za-z\\]|$))"
    rf"|{_VALUE}[ \t]+(?:is|are)[ \t]+(?:the[ \t]+)?(?:correct|final|required|desired|right)\b)",
    re.IGNORECASE,
)
# `_stated_last_number`: where a sentence starts, what states a value, what may follow it.
_SENTENCE_START_RE = re.compile(r"(?<!i\.e)(?<!e\.g)[.!?](?=[ \t]+\S)|\n")
_STATING_CUE_RE = re.compile(
    r"\b(?:so|thus|therefore|hence|is|are|was|were|equals?|gets?|got|gives?|total|result|answer"
    r"|makes?|becomes?|comes|yields?|obtain)\b|[=:]|\bi\.e\.",
    re.IGNORECASE,
)
_UNITS_TO_END_RE = re.compile(r"(?:[ \t]*\$?[ \t]*[A-Za-z%°]+\.?){0,3}[ \t]*[.!)]*[ \t]*$")


def ends_in_loop(text: str) -> bool:
    """Whether `text` ends in a degenerate loop: its last stretch (at least LOOP_MIN_CHARS and
    LOOP_MIN_REPEATS periods) repeats one unit, as a model that lost its way does until cut at max
    tokens. Period by period, one slice comparison each: quadratic only in the bounded tail."""
    tail = text.rstrip()[-_LOOP_TAIL_CHARS:]
    # A loop repeats its last stretch: when the last 40 characters occur only once, there is
    # none (one fast count instead of a period-by-period scan for almost every text).
    if len(tail) < LOOP_MIN_CHARS or tail.count(tail[-_LOOP_PROBE_CHARS:]) < 2:
        return False
    for period in range(1, len(tail) // LOOP_MIN_REPEATS + 1):
        span = max(LOOP_MIN_REPEATS * period, LOOP_MIN_CHARS)
        if span > len(tail):
            break
        if tail[-span:-period] == tail[-span + period :]:
            return True
    return False


def closing_statement(text: str) -> str | None:
    """The value a closing sentence states: "Therefore, the probability ... is 2/3.", "The speed
    is 60 km/h, which ...", "Therefore 17 is the correct sum of 8 and 9." (the value, not the
    last number). Only the text's last sentence counts."""
    tail = text.rstrip()[-_CLOSING_WINDOW:]
    sentences = [part for part in _SENTENCE_SPLIT_RE.split(tail) if part.strip()]
    if not sentences:
        return None
    match = _CLOSING_RE.search(sentences[-1].strip())
    if match is None or _NEGATION_RE.search(match.group()):
        return None  # "The incorrect answer is 5", "the sum is not 12"
    value = match.group(1) or match.group(2)
    return strip_wrappers(value) or None


def stated_last_number(
    text: str,
    last_number_match: Callable[[str], re.Match[str] | None],
    last_number_answer: Callable[[str], str | None],
) -> str | None:
    """The last-number fallback for answers that are not plain numbers: the last number counts
    only when its sentence states it — a stating word before it ("so", "is", "=", "get",
    "total", ...) and at most a few words (units) after it. So "Multiply 3 by 4 to get 12."
    gives 12, but junk ("zz qq 47") and musings ("whether to count 47 or not") give nothing."""
    number = last_number_match(text)
    if number is None:
        return None
    start = max(0, number.start() - _CLOSING_WINDOW)
    boundary = None
    for boundary in _SENTENCE_START_RE.finditer(text, start, number.start()):  # noqa: B007
        pass
    before = text[boundary.end() if boundary else start : number.start()]
    after = text[number.end() : number.end() + _CLOSING_WINDOW]
    if not _STATING_CUE_RE.search(before) or not _UNITS_TO_END_RE.match(after):
        return None
    return last_number_answer(text)
