"""Grading commands (grade-file, regrade, bench grading); logic in
cfteval/grading/grade_file.py, cfteval/regrade.py and cfteval/bench_grading.py."""

from __future__ import annotations

from pathlib import Path

import click

from cfteval.cli.common import GRADE_TIMEOUT_OPTION, console, err_console, grade_timeout_option
from cfteval.grading.profiles import PROFILE_NAMES

_WORKERS_OPTION = click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="[default: all cores]"
)


@click.command("grade-file")
@click.argument("cases", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--profile",
    type=click.Choice(PROFILE_NAMES),
    default="cfteval",
    show_default=True,
    help="Grader profile.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Output JSONL [default: stdout].",
)
@grade_timeout_option("Seconds allowed to grade one pair.")
@_WORKERS_OPTION
def grade_file_command(
    cases: Path, profile: str, out: Path | None, grade_timeout: float, workers: int | None
) -> None:
    """Grade CASES.jsonl lines (gold, pred, benchmark); add correct, extracted, timed_out.

    Streams: each batch of lines is written as soon as it is graded."""
    import sys

    from cfteval.grading.grade_file import grade_stream, iter_cases, row_writer, summary_line

    if out is None:
        summary = grade_stream(
            iter_cases(cases), row_writer(sys.stdout.buffer), profile, grade_timeout, workers
        )
    else:
        with out.open("wb") as handle:
            summary = grade_stream(
                iter_cases(cases), row_writer(handle), profile, grade_timeout, workers
            )
    err_console.print(
        f"{cases} [{profile}]  {summary_line(summary)}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@click.command("regrade")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--profile",
    type=click.Choice(PROFILE_NAMES),
    default="cfteval",
    show_default=True,
    help="Grader profile to grade with (recorded in the manifest).",
)
@click.option(
    "--compare",
    type=click.Choice(PROFILE_NAMES),
    default=None,
    help="Also grade with this profile and list the samples the two disagree on.",
)
@GRADE_TIMEOUT_OPTION
@_WORKERS_OPTION
@click.option("--dry-run", is_flag=True, help="Report only; rewrite nothing.")
def regrade_command(
    run_dir: Path,
    profile: str,
    compare: str | None,
    grade_timeout: float,
    workers: int | None,
    dry_run: bool,
) -> None:
    """Re-grade saved generations under RUN_DIR (no model); rewrite samples and metrics."""
    from cfteval.regrade import regrade
    from cfteval.reporting.tables import disagreement_table, regrade_table

    reports = regrade(
        run_dir,
        profile=profile,
        compare=compare,
        timeout=grade_timeout,
        workers=workers,
        write=not dry_run,
    )
    console.print(regrade_table(reports, profile, compare, root=run_dir))
    if compare:
        console.print(disagreement_table(reports, profile, compare, root=run_dir))


@click.command("grading")
@click.option(
    "--n",
    "n_pairs",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="How many (gold, prediction) pairs each grader gets.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="cfteval pool size [default: all cores]",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Grading data folder [default: $CFTEVAL_GRADING_DIR, else ../shared/grading].",
)
@GRADE_TIMEOUT_OPTION
@click.option(
    "--mv-limit",
    type=click.FloatRange(min=1),
    default=600.0,
    show_default=True,
    help="Overall seconds Math-Verify may run before it is stopped.",
)
def bench_grading_command(
    n_pairs: int, workers: int | None, data_dir: Path | None, grade_timeout: float, mv_limit: float
) -> None:
    """Items/s of cfteval's grading sandbox vs Math-Verify on the same pairs."""
    from cfteval import bench_grading

    pairs = bench_grading.load_pairs(data_dir or bench_grading.default_data_dir(), n_pairs)
    ours = bench_grading.bench_cfteval(pairs, workers, grade_timeout)
    theirs = bench_grading.bench_math_verify(pairs, mv_limit, processes=ours.workers)
    console.print(bench_grading.bench_table([ours, theirs]))
    ratio = (
        ours.items_per_second / theirs.items_per_second if theirs.items_per_second else float("inf")
    )
    console.print(
        f"ratio cfteval / math-verify: {ratio:.2f}x "
        f"(both with {ours.workers} processes, so also {ratio:.2f}x per process)",
        highlight=False,
    )


# `bench grading` joins the bench group in cfteval/cli/bench.py.
COMMANDS: tuple[click.Command, ...] = (grade_file_command, regrade_command)
