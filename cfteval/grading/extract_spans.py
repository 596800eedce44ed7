"""Where in a model's text the final answer is stated: answer phrases, math spans, bare answers.

Helpers for `extract.py` (free-form and TheoremQA answers) and `extract_choice.py` (letters);
`\\boxed{}` answers are found by `boxes.py`. Everything here returns substrings of the input as
the model wrote them; nothing normalises maths (that is `equivalence.py`'s job).

Inputs can be megabytes of degenerate, repetitive generations, so every function is linear in the
length of the text: regexes have no nested or adjacent unbounded quantifiers, and work after an
answer marker looks only at a bounded window.
"""

from __future__ import annotations

import re

# How far after an answer marker ("the answer is") the answer itself may run.
SPAN_WINDOW = 2000
# Only the last this-many answer markers are examined: enough for any real text, and it bounds
# the work on adversarial input that repeats "the answer is" a million times.
MAX_MARKERS = 32
# A text longer than this is never taken whole as a bare answer.
BARE_MAX_CHARS = 300
_MAX_WRAPPER_LAYERS = 8


# Answer markers for free-form answers. "answer is" covers "the answer is", "the final answer
# is" (Minerva), "the correct answer is"; "answer:" covers `Answer:` lines and `**Answer:**`;
# "#### " is GSM8K's own answer line; a bare "Final Answer" heading is followed by the answer on
# the next line.
_ANSWER_MARKER_RE = re.compile(
    r"\banswer[ \t*]*(?:is\b|would\s+be\b|should\s+be\b|[:：])"
    r"|\b(?:correct|right|best)\s+(?:option|choice)\s+is\b"
    r"|####"
    r"|\bfinal\s+answer[ \t*#]*(?=\n)",
    re.IGNORECASE,
)
_MARKER_LEAD_CHARS = " \t\r\n:*"
# Another math span listed after the first: ", $…$", " and $…$", ", and \\(…\\)".
_LISTED_SPAN_RE = re.compile(
    r"[ \t]*(?:,[ \t]*(?:(?:and|or)[ \t]+)?|(?:and|or)[ \t]+)(?=\$|\\\(|\\\[)"
)
# What may follow a listed span for it to belong to the answer ("$5$, and $-5$ is rejected" no).
_LIST_CONTINUES_RE = re.compile(r"[ \t]*(?:[.;!]|,|\n|$|(?:and|or)\b)")
MAX_LISTED_SPANS = 16
_FINAL_BEFORE_RE = re.compile(r"\bfinal[ \t*]*$", re.IGNORECASE)
# An answer phrase that is not a statement: a supposition, someone else's claim, a rejection.
_HYPOTHETICAL_BEFORE_RE = re.compile(
    r"\b(?:(?:suppose|supposing|assume|assuming|thought|claim|claims"
    r"|claimed)\b[^.!?\n,;:]{0,24}|if[ \t]+(?:the[ \t]+)?(?:final[ \t]+)?)$",
    re.IGNORECASE,
)
# "The incorrect answer is", "a wrong answer is": about another answer, not this one's.
_NEGATED_BEFORE_RE = re.compile(r"\b(?:incorrect|wrong|false|not\s+the)[ \t*]*$", re.IGNORECASE)
# A span that questions itself ("12?", "10, right?") or holds only under a condition.
_CONDITIONAL_TAIL_RE = re.compile(
    r"^[^.!?\n]*?\s(?:if|when|unless|only|provided|assuming|depending)\b", re.IGNORECASE
)

# The end of an undelimited answer after a marker: a line break, or sentence punctuation
# followed by whitespace or the end (so the decimal point in "3.5" is not an end).
_SPAN_END_RE = re.compile(r"\n|[.;!?](?=\s|$)")
# Where to cut a span that reads as prose: before ", so ...", " because ...", etc.
_PROSE_TAIL_RE = re.compile(
    r",\s*(?=[A-Za-z]{2,})|\s+\(?(?=(?:because|since|as|which|where|so|for|but|when|if)\b)"
)

