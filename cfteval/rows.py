"""Turn one benchmark row (a dict, from a local file or the dataset hub) into a `Problem`.

Every benchmark's row goes through `parse_row`, driven by the rules its YAML file declares, so
that a local copy and the hub copy of the same benchmark are normalised by the same code. The
gold answer is derived by one of a few named rules (`GOLD_RULES`); a new benchmark only needs a
new rule when its answer format is new.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cfteval.errors import UserError
from cfteval.grading.boxes import last_boxed  # one brace matcher for golds and model text
from cfteval.records import ANSWER_TYPES, Problem

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# A spec's answer_type may say that every row carries its own type (TheoremQA).
PER_ROW = "per_row"

# TheoremQA's Answer_type values → records.ANSWER_TYPES.
THEOREMQA_TYPES = {
    "integer": "integer",
    "float": "float",
    "bool": "bool",
    "option": "option",
    "list of integer": "list",
    "list of float": "list",
}

_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


def scalar_text(value: Any) -> str:
    """A dataset value as answer text: `27.0` → "27", `True` → "True", strings stripped.

    AMC23 stores whole answers as floats; "27" is what a solver writes and what a reader expects.
    """
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if value is None:
        return ""
    return str(value).strip()


@dataclass(frozen=True)
class Gold:
    """What a gold rule derives from a row: the gold text and, for some rules, more."""

    text: str
    answer_type: str | None = None  # overrides the spec's type (TheoremQA's per-row types)
    choices: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RowContext:
    """Where a row came from (for messages) and what a rule may need besides the row."""

    where: str
    problem_id: str
    seed: int


def require(row: Mapping[str, Any], name: str, where: str) -> Any:
    """row[name], or a UserError naming the file position and the missing field."""
    if name not in row:
        raise UserError(f"{where}: missing field {name!r} (fields: {', '.join(map(str, row))})")
    return row[name]


def _gold_field(row: Mapping[str, Any], params: Mapping[str, Any], ctx: RowContext) -> Gold:
    return Gold(scalar_text(require(row, params["field"], ctx.where)))


def _gold_last_boxed(row: Mapping[str, Any], params: Mapping[str, Any], ctx: RowContext) -> Gold:
    solution = str(require(row, params["field"], ctx.where))
    boxed = last_boxed(solution)
    if boxed is None:
        raise UserError(f"{ctx.where}: no \\boxed{{...}} in field {params['field']!r}")
    return Gold(boxed.strip())


def _gold_after_hash_marks(
    row: Mapping[str, Any], params: Mapping[str, Any], ctx: RowContext
) -> Gold:
    answer = str(require(row, params["field"], ctx.where))
    if "####" not in answer:
        raise UserError(f"{ctx.where}: no '####' in field {params['field']!r}")
    gold = answer.rsplit("####", 1)[1].strip()
    # GSM8K writes thousands as "2,125": a separator, not a list, so it goes.
    if _THOUSANDS.fullmatch(gold):
        gold = gold.replace(",", "")
    return Gold(gold)


def _gold_joined_list(row: Mapping[str, Any], params: Mapping[str, Any], ctx: RowContext) -> Gold:
    value = require(row, params["field"], ctx.where)
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    # `$...$` delimiters are typesetting, not part of the answer.
    answers = [_UNESCAPED_DOLLAR.sub("", scalar_text(item)).strip() for item in items]
    return Gold(", ".join(answer for answer in answers if answer))


def _gold_theoremqa_typed(
    row: Mapping[str, Any], params: Mapping[str, Any], ctx: RowContext
) -> Gold:
    declared = scalar_text(require(row, params["type_field"], ctx.where))
    if declared not in THEOREMQA_TYPES:
        known = ", ".join(THEOREMQA_TYPES)
        raise UserError(f"{ctx.where}: unknown answer type {declared!r} (known: {known})")
    value = require(row, params["field"], ctx.where)
    if isinstance(value, (list, tuple)):
        text = "[" + ", ".join(scalar_text(item) for item in value) + "]"
    else:
        text = scalar_text(value)  # the hub copy stores answers as strings already
    return Gold(text, answer_type=THEOREMQA_TYPES[declared], meta={"answer_subtype": declared})


def _gold_options_letter(
    row: Mapping[str, Any], params: Mapping[str, Any], ctx: RowContext
) -> Gold:
    options = [str(option) for option in require(row, params["options"], ctx.where)]
    letter = scalar_text(require(row, params["field"], ctx.where)).upper()
    if len(letter) != 1 or letter not in LETTERS[: len(options)]:
        raise UserError(f"{ctx.where}: answer {letter!r} is not one of {len(options)} options")
    original = LETTERS.index(letter)
    # Some copies pad the options to ten with "N/A"; dropping them shifts later letters.
    kept = [index for index, option in enumerate(options) if option.strip() != "N/A"]
    if original not in kept:
        raise UserError(f"{ctx.where}: the correct option {letter} is 'N/A'")
    meta = {"dropped_na": len(options) - len(kept)} if len(kept) < len(options) else {}
    return Gold(
        LETTERS[kept.index(original)], choices=[options[index] for index in kept], meta=meta
    )


def _gold_shuffled_choices(
    row: Mapping[str, Any], params: Mapping[str, Any], ctx: RowContext
) -> Gold:
    names = [params["correct"], *params["incorrect"]]
    answers = [scalar_text(require(row, name, ctx.where)) for name in names]
    if not all(answers):
        raise UserError(f"{ctx.where}: an empty answer among {', '.join(names)}")
    # One generator per (seed, question): a question's order does not depend on which other
    # questions are loaded (--limit, subsets), and the same seed always gives the same order.
    rng = random.Random(f"{ctx.seed}:{ctx.problem_id}")
    order = list(range(len(answers)))
    rng.shuffle(order)
    return Gold(
        LETTERS[order.index(0)],  # answers[0] is the correct one
        choices=[answers[index] for index in order],
        meta={"shuffle_seed": ctx.seed, "choice_order": order},
    )


GoldRule = Callable[[Mapping[str, Any], Mapping[str, Any], RowContext], Gold]

# Rule name → (function, the parameters its YAML `gold:` block must give).
GOLD_RULES: dict[str, tuple[GoldRule, frozenset[str]]] = {
    "field": (_gold_field, frozenset({"field"})),
    "last_boxed_of_solution": (_gold_last_boxed, frozenset({"field"})),
    "after_hash_marks": (_gold_after_hash_marks, frozenset({"field"})),
    "joined_list": (_gold_joined_list, frozenset({"field"})),
    "theoremqa_typed": (_gold_theoremqa_typed, frozenset({"field", "type_field"})),
    "options_letter": (_gold_options_letter, frozenset({"field", "options"})),
    "shuffled_choices": (_gold_shuffled_choices, frozenset({"correct", "incorrect"})),
}


@dataclass(frozen=True)
class RowRules:
    """How one source's rows map onto a Problem (a hub copy may use other field names)."""

    benchmark: str
    answer_type: str  # one of ANSWER_TYPES, or PER_ROW
    question_field: str
    gold: Mapping[str, Any]  # {"rule": name, ...the rule's parameters}
    id_field: str | None = None  # None: the row index is the id
    meta: Mapping[str, str] = field(default_factory=dict)  # meta key → row field
    flags: Mapping[str, str] = field(default_factory=dict)  # meta key → row field, as a bool
    question_suffix: Mapping[str, str] | None = None  # {"text": ..., "when_answer_type": ...}


