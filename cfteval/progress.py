"""Progress hooks: the pipeline reports stages through these; the CLI draws them with rich."""

from __future__ import annotations

from cfteval.backends.base import ProgressCallback


class Progress:
    """Silent progress: the default for library use. The CLI subclasses it with rich bars."""

    def stage(self, description: str, total: int) -> ProgressCallback:
        """Start a stage of `total` steps; returns the callback that advances it."""
        return lambda advance: None

    def done(self) -> None:
        """Close every bar (called once the pipeline has finished, or failed)."""
