"""String normalisation of answers: one canonical LaTeX-ish spelling before any comparison.

Every rule here removes a *presentation* difference (delimiters, `\\left`, `\\dfrac`, thin
spaces, thousands separators, currency, degree signs, trailing unit words) and never a
mathematical one: variables, `\\pm`, signs and `%` survive. Percent is kept as a bare `%` so that
numbers.py can apply the "percent only when `%` is present" rule. Answers spelled in words or
Unicode ("four", "10 thousand", "x²") are rewritten by spellings.py, called from here.
"""

from __future__ import annotations

import re

from cfteval.grading.spellings import (
    number_words_to_digits,
    scale_words_to_latex,
    unicode_to_latex,
)
from cfteval.grading.units import strip_unit_tail

_MATH_DELIMITERS = re.compile(r"^\s*(\$\$|\$|\\\(|\\\[)\s*|\s*(\$\$|\$|\\\)|\\\])\s*$")
_SPACING_COMMANDS = re.compile(
    r"(?<!\\)\\(?:quad|qquad|displaystyle|textstyle|scriptstyle|[;:> ,]|!)"
)
_LEFT_RIGHT = re.compile(
    r"\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])\s*(\\?[()\[\]{}|.]|\\[lr]?[vV]ert|\\lbrace|\\rbrace|\\langle|\\rangle)?"
)
_FRAC_VARIANTS = re.compile(r"\\[dtc]frac(?![a-zA-Z])")
_BINOM_VARIANTS = re.compile(r"\\[dt]binom(?![a-zA-Z])")
_SHORT_SQRT = re.compile(r"\\sqrt\s*(\d+|[a-zA-Z](?![a-zA-Z]))")
_THOUSANDS_LATEX = re.compile(
    r"(?<=\d)(?:\{,\}|,\\!\s*|\\,(?=\d{3}(?!\d))|,\s*\\,\s*)(?=\d{3}(?!\d))"
)
_THOUSANDS_PLAIN = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
# `25^\circ C`, `25 °C`, `77^{\circ}\mathrm{F}`: degrees Celsius or Fahrenheit, a unit.
_CELSIUS = re.compile(
    r"\s*(?:\^\s*\{?\s*\\circ\s*\}?|°|\\degree)\s*(?:\\(?:mathrm|text)\s*\{\s*[CF]\s*\}|[CF](?![a-zA-Z]))\s*$"
)
_RELATION_SIGN = re.compile(r"[<>]|\\[lg]eq?(?![a-zA-Z])")
_RELATION_AND = re.compile(
    r"\s*(?:\\(?:text|textnormal|mbox|mathrm)\{\s*and\s*\}|\s\band\b\s|\\wedge|\\land)\s*"
)
# siunitx: `\SI{4.5e-6}{\metre}`, `\num{4.5e-6}` → the number.
_SIUNITX = re.compile(r"\\(?:SI|qty)\s*\{([^{}]*)\}\s*\{[^{}]*\}|\\num\s*\{([^{}]*)\}")
_TRIG = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![a-zA-Z])")
_DEGREE_ANGLE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|°|\\degree)")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ|°|\\degree|\^\s*\{\s*\}")
_CURRENCY = re.compile(r"\\\$|\$|€|£|\\euro|\bUSD\b|\\text\{\s*dollars?\s*\}")
_TEXT_AND = re.compile(
    r"\\(?:text|textnormal|mbox|mathrm)\{\s*(?:and|or|,)\s*\}|,?\s+\b(?:and|or)\b\s+"
    r"|(?<=[)\]])\s*(?:and|or)\s*(?=[(\[])"
)
_TEXT_COMMAND = re.compile(
    r"\\(?:text|textnormal|textrm|textbf|textit|mbox|mathrm|mathbf|mathit|operatorname)\s*\{([^{}]*)\}"
)
_PLAIN_FUNCTION = re.compile(
    r"(?<![\\a-zA-Z])(sqrt|exp|sin|cos|tan|ln|log|arcsin|arccos|arctan)\s*\("
)
# `\operatorname{arcsin}`: a function the grammar knows as a command.
_OPERATOR_NAME = re.compile(
    r"\\operatorname\s*\{?\s*(sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|sinh|cosh|tanh|log|ln"
    r"|exp)\s*\}?"
)
# `12^{\text{th}}`, `12\text{th}`, `3rd`: an ordinal is its number.
_ORDINAL = re.compile(
    r"(?<=\d)\s*(?:\^\s*\{?\s*)?(?:\\(?:text|mathrm|textrm)\s*\{\s*)?(?:st|nd|rd|th)\b\s*\}?\s*\}?"
    # what it counts may follow: `12^{\mathrm{th}}\text{ grade}`, "3rd day"
    r"(?:\s*\\(?:text|mathrm|textrm)\s*\{[^{}]{0,40}\}|[ \t]+[A-Za-z]{2,20}){0,3}\s*$"
)
# Python float literals in golds (`-1./3`, `3.*2`): the point ends the number.
_PYTHON_FLOAT = re.compile(r"(?<![\d.])(\d+)\.(?=\s*[/*])")
# `3 \pmod 7`, `3 \pmod{7}`, `3 (\bmod 7)`: the residue is the answer.
_MODULUS = re.compile(
    r"\s*(?:\\pmod\s*\{[^{}]*\}|\\pmod\s*\w+|\(\s*\\(?:bmod|mod)\s*\w+\s*\)|\\(?:bmod|mod)\s*\w+)\s*$"
)
_PLAIN_PI = re.compile(r"(?<![\\a-zA-Z])pi(?![a-zA-Z])")
_DOUBLE_SIGN = re.compile(r"\+\s*-")
_WHITESPACE = re.compile(r"\s+")
_DIGIT_SPACE = re.compile(r"(?<=\d)\s+(?=\d)")
# A clock time with a.m./p.m. ("9:00 \\text{ p.m.}", "9 PM") → "9:00 pm", kept for equivalence.
_CLOCK_TIME = re.compile(
    r"(?<![\d:])(\d{1,2})(?::(\d{2}))?\s*(?:\\text\s*\{\s*)?([apAP])\.?\s?[mM]\.?(?:\s*\})?(?![a-zA-Z])"
)
# A number written with thin spaces between digit groups ("1 000 000", SI style).
_SPACED_THOUSANDS = re.compile(r"^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$")
# An AMC option label before the value: "\\textbf{(C)}\\ 27", "(B) 36".
_OPTION_LABEL = re.compile(r"^(?:\\textbf\s*\{\s*\(([A-E])\)\s*\}|\(([A-E])\)(?=\s))\s*(?=[-\d\\])")
_PAREN_ARGUMENT = re.compile(r"(\^|\\sqrt)\s*\(")
# "25 percent", "25\\text{ percent}", "25 pct": a percent sign spelled out.
_PERCENT_WORD = re.compile(
    r"(?<=[\d}])\s*(?:\\(?:text|mathrm)\s*\{\s*(?:percent|per\s?cent|pct)\.?\s*\}"
    r"|(?:percent|per\s?cent|pct)\b\.?)"
)
_ELLIPSIS = re.compile(r"\\(?:dots|ldots|cdots|dotsc|dotsb)(?![a-zA-Z])|\.\.\.|…")
# Spellings of the same symbol: (regex, replacement) applied in order.
_ALIASES = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\\neq(?![a-zA-Z])|!=|≠", r"\\ne "),
        (r"<=(?!>)|≤", r"\\le "),
        (r"(?<![<=])>=|≥", r"\\ge "),
        (r"\\leq(?:slant)?(?![a-zA-Z])", r"\\le "),
        (r"\\geq(?:slant)?(?![a-zA-Z])", r"\\ge "),
        (r"\\gt(?![a-zA-Z])", ">"),
        (r"\\lt(?![a-zA-Z])", "<"),
        (r"\\varnothing(?![a-zA-Z])", r"\\emptyset "),
        (r"^\s*(?:\\approx|≈)\s*", ""),  # a leading "≈ 2.2" is a hedge
        (r"≈", r"\\approx "),
        (r"\\equiv(?![a-zA-Z])|≡", "="),  # `7^{100} \equiv 1 \pmod 4` states 1
        (r"_\s*\{\s*\\(max|min)\s*\}", r"_{\1}"),
        (r"\\langle(?![a-zA-Z])", "("),
        (r"\\rangle(?![a-zA-Z])", ")"),
        (r"\\dot\s*\{\s*(\d)\s*\}", r"\\overline{\1}"),
        (r"(?i)\ball\s+real(?:\s+numbers|s)\b", r"(-\\infty,\\infty)"),
        (r"(?i)^\s*(?:there\s+(?:is|are)\s+)?no\s+(?:real\s+)?solutions?\s*$", r"\\emptyset"),
        (r"\\varepsilon(?![a-zA-Z])", r"\\epsilon"),
        (r"\\vartheta(?![a-zA-Z])", r"\\theta"),
        (r"\\varphi(?![a-zA-Z])", r"\\phi"),
        # `R_{\odot}`, `M_\oplus`: the parser has no symbol for the Sun or the Earth.
        (r"_\s*(?:\{\s*\\odot\s*\}|\\odot(?![a-zA-Z]))", "_{sun}"),
        (r"_\s*(?:\{\s*\\oplus\s*\}|\\oplus(?![a-zA-Z]))", "_{earth}"),
        (r"(?<=\d)\s*[xX]\s*10\s*\^", r" \\times 10^"),
        (r"\\\{\s*\\\}", r"\\emptyset "),
        (r"\\mathbb\s*\{?\s*R\s*\}?(?![a-zA-Z])", r"(-\\infty,\\infty)"),
        (r"\\infin(?![a-zA-Z])", r"\\infty"),
        (r"\\bar\s*\{", r"\\overline{"),
    )
)


