"""What the user reads: the summary table of an evaluation (rich).

Leaderboard CSVs and the paper's table layouts arrive in a later issue and belong here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.table import Table


class _Scored(Protocol):
    benchmark: str
    mode: str
    temperature: float
    metrics: dict


def summary_table(results: Sequence[_Scored], title: str = "accuracy (%)") -> Table:
    """Benchmarks as columns plus AVG (unweighted mean over benchmarks); one row per mode × temperature."""
    benchmarks = list(dict.fromkeys(result.benchmark for result in results))
    rows = list(dict.fromkeys((result.mode, result.temperature) for result in results))
    scores = {(r.mode, r.temperature, r.benchmark): r.metrics for r in results}
    table = Table(title=title)
    table.add_column("mode")
    table.add_column("T", justify="right")
    for benchmark in benchmarks:
        table.add_column(benchmark, justify="right")
    table.add_column("AVG", justify="right", style="bold")
    for mode, temperature in rows:
        cells, values = [], []
        for benchmark in benchmarks:
            metrics = scores.get((mode, temperature, benchmark))
            if metrics is None:
                cells.append("—")
                continue
            values.append(metrics["accuracy"])
            cells.append(f"{metrics['accuracy']:.1f}")
        average = f"{sum(values) / len(values):.1f}" if values else "—"
        table.add_row(mode, f"{temperature:g}", *cells, average)
    return table


def counts_line(results: Sequence[_Scored]) -> str:
    """One line with the totals a reader should know about (time-outs, empty answers, truncation)."""
    totals = {"n_samples": 0, "timeouts": 0, "empty_answers": 0, "truncated": 0}
    for result in results:
        for key in totals:
            totals[key] += int(result.metrics.get(key, 0))
    return (
        f"{totals['n_samples']} samples graded; {totals['timeouts']} grader time-outs, "
        f"{totals['empty_answers']} without an answer, {totals['truncated']} cut at max tokens"
    )


def _cell(value: object, spec: str = ".1f") -> str:
    return "—" if value is None else format(value, spec)


def critic_table(results: Sequence[_Scored], title: str = "self-critique") -> Table:
    """The compute and the critic's quality of every run: one row per benchmark × mode × T.

    Precision/recall of the "Correct" (C) and "Incorrect" (I) verdicts are against the grader;
    "none" is the share of critiques without a parseable verdict.
    """
    table = Table(title=title)
    columns = [
        "benchmark", "mode", "T", "acc", "attempts", "tokens/problem", "P(C)", "R(C)",
        "P(I)", "R(I)", "none %", "wrong→right", "right→wrong",
    ]  # fmt: skip
    for index, name in enumerate(columns):
        table.add_column(name, justify="left" if index < 2 else "right")
    for result in results:
        m = result.metrics
        table.add_row(
            result.benchmark,
            result.mode,
            f"{result.temperature:g}",
            _cell(m.get("accuracy")),
            _cell(m.get("mean_attempts", 1.0), ".2f"),
            _cell(m.get("tokens_per_problem"), ".0f"),
            _cell(m.get("precision_correct")),
            _cell(m.get("recall_correct")),
            _cell(m.get("precision_incorrect")),
            _cell(m.get("recall_incorrect")),
            _cell(m.get("unparseable_share")),
            _cell(m.get("flips_wrong_to_right"), "d"),
            _cell(m.get("flips_right_to_wrong"), "d"),
        )
    return table
