"""Plain numbers without sympy: the fast path that grades most answers in microseconds.

Recognised (after normalize.py): integers, decimals, Python e-notation (`3.83e35`), LaTeX
scientific notation (`3.83 \\times 10^{35}`, `10^{-3}`), repeating decimals (`0.1\\overline{6}`), fractions (`\\frac{7}{2}`, `-7/2`),
mixed numbers (`3\\frac{1}{2}` and `3 1/2` = 7/2), each optionally followed by `%`. Values are exact
`Fraction`s; `exact` records whether the writer gave an exact value (no decimal point), because
two exact values must be equal while an approximate one is compared with a relative tolerance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# Refuse e-notation exponents beyond this: no real answer needs them and Fraction(10)**n grows.
MAX_DECIMAL_EXPONENT = 400

_DECIMAL = r"(?:\d+\.?\d*|\.\d+)"
_PLAIN = re.compile(rf"^([+-]?)\s*({_DECIMAL})(?:[eE]([+-]?\d+))?$")
_SCIENTIFIC = re.compile(
    rf"^([+-]?)\s*(?:({_DECIMAL})\s*(?:\\times|\\cdot|\*|×)\s*)?10\s*\^\s*\{{?\s*([+-]?\d+)\s*\}}?$"
)
_FRACTION = re.compile(r"^([+-]?)\s*(?:(\d+)\s*)?\\frac\{\s*(\d+)\s*\}\{\s*(\d+)\s*\}$")
# `7/2`, and the plain-text mixed number `3 1/2` (= 7/2) that GSM8K-style answers write.
_SLASH = re.compile(r"^([+-]?)\s*(?:(\d+)\s+)?(\d+)\s*/\s*(\d+)$")
_REPEATING = re.compile(r"^([+-]?)\s*(\d*)\.(\d*)\\overline\{(\d+)\}$")
_SIGNED_PAREN = re.compile(r"^([+-]?)\s*\\frac\{\s*([+-])\s*(\d+)\s*\}\{\s*(\d+)\s*\}$")


@dataclass(frozen=True)
class ParsedNumber:
    """A number read from an answer string."""

    value: Fraction
    exact: bool  # False when written with a decimal point (a possibly rounded value)
    percent: bool  # written with a trailing %


def _signed(sign: str, value: Fraction) -> Fraction:
    return -value if sign == "-" else value


def _decimal_with_exponent(mantissa: str, exponent: int) -> Fraction | None:
    if abs(exponent) > MAX_DECIMAL_EXPONENT:
        return None
    return Fraction(mantissa) * Fraction(10) ** exponent


def parse_number(text: str) -> ParsedNumber | None:
    """The number `text` spells, or None when it is anything more than a plain number."""
    text = text.strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1].rstrip()
    if not text or len(text) > 80:
        return None
    if match := _PLAIN.match(text):
        sign, mantissa, exponent = match.groups()
        value = _decimal_with_exponent(mantissa, int(exponent or 0))
        if value is None:
            return None
        return ParsedNumber(_signed(sign, value), "." not in mantissa and not exponent, percent)
    if match := _SLASH.match(text):
        sign, whole, numerator, denominator = match.groups()
        return _fraction(sign, int(whole or 0), numerator, denominator, percent)
    if match := _FRACTION.match(text):
        sign, whole, numerator, denominator = match.groups()
        return _fraction(sign, int(whole or 0), numerator, denominator, percent)
    if match := _SIGNED_PAREN.match(text):
        sign, inner_sign, numerator, denominator = match.groups()
        flipped = "-" if (sign == "-") != (inner_sign == "-") else ""
        return _fraction(flipped, 0, numerator, denominator, percent)
    if match := _REPEATING.match(text):
        sign, whole, fixed, period = match.groups()
        # 0.1\overline{6} = 0.1 + 0.0666… : the period repeats after the fixed digits.
        value = Fraction(int(whole or 0)) + (Fraction(int(fixed), 10 ** len(fixed)) if fixed else 0)
        value += Fraction(int(period), (10 ** len(period) - 1) * 10 ** len(fixed))
        return ParsedNumber(_signed(sign, value), True, percent)
    if match := _SCIENTIFIC.match(text):
        sign, mantissa, exponent = match.groups()
        value = _decimal_with_exponent(mantissa or "1", int(exponent))
        if value is None:
            return None
        return ParsedNumber(_signed(sign, value), mantissa is None or "." not in mantissa, percent)
    return None


def _fraction(
    sign: str, whole: int, numerator: str, denominator: str, percent: bool
) -> ParsedNumber | None:
    if int(denominator) == 0:
        return None
    # A mixed number 3\frac{1}{2} is 3 + 1/2; the sign applies to the whole thing.
    return ParsedNumber(
        _signed(sign, whole + Fraction(int(numerator), int(denominator))), True, percent
    )


def values_close(pred: Fraction, gold: Fraction, rel_tol: float) -> bool:
    """Relative closeness; zero only equals (near-)zero. Never an absolute rounding."""
    if pred == gold:
        return True
    return abs(pred - gold) <= Fraction(rel_tol) * max(abs(pred), abs(gold))


def numbers_equal(pred: ParsedNumber, gold: ParsedNumber, rel_tol: float) -> bool:
    """Equality under the percent convention: `X%` equals `X` or `X/100` only if a `%` is written."""
    candidates = [(pred.value, gold.value)]
    if pred.percent != gold.percent:
        hundredth = Fraction(1, 100)
        if pred.percent:
            candidates.append((pred.value * hundredth, gold.value))
        else:
            candidates.append((pred.value, gold.value * hundredth))
    for pred_value, gold_value in candidates:
        if pred.exact and gold.exact:
            if pred_value == gold_value:
                return True
        elif values_close(pred_value, gold_value, rel_tol):
            return True
    return False
