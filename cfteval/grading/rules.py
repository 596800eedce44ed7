"""Grading rules a benchmark declares in its YAML `grading:` section, carried on each GradeItem.

Why declared, not inferred from names: a rule keyed on how a benchmark's name starts breaks the
day someone adds `gsm8k_hard` or renames `aime24`; a rule in the benchmark's own file travels with
it, and adding a benchmark stays one YAML file. The keys (all optional):

    grading:
      relative_tolerance: 1e-4   # for answers written as decimals; 0 = exact (GSM8K, AIME)
      typed_answers: false       # TheoremQA: the answer type follows from the gold's shape
      choices: 4                 # multiple choice: how many letters are valid (4 → A-D)
      plain_number_answers: true # answers are plain numbers: an unstated answer may be the
                                 # text's last number (GSM8K-style); false: only a last number
                                 # its sentence states ("so the total is 47", not "zz qq 47")
      aliases: [gpqa]            # other names grade-file accepts for this benchmark

`rules_for(name)` looks a benchmark up by its name or an alias (exact match, never a prefix); an
item with no benchmark gets the defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from cfteval.errors import UserError
from cfteval.records import AnswerType

MATH_REL_TOL = 1e-4
_KEYS = {"relative_tolerance", "typed_answers", "choices", "plain_number_answers", "aliases"}
_INTEGER = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_OPTION = re.compile(r"\(?[a-eA-E]\)")


@dataclass(frozen=True)
class GradingRules:
    """How one benchmark's answers are graded (see the module docstring for each field)."""

    relative_tolerance: float = MATH_REL_TOL
    typed_answers: bool = False
    choices: int | None = None
    plain_number_answers: bool = True
    aliases: tuple[str, ...] = ()


DEFAULT_RULES = GradingRules()


def parse_rules(section: Any, where: str) -> GradingRules:
    """GradingRules from a YAML `grading:` mapping; a wrong key or value is a UserError."""
    if section is None:
        return DEFAULT_RULES
    if not isinstance(section, dict):
        raise UserError(f"{where}: grading must be a mapping")
    unknown = sorted(set(section) - _KEYS)
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(unknown)} in grading")
    tolerance = section.get("relative_tolerance", MATH_REL_TOL)
    if isinstance(tolerance, str):  # YAML reads `1e-4` (no dot) as a string
        try:
            tolerance = float(tolerance)
        except ValueError:
            tolerance = None
    if not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise UserError(f"{where}: grading.relative_tolerance must be a number in [0, 1)")
    choices = section.get("choices")
    if choices is not None and (not isinstance(choices, int) or not 2 <= choices <= 26):
        raise UserError(f"{where}: grading.choices must be an integer from 2 to 26")
    aliases = section.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise UserError(f"{where}: grading.aliases must be a list of names")
    flags = {}
    for key in ("typed_answers", "plain_number_answers"):
        value = section.get(key, getattr(DEFAULT_RULES, key))
        if not isinstance(value, bool):
            raise UserError(f"{where}: grading.{key} must be true or false")
        flags[key] = value
    return GradingRules(float(tolerance), choices=choices, aliases=tuple(aliases), **flags)


@cache
def _rules_by_name() -> dict[str, tuple[str, GradingRules, str]]:
    """name or alias → (registered name, rules, declared answer type)."""
    from cfteval.benchmarks import all_specs

    table: dict[str, tuple[str, GradingRules, str]] = {}
    for spec in all_specs():
        for name in (spec.name, *spec.grading.aliases):
            table[name] = (spec.name, spec.grading, spec.answer_type)
    return table


def known_benchmark(name: str) -> str | None:
    """The registered name for a benchmark name or alias, or None when there is no such one."""
    found = _rules_by_name().get(name)
    return found[0] if found else None


def benchmark_names() -> list[str]:
    """Every name and alias `known_benchmark` accepts, for error messages."""
    return sorted(_rules_by_name())


def rules_for(benchmark: str) -> GradingRules:
    """The rules of the benchmark called `benchmark` (a name or an alias); defaults otherwise."""
    if not benchmark:
        return DEFAULT_RULES
    try:
        found = _rules_by_name().get(benchmark)
    except UserError:  # a broken registry: grade with the defaults rather than not at all
        return DEFAULT_RULES
    return found[1] if found else DEFAULT_RULES


def declared_answer_type(benchmark: str) -> str | None:
    """The answer type a benchmark's YAML declares ("per_row" for TheoremQA), or None."""
    found = _rules_by_name().get(benchmark)
    return found[2] if found else None


def infer_typed_answer(gold: str) -> AnswerType:
    """The answer type of a typed-answer benchmark's gold (TheoremQA), from its shape: the one
    inference used everywhere (grade-file, equivalence)."""
    text = gold.strip()
    if text.lower() in ("true", "false"):
        return AnswerType.BOOL
    if _OPTION.fullmatch(text):
        return AnswerType.OPTION
    if text.startswith("[") and text.endswith("]"):
        return AnswerType.LIST
    if _INTEGER.fullmatch(text):
        return AnswerType.INTEGER
    if _FLOAT.fullmatch(text):
        return AnswerType.FLOAT
    return AnswerType.MATH
