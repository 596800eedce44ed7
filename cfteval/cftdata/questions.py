"""Questions with gold answers for `cfteval cft-data`: a user's file or a registered benchmark.

A file is JSONL, JSON or parquet with `question` and `answer` fields (renamed with `--fields`),
an optional `id`, and, for reference solutions instead of a solver's (the paper's Table 6), a
column holding one solution or a list of them. Every row is checked before any model loads; a
bad one is reported with its file and line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfteval.benchmarks import data_fingerprint, get_spec, load_problems
from cfteval.errors import UserError
from cfteval.loaders import read_data_file, sha256_file
from cfteval.records import ANSWER_TYPES, Problem

# Logical fields of a questions file; `id` is optional (the row number stands in).
QUESTION_FIELDS = ("id", "question", "answer")
DEFAULT_TEMPLATE = "qwen25-math-cot"
REFERENCE_META = "reference_solutions"


@dataclass
class QuestionSet:
    """The questions of one `cft-data` run and where they came from (for the manifest)."""

    problems: list[Problem]
    source: str
    fingerprint: str
    prompt_template: str
    stop: tuple[str, ...]


def parse_fields(spec: str | None) -> dict[str, str]:
    """`--fields question=problem,answer=gold` → {logical field: column}."""
    mapping: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        name, sep, column = (piece.strip() for piece in part.partition("="))
        if not sep or not column:
            raise UserError(f"--fields: {part.strip()!r} is not field=column")
        if name not in QUESTION_FIELDS:
            raise UserError(
                f"--fields: unknown field {name!r}; known: {', '.join(QUESTION_FIELDS)}"
            )
        mapping[name] = column
    return mapping


def _text_value(value: Any, where: str, column: str) -> str:
    """Text or a number (gold answers are often numbers in JSON) as text; anything else refused."""
    if isinstance(value, bool) or value is None:
        raise UserError(f"{where}: field {column!r} must be text or a number, got {value!r}")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{where}: field {column!r} is not a finite number")
        return str(value)
    if not isinstance(value, str):
        raise UserError(f"{where}: field {column!r} must be text, got {type(value).__name__}")
    return value


def _solutions(value: Any, where: str, column: str) -> list[str]:
    """A reference-solution cell: one text or a list of texts (lists come back from parquet as
    arrays, hence `tolist`)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    items = value if isinstance(value, list) else [value]
    texts = [_text_value(item, where, column) for item in items]
    return [text for text in texts if text.strip()]


def _problem(
    where: str,
    row: dict[str, Any],
    number: int,
    columns: dict[str, str],
    answer_type: str,
    solutions_column: str | None,
) -> Problem:
    def field(name: str) -> str:
        column = columns.get(name, name)
        if column not in row:
            raise UserError(f"{where}: no field {column!r} (rename with --fields {name}=COLUMN)")
        text = _text_value(row[column], where, column)
        if not text.strip():
            raise UserError(f"{where}: empty {name} (field {column!r})")
        return text

    id_column = columns.get("id", "id")
    problem_id = field("id") if id_column in row else str(number)
    meta: dict[str, Any] = {"where": where}
    if solutions_column is not None:
        if solutions_column not in row:
            raise UserError(f"{where}: no field {solutions_column!r} (--solutions-column)")
        meta[REFERENCE_META] = _solutions(row[solutions_column], where, solutions_column)
    return Problem(
        "questions", problem_id, field("question"), field("answer").strip(), answer_type, meta=meta
    )


def load_question_file(
    path: Path,
    columns: dict[str, str],
    answer_type: str,
    solutions_column: str | None = None,
    limit: int | None = None,
) -> list[Problem]:
    """Every row of `path` as a Problem, validated; duplicate ids and an empty file refused."""
    if answer_type not in ANSWER_TYPES:
        raise UserError(f"--answer-type {answer_type!r}: choose one of {', '.join(ANSWER_TYPES)}")
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for number, (where, row) in enumerate(read_data_file(path), start=1):
        if limit is not None and len(problems) >= limit:
            break
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected an object with question and answer fields")
        problem = _problem(where, row, number, columns, answer_type, solutions_column)
        if problem.id in seen:
            raise UserError(f"{where}: id {problem.id!r} already used at {seen[problem.id]}")
        seen[problem.id] = where
        problems.append(problem)
    if not problems:
        raise UserError(f"--questions {path}: no rows")
    return problems


def load_questions(
    questions: str,
    *,
    columns: dict[str, str] | None = None,
    answer_type: str = "math",
    solutions_column: str | None = None,
    data_dir: Path | None = None,
    limit: int | None = None,
) -> QuestionSet:
    """A questions file, else a registered benchmark's test split (by name)."""
    path = Path(questions)
    if path.is_file():
        problems = load_question_file(path, columns or {}, answer_type, solutions_column, limit)
        protocol = get_spec("gsm8k")  # the protocol's maths prompt and stop strings
        return QuestionSet(
            problems, str(path.resolve()), f"sha256:{sha256_file(path)}", DEFAULT_TEMPLATE,
            tuple(protocol.stop),
        )  # fmt: skip
    if path.exists() or "/" in questions or path.suffix:
        raise UserError(f"--questions {questions}: no such file (or a registered benchmark name)")
    if columns or solutions_column:
        raise UserError(
            "--fields and --solutions-column apply to a questions file, not a benchmark"
        )
    name = questions.strip().lower()
    try:
        spec = get_spec(name)
    except UserError as error:
        raise UserError(f"--questions {questions}: not a file, and {error}") from None
    problems = load_problems(name, data_dir, limit)
    return QuestionSet(
        problems, f"benchmark:{name}", data_fingerprint(name, data_dir), spec.prompt_template,
        tuple(spec.stop),
    )  # fmt: skip
