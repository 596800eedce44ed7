"""`cfteval regrade`: grade a run's saved generations again, without a model.

Why: grading changes (a fixed extractor, the `qwen` profile for a paper comparison) must not
need the GPU again. Every run folder holding a `samples.jsonl` under the given folder is
re-graded; `samples.jsonl` and `metrics.json` are rewritten atomically and the manifest's
`grading` entry records the profile used. `--compare` grades with a second profile as well and
reports where the two disagree (nothing is written for the second profile).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cfteval.critic_metrics import critic_metrics
from cfteval.errors import UserError
from cfteval.grading.sandbox import GradingPool
from cfteval.grading.types import GradeItem, GradeResult
from cfteval.metrics import summarize
from cfteval.records import Sample
from cfteval.store import read_jsonl, write_json_atomic, write_jsonl_atomic

_SAMPLE_FIELDS = {f.name for f in dataclasses.fields(Sample)}
_REQUIRED = {
    f.name
    for f in dataclasses.fields(Sample)
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
}


@dataclass
class Disagreement:
    """One sample the two profiles grade differently."""

    problem_id: str
    sample_index: int
    gold: str
    extracted: str | None
    correct: bool
    compare_extracted: str | None
    compare_correct: bool


@dataclass
class RegradeResult:
    run_dir: Path
    benchmark: str
    n_samples: int
    accuracy_before: float | None
    accuracy: float
    timeouts: int
    compare_accuracy: float | None = None
    disagreements: list[Disagreement] = field(default_factory=list)


@dataclass
class _Run:
    run_dir: Path
    benchmark: str
    rows: list[dict[str, Any]]
    samples: list[Sample]
    manifest: dict[str, Any]
    old_metrics: dict[str, Any]


def find_run_dirs(root: Path) -> list[Path]:
    """`root` itself if it holds samples.jsonl, else every folder below it that does."""
    if not root.is_dir():
        raise UserError(f"{root}: not a folder")
    if (root / "samples.jsonl").is_file():
        return [root]
    found = sorted(path.parent for path in root.rglob("samples.jsonl"))
    if not found:
        raise UserError(f"{root}: no samples.jsonl in it or below it")
    return found


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UserError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    return data


def _load_run(run_dir: Path) -> _Run:
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise UserError(f"{run_dir}: no manifest.json (needed for the benchmark name)")
    manifest = _read_json(manifest_path)
    if not isinstance(manifest.get("benchmark"), str):
        raise UserError(f"{manifest_path}: no 'benchmark' entry")
    metrics_path = run_dir / "metrics.json"
    old_metrics = _read_json(metrics_path) if metrics_path.is_file() else {}
    rows = read_jsonl(run_dir / "samples.jsonl")
    samples = []
    for number, row in enumerate(rows, start=1):
        missing = _REQUIRED - set(row) if isinstance(row, dict) else _REQUIRED
        if missing:
            raise UserError(
                f"{run_dir / 'samples.jsonl'}: sample {number}: missing field(s) "
                f"{', '.join(sorted(missing))}"
            )
        samples.append(
            Sample(**{key: value for key, value in row.items() if key in _SAMPLE_FIELDS})
        )
    return _Run(run_dir, manifest["benchmark"], rows, samples, manifest, old_metrics)


def _items(run: _Run) -> list[GradeItem]:
    return [
        GradeItem(
            text=s.generation,
            gold=s.gold,
            answer_type=s.answer_type,
            benchmark=run.benchmark,
            n_choices=s.n_choices,
        )
        for s in run.samples
    ]


def _accuracy(run: _Run, results: list[GradeResult]) -> float:
    """Accuracy as metrics.json defines it (avg@n over problems), for these verdicts."""
    graded = [
        dataclasses.replace(s, correct=r.correct) for s, r in zip(run.samples, results, strict=True)
    ]
    return summarize(graded)["accuracy"]


def _rewrite(run: _Run, results: list[GradeResult], profile: str, timeout: float) -> dict[str, Any]:
    for row, sample, result in zip(run.rows, run.samples, results, strict=True):
        sample.extracted, sample.correct, sample.timed_out = (
            result.extracted,
            result.correct,
            result.timed_out,
        )
        row.update(extracted=result.extracted, correct=result.correct, timed_out=result.timed_out)
    # The critic's metrics keep the attempts' original grades (only final answers are re-graded).
    metrics = summarize(run.samples, wall_seconds=run.old_metrics.get("wall_seconds"))
    metrics |= critic_metrics(run.samples)
    grading = dict(run.manifest.get("grading") or {})
    grading.update(
        profile=profile,
        timeout_seconds=timeout,
        regraded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    run.manifest["grading"] = grading
    write_jsonl_atomic(run.run_dir / "samples.jsonl", run.rows)
    write_json_atomic(run.run_dir / "metrics.json", metrics)
    write_json_atomic(run.run_dir / "manifest.json", run.manifest)
    return metrics


def regrade(
    root: Path,
    profile: str = "cfteval",
    compare: str | None = None,
    timeout: float = 3.0,
    workers: int | None = None,
    write: bool = True,
    progress: Callable[[int], None] | None = None,
) -> list[RegradeResult]:
    """Re-grade every run under `root` with `profile` (and `compare`, if given)."""
    runs = [_load_run(run_dir) for run_dir in find_run_dirs(root)]
    items = [item for run in runs for item in _items(run)]
    with GradingPool(workers) as pool:  # one pool for every run and both profiles
        results = pool.grade(items, profile=profile, timeout=timeout, progress=progress)
        compared = (
            pool.grade(items, profile=compare, timeout=timeout, progress=progress)
            if compare
            else None
        )
    reports, offset = [], 0
    for run in runs:
        count = len(run.samples)
        own = results[offset : offset + count]
        other = compared[offset : offset + count] if compared is not None else None
        offset += count
        report = RegradeResult(
            run.run_dir,
            run.benchmark,
            count,
            run.old_metrics.get("accuracy"),
            _accuracy(run, own),
            sum(r.timed_out for r in own),
        )
        if other is not None:
            report.compare_accuracy = _accuracy(run, other)
            report.disagreements = [
                Disagreement(
                    s.problem_id,
                    s.sample_index,
                    s.gold,
                    a.extracted,
                    a.correct,
                    b.extracted,
                    b.correct,
                )
                for s, a, b in zip(run.samples, own, other, strict=True)
                if a.correct != b.correct
            ]
        if write:
            _rewrite(run, own, profile, timeout)
        reports.append(report)
    return reports


def _label(run_dir: Path, root: Path) -> str:
    try:
        return str(run_dir.relative_to(root)) if run_dir != root else str(run_dir)
    except ValueError:
        return str(run_dir)


def regrade_table(
    reports: list[RegradeResult], profile: str, compare: str | None, root: Path
) -> Any:
    """Rich table: one row per run, accuracy before and after (and under `compare`)."""
    from rich.table import Table

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
            _label(report.run_dir, root),
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
    reports: list[RegradeResult], profile: str, compare: str, root: Path, limit: int = 200
) -> Any:
    """Rich table of the samples the two profiles grade differently (at most `limit` rows)."""
    from rich.table import Table

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
            _label(report.run_dir, root),
            problem,
            d.gold,
            str(d.extracted),
            verdict[d.correct],
            str(d.compare_extracted),
            verdict[d.compare_correct],
        )
    return table
