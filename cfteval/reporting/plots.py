"""`cfteval plot`: the paper's figures for our runs, as PNG (to look at) and SVG (to print).

- accuracy vs temperature, one line per mode (and model), one panel per benchmark — Table 8;
- grouped bars per benchmark, one bar per model or checkpoint — Figure 1;
- accuracy vs training step from `cfteval select`'s selection.csv — checkpoint selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cfteval.errors import UserError
from cfteval.rundir import Run

SELECTION_COLUMNS = ("step", "accuracy", "stderr")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on servers
    import matplotlib.pyplot as plt

    return plt


def _save(figure, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.svg"]
    for path in paths:
        figure.savefig(path, dpi=120, bbox_inches="tight")
    _pyplot().close(figure)
    return paths


def _series_label(run: Run, several_models: bool) -> str:
    return f"{run.model} · {run.mode}" if several_models else run.mode


def plot_temperature(runs: Sequence[Run], out_dir: Path) -> list[Path]:
    """Accuracy (± standard error) against temperature; one panel per benchmark."""
    plt = _pyplot()
    benchmarks = list(dict.fromkeys(run.benchmark for run in runs))
    several_models = len({run.model for run in runs}) > 1
    figure, axes = plt.subplots(
        1, len(benchmarks), figsize=(4.2 * len(benchmarks), 3.6), squeeze=False
    )
    for axis, benchmark in zip(axes[0], benchmarks, strict=True):
        series: dict[str, list[Run]] = {}
        for run in runs:
            if run.benchmark == benchmark:
                series.setdefault(_series_label(run, several_models), []).append(run)
        for label, members in series.items():
            members = sorted(members, key=lambda r: r.temperature)
            axis.errorbar(
                [r.temperature for r in members],
                [r.metrics.get("accuracy") for r in members],
                yerr=[r.metrics.get("stderr", 0) or 0 for r in members],
                marker="o",
                capsize=3,
                label=label,
                clip_on=False,  # a line at 0 % stays visible on the axis
            )
        tops = [(r.metrics.get("accuracy") or 0) + (r.metrics.get("stderr") or 0) for r in runs]
        # Accuracy is never negative; a flat 0 line must not get a ±0.04 axis around it.
        axis.set_ylim(0, min(105, max(10.0, 1.15 * max(tops))))
        axis.set_title(benchmark)
        axis.set_xlabel("temperature")
        axis.set_ylabel("accuracy (%)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    figure.suptitle("accuracy vs sampling temperature (± standard error)")
    return _save(figure, out_dir, "accuracy-vs-temperature")


def plot_benchmarks(runs: Sequence[Run], out_dir: Path) -> list[Path]:
    """Grouped bars: benchmarks on the x axis, one bar per model (and mode/temperature if mixed)."""
    plt = _pyplot()
    import numpy as np

    settings = {(run.mode, run.temperature) for run in runs}
    label = (
        (lambda r: r.model)
        if len(settings) == 1
        else (lambda r: f"{r.model} · {r.mode} T={r.temperature:g}")
    )
    benchmarks = list(dict.fromkeys(run.benchmark for run in runs))
    groups = list(dict.fromkeys(label(run) for run in runs))
    width = 0.8 / len(groups)
    figure, axis = plt.subplots(
        figsize=(max(5.0, 1.3 * len(benchmarks) * max(1, len(groups) / 2)), 4)
    )
    for index, group in enumerate(groups):
        scores = {r.benchmark: r for r in runs if label(r) == group}
        offset = (index - (len(groups) - 1) / 2) * width
        # A benchmark the model was not run on gets no bar (a 0 would read as a score).
        present = [i for i, b in enumerate(benchmarks) if b in scores]
        metrics = [scores[benchmarks[i]].metrics for i in present]
        bars = axis.bar(
            np.asarray(present, dtype=float) + offset,
            [m.get("accuracy", 0) for m in metrics],
            width,
            yerr=[m.get("stderr", 0) or 0 for m in metrics],
            capsize=2,
            label=group,
        )
        axis.bar_label(bars, fmt="%.1f", fontsize="x-small", padding=2)
    axis.set_xticks(range(len(benchmarks)), benchmarks)
    axis.set_ylabel("accuracy (%)")
    axis.set_title("accuracy per benchmark (± standard error)")
    axis.set_ylim(0, 105)
    axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axis.grid(axis="y", alpha=0.3)
    return _save(figure, out_dir, "accuracy-per-benchmark")


def read_selection(path: Path) -> pd.DataFrame:
    """selection.csv (step, accuracy, stderr), as `cfteval select` writes it."""
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UserError(f"{path}: cannot read ({str(error).splitlines()[0]})") from None
    missing = set(SELECTION_COLUMNS) - set(table.columns)
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    if table.empty:
        raise UserError(f"{path}: no rows")
    return table.sort_values("step")


def plot_steps(selection: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Validation accuracy against training step, with the best checkpoint marked."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 3.8))
    steps, accuracy = selection["step"], selection["accuracy"]
    stderr = selection["stderr"].fillna(0)
    axis.plot(steps, accuracy, marker="o")
    axis.fill_between(
        steps, accuracy - stderr, accuracy + stderr, alpha=0.2, label="± standard error"
    )
    best = selection.loc[accuracy.idxmax()]
    axis.scatter(
        [best["step"]],
        [best["accuracy"]],
        s=120,
        facecolors="none",
        edgecolors="red",
        label=f"best: step {int(best['step'])} ({best['accuracy']:.1f})",
    )
    axis.set_xlabel("training step")
    axis.set_ylabel("validation accuracy (%)")
    axis.set_title("checkpoint selection")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    return _save(figure, out_dir, "accuracy-vs-step")


def plot_all(runs: Sequence[Run], out_dir: Path, selection: Path | None = None) -> list[Path]:
    """Every plot the inputs allow (temperature needs runs; steps needs a selection.csv)."""
    paths: list[Path] = []
    if runs:
        paths += plot_temperature(runs, out_dir)
        paths += plot_benchmarks(runs, out_dir)
    if selection is not None:
        paths += plot_steps(read_selection(selection), out_dir)
    return paths