def strip_outer_command(text: str, command: str) -> str:
    """`\\boxed{x}` → `x` when the command wraps the whole string (brace-matched)."""
    prefix = "\\" + command
    stripped = text.strip()
    if not stripped.startswith(prefix):
        return text
    rest = stripped[len(prefix) :].lstrip()
    if not rest.startswith("{"):
        return rest if rest and command in ("boxed", "fbox") else text
    depth = 0
    for index, char in enumerate(rest):
        depth += char == "{"
        depth -= char == "}"
        if depth == 0:
            return rest[1:index] if index == len(rest) - 1 else text
    return text


def strip_outer_braces(text: str) -> str:
    """`{a, b}` → `a, b` when one brace pair (not `\\{`) wraps everything: pure grouping."""
    while text.startswith("{") and text.endswith("}") and not text.endswith("\\}"):
        depth = 0
        for index, char in enumerate(text):
            depth += char == "{"
            depth -= char == "}"
            if depth == 0 and index < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def _closing_paren(text: str, start: int) -> int:
    """Index of the `)` matching the `(` at `start`, or -1 when it is never closed."""
    depth = 0
    for index in range(start, len(text)):
        depth += text[index] == "("
        depth -= text[index] == ")"
        if depth == 0:
            return index
    return -1


def _replace_plain_functions(text: str) -> str:
    """`sqrt(12)` → `\\sqrt{12}`, `exp(16)` → `e^{16}`: plain-text maths that LaTeX parsers misread."""
    for _ in range(20):  # bounded: each pass rewrites one call
        match = _PLAIN_FUNCTION.search(text)
        if match is None:
            return text
        end = _closing_paren(text, match.end() - 1)
        if end < 0:
            return text
        name, argument = match.group(1), text[match.end() : end]
        if name == "sqrt":
            replacement = "\\sqrt{" + argument + "}"
        elif name == "exp":
            replacement = "e^{" + argument + "}"
        else:
            replacement = "\\" + name + "{(" + argument + ")}"
        text = text[: match.start()] + replacement + text[end + 1 :]
    return text


