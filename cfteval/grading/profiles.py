"""Grading profiles: which extractor and which equivalence test make a verdict.

- `cfteval` (default): the project's own extraction and equivalence (extract.py, equivalence.py).
- `qwen`: the reference code's semantics, leniencies included (qwen.py), so that numbers can be
  compared with published ones.

`grade_one` runs in-process with no time limit of its own; the pipeline calls it only through
`sandbox.grade_items`, which bounds every item in wall-clock time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from cfteval.errors import UserError
from cfteval.grading.rules import rules_for
from cfteval.grading.types import GradeItem, GradeResult, ProfileName


class Profile(NamedTuple):
    """An extractor and an equivalence test, with the same signatures as the cfteval ones."""

    extract: Callable[..., str | None]
    equivalent: Callable[..., bool]


def _cfteval_profile() -> Profile:
    from cfteval.grading.equivalence import is_equivalent
    from cfteval.grading.extract import extract_answer

    return Profile(extract_answer, is_equivalent)


def _qwen_profile() -> Profile:
    from cfteval.grading.qwen import qwen_extract_answer, qwen_is_equivalent

    return Profile(qwen_extract_answer, qwen_is_equivalent)


PROFILE_NAMES = tuple(name.value for name in ProfileName)
_LOADERS: dict[str, Callable[[], Profile]] = {
    ProfileName.CFTEVAL: _cfteval_profile,
    ProfileName.QWEN: _qwen_profile,
}


def get_profile(name: str) -> Profile:
    """The profile called `name`; a UserError naming the choices otherwise."""
    if name not in _LOADERS:
        raise UserError(
            f"unknown grading profile {name!r}; choose one of {', '.join(PROFILE_NAMES)}"
        )
    return _LOADERS[name]()


def grade_one(item: GradeItem, profile: str = "cfteval") -> GradeResult:
    """Extract the answer from `item.text` and compare it with `item.gold`."""
    start = time.perf_counter()
    extract, equivalent = get_profile(profile)
    if profile == ProfileName.QWEN:  # the reference's semantics: no rules beyond its own
        extracted = extract(item.text, item.answer_type, n_choices=item.n_choices)
        correct = extracted is not None and bool(
            equivalent(extracted, item.gold, item.answer_type, benchmark=item.benchmark)
        )
        return GradeResult(extracted, correct, False, time.perf_counter() - start)
    rules = item.rules or rules_for(item.benchmark)
    extracted = extract(
        item.text,
        item.answer_type,
        n_choices=item.n_choices or rules.choices,
        finish_reason=item.finish_reason,
        plain_number_answers=rules.plain_number_answers,
    )
    correct = extracted is not None and bool(
        equivalent(extracted, item.gold, item.answer_type, rules=rules)
    )
    return GradeResult(extracted, correct, False, time.perf_counter() - start)
