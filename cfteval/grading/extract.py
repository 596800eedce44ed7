"""Final-answer extraction: the substring of a model's text that is its final answer.

Public entry point: `extract_answer(text, answer_type, *, n_choices=None) -> str | None`.
It returns the answer as the model wrote it (trimmed, outer `$` removed); deciding whether it
equals the gold is `equivalence.is_equivalent`'s job. None means "no answer stated", which the
grader scores as wrong — never a guess.

Text after the model's first end-of-turn token (`<|im_end|>`, `<|im_start|>`, `</s>`, ...) is
dropped first: a raw generation that runs into the chat template's next turn has answered already.

Free-form maths ("math": MATH, MATH-500, Minerva, GSM8K, OlympiadBench, AIME, AMC), first rule
that yields something wins:
1. the last closed `\\boxed{…}` / `\\fbox{…}` / `\\boxed 5` (brace-matched; empty boxes skipped),
   joined with the boxes right before it when only list separators stand between them
   (`\\boxed{-2} \\text{and} \\boxed{1}` → "-2, 1"); but a "final answer is" phrase after the last
   box (Minerva's closing line after an intermediate box) wins over the box;
2. the answer after the LAST answer phrase — "the answer is", "the final answer is" (Minerva's
   "Final Answer: The final answer is $5$. I hope it is correct." gives "5"), "Answer:" lines,
   a "**Final Answer**" heading, GSM8K's "#### 1,080". A `$…$` right after the phrase is taken
   whole (with the spans listed after it: "$\\frac12$, $\\frac13$" is one list), otherwise
   the answer runs to the end of the sentence; a span that is prose ("the
   answer is not clear") is skipped in favour of the previous phrase;
3. the whole text, when it is itself a short answer with no prose ("0.5", "(1,2]", "x=3",
   "\\frac{1}{2}", "30 degrees"; precise rule in `extract_spans.bare_answer`);
4. the last bold `**…**` whose content is an answer, not a heading ("**Step 2**" is a heading);
5. the last `$…$` / `\\(…\\)` / `\\[…\\]` span, when only punctuation follows it and it is not prose
   ("The matrix is $\\begin{pmatrix}…\\end{pmatrix}$");
6. documented fallback, GSM8K-style: the last number in the text ("72", "1,080", "2/3"); when
   that number sits inside the last `$…$` span and the span is an inequality or a bracketed
   group, the whole span (`$x > 5$ is the solution` → "x > 5", not "5").

An answer phrase is skipped when it is no statement: a supposition ("Suppose the answer is
10", "if the answer is 4"), a question ("the answer is 12? Wait"), a condition ("the answer
is 10 if repetition is allowed"), a retraction ("12 was wrong") or a description ("should be
a whole number"). A generation cut off inside its last `\\boxed{` states no answer at all.

Deviation from the reference protocol (boxed, else after the last "the answer is", else after
"final answer is", else the last number): in rule 2 all answer phrases compete by position and
the last one wins, as for multiple choice; the protocol's order differs only when a text has
both phrases with a "final answer is" after the last "the answer is", where the later statement
is the model's final word. Rules 3-5 add answers the protocol has no rule for.

TheoremQA's typed answers use rules 1-3 to find the stated answer, then:
- "bool": "True"/"False" when that answer *starts* with True/False/Yes/No as a word
  (so "not true", "is not correct" and "5 nanometers" are not booleans); failing a stated
  answer, a text that opens with one of those words ("No, because ...");
- "integer"/"float": the leading number when the rest is units or words ("5 nanometers" → "5",
  "3.83 \\times 10^{35} erg/s" → "3.83 \\times 10^{35}"); otherwise the answer as written
  ("-\\frac{\\pi}{3}"); failing a stated answer, the last number in the text;
- "option": "(c)" as written when parenthesised, else the letter ("C");
- "list": the leading bracketed group ("[1/3, 1/4]", "(a, b)") or the answer as written.
"multiple_choice" is `extract_choice.extract_choice` (the last stated letter within n_choices).

Every path is linear in the text length (megabyte inputs are tested).
"""

