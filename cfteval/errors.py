"""User-facing errors.

Anything the user can fix (a bad option, a missing file, a malformed line) is raised as a
`UserError`; the CLI prints its message on one line and exits with code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in the user's input, reported as one line and exit code 2."""

    exit_code = 2


class RunInterrupted(Exception):
    """Ctrl-C during a run: what was saved, so the CLI can say so and how to resume."""

    def __init__(self, saved: int, store: Path, kept_part_way: int = 0) -> None:
        super().__init__(f"interrupted; {saved} completion(s) saved to {store}")
        self.saved = saved
        self.store = store
        # Answers still generating whose tokens so far were kept: the rerun continues them.
        self.kept_part_way = kept_part_way
