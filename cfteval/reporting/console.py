"""Rich consoles that do not wrap tables into unreadable columns when output is a file or pipe."""

from __future__ import annotations

import sys

from rich.console import Console

# Rich assumes 80 columns when the stream is not a terminal; a summary piped to a log or CI
# output then folds every cell. Wide enough that a table keeps its rows on one line.
_PIPE_WIDTH = 1000


def make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else _PIPE_WIDTH
    return Console(stderr=stderr, width=width)
