"""String normalisation of the Qwen2.5-Math evaluation toolkit (`strip_string`), re-implemented.

This reproduces the reference's behaviour *including its leniencies*, because the `qwen` profile
exists to compare with published numbers. Notable ones (see docs/protocol.md, "Known defects"):
- every space is deleted and unit words are cut out by a regex, so `6, 8` becomes `6,8`;
- `%` signs are deleted (the comparison then also tries ×100 and ÷100 for every number);
- `x=`, `\\text{...}` and a short left-hand side `k=` are dropped;
- `\\frac12` becomes `\\frac{1}{2}` and `a/b` becomes `\\frac{a}{b}` for integers.
Do not "fix" anything here: the `cfteval` profile is where the project's own judgement lives.
"""

from __future__ import annotations

import re

# Unit words the reference strips (mostly from MathQA), plus each with an "s". They are used as
# regular expressions, unescaped, exactly as the reference does ("q ." matches "q" + any char).
# fmt: off
_UNIT_WORDS = [
    "east", "degree", "mph", "kmph", "ft", "m sqaure", " m east", "sq m", "deg", "mile", "q .",
    "monkey", "prime", "ratio", "profit of rs", "rd", "o", "gm", "p . m", "lb", "tile", "per",
    "dm", "lt", "gain", "ab", "way", "west", "a .", "b .", "c .", "d .", "e .", "f .", "g .",
    "h .", "t", "a", "h", "no change", "men", "soldier", "pie", "bc", "excess", "st", "inches",
    "noon", "percent", "by", "gal", "kmh", "c", "acre", "rise", "a . m", "th", "π r 2", "sq",
    "mark", "l", "toy", "coin", "sq . m", "gallon", "° f", "profit", "minw", "yr", "women",
    "feet", "am", "pm", "hr", "cu cm", "square", "v â € ™", "are", "rupee", "rounds", "cubic",
    "cc", "mtr", "s", "ohm", "number", "kmph", "day", "hour", "minute", "min", "second", "man",
    "woman", "sec", "cube", "mt", "sq inch", "mp", "∏ cm ³", "hectare", "more", "sec", "unit",
    "cu . m", "cm 2", "rs .", "rs", "kg", "g", "month", "km", "m", "cm", "mm", "apple", "liter",
    "loss", "yard", "pure", "year", "increase", "decrease", "d", "less", "Surface", "litre",
    "pi sq m", "s .", "metre", "meter", "inch",
]
# fmt: on
_UNIT_WORDS = _UNIT_WORDS + [word + "s" for word in _UNIT_WORDS]
_UNIT_PATTERNS = [re.compile(r"(^|\W)" + word + r"($|\W)") for word in _UNIT_WORDS]

_SMALL_NUMBERS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}


def convert_word_number(text: str) -> str:
    """English number words to digits, as the reference's `word2number` call does.

    Like `w2n.word_to_num`, the number words are picked out of the text and every other word is
    ignored ("the answer is two" → "2"); a text with no number word is returned unchanged.
    Decimals ("point") are not supported here (rare in answers).
    """
    words = [
        w
        for w in text.strip().lower().replace("-", " ").split()
        if w in _SMALL_NUMBERS or w in _TENS or w in _SCALES
    ]
    if not words:
        return text
    total, group = 0, 0
    for word in words:
        if word in _SMALL_NUMBERS:
            group += _SMALL_NUMBERS[word]
        elif word in _TENS:
            group += _TENS[word]
        elif word == "hundred":
            group = max(group, 1) * 100
        else:
            total += max(group, 1) * _SCALES[word]
            group = 0
    return str(total + group)


