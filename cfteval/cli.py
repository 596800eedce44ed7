"""The `cfteval` command line: parsing and printing only; the work lives in the modules."""

from __future__ import annotations

import logging
import sys

import click
from rich.console import Console

from cfteval import __version__
from cfteval.errors import UserError

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