# "approximately 0.693", "\\approx 2.2": the hedge is not part of the answer.
_HEDGE_RE = re.compile(
    r"^(?:(?:approximately|approx\.?|about|around|roughly|nearly|almost|probably|likely"
    r"|definitely|clearly|certainly|indeed|exactly|precisely|simply|just|obviously|surely)\s+"
    r"|(?:\\approx|≈|\\sim)\s*)",
    re.IGNORECASE,
)
_ORDINAL_ARTICLE_RE = re.compile(r"^the[ \t]+(?=\d+(?:st|nd|rd|th)\b)", re.IGNORECASE)
_RETRACTED_RE = re.compile(r"\b(?:was|is)\s+(?:wrong|incorrect|a mistake)\b", re.IGNORECASE)
_MORE_MATH_IN_SENTENCE_RE = re.compile(r"[$)\]]*[ \t]+[A-Za-z]+,?[ \t]+and[ \t]+\$")
_ARTICLE_START_RE = re.compile(r"(?:a|an)\s+[A-Za-z]{2,}", re.IGNORECASE)
_MATH_DELIM_RE = re.compile(r"\\\$|\$\$|\$|\\\(|\\\)|\\\[|\\\]")
_MATH_CLOSER = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}

# Words that mark running prose rather than an answer. "and"/"or" are deliberately absent:
# "19, 46, and 82" and "2 or 3" are answers.
_PROSE_WORDS = frozenset(
    """the is are was were be been so then therefore thus hence we it its this that these
    those answer because since not of to for with from get find have has our us you
    your can will would should must let which where when there here what how why solution
    problem step final given he she they them his her their makes made gives gave wrong
    incorrect correct above below shown highlighted boxed stated obtained found calculated
    computed derived as same""".split()
)
# Function names a bare maths answer may contain without being prose.
_MATH_WORDS = frozenset(
    "sin cos tan sec csc cot exp log ln lg pi inf infty sqrt arcsin arccos arctan sinh cosh tanh".split()
)
_TEXT_COMMAND_RE = re.compile(
    r"\\(?:text|textnormal|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname)"
    r"\s?\{[^{}]*\}"
)
_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_WORD_THEN_NUMBER_RE = re.compile(r"(?<![\\A-Za-z])([A-Za-z]{2,})[ \t]+[-+]?\d")
_SENTENCE_BREAK_RE = re.compile(r"[.!?]\s+[A-Z]")


def strip_wrappers(answer: str) -> str:
    """Trim an answer: whitespace, outer `$…$`/`$$…$$`/`\\(…\\)`/`\\[…\\]`, outer `**`, and
    trailing sentence punctuation, repeated until nothing changes (at most 8 layers).

    A lone leading `$` with no partner is a currency sign ("$18.00") and is dropped.
    """
    # Real answers carry two or three layers; the bound keeps a megabyte of "**" linear.
    for _ in range(_MAX_WRAPPER_LAYERS):
        previous = answer
        answer = answer.strip()
        if answer.endswith(("\\,", "\\;", "\\:", "\\!")):
            answer = answer[:-2]
        else:
            answer = answer.rstrip(",;:")
            if not answer.endswith("..."):  # an ellipsis ("1, 2, 3, ...") is part of the answer
                answer = answer.rstrip(".,;:")
            if answer.endswith("\\"):  # the backslash of a "\," whose comma went too
                answer = answer[:-1]
        for opener, closer in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
            inner = answer[len(opener) : -len(closer)]
            if (
                len(answer) >= len(opener) + len(closer)
                and answer.startswith(opener)
                and answer.endswith(closer)
                and "$" not in inner.replace("\\$", "")
            ):
                answer = inner
                break
        if answer.startswith("**") and answer.endswith("**") and len(answer) >= 4:
            answer = answer[2:-2]
        elif answer.endswith("**") and "**" not in answer[:-2]:
            answer = answer[:-2]
        elif answer.startswith("**") and "**" not in answer[2:]:
            answer = answer[2:]
        if answer.startswith("$") and "$" not in answer[1:]:
            answer = answer[1:]
        if len(answer) >= 2 and answer.startswith("`") and answer.endswith("`"):
            answer = answer.strip("`")  # `13` in Markdown code
        answer = _HEDGE_RE.sub("", answer)
        if answer == previous:
            break
    return answer