def _trig_degrees_to_radians(text: str) -> str:
    """`\\cos 30^\\circ` → `\\cos \\frac{30\\pi}{180}`: inside a trig function a degree sign is a
    value, and deleting it (as elsewhere) would evaluate the angle in radians."""
    if not _TRIG.search(text):
        return text
    return _DEGREE_ANGLE.sub(lambda m: "\\frac{" + m.group(1) + "\\pi}{180}", text)


def normalize_answer(text: str) -> str:
    """The canonical spelling of one answer; see the module docstring for what is removed."""
    text = text.strip()
    for _ in range(3):
        text = _MATH_DELIMITERS.sub("", text).strip()
        for command in ("boxed", "fbox", "displaystyle"):
            text = strip_outer_command(text, command)
    text = text.replace("\\%", "%").replace("％", "%").replace("−", "-")
    text = _PERCENT_WORD.sub("%", text)
    # One spelling of an ellipsis, a command, so that trimming a full stop cannot eat it.
    text = _ELLIPSIS.sub(r"\\ldots ", text)
    text = unicode_to_latex(text).replace("–", "-")
    text = _SIUNITX.sub(lambda m: m.group(1) or m.group(2), text)
    text = _CLOCK_TIME.sub(
        lambda m: f"{m.group(1)}:{m.group(2) or '00'} {m.group(3).lower()}m", text
    )
    text = scale_words_to_latex(text)
    text = _OPTION_LABEL.sub("", text)
    # `\left.` / `\right.` are invisible delimiters; the others keep their bracket.
    text = _LEFT_RIGHT.sub(lambda m: "" if m.group(1) in (None, ".") else m.group(1), text)
    text = _FRAC_VARIANTS.sub(r"\\frac", text)
    text = _BINOM_VARIANTS.sub(r"\\binom", text)
    text = _THOUSANDS_LATEX.sub("", text)
    text = _SPACING_COMMANDS.sub(" ", text).replace("~", " ")
    text = _CURRENCY.sub("", text)
    text = _CELSIUS.sub("", text)
    text = _trig_degrees_to_radians(text)
    text = _DEGREES.sub("", text)
    if _RELATION_SIGN.search(text):  # "x > -1 and x < 1" is an intersection, not a list
        text = _RELATION_AND.sub(r" \\land ", text)
    text = _TEXT_AND.sub(", ", text)
    text = _MODULUS.sub("", _ORDINAL.sub("", text.strip().rstrip(".").strip()))
    text = strip_unit_tail(text)
    text = re.sub(r"\\mathrm\{\s*e\s*\}", "e", text)
    text = _OPERATOR_NAME.sub(r"\\\1", text)
    for _ in range(3):
        text = _TEXT_COMMAND.sub(r"\1", text)
    text = _PYTHON_FLOAT.sub(r"\1", text)
    text = _complete_short_fracs(text)
    text = _SHORT_SQRT.sub(r"\\sqrt{\1}", text)
    text = _replace_plain_functions(text)
    text = _PLAIN_PI.sub(r"\\pi", text)
    text = _brace_paren_arguments(text.replace("**", "^"))
    text = _OPTION_LABEL.sub("", text)
    for pattern, replacement in _ALIASES:
        text = pattern.sub(replacement, text)
    text = _DOUBLE_SIGN.sub("-", text)
    text = _WHITESPACE.sub(" ", text).strip().rstrip(".").strip()
    text = strip_unit_tail(number_words_to_digits(text))
    if _SPACED_THOUSANDS.match(text):
        text = text.replace(" ", "")
    return drop_plain_thousands(strip_outer_braces(text))


