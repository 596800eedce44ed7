"""`cfteval regrade`: grade a run's saved generations again, without a model.

Why: grading changes (a fixed extractor, the `qwen` profile for a paper comparison) must not
need the GPU again. Every run folder holding a `samples.jsonl` under the given folder is
re-graded; `samples.jsonl`, `metrics.json` and the manifest's `grading` entry (the profile used)
are rewritten for every run or for none: the folders' writability is checked before grading, and
all files are staged before any is replaced. A short samples file is refused, not scored. `--compare` grades with a second profile as well and
reports where the two disagree (nothing is written for the second profile).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from cfteval.critic_metrics import critic_metrics
from cfteval.grading.sandbox import GradingPool
from cfteval.grading.types import GradeItem, GradeResult
from cfteval.metrics import summarize
from cfteval.rundir import (
    MANIFEST,
    METRICS,
    SAMPLES,
    Run,
    check_writable,
    find_run_dirs,
    load_run,
    write_runs,
)


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


def _items(run: Run) -> list[GradeItem]:
    return [
        GradeItem(
            text=s.generation,
            gold=s.gold,
            answer_type=s.answer_type,
            benchmark=run.benchmark,
            n_choices=s.n_choices,
            finish_reason=s.finish_reason,
        )
        for s in run.samples
    ]


def _accuracy(run: Run, results: list[GradeResult]) -> float:
    """Accuracy as metrics.json defines it (avg@n over problems), for these verdicts."""
    graded = [
        dataclasses.replace(s, correct=r.correct) for s, r in zip(run.samples, results, strict=True)
    ]
    return summarize(graded)["accuracy"]


def _regraded(run: Run, results: list[GradeResult], profile: str, timeout: float) -> dict:
    """The run's files with the new verdicts: {file name: content} for `write_runs`."""
    for row, sample, result in zip(run.rows, run.samples, results, strict=True):
        sample.extracted, sample.correct, sample.timed_out = (
            result.extracted,
            result.correct,
            result.timed_out,
        )
        row.update(extracted=result.extracted, correct=result.correct, timed_out=result.timed_out)
    # The critic's metrics keep the attempts' original grades (only final answers are re-graded).
    metrics = summarize(run.samples, wall_seconds=run.metrics.get("wall_seconds"))
    metrics |= critic_metrics(run.samples)
    grading = dict(run.manifest.get("grading") or {})
    grading.update(
        profile=profile,
        timeout_seconds=timeout,
        regraded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    run.manifest["grading"] = grading
    return {SAMPLES: run.rows, METRICS: metrics, MANIFEST: run.manifest}


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
    run_dirs = find_run_dirs(root)
    if write:  # before grading: a read-only folder found afterwards wastes the work
        check_writable(run_dirs)
    runs = [load_run(run_dir, with_samples=True) for run_dir in run_dirs]
    items = [item for run in runs for item in _items(run)]
    with GradingPool(workers) as pool:  # one pool for every run and both profiles
        results = pool.grade(items, profile=profile, timeout=timeout, progress=progress)
        compared = (
            pool.grade(items, profile=compare, timeout=timeout, progress=progress)
            if compare
            else None
        )
    reports, rewritten, offset = [], [], 0
    for run in runs:
        count = len(run.samples)
        own = results[offset : offset + count]
        other = compared[offset : offset + count] if compared is not None else None
        offset += count
        report = RegradeResult(
            run.path,
            run.benchmark,
            count,
            run.metrics.get("accuracy"),
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
            rewritten.append((run.path, _regraded(run, own, profile, timeout)))
        reports.append(report)
    write_runs(rewritten)  # all runs or none
    return reports
