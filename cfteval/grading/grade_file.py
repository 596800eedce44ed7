"""`cfteval grade-file`: grade (gold, prediction) pairs from a JSONL file, no model needed.

Each input line needs `gold`, `pred` and `benchmark` (a registered benchmark or one of its
aliases: `cfteval benchmarks` lists them); `answer_type`, `n_choices` and `finish_reason`
("length" for a generation cut at max tokens) are optional, the first two otherwise follow from
the benchmark's YAML. The output line is the input line plus `correct`, `extracted` and
`timed_out`. If lines carry a hand-checked `equal` verdict, the summary also reports agreement
with it: that is how a grader change is checked against labelled cases
(e.g. ../shared/grading/cases.dev.jsonl).

Input is streamed and output written as it goes, in batches, so that a file of any size runs in
bounded memory and a bad line late in the file costs nothing already graded. Any text a model
can emit round-trips, lone surrogates included (written as JSON escapes). A user mistake (not
UTF-8, malformed or absurd JSON, an unknown benchmark) is one line naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cfteval.errors import UserError
from cfteval.grading.rules import (
    benchmark_names,
    declared_answer_type,
    infer_typed_answer,
    known_benchmark,
    rules_for,
)
from cfteval.grading.sandbox import GradingPool
from cfteval.grading.types import FinishReason, GradeItem
from cfteval.records import ANSWER_TYPES, AnswerType

BATCH = 256  # lines graded (and written) together: big enough to keep the pool busy
_BOM = b"\xef\xbb\xbf"


def infer_answer_type(benchmark: str, gold: str) -> tuple[str, int | None]:
    """(answer_type, n_choices) as the benchmark's YAML declares them; a typed-answer benchmark
    (TheoremQA) takes the type from the gold's shape. Unknown benchmarks: free-form maths."""
    name = known_benchmark(benchmark)
    if name is None:
        return AnswerType.MATH, None
    rules = rules_for(name)
    declared = declared_answer_type(name)
    if declared not in ANSWER_TYPES:  # "per_row": the type is the gold's
        return (infer_typed_answer(gold) if rules.typed_answers else AnswerType.MATH), None
    return AnswerType(declared), rules.choices


@dataclass
class Case:
    """One input line, kept whole so that the output can echo it."""

    row: dict[str, Any]
    item: GradeItem


