"""`cfteval bench`: throughput benchmarks. Generation and prefix caching live here; the
grading and training ones beside their commands (grading.py, train.py)."""

from __future__ import annotations

from pathlib import Path

import click

from cfteval.cli.common import DATA_DIR_OPTION, console, dtype_option
from cfteval.cli.grading import bench_grading_command
from cfteval.cli.train import bench_train_command
from cfteval.errors import UserError


@click.group("bench")
def bench_group() -> None:
    """Throughput benchmarks."""


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
@dtype_option("Model dtype, as for cfteval eval.")
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
    from cfteval.bench_runs import BenchSettings

    unknown = set(only) - set(bench_generation.MEASUREMENTS)
    if unknown:
        raise UserError(f"--only {only!r}: unknown measurement(s) {''.join(sorted(unknown))}")
    settings = BenchSettings(
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
@DATA_DIR_OPTION
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


bench_group.add_command(bench_grading_command)
bench_group.add_command(bench_train_command)

COMMANDS: tuple[click.Command, ...] = (bench_group,)
