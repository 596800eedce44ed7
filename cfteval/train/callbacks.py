"""Trainer callbacks: the JSONL metrics log and the progress line the user reads.

The metrics log is append-only so that a resumed run continues the same file; every line says
which kind of record it is: `log` (loss, learning rate, tokens/s, ...) or `step` (which rows
each optimizer step trained on, so a resumed run can be checked for repeated data).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from transformers import TrainerCallback


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """One line, flushed at once: a crash loses at most the line being written."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


class MetricsLog(TrainerCallback):
    """Writes `metrics.jsonl` in the output folder (main process only)."""

    def __init__(
        self, path: Path, rows_per_step: list[list[str]], tokens_per_batch: list[int]
    ) -> None:
        self.path = path
        # Both filled by the trainer's training_step for every micro-batch, drained here.
        self._rows = rows_per_step
        self._tokens = tokens_per_batch
        self.tokens = 0  # trained this session, all processes (not the padding)
        self._last: tuple[float, float] | None = None  # (time, tokens) at the previous log

    def on_step_end(self, args, state, control, **kwargs):
        rows = [row for micro_batch in self._rows for row in micro_batch]
        self._rows.clear()
        self.tokens += sum(self._tokens)
        self._tokens.clear()
        if state.is_world_process_zero:
            append_jsonl(
                self.path,
                {"kind": "step", "step": state.global_step, "rows": rows, "time": time.time()},
            )

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        record: dict[str, Any] = {"kind": "log", "step": state.global_step, "time": time.time()}
        record.update({k: v for k, v in logs.items() if isinstance(v, int | float | str)})
        # Counted here rather than read from TRL's `num_tokens`, which its fused-LM-head loss
        # keeps and the model's own loss (on CPU, see trainer.py) does not.
        record["num_tokens"] = self.tokens
        now = time.perf_counter()
        if self._last is not None and now > self._last[0]:
            record["tokens_per_second"] = (self.tokens - self._last[1]) / (now - self._last[0])
        self._last = (now, self.tokens)
        logs["tokens_per_second"] = record.get("tokens_per_second")
        append_jsonl(self.path, record)


class ProgressLine(TrainerCallback):
    """One line per log: step/total, loss, tokens/s, ETA (rich, on stderr, main process only)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._start: tuple[float, int] | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self._start = (time.perf_counter(), state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs or not self._start:
            return
        elapsed = time.perf_counter() - self._start[0]
        done = state.global_step - self._start[1]
        remaining = state.max_steps - state.global_step
        eta = elapsed / done * remaining if done else float("nan")
        speed = logs.get("tokens_per_second")
        speed_text = f"{speed:,.0f} tok/s" if speed else "– tok/s"
        self.console.print(
            f"step {state.global_step}/{state.max_steps}  loss {logs['loss']:.4f}  "
            f"lr {logs.get('learning_rate', 0):.2e}  {speed_text}  ETA {_duration(eta)}",
            highlight=False,
            soft_wrap=True,
        )

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.console.print(f"saved checkpoint-{state.global_step}", highlight=False)


def _duration(seconds: float) -> str:
    if seconds != seconds:  # NaN: not known yet
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
