"""Answers with a form of their own: clock times, numbers in a base, option letters.

Split from equivalence.py, which recognises these forms (`CLOCK`, `BASE_NUMBER`, a letter in
parentheses) before any numeric or symbolic comparison and hands them to the functions here.
"""

from __future__ import annotations

import re

TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?: ([ap])m)?$")  # a clock time or a bare hour
CLOCK = re.compile(r"^\d{1,2}(?::\d{2}(?: [ap]m)?| [ap]m)$")  # certainly a clock time
BASE_NUMBER = re.compile(r"^(-?[0-9A-Z.][0-9A-Za-z.]*)_\{?\(?(\d+)\)?\}?$")


def times_equal(pred: str, gold: str) -> bool:
    """Clock times (`9:00 pm`, `21:00`, `4:30`): the same minute of a 12-hour clock, and the same
    half of the day where both say which. A bare hour `9` is 9:00."""
    pred_time, gold_time = TIME.match(pred), TIME.match(gold)
    if pred_time is None or gold_time is None:
        return False
    (pred_hour, pred_minute, pred_half), (gold_hour, gold_minute, gold_half) = (
        (int(match.group(1)), int(match.group(2) or 0), match.group(3))
        for match in (pred_time, gold_time)
    )
    if pred_minute != gold_minute or pred_minute > 59:
        return False
    if pred_half and gold_half:
        return pred_half == gold_half and pred_hour % 12 == gold_hour % 12
    return pred_hour % 12 == gold_hour % 12


def base_numbers_equal(pred: str, gold: str, gold_base: re.Match[str] | None) -> bool:
    """`1011_2` vs `1011_{2}` or a bare `1011`: same digits, and the same base where both give one."""
    pred_base = BASE_NUMBER.match(pred)
    pred_digits, pred_radix = (
        (pred_base.group(1), pred_base.group(2)) if pred_base else (pred, None)
    )
    gold_digits, gold_radix = (
        (gold_base.group(1), gold_base.group(2)) if gold_base else (gold, None)
    )
    if pred_radix is not None and gold_radix is not None and pred_radix != gold_radix:
        return False
    return pred_digits.upper() == gold_digits.upper()


def bare_letter(text: str) -> str | None:
    match = re.fullmatch(r"\(?\s*([A-Za-z])\s*\)?", text)
    return match.group(1).upper() if match else None


def parenthesised_letter(text: str) -> str | None:
    match = re.fullmatch(r"\(\s*([A-Za-z])\s*\)", text)
    return match.group(1).upper() if match else None