from __future__ import annotations

import logging
import re

from cfteval.grading.boxes import ends_in_open_box, final_boxed
from cfteval.grading.extract_choice import extract_choice
from cfteval.grading.extract_ending import NUMBER_RE as _NUMBER_RE
from cfteval.grading.extract_ending import closing_statement, ends_in_loop, stated_last_number
from cfteval.grading.extract_spans import (
    bare_answer,
    last_math_span,
    marker_spans,
    prose_words,
    reads_as_prose,
    strip_wrappers,
)
from cfteval.grading.latex_parse import has_top_level, is_relation, parse_shape
from cfteval.grading.normalize import normalize_answer

logger = logging.getLogger(__name__)

ANSWER_TYPES = ("math", "multiple_choice", "bool", "integer", "float", "option", "list")

# A leading number with optional scientific notation ("3.83e35", "4.7 \times 10^{-34}") and %.
_LEADING_NUMBER_RE = re.compile(
    r"[-+−]?(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
    r"(?:[ \t]*(?:\\times|\\cdot|×|\*|[xX])[ \t]*10[ \t]*\^[ \t]*(?:\{[ \t]*[-+−]?\d+[ \t]*\}|[-+]?\d+))?"
    r"(?:[ \t]*\\?%)?"
)
# What may follow a number for the number alone to be the answer: units or words.
_UNIT_TAIL_RE = re.compile(
    r"[ \t]*(?:\\(?:text|mathrm|mbox|textnormal|operatorname|,|;|!|\s)|~|[A-Za-zμΩ°Å]{2,})"
    r"|[ \t]+[A-Za-zμΩ°Å]"
    r"|[ \t]+\("  # a remark: "0.0315 (or 3.15%)", "2.5e-3 (approximately)"
)
_BOOL_WORDS = {"true": "True", "yes": "True", "false": "False", "no": "False"}
_BOOL_START_RE = re.compile(r"(?:\\text\{|\\textbf\{|\\mathrm\{)?[ \t]*([A-Za-z]+)(?![A-Za-z])")
# "option (c)", "choice (A)", "\\textbf{(d)}": what may stand before a TheoremQA option letter.
_OPTION_LEAD_RE = re.compile(
    r"^(?:(?:option|choice)\s+|\\(?:textbf|text|mathrm|mathbf)\s*\{\s*)+", re.IGNORECASE
)
_OPTION_RE = re.compile(r"(\(([A-Za-z])\)|([A-Za-z]))(?![A-Za-z])")
_ANOTHER_OPTION_RE = re.compile(r"[ \t,;/]*(?:(?:or|and)[ \t]+)?\(?[A-Ea-e]\)(?![A-Za-z])")
_BOTH_VERDICTS_RE = re.compile(
    r"[ \t,]*(?:/|or\b|and\b|&)?[ \t]*(?:true|false|yes|no)\b", re.IGNORECASE
)
# A boolean answer worded as a property: "The answer is Not stable", "answer: not convergent".
_PROPERTY_ANSWER_RE = re.compile(
    r"\banswer[ \t*]*(?:is\b|:)[ \t:*$]*(?:\\(?:text|textbf|mathrm|boxed)\{)*[ \t]*"
    r"(not[ \t]+|non-?)?([A-Za-z]+)",
    re.IGNORECASE,
)
_PROPERTY_WORDS = frozenset(
    """stable convergent continuous differentiable bounded consistent valid possible linear
    invertible solvable injective surjective bijective connected compact integrable
    analytic periodic monotonic increasing decreasing positive negative independent
    dependent orthogonal symmetric singular diagonalizable feasible optimal unique
    equivalent isomorphic abelian cyclic normal prime even odd finite countable""".split()
)
_NEGATING_PREFIXES = ("un", "in", "non", "dis", "ir", "im")
_LAST_SENTENCE_RE = re.compile(r"[^.!?\n]*[.!?\s]*$")
_VERDICT_RE = re.compile(r"\b(?:is|are)\s+(true|false)\b", re.IGNORECASE)
_BOLD_RE = re.compile(r"\*\*([^*\n]{1,200})\*\*")
# Tokens that end the model's turn; what a raw generation shows after one (the next turn of a
# chat template: "<|im_start|>user ...") is not the model's answer.
_END_OF_TURN_RE = re.compile(
    r"<\|(?:im_end|im_start|endoftext|eot_id|end_of_text|end|eot|user|assistant|system)\|>"
    r"|</s>|<end_of_turn>|<｜end▁of▁sentence｜>|<\|END_OF_TURN_TOKEN\|>|\[INST\]"
    # a run-on next prompt after a blank line: "\n\nQuestion:", "\n\nProblem 2:", "### Instruction:"
    r"|\n[ \t]*\n[ \t#*]*(?:Question|Q|Problem|Human|User|Instruction)(?:[ \t]+\d+)?[ \t*]*:"
)
# A run-on next question without a blank line ("\nQuestion 2:", ". Question: ..."), cut only once
# an answer was stated before it: a model may also restate the question first.
_RUN_ON_QUESTION_RE = re.compile(
    r"(?:\n[ \t#*]*|(?<=[.!?])[ \t]+)(?:(?:Question|Problem|Human|User|Sub-?problem|Exercise"
    r"|Example|(?:New|Next|Another)[ \t]+(?:question|problem))(?:[ \t]+\d+)?[ \t*]*[:.]"
    r"|Q:[ \t]+(?=[A-Z]))",
    re.IGNORECASE,
)
_ANSWER_STATED_RE = re.compile(r"answer|\\boxed|####", re.IGNORECASE)
_EQUALS_RE = re.compile("=")
_VARIABLE_RE = re.compile(r"[A-Za-z]")
_LATEX_COMMAND_RE = re.compile(r"\\text\{[^{}]*\}|\\[A-Za-z]+")
# A math span longer than this is never taken whole by the last-number fallback.
_STRUCTURED_SPAN_MAX_CHARS = 200