def prose_words(answer: str) -> list[str]:
    """The plain-English words in `answer`, outside LaTeX commands and `\\text{}` arguments."""
    without_text = _TEXT_COMMAND_RE.sub(" ", answer)
    return [w for w in _WORD_RE.findall(without_text) if w.lower() not in _MATH_WORDS]


def reads_as_prose(answer: str) -> bool:
    """True when `answer` is a sentence rather than an answer.

    The rule: prose if it contains one of a fixed list of sentence words ("the", "is", "so",
    "therefore", "not", ...), more than three plain words, or a full stop followed by a new
    capitalised sentence. Words inside `\\text{}`/`\\mathrm{}` and LaTeX command names do not
    count, nor do maths function names (exp, sin, pi). So "30 degrees", "19, 46, and 82",
    "\\text{Evelyn}" and "-1 + exp(16)" are answers; "The total is 72" is prose.
    """
    words = prose_words(answer)
    if len(words) > 3 or any(w.lower() in _PROSE_WORDS for w in words):
        return True
    return _SENTENCE_BREAK_RE.search(answer) is not None


def bare_answer(text: str) -> str | None:
    """The whole text, unwrapped, when it is itself a short answer with no prose; else None.

    The rule (applied only after no box and no answer marker was found): after stripping outer
    whitespace, `$`-delimiters, `**` and trailing punctuation, the text is non-empty, at most
    BARE_MAX_CHARS characters, on one line, and does not read as prose (`reads_as_prose`).
    Examples: "0.5", "14.0 + -1.0i", "\\frac{1}{2}", "(1,2]", "x=3", "$\\frac{1}{3}$", "30 degrees".
    """
    if len(text) > 4 * BARE_MAX_CHARS:  # cheap reject before stripping a huge text
        return None
    answer = strip_wrappers(text)
    if not answer or len(answer) > BARE_MAX_CHARS or "\n" in answer:
        return None
    lead = _WORD_THEN_NUMBER_RE.search(answer)
    if lead is not None and lead.group(1).lower() not in _MATH_WORDS:
        return None  # "qq 0", "page 12": a word before a number is text, not a product
    return None if reads_as_prose(answer) else answer


def _delimited_math_at(window: str) -> str | None:
    """If `window` opens with a math delimiter closed in the same paragraph, its content; math
    spans listed right after it ("$\\frac12$, $\\frac13$", "$2$ and $5$") join it as one list."""
    contents: list[str] = []
    position = 0
    for _ in range(MAX_LISTED_SPANS):
        found = _one_delimited_span(window, position)
        if found is None:
            break
        content, end = found
        if contents and not _LIST_CONTINUES_RE.match(window, end):
            break  # the span starts a new clause: "$-5$ is rejected"
        contents.append(content)
        listed = _LISTED_SPAN_RE.match(window, end)
        if listed is None:
            break
        position = listed.end()
    return ", ".join(contents) if contents else None


def _one_delimited_span(window: str, position: int) -> tuple[str, int] | None:
    """(content, end) of the math span opening at `position`, closed in the same paragraph."""
    for opener, closer in (("$$", "$$"), ("\\(", "\\)"), ("\\[", "\\]"), ("$", "$")):
        if window.startswith(opener, position):
            start = position + len(opener)
            close = window.find(closer, start)
            paragraph_end = window.find("\n\n", start)
            if close == -1 or (paragraph_end != -1 and paragraph_end < close):
                return None
            return window[start:close], close + len(closer)
    return None


def _trim_prose_tail(answer: str) -> str | None:
    """Cut a prose continuation ("5, which is odd") off an answer; None if still prose."""
    if not reads_as_prose(answer):
        return answer
    # First a cut at a clause boundary ("30 degrees, so ..."), then before the first plain
    # word ("[2, [3, 4]] in that order").
    cuts = [_PROSE_TAIL_RE.search(answer)]
    cuts.append(
        next((w for w in _WORD_RE.finditer(answer) if w.group().lower() not in _MATH_WORDS), None)
    )
    for cut in cuts:
        if cut is None:
            continue
        head = strip_wrappers(answer[: cut.start()])
        if head and not reads_as_prose(head):
            return head
    return None