def _meta_value(value: Any) -> Any:
    """Keep JSON-friendly values as they are; anything else (an image, say) as text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)) and all(
        isinstance(item, (str, int, float, bool)) for item in value
    ):
        return list(value)
    return str(value)


def _is_present(value: Any) -> bool:
    return value is not None and value != "" and value != "None"


def parse_row(
    rules: RowRules, row: Mapping[str, Any], index: int, where: str, seed: int = 0
) -> Problem:
    """One row → Problem; `index` is the row's position (its id when the data has none)."""
    problem_id = (
        str(index) if rules.id_field is None else scalar_text(require(row, rules.id_field, where))
    )
    if not problem_id:
        raise UserError(f"{where}: empty id in field {rules.id_field!r}")
    ctx = RowContext(where=where, problem_id=problem_id, seed=seed)
    rule, _ = GOLD_RULES[rules.gold["rule"]]
    gold = rule(row, rules.gold, ctx)
    if not gold.text:
        raise UserError(f"{where}: empty gold answer (rule {rules.gold['rule']})")
    answer_type = gold.answer_type or rules.answer_type
    if answer_type not in ANSWER_TYPES:
        raise UserError(f"{where}: answer type {answer_type!r} is not one of {ANSWER_TYPES}")

    question = scalar_text(require(row, rules.question_field, where))
    if not question:
        raise UserError(f"{where}: empty question in field {rules.question_field!r}")
    suffix = rules.question_suffix
    if suffix and suffix.get("when_answer_type", answer_type) == answer_type:
        question += suffix["text"]

    meta: dict[str, Any] = {}
    for key, name in rules.meta.items():
        if name in row and row[name] is not None:
            meta[key] = _meta_value(row[name])
    for key, name in rules.flags.items():
        meta[key] = _is_present(row.get(name))
    meta.update(gold.meta)
    return Problem(
        benchmark=rules.benchmark,
        id=problem_id,
        question=question,
        gold=gold.text,
        answer_type=answer_type,
        choices=gold.choices,
        meta=meta,
    )
