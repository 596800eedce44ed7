"""`cfteval grade-file`: grade (gold, prediction) pairs from a JSONL file, no model needed.

Each input line needs `gold`, `pred` and `benchmark`; `answer_type` (and `n_choices`) are
optional and otherwise inferred from the benchmark. The output line is the input line plus
`correct`, `extracted` and `timed_out`. If lines carry a hand-checked `equal` verdict, the
summary also reports agreement with it: that is how a grader change is checked against
labelled cases (e.g. ../shared/grading/cases.dev.jsonl).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfteval.errors import UserError
from cfteval.grading.sandbox import grade_items
from cfteval.grading.types import GradeItem
from cfteval.records import ANSWER_TYPES
from cfteval.store import iter_jsonl

_INTEGER = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


def infer_answer_type(benchmark: str, gold: str) -> tuple[str, int | None]:
    """(answer_type, n_choices) for a benchmark name: GPQA 4 letters, MMLU-Pro 10, TheoremQA
    from the gold's shape, everything else free-form maths."""
    name = benchmark.lower()
    if name.startswith("gpqa"):
        return "multiple_choice", 4
    if name.startswith("mmlu_pro") or name.startswith("mmlu-pro"):
        return "multiple_choice", 10
    if name.startswith("theoremqa"):
        text = gold.strip()
        if text in ("True", "False"):
            return "bool", None
        if _INTEGER.fullmatch(text):
            return "integer", None
        if _FLOAT.fullmatch(text):
            return "float", None
        if re.fullmatch(r"\(?[a-dA-D]\)", text):
            return "option", None
        if text.startswith("[") and text.endswith("]"):
            return "list", None
    return "math", None


@dataclass
class Case:
    """One input line, kept whole so that the output can echo it."""

    row: dict[str, Any]
    item: GradeItem


def read_cases(path: Path) -> list[Case]:
    """Parse the input file; a malformed line is a UserError naming the file and line."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    return [Case(row, _item_from_row(row, where)) for where, row in iter_jsonl(path)]


def _item_from_row(row: Any, where: str) -> GradeItem:
    if not isinstance(row, dict):
        raise UserError(f"{where}: expected a JSON object with gold, pred and benchmark")
    missing = [key for key in ("gold", "pred", "benchmark") if key not in row]
    if missing:
        raise UserError(f"{where}: missing field(s) {', '.join(missing)}")
    for key in ("gold", "pred", "benchmark"):
        if not isinstance(row[key], str):
            raise UserError(f"{where}: field {key!r} must be a string")
    answer_type, n_choices = infer_answer_type(row["benchmark"], row["gold"])
    if "answer_type" in row:
        answer_type = row["answer_type"]
        if isinstance(answer_type, str) and answer_type.startswith("list of "):
            answer_type = "list"  # TheoremQA's own names: "list of integer", "list of float"
        if answer_type not in ANSWER_TYPES:
            raise UserError(
                f"{where}: unknown answer_type {answer_type!r}; "
                f"choose one of {', '.join(ANSWER_TYPES)}"
            )
    if row.get("n_choices") is not None:
        n_choices = row["n_choices"]
        if not isinstance(n_choices, int) or n_choices < 2:
            raise UserError(f"{where}: n_choices must be an integer ≥ 2")
    return GradeItem(row["pred"], row["gold"], answer_type, row["benchmark"], n_choices)


def grade_cases(
    cases: list[Case],
    profile: str,
    timeout: float,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Output rows: each input row plus `correct`, `extracted` and `timed_out`."""
    results = grade_items(
        [case.item for case in cases],
        profile=profile,
        timeout=timeout,
        workers=workers,
        progress=progress,
    )
    return [
        case.row
        | {"correct": result.correct, "extracted": result.extracted, "timed_out": result.timed_out}
        for case, result in zip(cases, results, strict=True)
    ]


def summarize_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """n, accuracy (%), time-outs; with labelled input also agreement and the error kinds."""
    n = len(rows)
    summary: dict[str, Any] = {
        "n": n,
        "accuracy": round(100.0 * sum(r["correct"] for r in rows) / n, 2) if n else 0.0,
        "timeouts": sum(r["timed_out"] for r in rows),
    }
    labelled = [r for r in rows if isinstance(r.get("equal"), bool)]
    if labelled:
        summary["labelled"] = len(labelled)
        agree = sum(r["correct"] == r["equal"] for r in labelled)
        summary["agreement"] = round(100.0 * agree / len(labelled), 2)
        summary["false_positives"] = sum(r["correct"] and not r["equal"] for r in labelled)
        summary["false_negatives"] = sum(r["equal"] and not r["correct"] for r in labelled)
    return summary