def span_after_marker(text: str, position: int) -> str | None:
    """The answer written right after an answer marker ending at `position`, or None.

    A `$…$`, `$$…$$`, `\\(…\\)` or `\\[…\\]` opening right after the marker is taken whole;
    otherwise the answer runs to the end of the line or sentence. A span that reads as prose is
    cut before its prose tail ("5, which is ...") or, failing that, rejected ("the answer is
    not among the choices"), so that the caller can look at an earlier marker.
    """
    window = text[position : position + SPAN_WINDOW]
    start = 0
    while start < len(window) and window[start] in _MARKER_LEAD_CHARS:
        start += 1
    window = _HEDGE_RE.sub("", window[start:], count=1)
    window = _ORDINAL_ARTICLE_RE.sub("", window, count=1)  # "the 3rd day" is "3rd day"
    delimited = _delimited_math_at(window)
    if delimited is not None and not reads_as_prose(delimited):
        after = window[window.find(delimited) + len(delimited) :]
        if _MORE_MATH_IN_SENTENCE_RE.match(after):
            return None  # "$3$ hours and $20$ minutes": the span is part of a longer answer
        if (
            _CONDITIONAL_TAIL_RE.match(after.split("\n", 1)[0][:80])
            or after.lstrip("$)] ")[:1] == "?"
        ):
            return None
        answer = strip_wrappers(delimited)
        return answer or None
    end = _SPAN_END_RE.search(window)
    if end is not None and window[end.start()] == "?":
        return None  # "So the answer is 12? Wait, ..."
    sentence = window[: end.start()] if end else window
    if _CONDITIONAL_TAIL_RE.match(sentence) or _RETRACTED_RE.search(sentence):
        return None  # "The answer is 10 if repetition is allowed.", "12 was wrong"
    answer = strip_wrappers(sentence)
    if not answer or _ARTICLE_START_RE.match(answer):
        return None  # "The answer should be a whole number"
    return _trim_prose_tail(answer)


def marker_spans(text: str) -> list[tuple[int, str, bool]]:
    """(position, answer, is_final) after each of the last MAX_MARKERS answer markers, in text
    order; `is_final` when the phrase says "final answer" (Minerva's closing line)."""
    markers = list(_ANSWER_MARKER_RE.finditer(text))[-MAX_MARKERS:]
    spans = []
    for marker in markers:
        if _HYPOTHETICAL_BEFORE_RE.search(text, max(0, marker.start() - 40), marker.start()):
            continue  # "Suppose the answer is 10", "Many students think the answer is 10"
        if _NEGATED_BEFORE_RE.search(text, max(0, marker.start() - 20), marker.start()):
            continue  # "The incorrect answer is 5": a statement about another answer
        answer = span_after_marker(text, marker.end())
        if answer is not None:
            before = text[max(0, marker.start() - 12) : marker.start()]
            is_final = _FINAL_BEFORE_RE.search(before) is not None or marker.group().startswith(
                ("final", "Final", "FINAL")
            )
            spans.append((marker.start(), answer, is_final))
    return spans


def last_math_span(text: str) -> tuple[int, int, str] | None:
    """(content start, end position, content) of the last closed `$…$`/`$$…$$`/`\\(…\\)`/`\\[…\\]` span.

    One left-to-right pass pairing delimiters; a `$` left open across a blank line was a
    currency sign and is dropped. Escaped `\\$` is never a delimiter.
    """
    last: tuple[int, int, str] | None = None
    open_token: str | None = None
    open_end = 0
    previous_end = 0  # only the gap since the previous token is searched: linear overall
    for token in _MATH_DELIM_RE.finditer(text):
        kind = token.group()
        gap_has_blank_line = "\n\n" in text[previous_end : token.start()]
        previous_end = token.end()
        if open_token is not None and gap_has_blank_line:
            open_token = None  # the opener was a stray dollar sign
        if kind == "\\$":
            continue
        if open_token is None:
            if kind in _MATH_CLOSER:
                open_token, open_end = kind, token.end()
        elif kind == _MATH_CLOSER[open_token]:
            last = (open_end, token.end(), text[open_end : token.start()])
            open_token = None
    return last
