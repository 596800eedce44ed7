"""Results commands (runs, show, leaderboard, compare, plot, report); logic in
cfteval/rundir.py and cfteval/reporting/."""

from __future__ import annotations

from pathlib import Path

import click

from cfteval.cli.common import console, err_console
from cfteval.errors import UserError

_RUNS_DIRS = click.argument(
    "runs_dirs", nargs=-1, type=click.Path(path_type=Path, exists=True, file_okay=False)
)


@click.command("runs")
@click.argument(
    "runs_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=Path("results/runs"),
)
def runs_command(runs_dir: Path) -> None:
    """List the runs under RUNS_DIR [default: results/runs]: model, benchmark, mode, T, accuracy."""
    from cfteval.reporting.tables import runs_table
    from cfteval.rundir import load_runs

    console.print(runs_table(load_runs([runs_dir]), root=runs_dir))


@click.command("show")
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--samples",
    "count",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="How many graded samples to print.",
)
@click.option(
    "--only",
    type=click.Choice(["all", "wrong", "timeouts"]),
    default="all",
    show_default=True,
    help="Which samples: all, wrong answers, or grader time-outs.",
)
def show_command(run_dir: Path, count: int, only: str) -> None:
    """Print one run's settings, metrics and a few graded samples."""
    from cfteval.reporting.tables import metrics_table, samples_table
    from cfteval.rundir import load_run

    run = load_run(run_dir, with_samples=True)
    console.print(metrics_table(run))
    if count:
        console.print(samples_table(run, count, only))


@click.command("leaderboard")
@_RUNS_DIRS
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("results/leaderboard.csv"),
    show_default=True,
    help="Long CSV (updated in place); the pivots are written beside it as STEM-LAYOUT.FORMAT.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "md", "html"]),
    default="csv",
    show_default=True,
    help="Format of the wide pivots (the long table is always CSV).",
)
@click.option("--with-paper", is_flag=True, help="Add the paper's rows to the paper layouts.")
@click.option(
    "--paper-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of the paper's table*.csv [default: results/paper of this checkout].",
)
def leaderboard_command(
    runs_dirs: tuple[Path, ...], out: Path, fmt: str, with_paper: bool, paper_dir: Path | None
) -> None:
    """Collect every run under RUNS_DIRS into a long CSV and models × benchmarks pivots."""
    from cfteval.reporting.leaderboard import (
        TableFormat,
        mixed_settings,
        read_long,
        write_leaderboard,
    )
    from cfteval.rundir import load_runs

    if not runs_dirs:
        raise UserError("name at least one RUNS_DIR (e.g. results/runs)")
    runs = load_runs(runs_dirs)
    written = write_leaderboard(runs, out, TableFormat(fmt), with_paper, paper_dir)
    long = read_long(out)  # what the file now holds, earlier runs included
    for note in mixed_settings(long):
        err_console.print(f"note: {note}", highlight=False, markup=False)
    console.print(f"{len(runs)} runs; {len(long)} rows in {out}", highlight=False)
    for name, path in written.items():
        if name != "long":
            console.print(f"  {name:7s} {path}", highlight=False)


@click.command("compare")
@click.argument("a", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("b")
@click.option(
    "--paper-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of the paper's table*.csv, for B = paper:TABLE:MODEL[:METHOD].",
)
def compare_command(a: Path, b: str, paper_dir: Path | None) -> None:
    """Compare runs A with runs B (a folder, or paper:TABLE:MODEL[:METHOD]) with a paired test."""
    from cfteval.reporting.compare import compare_runs, compare_with_paper
    from cfteval.reporting.tables import comparison_table

    if b.startswith("paper:"):
        rows = compare_with_paper(a, b, paper_dir)
    else:
        if not Path(b).is_dir():
            raise UserError(f"{b}: not a folder (nor paper:TABLE:MODEL[:METHOD])")
        rows = compare_runs(a, Path(b))
    console.print(comparison_table(rows, str(a), b))
    for row in rows:
        for note in row.notes:
            console.print(f"{row.benchmark}: {note}", highlight=False, markup=False)


@click.command("plot")
@_RUNS_DIRS
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("results/plots"),
    show_default=True,
    help="Folder for the PNG and SVG files.",
)
@click.option(
    "--selection",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="selection.csv from `cfteval select` (step, accuracy, stderr): plot accuracy vs step.",
)
def plot_command(runs_dirs: tuple[Path, ...], out: Path, selection: Path | None) -> None:
    """Accuracy vs temperature, per benchmark bars, and (with --selection) accuracy vs step."""
    from cfteval.reporting.plots import plot_all
    from cfteval.rundir import load_runs

    if not runs_dirs and selection is None:
        raise UserError("name a RUNS_DIR, or pass --selection")
    runs = load_runs(runs_dirs) if runs_dirs else []
    for path in plot_all(runs, out, selection):
        console.print(str(path), highlight=False)


@click.command("report")
@click.argument("runs_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write.",
)
@click.option("--title", default=None, help="Page title [default: the folder's name].")
@click.option(
    "--max-samples",
    type=click.IntRange(min=0),
    default=500,
    show_default=True,
    help="Graded samples listed per run (the page grows with each).",
)
def report_command(runs_dir: Path, out: Path, title: str | None, max_samples: int) -> None:
    """Write one self-contained HTML page: tables, plots and graded samples of RUNS_DIR."""
    from cfteval.reporting.html_report import build_report
    from cfteval.rundir import load_runs
    from cfteval.store import write_text_atomic

    runs = load_runs([runs_dir], with_samples=True)
    page = build_report(runs, title or f"cfteval report — {runs_dir.resolve().name}", max_samples)
    write_text_atomic(out, page)
    console.print(f"{out} ({len(runs)} runs, {len(page) // 1024} KiB)", highlight=False)


COMMANDS: tuple[click.Command, ...] = (
    runs_command,
    show_command,
    leaderboard_command,
    compare_command,
    plot_command,
    report_command,
)
