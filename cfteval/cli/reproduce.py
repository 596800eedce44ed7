"""`cfteval reproduce`: the paper's tables with any model; logic in cfteval/table8.py."""

from __future__ import annotations

from pathlib import Path

import click

from cfteval.cli.common import (
    DATA_DIR_OPTION,
    GENERATION_BACKEND_OPTION,
    LIMIT_OPTION,
    console,
    err_console,
    max_model_len_option,
)
from cfteval.prompts import CritiqueTemplate


@click.group("reproduce")
def reproduce_group() -> None:
    """Reproduce the paper's tables with any model (writes CSVs beside the runs)."""


@reproduce_group.command("table8")
@click.option("--model", required=True, help="Local checkpoint folder or hub id.")
@LIMIT_OPTION
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
@GENERATION_BACKEND_OPTION
@DATA_DIR_OPTION
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("results/runs"),
    show_default=True,
    help="Run folders.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@max_model_len_option("vLLM context length [default: the model's].")
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


COMMANDS: tuple[click.Command, ...] = (reproduce_group,)
