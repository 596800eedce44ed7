"""The option letter a model states as its answer to a multiple-choice question (GPQA, MMLU-Pro).

Rule: collect every *stated* answer and keep the LAST one whose letter is among the first
`n_choices` letters. A stated answer is one of:
- a letter right after an answer phrase: "The answer is (J)", "the correct answer is C",
  "Answer: C", "**Answer:** (B)", "The final answer is $\\boxed{B}$", "The best option is (D)";
- a box holding a letter, alone or labelling its option's text: `\\boxed{B}`, `\\boxed{(B)}`,
  `\\boxed{\\text{B}}`, `\\boxed{(B) 36}` (a bare lower-case `\\boxed{c}` is a variable);
- an option called right: "option D is correct", "Choice (B) is the best answer";
- a bold letter on its own line or called right: `**C**`, `**(C)**.`, "**C** is correct" (not
  the bold labels of an explanation, "* **(A)** Wrong sign", which discuss the options);
- failing all of those, a text that is itself just the letter: "B", "(B)", "B.", "C) 42 m/s".
A statement naming several letters at once ("The answer is (D) and (F)", "(C, D, E, F)",
"(A), (B), and (C)") states several answers, and the last one among the options counts, as it
does across statements (the rule the spine issue sets: several stated, the last one); "(C) and
(E) is wrong" joins nothing, a clause starts after "(E)". But a hedge states no answer: letters
joined by "or" ("A or B", "(B)/(C)"), or a statement naming every option ("A, B, C, D"); when
the last statement hedges, the text states none. A statement about another answer ("The
incorrect answer is (D)") is no statement. Failing any statement, a closing line that is an
option label with its text ("(C) 10^-4 eV") states that option. No stated
answer gives None: the reference scripts' random-letter guess is never made. Text after an
end-of-turn token or a run-on next question ("\\n\\nQuestion: ...") is cut off first
(extract.until_end_of_turn).

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

from cfteval.grading.boxes import boxed_contents
from cfteval.grading.extract_spans import strip_wrappers

# Used when the caller does not say how many options there are: MMLU-Pro's ten (A-J).
DEFAULT_N_CHOICES = 10
_WINDOW = 80  # characters after an answer phrase in which the letter must appear

_CHOICE_MARKER_RE = re.compile(
    r"\banswer[ \t*]*(?:is\b|would\s+be\b|should\s+be\b|must\s+be\b|[:：])"
    r"|\b(?:option|choice)[ \t]+is\b",
    re.IGNORECASE,
)
# A bold letter on its own ("**C**", "**(C)**." closing a line) or called right ("**C** is
# correct"). A bold label followed by other text ("* **(A)** Incorrect because ...", "Note that
# **A** is a trap") is an option being discussed.
_BOLD_LETTER_RE = re.compile(
    r"\*\*[ \t]?\(?([A-Z])\)?\.?[ \t]?\*\*"
    r"(?=[ \t.,;:!?)]*(?:\n|$)|[ \t]+(?:is|are)[ \t]+(?:the[ \t]+)?(?:right|correct|best|answer)\b)"
)
# "option D is correct", "Choice (B) is the best answer": an option called right.
_CALLED_RIGHT_RE = re.compile(
    r"\b(?:option|choice)[ \t]+\(?([A-Z])\)?[ \t]+is[ \t]+(?:the[ \t]+)?(?:correct|right|best)\b",
    re.IGNORECASE,
)
_LEADING_WRAPPERS = (
    "\\boxed{",
    "\\text{",
    "\\textbf{",
    "\\textrm{",
    "\\textit{",
    "\\mathrm{",
    "\\mathbf{",
    "\\mathit{",
    "\\mbox{",
    "\\(",
    "\\[",
    "**",
    "$",
)
_TEXT_WRAPPERS = tuple(w for w in _LEADING_WRAPPERS if w.startswith("\\") and w.endswith("{"))
_LEADING_WORDS_RE = re.compile(r"(?:option|choice|letter)\b[ \t]*", re.IGNORECASE)
_ENDING_CHARS = frozenset(").,:;!?*}$]\n\r。")
_EQUATION_AFTER_RE = re.compile(r"[ \t]*(?:=|\\approx|<|>|\\le|\\ge)")
# Another letter joined on ("(D) and (F)", "B or C", "(C, D, E, F)", "(A), (B), and (C)"):
# several stated answers. The joined letter must end there ("B or C.", "(F)", "(E),"): in
# "(C) and (E) is wrong" or "(H), (G) being the opposite" a new clause starts instead.
_JOINED_LETTER_RE = re.compile(
    r"\)?[ \t]*(?:,[ \t]*(?:and|or)\b|,|/|&|\band\b|\bor\b)"
    r"(?:[ \t]+(?:maybe|perhaps|possibly|else|even))?[ \t]*"
    r"\(?([A-Z])\)?+(?=[ \t]*(?:[,./;:!?)*$}]|\band\b|\bor\b|\n|$))"
)
# A box holding a letter, alone or labelling its option text: `B`, `(B)`, `(b)`, `(B) 36`,
# `E: A polygenic ...`. A bare lower-case letter in a box is a variable (`\boxed{c}`).
_BOX_LETTER_RE = re.compile(
    r"\(([A-Za-z])\)|([A-Z])\)?|\(([A-Za-z])\)\s+.+|([A-Z])[.:)]\s+.+", re.DOTALL
)
_HEDGE_JOIN_RE = re.compile(r"\bor\b|/")
# "The incorrect answer is (D)", "a wrong answer would be B": a statement about another answer.
_NEGATED_BEFORE_RE = re.compile(r"\b(?:incorrect|wrong|false|not\s+the)[ \t*]*$", re.IGNORECASE)
# A last line that is an option label with its text: "(C) 10^-4 eV".
_LABELLED_LINE_RE = re.compile(r"[ \t*]*\(([A-Z])\)[ \t]+\S")
_CONNECTIVES = frozenset("because since as which with for so and or - — –".split())


def _letters_after(window: str) -> list[str] | None:
    """The letters a stated answer names, in order (one, or several joined: "(D) and (F)").

    `window` starts right after an answer phrase (or is a whole short reply). Decorations are
    skipped first: spaces, a colon, `$`, `**`, `\\boxed{`, `\\text{`, and the words
    "option"/"choice"/"letter".
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
    if window.startswith(("N/A", "n/a"), i):
        return None  # "The answer is (N/A)": not an option
    letter, rest = window[i], window[i + 1 :]
    joined, hedged = _joined_letters(rest)
    if hedged:
        return []  # "A or B": a hedge between answers states none
    if joined:
        return [letter.upper(), *joined]  # "(D) and (F)", "(C, D, E, F)"
    if parenthesised:
        # "(C)", or "(C" where the text was cut off right after the letter
        return [letter.upper()] if rest.startswith(")") or not rest.strip() else None
    if not letter.isupper():
        return None
    if rest == "" or rest[0] in _ENDING_CHARS:
        return [letter]
    if rest[0] not in " \t":
        return None  # part of a word: "Answer: None", "The answer is Ca2+"
    if _EQUATION_AFTER_RE.match(rest):
        return None  # a variable, not an option: "The answer is $E = 0.9$ J"
    if letter in "AI" and not adorned:
        following = rest.split(None, 1)
        word = following[0] if following else ""
        # "I think (B)" is a pronoun; "A — 130/80", "I and II", "I Peace of Westphalia" are options
        if word and word.lower().strip(",.") not in _CONNECTIVES and not word[0].isupper():
            return None
    return [letter]