def extract_answer(
    text: str,
    answer_type: str,
    *,
    n_choices: int | None = None,
    finish_reason: str | None = None,
    plain_number_answers: bool = True,
) -> str | None:
    """The final answer stated in `text`, as written, or None when none is stated.

    `answer_type` is one of ANSWER_TYPES; `n_choices` bounds multiple-choice letters
    (4 → A-D; None → A-J). The rules for each type are in this module's docstring.
    `finish_reason` "length" (cut at max tokens) and a text that ends in a degenerate loop
    leave only stated answers (rules 1-3): the fallbacks would pick a stray number of
    unfinished work. `plain_number_answers=False` (benchmarks whose answers are expressions)
    restricts rule 6 to a last number that its sentence states (`_stated_last_number`).
    """
    text = until_end_of_turn(text)
    if answer_type == "multiple_choice":
        return extract_choice(text, n_choices)
    if ends_in_open_box(text):
        return None
    unfinished = finish_reason == "length" or ends_in_loop(text)
    if answer_type == "math":
        return _extract_math(text, fallbacks=not unfinished, any_number=plain_number_answers)
    if answer_type == "bool":
        return _extract_bool(text, closing_verdict=not unfinished)
    if answer_type in ("integer", "float"):
        return _extract_number(text, fallback=not unfinished)
    if answer_type == "option":
        return _extract_option(text)
    if answer_type == "list":
        return _extract_list(text)
    raise ValueError(f"unknown answer_type {answer_type!r}; expected one of {ANSWER_TYPES}")


