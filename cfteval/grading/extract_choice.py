"""The option letter a model states as its answer to a multiple-choice question (GPQA, MMLU-Pro).

Rule: collect every *stated* answer and keep the LAST one whose letter is among the first
`n_choices` letters. A stated answer is one of:
- a letter right after an answer phrase: "The answer is (J)", "the correct answer is C",
  "Answer: C", "**Answer:** (B)", "The final answer is $\\boxed{B}$", "The best option is (D)";
- a box holding only a letter: `\\boxed{B}`, `\\boxed{(B)}`, `\\boxed{\\text{B}}`;
- a bold letter on its own: `**C**`, `**(C)**`, `**C.**`;
- failing all of those, a text that is itself just the letter: "B", "(B)", "B.", "C) 42 m/s".
A statement naming several letters at once ("The answer is (D) and (F)", "(B) or (I)",
"(C, D, E, F)") states several answers, and the last one counts, as it does across statements
(the rule the spine issue sets: several stated, the last one). No stated answer gives None: the
reference scripts' random-letter guess is never made.

Why the last: models correct themselves ("The answer is B. Wait ... the answer is (C)"), and
MMLU-Pro's official first-match rule scores the retracted letter. Why only *stated* answers:
letters also occur in reasoning ("option A is wrong", "A farmer has ..."), which are not answers.

An unadorned capital after an answer phrase counts only when it ends there (", . ) * $ }" or a
line end) or is followed by a space — except "A" and "I", which are also an article and a
pronoun ("the answer is I think (B)"), so those need a following connective ("because",
"since", ...) when not in parentheses, a box or bold. A lower-case letter counts only in
parentheses ("the answer is (b)"); the letter returned is always upper-case.
"""

from __future__ import annotations

import re

from cfteval.grading.extract_spans import boxed_contents, strip_wrappers

# Used when the caller does not say how many options there are: MMLU-Pro's ten (A-J).
DEFAULT_N_CHOICES = 10
_WINDOW = 80  # characters after an answer phrase in which the letter must appear

_CHOICE_MARKER_RE = re.compile(
    r"\banswer[ \t*]*(?:is\b|would\s+be\b|should\s+be\b|must\s+be\b|[:：])"
    r"|\b(?:option|choice)[ \t]+is\b",
    re.IGNORECASE,
)
_BOLD_LETTER_RE = re.compile(r"\*\*[ \t]?\(?([A-Z])\)?\.?[ \t]?\*\*")
_BARE_LETTER_RE = re.compile(r"\(?([A-Z])(?:\)|\.|:|$)")
_LEADING_WRAPPERS = (
    "\\boxed{",
    "\\text{",
    "\\textbf{",
    "\\mathrm{",
    "\\mathbf{",
    "\\(",
    "\\[",
    "**",
    "$",
)
_LEADING_WORDS_RE = re.compile(r"(?:option|choice|letter)\b[ \t]*", re.IGNORECASE)
_ENDING_CHARS = frozenset(").,:;!?*}$]\n\r")
# Another letter joined on ("(D) and (F)", "B or C", "(C, D, E, F)"): several stated answers.
# The joined letter is parenthesised, or ends there ("B or C."): "(B) and I think" joins nothing.
_JOINED_LETTER_RE = re.compile(
    r"\)?[ \t]*(?:,|/|&|\band\b|\bor\b)[ \t]*"
    r"(?:\(([A-Z])\)|\(?([A-Z])(?=[,)./;:]|[ \t]+(?:and|or)\b|[ \t]*$))"
)
# A box holding a letter, alone or labelling its option text: `B`, `(B)`, `(B) 36`, `E: A polygenic`.
_BOX_LETTER_RE = re.compile(r"\(?([A-Za-z])\)?|\(([A-Za-z])\)\s+.+|([A-Za-z])[.:)]\s+.+", re.DOTALL)
_CONNECTIVES = frozenset("because since as which with for so and or -".split())


