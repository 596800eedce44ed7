"""Trailing units: `12 \\text{ m/s}`, `3 \\times 10^{8} \\mathrm{~m} / \\mathrm{s}`, `10 \\Omega`,
`2.5 \\mu m`, `18 apples`, `5 cm^2` → the value alone.

Units are presentation here (the grader does not convert between them), so they are dropped
from the end of an answer, piece by piece. The hard part is that physics answers are products
of one-letter variables (`2 m g`, `\\frac12 K`, `\\frac13 m l^2`, `3\\mu m g`), which look like
units; stripping those would make `\\frac13 m g` equal `\\frac13`, a false positive. So a piece
is stripped only when its kind allows it:
- anything in `\\text{}`/`\\mathrm{}`/`\\mbox{}` that opens with a letter, after any value: a
  text command after an answer is a unit or a word (`\\frac12 \\rho g h \\ \\text{Pa}`);
- `\\Omega`, `Ω`, `\\AA`, `Å`, and plain words of four or more letters ("apples", "meters",
  "square units"; not maths words such as `sin` or `max`), after a digit or a closing bracket;
- short units (`cm`, `kg`, `eV`, `mL`, ...), micro-prefixed units (`\\mu m`) and single letters
  from `m s g J N W V K` only when what is left is a plain number (`2 m`, `0.64 N`,
  `9.8 m s^{-2}`, `3 \\times 10^{8} m/s`), and a run of two or more one-letter pieces only when
  a `/` or a negative exponent shows it is a compound unit (`m s^{-2}`, not `m g`).
Each piece may carry an exponent (`^{-1}`, `^3`); pieces are joined by `/`, `\\cdot`, `*`, "per"
or spaces. Only the last 160 characters are examined: units are short, and the work stays linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAIL_CHARS = 160
_MAX_PIECES = 8

MATHS_WORDS = frozenset(
    "sin cos tan cot sec csc log ln exp sqrt pi and or mod arcsin arccos arctan sinh cosh tanh "
    "infty inf max min gcd lcm det deg frac cdot times".split()
)
SHORT_UNITS = frozenset(
    """cm mm km nm um dm kg mL ml dL Hz kHz MHz GHz eV keV MeV GeV TeV kJ MJ kW MW GW mW kV mV
    mA kPa MPa GPa hPa Pa atm bar psi mol Wb lm lx Bq Gy Sv rad sr mph kph ft yd mi in lb lbs oz
    gal qt pt hr hrs min sec yr yrs day AU pc kpc Mpc Gpc ly erg cal dB Da kDa rpm ms ns ps nC
    kWh Wh mAh old""".split()
)
SINGLE_LETTER_UNITS = frozenset("m s g h J N W V K".split())
MICRO_UNITS = frozenset("m s g L A V F J W T C H mol".split())

_EXPONENT = r"(?P<exponent>\s*\^\s*(?:\{\s*-?\s*\d+\s*\}|-?\d))?"
_BRACED_BODY = r"(?:[^{}]|\{[^{}]*\})*"
_PIECE_AT_END = re.compile(
    r"(?P<sep>\s*(?:/|\\cdot|\*|~|\bper\b)?\s*)"
    r"(?:(?P<command>\\(?:text|textrm|textnormal|mathrm|mbox|operatorname)\s*\{\s*~?\s*"
    rf"[A-Za-z°Å]{_BRACED_BODY}\}})"
    r"|(?P<micro>(?:\\mu|μ)\s*(?:\\(?:text|mathrm|mbox)\s*\{\s*(?P<micro_braced>[A-Za-z]+)\s*\}"
    r"|(?P<micro_plain>[A-Za-z]+)))"
    r"|(?P<symbol>\\Omega|Ω|\\AA|Å|\\ohm)"
    r"|(?P<word>(?<![\\A-Za-z])[A-Za-z]+))"
    rf"{_EXPONENT}\s*$"
)
_VALUE_END = re.compile(r"[\d})\]]$")
_PLAIN_NUMBER = re.compile(
    r"[+-]?(?:\d+(?:,\d{3})*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
    r"(?:\s*(?:\\times|\\cdot|\*|[xX])\s*10\s*\^\s*(?:\{\s*[+-]?\d+\s*\}|[+-]?\d+))?"
)


@dataclass(frozen=True)
class _Piece:
    start: int  # where the piece (with its separator) begins in the tail
    kind: (
        str  # "free" (text command), "valued" (needs a value before it), "number" (needs a number)
    )
    one_letter: bool
    compound: bool  # joined by "/" or raised to a negative power: a compound unit's part


def _classify(match: re.Match[str]) -> tuple[str, bool] | None:
    """(kind, one_letter) of a unit piece, or None when the match is not a unit."""
    if match.group("command"):
        return "free", False
    if match.group("symbol"):
        return "valued", False
    if match.group("micro"):
        name = match.group("micro_braced") or match.group("micro_plain")
        # counted as one letter: `\\mu m g` is friction × mass × g, not micrometre-grams
        return ("number", True) if name in MICRO_UNITS else None
    word = match.group("word")
    if word in MATHS_WORDS:
        return None
    if len(word) >= 4:
        return "valued", False
    if word in SHORT_UNITS:
        return "number", False
    if word in SINGLE_LETTER_UNITS:
        return "number", True
    return None


def _unit_pieces(tail: str) -> list[_Piece]:
    """The unit pieces at the end of `tail`, last first."""
    pieces: list[_Piece] = []
    end = len(tail)
    for _ in range(_MAX_PIECES):
        match = _PIECE_AT_END.search(tail, 0, end)
        if match is None:
            break
        classified = _classify(match)
        if classified is None:
            break
        exponent = match.group("exponent") or ""
        compound = "/" in match.group("sep") or "-" in exponent
        pieces.append(_Piece(match.start(), classified[0], classified[1], compound))
        end = match.start()
    return pieces


def _may_cut(pieces: list[_Piece], remainder: str) -> bool:
    """Whether all `pieces` (first to last) may be dropped, leaving `remainder`."""
    remainder = remainder.strip()
    if not remainder:
        return False
    kinds = {piece.kind for piece in pieces}
    if kinds == {"free"}:
        return True
    if "number" in kinds:
        if _PLAIN_NUMBER.fullmatch(remainder) is None:
            return False
        one_letter = [piece for piece in pieces if piece.one_letter]
        if len(one_letter) >= 2 and not any(piece.compound for piece in pieces):
            return False  # `2 m g`: a product of variables, not a unit
    return _VALUE_END.search(remainder) is not None


def strip_unit_tail(text: str) -> str:
    """`text` without its trailing unit (see the module docstring); never the whole answer."""
    head, tail = text[:-_TAIL_CHARS], text[-_TAIL_CHARS:]
    pieces = _unit_pieces(tail)
    # Try the longest run of pieces first, then shorter ones (the last pieces only).
    for count in range(len(pieces), 0, -1):
        run = pieces[:count]
        cut = run[-1].start
        if _may_cut(list(reversed(run)), tail[:cut]):
            return head + tail[:cut].rstrip()
    return text
