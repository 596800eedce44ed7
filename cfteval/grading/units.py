"""Trailing units: `12 \\text{ m/s}`, `3 \\times 10^{8} \\mathrm{~m} / \\mathrm{s}`, `10 \\Omega`,
`2.5 \\mu\\text{m}`, `18 apples`, `5 cm^2` → the value alone.

Units are presentation here (the grader does not convert between them), so they are dropped
from the end of an answer, piece by piece, as long as what remains ends with a value (a digit or
a closing bracket). What counts as a unit piece, and why:
- anything in `\\text{}`/`\\mathrm{}`/`\\mbox{}` that opens with a letter: a value followed by a
  text command is a value with a unit or a word;
- `\\Omega`, `Ω`, `\\AA`, `Å`, and `\\mu`/`μ` prefixed units;
- a plain word of four or more letters ("apples", "meters", "square units"), except maths words
  (`sin`, `max`, ...);
- a short unit from a fixed list (`cm`, `kg`, `km`, `eV`, `Hz`, `mol`, ...). A short word that is
  not on the list stays: in physics answers `mg`, `mgh`, `nRT`, `kT` are products of variables,
  and stripping them would make `\\frac{3}{2} mg` equal `\\frac{3}{2}`;
- a single letter only from `m s g J N W V K`, and only after a space (`2 m`, not `2m`), except
  after a decimal (`0.64N`); `T`, `A`, `C`, `h`, `L` are left alone, being variables as often;
- each with an optional exponent (`^{-1}`, `^3`), joined by `/`, `\\cdot`, `*`, "per" or spaces.
Only the last 160 characters are examined: units are short, and it keeps the work linear.
"""

from __future__ import annotations

import re

_TAIL_CHARS = 160
_MAX_PIECES = 8

MATHS_WORDS = frozenset(
    "sin cos tan cot sec csc log ln exp sqrt pi and or mod arcsin arccos arctan sinh cosh tanh "
    "infty inf max min gcd lcm det deg frac cdot times".split()
)
SHORT_UNITS = frozenset(
    """cm mm km nm um dm μm kg mL ml dL Hz kHz MHz GHz eV keV MeV GeV TeV kJ MJ kW MW GW mW kV mV
    mA kPa MPa GPa hPa Pa atm bar psi mol Wb lm lx Bq Gy Sv rad sr mph kph ft yd mi in lb lbs oz
    gal qt pt hr hrs min sec yr yrs day AU pc kpc Mpc Gpc ly erg cal dB Da kDa rpm""".split()
)
SINGLE_LETTER_UNITS = frozenset("m s g J N W V K".split())

_EXPONENT = r"(?:\s*\^\s*(?:\{\s*-?\s*\d+\s*\}|-?\d))?"
_PIECE_AT_END = re.compile(
    r"(?P<sep>\s*(?:/|\\cdot|\*|~|\bper\b)?\s*)"
    r"(?:(?P<command>\\(?:text|textrm|textnormal|mathrm|mbox|operatorname)\s*\{\s*~?\s*[A-Za-zμ°Å][^{}]*\})"
    r"|(?P<symbol>\\Omega|Ω|\\AA|Å|\\ohm)"
    r"|(?P<word>(?<![\\A-Za-z])[A-Za-zμ]+))"
    rf"{_EXPONENT}\s*$"
)
_MICRO = re.compile(r"(?:\\mu|μ)\s*(?:\\(?:text|mathrm|mbox)\s*\{\s*([A-Za-z]+)\s*\}|([A-Za-z]+))")
_VALUE_END = re.compile(r"[\d})\]]$")
_DECIMAL_END = re.compile(r"\d\.\d+$")


def _is_unit(match: re.Match[str], before: str) -> bool:
    if match.group("command") or match.group("symbol"):
        return True
    word = match.group("word")
    if word.startswith("μ"):
        return True
    if word in MATHS_WORDS:
        return False
    if len(word) >= 4:
        return True
    if len(word) >= 2:
        return word in SHORT_UNITS
    if word not in SINGLE_LETTER_UNITS:
        return False
    spaced = match.group("sep") != "" or before[-1:].isspace()
    return spaced or _DECIMAL_END.search(before) is not None


def strip_unit_tail(text: str) -> str:
    """`text` without its trailing unit (see the module docstring); never the whole answer."""
    head, tail = text[:-_TAIL_CHARS], text[-_TAIL_CHARS:]
    tail = _MICRO.sub(lambda m: "\\text{μ" + (m.group(1) or m.group(2)) + "}", tail)
    candidate = tail
    for _ in range(_MAX_PIECES):
        match = _PIECE_AT_END.search(candidate)
        if match is None or not _is_unit(match, candidate[: match.start()]):
            break
        remaining = candidate[: match.start()].rstrip()
        if not remaining:
            break
        candidate = remaining
    if candidate == tail or not _VALUE_END.search(candidate):
        return text
    return head + candidate
