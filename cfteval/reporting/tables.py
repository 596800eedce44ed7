"""Rich tables for the terminal: the end-of-run summary, run lists, one run, regrade results."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from rich.markup import escape
from rich.table import Table

from cfteval.regrade import RegradeResult
from cfteval.rundir import Run


class _Scored(Protocol):
    benchmark: str
    mode: str
    temperature: float
    metrics: dict


_PASS_OR_MAJ = re.compile(r"^(pass|maj)@(\d+)$")


def sampling_metric_names(metrics_list: Sequence[dict[str, Any]]) -> list[str]:
    """pass@k and maj@k names present in any of the metrics, in k order (pass before maj)."""
    names = {key for metrics in metrics_list for key in metrics if _PASS_OR_MAJ.match(key)}
    return sorted(names, key=lambda name: (name.startswith("maj"), int(name.split("@")[1])))


def _cell(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def summary_table(results: Sequence[_Scored], title: str = "accuracy (%)") -> Table:
    """One row per run: problems, samples per problem, accuracy ± standard error, pass@k, maj@n.

    An AVG row per (mode, temperature) closes each group: the unweighted mean over benchmarks,
    as the paper averages.
    """
    extra = sampling_metric_names([r.metrics for r in results])
    table = Table(title=title)
    for name in ("benchmark", "mode", "T", "problems", "n", "accuracy", "± se", *extra):
        table.add_column(name, justify="left" if name in ("benchmark", "mode") else "right")
    table.add_column("time-outs", justify="right")
    groups = list(dict.fromkeys((r.mode, r.temperature) for r in results))
    for mode, temperature in groups:
        members = [r for r in results if (r.mode, r.temperature) == (mode, temperature)]
        for r in members:
            m = r.metrics
            table.add_row(
                r.benchmark,
                mode,
                f"{temperature:g}",
                str(m.get("n_problems", "—")),
                str(m.get("samples_per_problem", "—")),
                _cell(m.get("accuracy")),
                _cell(m.get("stderr")),
                *[_cell(m.get(name)) for name in extra],
                str(m.get("timeouts", 0)),
            )
        if len(members) > 1:
            average = sum(r.metrics["accuracy"] for r in members) / len(members)
            blanks = [""] * (2 + len(extra))  # ± se, pass@k/maj@n, time-outs
            table.add_row(
                "[bold]AVG[/]", mode, f"{temperature:g}", "", "", f"[bold]{average:.1f}[/]", *blanks
            )
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


def greedy_note(n: int, temperatures: Sequence[float]) -> str | None:
    """Says that greedy decoding turned --n into one sample, when it did."""
    if n > 1 and any(t == 0 for t in temperatures):
        return (
            f"T=0 is greedy decoding: --n {n} became one sample per problem there "
            "(n identical samples would add nothing)"
        )
    return None


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
            _cell(m.get("mean_attempts", 1.0), 2),
            _cell(m.get("tokens_per_problem"), 0),
            _cell(m.get("precision_correct")),
            _cell(m.get("recall_correct")),
            _cell(m.get("precision_incorrect")),
            _cell(m.get("recall_incorrect")),
            _cell(m.get("unparseable_share")),
            _cell(m.get("flips_wrong_to_right"), 0),
            _cell(m.get("flips_right_to_wrong"), 0),
        )
    return table


def runs_table(runs: Sequence[Run], root: Path | None = None) -> Table:
    """`cfteval runs`: one row per run folder."""
    table = Table(title=f"{len(runs)} runs")
    for name in ("model", "benchmark", "mode", "T", "n", "problems", "accuracy", "± se"):
        table.add_column(
            name, justify="right" if name not in ("model", "benchmark", "mode") else "left"
        )
    table.add_column("profile")
    table.add_column("date")
    table.add_column("folder", overflow="fold")
    for run in runs:
        m = run.metrics
        table.add_row(
            escape(run.model),
            run.benchmark,
            run.mode,
            f"{run.temperature:g}",
            str(m.get("samples_per_problem", "—")),
            str(m.get("n_problems", "—")),
            _cell(m.get("accuracy")),
            _cell(m.get("stderr")),
            run.profile,
            run.date[:19],
            escape(label(run.path, root)),
        )
    return table


def metrics_table(run: Run) -> Table:
    """`cfteval show`: what a run was and how it scored."""
    table = Table(title=escape(run.run_id), show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    model = run.manifest.get("model") or {}
    sampling = run.manifest.get("sampling") or {}
    facts = {
        "model": model.get("name"),
        "benchmark": run.benchmark,
        "mode": run.mode,
        "temperature": run.temperature,
        "max tokens": sampling.get("max_tokens"),
        "prompt": run.prompt_id,
        "grader profile": run.profile,
        "limit": run.manifest.get("limit"),
        "date": run.date,
    }
    for key, value in facts.items():
        table.add_row(key, escape(str(value)))
    for key, value in run.metrics.items():
        table.add_row(key, str(value))
    return table


def samples_table(run: Run, count: int = 5, only: str = "all") -> Table:
    """A few graded samples: gold, extracted answer, verdict and the end of the generation."""
    chosen = [
        s
        for s in run.samples
        if only == "all"
        or (only == "wrong" and not s.correct)
        or (only == "timeouts" and s.timed_out)
    ]
    table = Table(title=f"{min(count, len(chosen))} of {len(chosen)} samples ({only})")
    for name in ("problem", "gold", "extracted", "verdict", "end of the generation"):
        table.add_column(name, overflow="fold")
    for s in chosen[:count]:
        verdict = "[green]right[/]" if s.correct else "[red]wrong[/]"
        if s.timed_out:
            verdict += " (time-out)"
        tail = " ".join(s.generation.split())[-160:]
        problem = s.problem_id if s.sample_index == 0 else f"{s.problem_id}#{s.sample_index}"
        table.add_row(
            escape(problem), escape(s.gold), escape(str(s.extracted)), verdict, escape(tail)
        )
    return table


def label(run_dir: Path, root: Path | None) -> str:
    """A run folder relative to the folder the user named (whole when outside it)."""
    if root is None:
        return str(run_dir)
    try:
        return (
            str(run_dir.resolve().relative_to(root.resolve()))
            if run_dir.resolve() != root.resolve()
            else str(run_dir)
        )
    except ValueError:
        return str(run_dir)


def regrade_table(
    reports: Sequence[RegradeResult], profile: str, compare: str | None, root: Path
) -> Any:
    """Rich table: one row per run, accuracy before and after (and under `compare`)."""

    table = Table(title="regraded runs — accuracy (%)")
    table.add_column("run", overflow="fold")
    table.add_column("benchmark")
    table.add_column("samples", justify="right")
    table.add_column("before", justify="right")
    table.add_column(profile, justify="right")
    if compare:
        table.add_column(compare, justify="right")
        table.add_column("disagree", justify="right")
    table.add_column("time-outs", justify="right")
    for report in reports:
        before = "—" if report.accuracy_before is None else f"{report.accuracy_before:.2f}"
        cells = [
            label(report.run_dir, root),
            report.benchmark,
            str(report.n_samples),
            before,
            f"{report.accuracy:.2f}",
        ]
        if compare:
            cells += [f"{report.compare_accuracy:.2f}", str(len(report.disagreements))]
        table.add_row(*cells, str(report.timeouts))
    return table


def disagreement_table(
    reports: Sequence[RegradeResult], profile: str, compare: str, root: Path, limit: int = 200
) -> Any:
    """Rich table of the samples the two profiles grade differently (at most `limit` rows)."""

    rows = [(report, d) for report in reports for d in report.disagreements]
    title = f"{len(rows)} samples graded differently by {profile} and {compare}"
    if len(rows) > limit:
        title += f" (first {limit} shown)"
    table = Table(title=title)
    for name in (
        "run",
        "problem",
        "gold",
        f"{profile} extracted",
        profile,
        f"{compare} extracted",
        compare,
    ):
        table.add_column(name, overflow="fold")
    verdict = {True: "[green]right[/]", False: "[red]wrong[/]"}
    for report, d in rows[:limit]:
        problem = d.problem_id if d.sample_index == 0 else f"{d.problem_id}#{d.sample_index}"
        table.add_row(
            label(report.run_dir, root),
            problem,
            d.gold,
            str(d.extracted),
            verdict[d.correct],
            str(d.compare_extracted),
            verdict[d.compare_correct],
        )
    return table


def comparison_table(rows: Sequence[Any], a_name: str, b_name: str) -> Table:
    """`cfteval compare`: A and B per benchmark, the difference and the paired test's verdict."""
    from cfteval.reporting.compare import verdict

    table = Table(title=f"A = {escape(a_name)}   B = {escape(b_name)}   (accuracy %, ± se)")
    for name in ("benchmark", "mode", "T", "problems", "A", "B", "B − A", "paired test"):
        table.add_column(
            name, justify="left" if name in ("benchmark", "mode", "paired test") else "right"
        )
    for row in rows:
        a = f"{row.a_accuracy:.1f}" + (f" ± {row.a_stderr:.1f}" if row.a_stderr is not None else "")
        b = f"{row.b_accuracy:.1f}" + (f" ± {row.b_stderr:.1f}" if row.b_stderr is not None else "")
        table.add_row(
            row.benchmark,
            row.mode,
            f"{row.temperature:g}",
            str(row.n_problems or "—"),
            a,
            b,
            f"{row.difference:+.1f}",
            verdict(row),
        )
    return table
