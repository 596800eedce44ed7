"""The `cfteval` command line: parsing and printing only; the work lives in the modules."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from rich.console import Console

from cfteval import __version__
from cfteval.errors import UserError
from cfteval.grading.profiles import PROFILE_NAMES
from cfteval.modes import MODE_NAMES
from cfteval.progress import Progress
from cfteval.prompts import PROMPT_FORMATS

console = Console()
err_console = Console(stderr=True)


class _Group(click.Group):
    """Turns UserError into a one-line message and exit code 2 (no traceback)."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except UserError as error:
            err_console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
            sys.exit(error.exit_code)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="cfteval")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Evaluate and train models for maths and science reasoning (Critique Fine-Tuning)."""
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
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err_console, transient=False,
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
@click.option("--benchmarks", "benchmark_spec", default="math500", show_default=True,
              help="Comma-separated benchmark names, or 'all' for the ten.")
@click.option("--mode", type=click.Choice(MODE_NAMES), default="direct", show_default=True)
@click.option("--temperatures", default="0", show_default=True, callback=_parse_temperatures,
              help="Comma-separated sampling temperatures; each is a separate run.")
@click.option("--n", "n_samples", type=click.IntRange(min=1), default=1, show_default=True,
              help="Samples per problem.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True)
@click.option("--max-tokens", type=click.IntRange(min=1), default=None,
              help="Max new tokens [default: the benchmark's, 2048].")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first K problems.")
@click.option("--backend", type=click.Choice(["auto", "vllm", "hf"]), default="auto", show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, envvar="CFTEVAL_DATA_DIR",
              help="Local benchmark files [env CFTEVAL_DATA_DIR]; the dataset hub otherwise.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("results/runs"), show_default=True)
@click.option("--prompt-format", type=click.Choice(PROMPT_FORMATS), default="chatml", show_default=True,
              help="chatml: the paper's raw ChatML prompt; chat: the tokenizer's chat template.")
@click.option("--grade-profile", type=click.Choice(PROFILE_NAMES), default="cfteval", show_default=True)
@click.option("--grade-timeout", type=click.FloatRange(min=0, min_open=True), default=3.0, show_default=True,
              help="Seconds allowed to grade one answer.")
@click.option("--max-model-len", type=click.IntRange(min=1), default=None)
@click.option("--tp", "tensor_parallel_size", type=click.IntRange(min=1), default=1, show_default=True,
              help="Tensor parallel GPUs (vllm).")
def eval_command(model: str, benchmark_spec: str, mode: str, temperatures: list[float], n_samples: int,
                 seed: int, top_p: float, max_tokens: int | None, limit: int | None, backend: str,
                 data_dir: Path | None, out: Path, prompt_format: str, grade_profile: str,
                 grade_timeout: float, max_model_len: int | None, tensor_parallel_size: int) -> None:
    """Score MODEL on benchmarks and write one run folder per benchmark × temperature."""
    # Imported here so that `cfteval --help` and the light commands start fast.
    from cfteval.benchmarks import resolve_benchmarks
    from cfteval.evaluate import EvalConfig, run_eval
    from cfteval.models import model_slug
    from cfteval.report import counts_line, summary_table

    if n_samples > 1 and all(t == 0 for t in temperatures):
        raise UserError("--n > 1 with only --temperatures 0 gives n identical greedy samples; "
                        "add a temperature above 0")
    if backend == "hf" and tensor_parallel_size > 1:
        raise UserError("--tp applies to the vllm backend only; drop it or use --backend vllm")
    config = EvalConfig(
        model=model, benchmarks=resolve_benchmarks(benchmark_spec), mode=mode,
        temperatures=temperatures, n=n_samples, seed=seed, top_p=top_p, max_tokens=max_tokens,
        limit=limit, backend=backend, data_dir=data_dir, out=out, prompt_format=prompt_format,
        grade_profile=grade_profile, grade_timeout=grade_timeout, max_model_len=max_model_len,
        tensor_parallel_size=tensor_parallel_size,
    )
    progress = _RichProgress()
    try:
        results = run_eval(config, progress)
    finally:
        progress.done()
    console.print(summary_table(results, title=f"{model} — accuracy (%)"))
    console.print(counts_line(results), highlight=False)
    console.print(f"run folders under {out / model_slug(model)}", highlight=False)