def until_end_of_turn(text: str) -> str:
    """`text` up to the first end-of-turn token that follows some content (`<|im_end|>`, `</s>`),
    and up to a run-on next question that follows a stated answer."""
    content_start = len(text) - len(text.lstrip())
    for token in _END_OF_TURN_RE.finditer(text):
        if token.start() > content_start:
            text = text[: token.start()]
            break
    for question in _RUN_ON_QUESTION_RE.finditer(text):
        if _ANSWER_STATED_RE.search(text, 0, question.start()):
            return text[: question.start()]
    return text


def stated_answer(text: str) -> str | None:
    """Rules 1-3: the boxed answer, else the last answer phrase's answer, else a bare answer.

    One exception to "box first": a *final answer* phrase after the last box ("\\boxed{255} ...
    Final Answer: The final answer is $10,455$.") is the model's closing statement and wins;
    a plain "the answer is" after a box does not (critiques quote other answers in prose).
    """
    boxed = final_boxed(text)
    spans = marker_spans(text)
    if spans and (boxed is None or (spans[-1][2] and spans[-1][0] > boxed[0])):
        return spans[-1][1]
    if boxed is not None and boxed[1]:
        return boxed[1]
    return bare_answer(text)


def last_number(text: str) -> str | None:
    """The last number written in `text` ("1,080", "2/3", "-4.5"), or None."""
    last = None
    for last in _NUMBER_RE.finditer(text):  # noqa: B007 - only the final match is wanted
        pass
    return last.group() if last is not None else None


def _last_bold_answer(text: str) -> str | None:
    """The last `**…**` whose content is an answer: no prose words at all, not a heading."""
    last = None
    for bold in _BOLD_RE.finditer(text):
        content = strip_wrappers(bold.group(1))
        if content and not content.endswith(":") and not prose_words(content):
            last = content
    return last


def _last_math_answer(text: str) -> str | None:
    """The last `$…$`-style span, when it closes the text (only punctuation after it) and is no
    prose. A span inside a later sentence ("side lengths $A$ and $B$, which is ...") is a
    variable the model mentioned, not its answer."""
    found = last_math_span(text)
    if found is None:
        return None
    _, end, content = found
    answer = strip_wrappers(content)
    if not answer or text[end:].strip(" \t\n.!") or reads_as_prose(answer):
        return None
    return answer


def _last_number_answer(text: str) -> str | None:
    """The last number, unless it sits inside the last math span and that span is a value, an
    inequality or a bracketed group: then the whole span (`$\\dfrac{5}{12}$` → "\\dfrac{5}{12}",
    `$x > 5$` → "x > 5", `$(7, 6)$` → "(7, 6)"), so that a denominator, one end of an inequality
    or one coordinate of a point is never taken for the answer. A span that is an equation
    (`$x = 5$`) gives its number."""
    number = _last_number_match(text)
    if number is None or _number_in_expression(text, number):
        return None
    found = last_math_span(text)
    if found is not None:
        start, end, content = found
        answer = strip_wrappers(content)
        if start <= number.start() < end and len(answer) <= _STRUCTURED_SPAN_MAX_CHARS:
            normalized = normalize_answer(answer)
            if (
                is_relation(normalized)
                or parse_shape(normalized).kind in ("seq", "set", "matrix")
                or not has_top_level(normalized, _EQUALS_RE)
            ):
                return answer
    return number.group()


def _extract_math(text: str, *, fallbacks: bool = True, any_number: bool = True) -> str | None:
    answer = stated_answer(text)
    if answer is not None or not fallbacks:
        return answer

    def _stated_last_number(text: str) -> str | None:
        return stated_last_number(text, _last_number_match, _last_number_answer)

    last_number_rule = _last_number_answer if any_number else _stated_last_number
    for rule in (closing_statement, _last_bold_answer, _last_math_answer, last_number_rule):
        answer = rule(text)
        if answer is not None:
            logger.debug("math answer from fallback %s", rule.__name__)
            return answer
    return None