def _joined_letters(rest: str) -> tuple[list[str], bool]:
    """The letters of a list joined onto a stated letter ("and (F)", ", D, E, F)"), in order,
    and whether any is joined by "or" or "/" (a hedge: "B or C", "A/B")."""
    letters, position, hedged = [], 0, False
    while (joined := _JOINED_LETTER_RE.match(rest, position)) is not None:
        letters.append(joined.group(1))
        hedged = hedged or _HEDGE_JOIN_RE.search(joined.group(0)) is not None
        position = joined.end()
    return letters, hedged


def _box_letter(content: str) -> str | None:
    """The letter a box holds: B, (B), \\text{B}, B), or a letter labelling its option's text."""
    inner = strip_wrappers(content)
    for command in _TEXT_WRAPPERS:
        if inner.startswith(command) and inner.endswith("}"):
            inner = inner[len(command) : -1].strip()
    match = _BOX_LETTER_RE.fullmatch(inner)
    if match is None:
        return None
    return next(letter for letter in match.groups() if letter).upper()


def _stated_letters(text: str) -> list[tuple[int, list[str]]]:
    """(position, letters) of every stated answer in `text` (see the module docstring)."""
    stated: list[tuple[int, list[str]]] = []
    for marker in _CHOICE_MARKER_RE.finditer(text):
        if _NEGATED_BEFORE_RE.search(text, max(0, marker.start() - 20), marker.start()):
            continue
        letters = _letters_after(text[marker.end() : marker.end() + _WINDOW])
        if letters is not None:
            stated.append((marker.start(), letters))
    for position, content in boxed_contents(text):
        letter = _box_letter(content)
        if letter is not None:
            stated.append((position, [letter]))
    for bold in _BOLD_LETTER_RE.finditer(text):
        stated.append((bold.start(), [bold.group(1)]))
    for called in _CALLED_RIGHT_RE.finditer(text):
        if called.group(1).isupper():
            stated.append((called.start(), [called.group(1)]))
    stated.sort(key=lambda item: item[0])
    return stated


def extract_choice(text: str, n_choices: int | None = None) -> str | None:
    """The last stated option letter among the first `n_choices` letters, or None."""
    valid = {chr(ord("A") + i) for i in range(n_choices or DEFAULT_N_CHOICES)}
    for _, letters in reversed(_stated_letters(text)):
        if not letters:
            return None  # the last statement hedges: "The answer is A or B"
        return_letter = _single_answer(letters, valid)
        if return_letter is not None:
            return return_letter if return_letter != _HEDGE else None
    bare = text.strip()
    if len(bare) <= 200 and "\n" not in bare:
        letters = _letters_after(strip_wrappers(bare))
        found = _single_answer(letters, valid) if letters else None
        return found if found != _HEDGE else None
    return _labelled_last_line(bare, valid)


_HEDGE = "hedge"


def _single_answer(letters: list[str], valid: set[str]) -> str | None:
    """The last valid letter of a statement; `_HEDGE` when it names every option (a statement
    of all the answers is none); None when it names no valid option."""
    named = [letter for letter in letters if letter in valid]
    if not named:
        return None
    if len(valid) > 1 and valid <= set(named):
        return _HEDGE
    return named[-1]


def _labelled_last_line(text: str, valid: set[str]) -> str | None:
    """The letter of a closing line that is an option with its text ("(C) 10^-4 eV"), unless
    the line before is one too (a list of the options, not a choice)."""
    lines = [line for line in text[-1000:].splitlines() if line.strip()]
    if not lines:
        return None
    last = _LABELLED_LINE_RE.match(lines[-1])
    if last is None or last.group(1) not in valid or len(lines[-1]) > 200:
        return None
    if len(lines) > 1 and _LABELLED_LINE_RE.match(lines[-2]):
        return None
    return last.group(1)