def drop_plain_thousands(text: str) -> str:
    """`15,600` → `15600` when the whole answer is one comma-grouped number (not a list)."""
    return text.replace(",", "") if _THOUSANDS_PLAIN.match(text) else text


def _read_argument(text: str, index: int) -> tuple[str, int] | None:
    """The LaTeX argument starting at `index` (a brace group, a command or one character)."""
    while index < len(text) and text[index] == " ":
        index += 1
    if index >= len(text):
        return None
    if text[index] == "{":
        depth = 0
        for end in range(index, len(text)):
            depth += text[end] == "{"
            depth -= text[end] == "}"
            if depth == 0:
                return text[index + 1 : end], end + 1
        return None
    if text[index] == "\\":
        match = re.match(r"\\[a-zA-Z]+", text[index:])
        return (match.group(0), index + match.end()) if match else None
    return text[index], index + 1


def _complete_short_fracs(text: str) -> str:
    """`\\frac34`, `\\frac{\\sqrt{3}}2`, `\\frac1{x}` → `\\frac{…}{…}` with both arguments braced."""
    start = 0
    for _ in range(50):  # bounded: answers have few fractions
        index = text.find("\\frac", start)
        if index < 0:
            return text
        numerator = _read_argument(text, index + 5)
        denominator = _read_argument(text, numerator[1]) if numerator else None
        if numerator is None or denominator is None:
            return text
        rebuilt = "\\frac{" + numerator[0] + "}{" + denominator[0] + "}"
        text = text[:index] + rebuilt + text[denominator[1] :]
        start = index + 5
    return text


def _brace_paren_arguments(text: str) -> str:
    """`2^(1/3)` → `2^{(1/3)}`, `4\\sqrt(2)` → `4\\sqrt{2}`: the LaTeX grammar only takes a braced
    or one-token exponent or radicand."""
    for _ in range(20):
        match = _PAREN_ARGUMENT.search(text)
        if match is None:
            return text
        end = _closing_paren(text, match.end() - 1)
        if end < 0:
            return text
        inside = text[match.end() - 1 : end + 1]
        braced = "^{" + inside + "}" if match.group(1) == "^" else "\\sqrt{" + inside[1:-1] + "}"
        text = text[: match.start()] + braced + text[end + 1 :]
    return text


def comparison_key(text: str) -> str:
    """A whitespace-free key: two answers with the same key are the same answer. A space
    between two digits stays: `1 1/2` (a mixed number) is not `11/2`."""
    return _WHITESPACE.sub("", _DIGIT_SPACE.sub("_", text))