def _bool_word(answer: str) -> str | None:
    """True/False from an answer's first word; "True or False: ..." and "yes or no" are none."""
    text = answer.strip().lstrip("*(").strip()
    match = _BOOL_START_RE.match(text)
    if match is None or _BOTH_VERDICTS_RE.match(text, match.end()):
        return None
    return _BOOL_WORDS.get(match.group(1).lower())


def _property_verdict(text: str) -> str | None:
    """True/False from the last answer worded as a property: "not stable", "non-convergent"
    and "unstable" are False, "stable" is True; other words are none."""
    found = None
    for found in _PROPERTY_ANSWER_RE.finditer(text[-3000:]):  # noqa: B007 - the last one counts
        pass
    if found is None:
        return None
    negated, word = found.group(1) is not None, found.group(2).lower()
    if word in _PROPERTY_WORDS:
        return "False" if negated else "True"
    for prefix in _NEGATING_PREFIXES:
        if word.startswith(prefix) and word[len(prefix) :].lstrip("-") in _PROPERTY_WORDS:
            return "True" if negated else "False"
    return None


def _extract_bool(text: str, *, closing_verdict: bool = True) -> str | None:
    answer = stated_answer(text)
    if answer is not None:
        return _bool_word(answer) or _property_verdict(text)
    verdict = _property_verdict(text)
    if verdict is not None:
        return verdict
    # A reply that opens with its verdict: "No, because the group is not abelian."
    opening = _bool_word(text[:100])
    if opening is not None or not closing_verdict:
        return opening
    # A closing verdict: "... so the statement is false." (not "is not true").
    last_sentence = _LAST_SENTENCE_RE.search(text[-300:])
    verdict = _VERDICT_RE.search(last_sentence.group()) if last_sentence else None
    return _BOOL_WORDS[verdict.group(1).lower()] if verdict else None


def _leading_number(answer: str) -> str | None:
    """The number an answer opens with, when what follows is only units or words."""
    number = _LEADING_NUMBER_RE.match(answer)
    if number is None:
        return None
    rest = answer[number.end() :]
    if not rest.strip() or _UNIT_TAIL_RE.match(rest):
        return number.group().strip()
    return None


def _number_in_expression(text: str, number: re.Match[str]) -> bool:
    """Whether `number` sits in the last math span on the value side of an expression with
    variables: the "1" of `$dt = \\sqrt{t^2 - 1}$` is part of a formula, not a result."""
    found = last_math_span(text)
    if found is None or not found[0] <= number.start() < found[1] or "=" not in found[2]:
        return False
    value_side = found[2].rsplit("=", 1)[-1]
    return _VARIABLE_RE.search(_LATEX_COMMAND_RE.sub("", value_side)) is not None


def _last_number_match(text: str) -> re.Match[str] | None:
    number = None
    for number in _NUMBER_RE.finditer(text):  # noqa: B007 - only the final match is wanted
        pass
    return number


def _extract_number(text: str, *, fallback: bool = True) -> str | None:
    answer = stated_answer(text)
    if answer is None:
        if not fallback:
            return None
        number = _last_number_match(text)
        if number is None or _number_in_expression(text, number):
            return None
        return number.group()
    return _leading_number(answer) or answer


def _extract_option(text: str) -> str | None:
    answer = stated_answer(text)
    if answer is None:
        return None
    stripped = _OPTION_LEAD_RE.sub("", answer.lstrip("*").strip())
    match = _OPTION_RE.match(stripped)
    if match is None or _ANOTHER_OPTION_RE.match(stripped, match.end()):
        return None  # "(a) (b) (c) (d)", "(a) or (b)": a hedge states no option
    return match.group(1) if match.group(2) else match.group(3).upper()


def _extract_list(text: str) -> str | None:
    answer = stated_answer(text)
    if answer is None or answer[:1] not in "[(":
        return answer
    depth = 0
    for index, char in enumerate(answer):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0:  # the leading group ends here; anything after it is commentary
                return answer[: index + 1]
    return answer
