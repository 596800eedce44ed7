"""Progress of the pipeline's stages (generation, grading): counts, output tokens/s and ETA.

The pipeline reports through `Progress.stage(description, total)`, which returns a `Stage`: call
it with the number of items just finished, and `stage.tokens(k)` with output tokens as the
backend generates them, so the rate moves from the first seconds rather than when whole
requests end. `Progress` itself is silent (library use); the CLI picks `RichProgress` on a
terminal and `PlainProgress` (one line every few seconds) when output goes to a file or a CI
log, where a redrawn bar would be either invisible or hundreds of lines.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class Stage:
    """One stage's counters; the progress display reads them."""

    def __init__(self, description: str, total: int) -> None:
        self.description = description
        self.total = total
        self.done = 0
        self.output_tokens = 0
        self.started = time.monotonic()

    def __call__(self, finished: int = 1) -> None:
        """`finished` more items (requests, graded samples) are done."""
        self.done += finished

    def tokens(self, count: int) -> None:
        """`count` more output tokens were generated."""
        self.output_tokens += count

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    def eta_seconds(self) -> float | None:
        if not self.done or self.done >= self.total:
            return None
        return self.elapsed * (self.total - self.done) / self.done

    def summary(self) -> str:
        """`generating: 120/400, 3,456 tok/s, 1:02 elapsed, ETA 3:10` (tokens only if any)."""
        parts = [f"{self.description}: {self.done}/{self.total}"]
        if self.output_tokens:
            parts.append(f"{self.output_tokens / self.elapsed:,.0f} tok/s")
        parts.append(f"{_clock(self.elapsed)} elapsed")
        eta = self.eta_seconds()
        if eta is not None:
            parts.append(f"ETA {_clock(eta)}")
        return ", ".join(parts)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Silent progress: the default for library use."""

    def stage(self, description: str, total: int) -> Stage:
        """Start a stage of `total` items; the returned Stage is advanced by the pipeline."""
        return Stage(description, total)

    def done(self) -> None:
        """Close every display (called once the pipeline has finished, or failed)."""


class PlainProgress(Progress):
    """A plain status line every `interval` seconds and when a stage ends (files, CI logs)."""

    def __init__(self, stream: TextIO | None = None, interval: float = 5.0) -> None:
        self._stream = stream or sys.stderr
        self._interval = interval
        self._stages: list[_PlainStage] = []

    def stage(self, description: str, total: int) -> Stage:
        self._finish_open_stages()
        stage = _PlainStage(description, total, self._stream, self._interval)
        self._stages.append(stage)
        return stage

    def _finish_open_stages(self) -> None:
        for stage in self._stages:
            stage.finish()

    def done(self) -> None:
        self._finish_open_stages()


class _PlainStage(Stage):
    def __init__(self, description: str, total: int, stream: TextIO, interval: float) -> None:
        super().__init__(description, total)
        self._stream = stream
        self._interval = interval
        self._last_print = time.monotonic()
        self._finished = False

    def __call__(self, finished: int = 1) -> None:
        super().__call__(finished)
        self._maybe_print()

    def tokens(self, count: int) -> None:
        super().tokens(count)
        self._maybe_print()

    def _maybe_print(self) -> None:
        if time.monotonic() - self._last_print >= self._interval:
            self._print()

    def _print(self) -> None:
        self._last_print = time.monotonic()
        print(self.summary(), file=self._stream, flush=True)

    def finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._print()


class RichProgress(Progress):
    """Rich bars on a terminal: count, output tokens/s, elapsed time and ETA per stage."""

    def __init__(self, console: Any) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichBar

        self._bar = RichBar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._started = False

    def stage(self, description: str, total: int) -> Stage:
        if not self._started:
            self._bar.start()
            self._started = True
        task = self._bar.add_task(description, total=total, rate="")
        return _RichStage(description, total, self._bar, task)

    def done(self) -> None:
        if self._started:
            self._bar.stop()
            self._started = False


class _RichStage(Stage):
    def __init__(self, description: str, total: int, bar: Any, task: Any) -> None:
        super().__init__(description, total)
        self._bar = bar
        self._task = task

    def __call__(self, finished: int = 1) -> None:
        super().__call__(finished)
        self._bar.update(self._task, completed=self.done, rate=self._rate())

    def tokens(self, count: int) -> None:
        super().tokens(count)
        self._bar.update(self._task, rate=self._rate())

    def _rate(self) -> str:
        return f"{self.output_tokens / self.elapsed:,.0f} tok/s" if self.output_tokens else ""


def progress_for(console: Any, interval: float = 5.0) -> Progress:
    """Rich bars when `console` is a terminal, plain periodic lines otherwise."""
    if console.is_terminal:
        return RichProgress(console)
    return PlainProgress(console.file, interval)