def _letter_after(window: str) -> tuple[str, bool] | None:
    """The letter a stated answer opens with, and whether it was adorned (parens, box, bold).

    `window` starts right after an answer phrase. Decorations are skipped first: spaces, a
    colon, `$`, `**`, `\\boxed{`, `\\text{`, and the words "option"/"choice"/"letter".
    """
    i, adorned = 0, False
    for _ in range(12):  # a bounded number of decorations; real text has two or three
        while i < len(window) and window[i] in " \t\r\n:":
            i += 1
        wrapper = next((w for w in _LEADING_WRAPPERS if window.startswith(w, i)), None)
        if wrapper is not None:
            i += len(wrapper)
            adorned = adorned or wrapper != "$"
            continue
        word = _LEADING_WORDS_RE.match(window, i)
        if word is None:
            break
        i = word.end()
    parenthesised = window.startswith("(", i)
    if parenthesised:
        i += 1
    if i >= len(window) or not window[i].isascii() or not window[i].isalpha():
        return None
    letter, rest = window[i], window[i + 1 :]
    joined = _last_joined_letter(rest)
    if joined is not None:
        return joined, True  # "(D) and (F)", "(C, D, E, F)", "B or C": the last one stated
    if parenthesised:
        return (letter.upper(), True) if rest.startswith(")") else None
    if not letter.isupper():
        return None
    if rest == "" or rest[0] in _ENDING_CHARS:
        return letter, adorned
    if rest[0] not in " \t":
        return None  # part of a word: "Answer: None", "The answer is Ca2+"
    if letter in "AI" and not adorned:
        following = rest.split(None, 1)
        if following and following[0].lower().strip(",.") not in _CONNECTIVES:
            return None
    return letter, adorned


def _last_joined_letter(rest: str) -> str | None:
    """The last letter of a list joined onto a stated letter ("and (F)", ", D, E, F)"), or None."""
    last, position = None, 0
    while (joined := _JOINED_LETTER_RE.match(rest, position)) is not None:
        last, position = joined.group(1) or joined.group(2), joined.end()
    return last


def _box_letter(content: str) -> str | None:
    """The letter a box holds: B, (B), \\text{B}, B), or a letter labelling its option's text."""
    inner = strip_wrappers(content)
    for command in ("\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{"):
        if inner.startswith(command) and inner.endswith("}"):
            inner = inner[len(command) : -1].strip()
    match = _BOX_LETTER_RE.fullmatch(inner)
    if match is None:
        return None
    return next(letter for letter in match.groups() if letter).upper()


def _stated_letters(text: str) -> list[tuple[int, str]]:
    """(position, letter) of every stated answer in `text` (see the module docstring)."""
    stated: list[tuple[int, str]] = []
    for marker in _CHOICE_MARKER_RE.finditer(text):
        found = _letter_after(text[marker.end() : marker.end() + _WINDOW])
        if found is not None:
            stated.append((marker.start(), found[0]))
    for position, content in boxed_contents(text):
        letter = _box_letter(content)
        if letter is not None:
            stated.append((position, letter))
    for bold in _BOLD_LETTER_RE.finditer(text):
        stated.append((bold.start(), bold.group(1)))
    stated.sort(key=lambda item: item[0])
    return stated


def extract_choice(text: str, n_choices: int | None = None) -> str | None:
    """The last stated option letter among the first `n_choices` letters, or None."""
    valid = {chr(ord("A") + i) for i in range(n_choices or DEFAULT_N_CHOICES)}
    stated = [letter for _, letter in _stated_letters(text) if letter in valid]
    if stated:
        return stated[-1]
    bare = text.strip()
    if len(bare) <= 200 and "\n" not in bare:
        match = _BARE_LETTER_RE.match(strip_wrappers(bare))
        if match and match.group(1) in valid:
            return match.group(1)
    return None
