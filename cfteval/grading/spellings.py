"""Maths spelled in words or Unicode rather than LaTeX, rewritten into LaTeX or digits.

Split from normalize.py, which calls these at fixed points of `normalize_answer`: they hold the
big rewriting tables (number words, scale words such as "thousand" or "squared", Unicode symbols,
superscripts and roots), which are data rather than normalisation steps. Like every rule in
normalize.py, each rewrite changes only how a value is written, never the value.
"""

from __future__ import annotations

import re

# An answer spelled as a word ("four"): the number it names.
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "seventy": "70",
    "eighty": "80",
    "ninety": "90",
    "hundred": "100",
    "one hundred": "100",
}
_NUMBER_WORD = "|".join(sorted((w for w in _NUMBER_WORDS if " " not in w), key=len, reverse=True))
_NUMBER_WORD_RUN = re.compile(
    rf"(?:{_NUMBER_WORD})(?:[\s-]+(?:and[\s-]+)?(?:{_NUMBER_WORD}|thousand))*(?![a-zA-Z])",
    re.IGNORECASE,
)
# Unicode maths as models write it in plain text.
_UNICODE_SYMBOLS = {
    "π": "\\pi ",
    "∞": "\\infty ",
    "·": "\\cdot ",
    "×": "\\times ",
    "≤": "\\le ",
    "≥": "\\ge ",
    "≠": "\\ne ",
    "±": "\\pm ",
    "∪": "\\cup ",
    "∩": "\\cap ",
    "⟨": "\\langle ",
    "⟩": "\\rangle ",
    "½": "\\frac{1}{2}",
    "⅓": "\\frac{1}{3}",
    "⅔": "\\frac{2}{3}",
    "¼": "\\frac{1}{4}",
    "¾": "\\frac{3}{4}",
    "⅕": "\\frac{1}{5}",
    "⅙": "\\frac{1}{6}",
    "⅛": "\\frac{1}{8}",
}
_UNICODE_SYMBOL_RE = re.compile("|".join(map(re.escape, _UNICODE_SYMBOLS)))
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+")
_UNICODE_ROOT = re.compile(r"√\s*(\{[^{}]*\}|\([^()]*\)|[\w.]+|\\[a-zA-Z]+)")
# Scale and operator words that change the value: "10 thousand", "3 dozen", "6 squared".
_SCALE_WORD = re.compile(
    r"(\d+(?:\.\d+)?)\s*(?:\\text\s*\{\s*)?(thousand|million|billion|trillion|dozen|hundred"
    r"|squared|cubed|factorial|halves|thirds|quarters|fourths|fifths|sixths|eighths|tenths)\s*\}?"
    r"(?![a-zA-Z])",
    re.IGNORECASE,
)
_SCALE_REPLACEMENTS = {
    "thousand": r"\1 \\times 10^{3}",
    "million": r"\1 \\times 10^{6}",
    "billion": r"\1 \\times 10^{9}",
    "trillion": r"\1 \\times 10^{12}",
    "hundred": r"\1 \\times 10^{2}",
    "dozen": r"\1 \\cdot 12",
    "squared": r"\1^{2}",
    "cubed": r"\1^{3}",
    "factorial": r"\1!",
    "halves": r"\\frac{\1}{2}",
    "thirds": r"\\frac{\1}{3}",
    "quarters": r"\\frac{\1}{4}",
    "fourths": r"\\frac{\1}{4}",
    "fifths": r"\\frac{\1}{5}",
    "sixths": r"\\frac{\1}{6}",
    "eighths": r"\\frac{\1}{8}",
    "tenths": r"\\frac{\1}{10}",
}


def number_words_to_digits(text: str) -> str:
    """An answer spelled in words ("four", "twenty-one", "four hundred", "ten apples") → digits."""
    words = _NUMBER_WORD_RUN.match(text)
    if words is None:
        return text
    total = current = 0
    for word in re.split(r"[\s-]+", words.group().lower()):
        if word == "and":
            continue
        if word == "hundred":
            current = max(current, 1) * 100
        elif word == "thousand":
            total, current = total + max(current, 1) * 1000, 0
        else:
            current += int(_NUMBER_WORDS[word])
    return str(total + current) + text[words.end() :]


def unicode_to_latex(text: str) -> str:
    """`x²` → `x^{2}`, `3√2` → `3\\sqrt{2}`, `½` → `\\frac{1}{2}`, `π` → `\\pi`."""
    if text.isascii():
        return text
    text = _SUPERSCRIPT_RUN.sub(lambda m: "^{" + m.group().translate(_SUPERSCRIPTS) + "}", text)
    text = _UNICODE_ROOT.sub(lambda m: "\\sqrt{" + m.group(1).strip("{}()") + "}", text)
    return _UNICODE_SYMBOL_RE.sub(lambda m: _UNICODE_SYMBOLS[m.group()], text)


def scale_words_to_latex(text: str) -> str:
    """`10 thousand` → `10 \\times 10^{3}`, `6 squared` → `6^{2}`, `3 fifths` → `\\frac{3}{5}`."""
    return _SCALE_WORD.sub(lambda m: m.expand(_SCALE_REPLACEMENTS[m.group(2).lower()]), text)