def iter_cases(path: Path) -> Iterator[Case]:
    """Parse the input file line by line; a bad line is a UserError naming the file and line."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            where = f"{path}:{line_number}"
            row = _parse_line(raw[3:] if line_number == 1 and raw.startswith(_BOM) else raw, where)
            if row is not None:
                yield Case(row, _item_from_row(row, where))


def read_cases(path: Path) -> list[Case]:
    """All cases of a file (tests and small files; the CLI streams with `iter_cases`)."""
    return list(iter_cases(path))


def _parse_line(raw: bytes, where: str) -> Any | None:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{where}: not valid UTF-8 (byte {error.start + 1})") from None
    if not line.strip():
        return None
    try:
        return json.loads(line)
    except RecursionError:
        raise UserError(f"{where}: JSON nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, or an integer past Python's digit limit
        message = getattr(error, "msg", None) or str(error).split(";")[0]
        raise UserError(f"{where}: malformed JSON line ({message})") from None


def _item_from_row(row: Any, where: str) -> GradeItem:
    if not isinstance(row, dict):
        raise UserError(f"{where}: expected a JSON object with gold, pred and benchmark")
    missing = [key for key in ("gold", "pred", "benchmark") if key not in row]
    if missing:
        raise UserError(f"{where}: missing field(s) {', '.join(missing)}")
    for key in ("gold", "pred", "benchmark"):
        if not isinstance(row[key], str):
            raise UserError(f"{where}: field {key!r} must be a string")
    benchmark = known_benchmark(row["benchmark"])
    if benchmark is None:
        raise UserError(
            f"{where}: unknown benchmark {row['benchmark'][:60]!r}; "
            f"choose one of {', '.join(benchmark_names())}"
        )
    answer_type, n_choices = infer_answer_type(benchmark, row["gold"])
    if "answer_type" in row:
        answer_type = row["answer_type"]
        if isinstance(answer_type, str) and answer_type.startswith("list of "):
            answer_type = "list"  # TheoremQA's own names: "list of integer", "list of float"
        if answer_type not in ANSWER_TYPES:
            raise UserError(
                f"{where}: unknown answer_type {str(answer_type)[:40]!r}; "
                f"choose one of {', '.join(ANSWER_TYPES)}"
            )
    if row.get("n_choices") is not None:
        n_choices = row["n_choices"]
        if type(n_choices) is not int or not 2 <= n_choices <= 26:
            raise UserError(f"{where}: n_choices must be an integer from 2 to 26")
    finish_reason = row.get("finish_reason")
    if finish_reason is not None and not isinstance(finish_reason, str):
        raise UserError(
            f"{where}: finish_reason must be a string such as "
            f"{', '.join(repr(r.value) for r in FinishReason)}"
        )
    return GradeItem(
        row["pred"],
        row["gold"],
        str(answer_type),
        benchmark,
        n_choices,
        finish_reason=finish_reason,
        rules=rules_for(benchmark),
    )


@dataclass
class Summary:
    """Running counts over graded rows (no row is kept)."""

    n: int = 0
    correct: int = 0
    timeouts: int = 0
    labelled: int = 0
    agree: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    def add(self, row: dict[str, Any]) -> None:
        self.n += 1
        self.correct += bool(row["correct"])
        self.timeouts += bool(row["timed_out"])
        if isinstance(row.get("equal"), bool):
            self.labelled += 1
            self.agree += row["correct"] == row["equal"]
            self.false_positives += row["correct"] and not row["equal"]
            self.false_negatives += row["equal"] and not row["correct"]

    def as_dict(self) -> dict[str, Any]:
        """n, accuracy (%), time-outs; with labelled input also agreement and the error kinds."""
        summary: dict[str, Any] = {
            "n": self.n,
            "accuracy": round(100.0 * self.correct / self.n, 2) if self.n else 0.0,
            "timeouts": self.timeouts,
        }
        if self.labelled:
            summary["labelled"] = self.labelled
            summary["agreement"] = round(100.0 * self.agree / self.labelled, 2)
            summary["false_positives"] = self.false_positives
            summary["false_negatives"] = self.false_negatives
        return summary


def _batches(cases: Iterable[Case], size: int) -> Iterator[list[Case]]:
    batch: list[Case] = []
    for case in cases:
        batch.append(case)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def grade_stream(
    cases: Iterable[Case],
    write_row: Callable[[dict[str, Any]], None],
    profile: str,
    timeout: float,
    workers: int | None = None,
) -> dict[str, Any]:
    """Grade `cases` batch by batch in one worker pool, handing each output row to `write_row`
    as soon as its batch is graded; return the summary (see `Summary.as_dict`)."""
    summary = Summary()
    with GradingPool(workers) as pool:
        for batch in _batches(cases, BATCH):
            results = pool.grade([case.item for case in batch], profile=profile, timeout=timeout)
            for case, result in zip(batch, results, strict=True):
                row = case.row | {
                    "correct": result.correct,
                    "extracted": result.extracted,
                    "timed_out": result.timed_out,
                }
                summary.add(row)
                write_row(row)
    return summary.as_dict()


def grade_cases(
    cases: list[Case], profile: str, timeout: float, workers: int | None = None
) -> list[dict[str, Any]]:
    """Output rows for a list of cases (see `grade_stream`)."""
    rows: list[dict[str, Any]] = []
    grade_stream(cases, rows.append, profile, timeout, workers)
    return rows


def summarize_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary of already graded rows (see `Summary.as_dict`)."""
    summary = Summary()
    for row in rows:
        summary.add(row)
    return summary.as_dict()


def json_line(row: dict[str, Any]) -> bytes:
    """One output line as UTF-8. Text is kept readable; a string holding a lone surrogate (which
    UTF-8 cannot encode) is written with JSON escapes instead, so that it still round-trips."""
    text = json.dumps(row, ensure_ascii=False)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(row) + "\n").encode("ascii")


def row_writer(handle: BinaryIO) -> Callable[[dict[str, Any]], None]:
    """A `write_row` for `grade_stream` that writes and flushes each line to a binary stream."""

    def write(row: dict[str, Any]) -> None:
        handle.write(json_line(row))
        handle.flush()

    return write


def summary_line(summary: dict[str, Any]) -> str:
    """The one-line summary printed on stderr."""
    parts = [f"n={summary['n']}", f"accuracy={summary['accuracy']:.2f}%"]
    if "agreement" in summary:
        parts += [
            f"agreement={summary['agreement']:.2f}% ({summary['labelled']} labelled)",
            f"false_positives={summary['false_positives']}",
            f"false_negatives={summary['false_negatives']}",
        ]
    parts.append(f"timeouts={summary['timeouts']}")
    return "  ".join(parts)
