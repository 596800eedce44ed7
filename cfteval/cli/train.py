"""Training commands (train, select, bench train); logic in cfteval/train/."""

from __future__ import annotations

from pathlib import Path

import click

from cfteval.cli.common import (
    DATA_DIR_OPTION,
    GENERATION_BACKEND_OPTION,
    LIMIT_OPTION,
    console,
    err_console,
)
from cfteval.errors import UserError
from cfteval.train.config import OverLength, TrainMode


@click.command("train")
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


@click.command("select")
@click.argument("ckpt_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--benchmark", default="math500", show_default=True, help="Validation benchmark.")
@LIMIT_OPTION
@GENERATION_BACKEND_OPTION
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Max new tokens [default: the benchmark's, 2048].",
)
@DATA_DIR_OPTION
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


@click.command("train")
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


# `bench train` joins the bench group in cfteval/cli/bench.py.
COMMANDS: tuple[click.Command, ...] = (train_command, select_command)