def _fix_fracs(string: str) -> str:
    """`\\frac12` → `\\frac{1}{2}`, `\\frac1{72}` → `\\frac{1}{72}` (brace the bare digits)."""
    pieces = string.split("\\frac")
    rebuilt = pieces[0]
    for piece in pieces[1:]:
        rebuilt += "\\frac"
        if piece.startswith("{"):
            rebuilt += piece
            continue
        if len(piece) < 2:
            return string
        first, second, rest = piece[0], piece[1], piece[2:]
        if second != "{":
            rebuilt += "{" + first + "}{" + second + "}" + rest
        else:
            rebuilt += "{" + first + "}" + second + rest
    return rebuilt


def _fix_a_slash_b(string: str) -> str:
    """`3/4` → `\\frac{3}{4}` when both sides are plain integers (or contain sqrt)."""
    parts = string.split("/")
    if len(parts) != 2:
        return string
    numerator, denominator = parts
    try:
        a = numerator if "sqrt" in numerator else int(numerator)
        b = denominator if "sqrt" in denominator else int(denominator)
    except ValueError:
        return string
    if string != f"{a}/{b}":
        return string
    return "\\frac{" + str(a) + "}{" + str(b) + "}"


def _remove_units(string: str) -> str:
    for _ in range(2):
        for pattern in _UNIT_PATTERNS:
            stripped = pattern.sub(r"\1\2", string)
            if stripped != "":
                string = stripped
    return string


def strip_string(string: str, skip_unit: bool = False) -> str:
    """The reference's answer normalisation, step by step in the reference's order."""
    string = str(string).strip().replace("\n", "").rstrip(".").replace("\\!", "")
    # Matrices: arrays and bmatrix become pmatrix.
    string = re.sub(r"\\begin\{array\}\{.*?\}", r"\\begin{pmatrix}", string)
    string = re.sub(r"\\end\{array\}", r"\\end{pmatrix}", string)
    string = string.replace("bmatrix", "pmatrix")
    string = string.replace("tfrac", "frac").replace("dfrac", "frac")
    string = string.replace("\\neq", "\\ne").replace("\\leq", "\\le").replace("\\geq", "\\ge")
    string = string.replace("\\left", "").replace("\\right", "")
    string = string.replace("\\{", "{").replace("\\}", "}")
    # A trailing \text{...} is a unit ("10 \text{ cm}"), unless it is the whole answer.
    without_text = re.sub(r"\\text{.*?}$", "", string).strip()
    if without_text != "" and without_text != string:
        string = without_text
    if not skip_unit:
        string = _remove_units(string)
    string = string.replace("^{\\circ}", "").replace("^\\circ", "")
    string = string.replace("\\$", "").replace("$", "")
    string = string.replace("\\(", "").replace("\\)", "")
    string = convert_word_number(string)
    string = re.sub(r"\\text\{(.*?)\}", r"\1", string)
    for prefix in ("x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to"):
        string = string.replace(prefix, "")
    string = string.replace("\\emptyset", r"{}")
    string = string.replace("(-\\infty,\\infty)", "\\mathbb{R}")
    string = string.replace("\\%", "").replace("%", "")
    string = string.replace(" .", " 0.").replace("{.", "{0.")
    string = string.replace("infinity", "\\infty")
    if "\\infty" not in string:
        string = string.replace("inf", "\\infty")
    string = string.replace("+\\inity", "\\infty")
    string = string.replace("and", "").replace("\\mathbf", "")
    string = re.sub(r"\\mbox{.*?}", "", string)
    if "j" in string and "i" not in string:
        string = string.replace("j", "i")
    # "2.000x" → "2x", "5.0" → "5".
    string = re.sub(r"(\d+)\.0*([^\d])", r"\1\2", string)
    string = re.sub(r"(\d+)\.0*$", r"\1", string)
    if not string:
        return string
    if string[0] == ".":
        string = "0" + string
    # A short left-hand side ("k = 5") is dropped.
    sides = string.split("=")
    if len(sides) == 2 and len(sides[0]) <= 2:
        string = sides[1]
    string = re.sub(r"\\sqrt(\w+)", r"\\sqrt{\1}", string)
    string = string.replace(" ", "")
    string = _fix_fracs(string)
    return _fix_a_slash_b(string)
