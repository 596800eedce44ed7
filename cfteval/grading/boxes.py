"""The model's `\\boxed{...}`/`\\fbox{...}` answers: where each box is and what it holds.

Split from extract_spans.py (which finds answer phrases and maths spans) because boxes are their
own job: brace pairing, braceless `\\boxed 5`, boxes left open by a truncated generation, and
boxes joined into one answer list. `rows.py` also reads golds' boxes here, so golds and model
text share one brace matcher.

Inputs can be megabytes of degenerate generations, so this stays linear in the length of the
text: brace matching is one stack pass, and at most `_MAX_JOINED_BOXES` boxes are joined.
"""

from __future__ import annotations

import re

from cfteval.grading.extract_spans import strip_wrappers

_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_UNESCAPED_BRACE_RE = re.compile(r"(?<!\\)[{}]")
_SPACES_RE = re.compile(r"[ \t]*")
# What may stand between boxes that together state one answer list.
_BOX_GAP_MAX_CHARS = 60
_MAX_JOINED_BOXES = 64  # as many items as an answer list may have (compare_shapes.MAX_LIST_ITEMS)
_LIST_SEPARATOR_RE = re.compile(r"[,;&]|\\q?quad|\band\b|\bor\b")
_BOX_SEPARATOR_RE = re.compile(
    r"(?:[ \t\n$,;&]|[A-Za-z][ \t]*=|\\(?:quad|qquad|[,;: ]|\\|\(|\)|\[|\])"
    r"|\\text\{[ \t]*(?:and|or|,)?[ \t]*\}|\band\b|\bor\b)*"
)
# `\boxed 5`: LaTeX takes the next token as the argument when there are no braces.
_BRACELESS_ARG_RE = re.compile(r"[^\s${}\\]+")


def _brace_pairs(text: str, start: int) -> dict[int, int]:
    """Index of each unescaped `{` from `start` on → index of its matching `}` (one stack pass)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for match in _UNESCAPED_BRACE_RE.finditer(text, start):
        if match.group() == "{":
            stack.append(match.start())
        elif stack:
            pairs[stack.pop()] = match.start()
    return pairs


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every closed, non-empty `\\boxed{}`/`\\fbox{}`, in text order.

    Braces are matched, so nested braces (`\\boxed{\\frac{1}{2}}`) are kept whole; `\\boxed 5`
    (no braces) takes the next token. A box left unclosed by a truncated generation is skipped.
    """
    starts = [match for match in _BOX_RE.finditer(text)]
    if not starts:
        return []
    pairs: dict[int, int] | None = None
    found: list[tuple[int, int, str]] = []
    for box in starts:
        after = _SPACES_RE.match(text, box.end()).end()
        content, end = "", after
        if after < len(text) and text[after] == "{":
            if pairs is None:
                pairs = _brace_pairs(text, starts[0].start())
            close = pairs.get(after)
            if close is not None:
                content, end = text[after + 1 : close].strip(), close + 1
        elif after > box.end():
            arg = _BRACELESS_ARG_RE.match(text, after)
            if arg:
                content, end = arg.group(), arg.end()
        if content:
            found.append((box.start(), end, content))
    return found


def boxed_contents(text: str) -> list[tuple[int, str]]:
    """(position, content) of every closed, non-empty box, in text order (see `_boxes`)."""
    return [(start, content) for start, _, content in _boxes(text)]


def ends_in_open_box(text: str) -> bool:
    """Whether the last `\\boxed{` is never closed: a generation cut off while writing its
    final answer, which therefore states none (an earlier box was not its last word)."""
    last = None
    for last in _BOX_RE.finditer(text):  # noqa: B007 - only the final match is wanted
        pass
    if last is None:
        return False
    after = _SPACES_RE.match(text, last.end()).end()
    if after >= len(text) or text[after] != "{":
        return after >= len(text)  # "\\boxed" at the very end: cut off too
    return after not in _brace_pairs(text, after)


def last_boxed(text: str) -> str | None:
    """Content of the last closed, non-empty box, or None (see `_boxes`)."""
    boxes = _boxes(text)
    return boxes[-1][2] if boxes else None


def final_boxed(text: str) -> tuple[int, str] | None:
    """(position, answer) of the model's boxed answer: the last box, joined with the boxes just
    before it when only separators stand between them.

    `\\boxed{-2} \\quad\\text{and}\\quad \\boxed{1}` and `\\boxed{1},\\boxed{2},\\boxed{3}` state one
    answer list ("-2, 1"; "1, 2, 3"): a solution set boxed item by item. The gap must hold a
    list separator (a comma, "and", `\\quad`): `$$\\boxed{20}$$ \\boxed{143}` is a correction, not
    a list. A box repeated as-is ("\\boxed{5}, \\boxed{5}") counts once. Boxes apart from each
    other (an intermediate `\\boxed{200}` earlier in the reasoning) are not joined.
    """
    boxes = _boxes(text)
    if not boxes:
        return None
    group = [boxes[-1]]  # built backwards from the last box
    for previous in reversed(boxes[-_MAX_JOINED_BOXES:-1]):
        gap = text[previous[1] : group[-1][0]]
        if (
            len(gap) > _BOX_GAP_MAX_CHARS
            or "\n\n" in gap
            or not _BOX_SEPARATOR_RE.fullmatch(gap)
            or not _LIST_SEPARATOR_RE.search(gap)
        ):
            break
        group.append(previous)
    group.reverse()
    contents: list[str] = []
    for _, _, content in group:
        answer = strip_wrappers(content)
        if answer and answer not in contents:
            contents.append(answer)
    return group[0][0], ", ".join(contents)
