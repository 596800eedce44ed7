"""The `cfteval` command line: parsing and printing only; the work lives in the modules.

This package holds the top-level group and its error handling; each command family lives in its
own module (cfteval/cli/<name>.py) that lists its top-level commands in `COMMANDS`."""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click
from rich.markup import escape

from cfteval import __version__
from cfteval.cli.common import err_console
from cfteval.errors import UserError

__all__ = ["main", "run"]

# The modules whose `COMMANDS` join `cfteval`; a new command family is one more name here.
COMMAND_MODULES = (
    "eval", "reproduce", "models", "grading", "bench", "reports", "train", "cft_data",
)  # fmt: skip


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
            message = _RESUME_HINTS.get(ctx.invoked_subcommand or "", "")
            err_console.print(f"interrupted{': ' + message if message else ''}", highlight=False)
            sys.exit(130)


# What Ctrl-C outside generation keeps, for the commands that resume (generation itself reports
# exactly what it saved); a benchmark or a listing has nothing to resume.
_RESUME_HINTS = {
    "eval": "every finished completion is saved; rerun the same command to resume",
    "cft-data": "every finished completion is saved; rerun the same command to resume",
    "select": "every finished completion is saved; rerun the same command to resume",
    "train": "rerun the same command to resume from the last checkpoint",
}


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


for _module_name in COMMAND_MODULES:
    for _command in importlib.import_module(f"{__name__}.{_module_name}").COMMANDS:
        main.add_command(_command)


def run() -> None:
    """The `cfteval` script: the command group, then a quick exit (see process_exit.py)."""
    from cfteval.engine_env import FREEZE_IMPORTS_VARIABLE
    from cfteval.engine_release import let_process_exit_free_engines
    from cfteval.process_exit import leave

    let_process_exit_free_engines()
    # Only here, not in the command group: commands invoked in-process (tests, notebooks) share
    # a heap that freezing would keep alive; worker processes inherit the variable.
    os.environ.setdefault(FREEZE_IMPORTS_VARIABLE, "1")
    try:
        main()
    except SystemExit as finished:  # click's standalone mode always ends this way
        leave(finished.code)
