"""Killing a `cfteval eval` run part-way, and measuring what it left on disk (bench (d)).

Work, not answers, says how far a run got: the store's answers and the tokens the partial log
kept of answers in flight (partials.py), read while the run is still appending to both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfteval.completion_store import read_jsonl


def cfteval_command() -> list[str]:
    """`cfteval` as a subprocess of this Python (the same environment)."""
    return [sys.executable, "-m", "cfteval.cli"]


def _object(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise ValueError("not an object")
    return record


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The readable records of a JSONL file another process is appending to (torn lines skipped)."""
    for _, record in read_jsonl(path, _object, lambda line_number, why: None):
        yield record


@dataclass
class WorkOnDisk:
    """What a rerun would not generate again: stored answers, and tokens kept of the others."""

    stored: int = 0
    stored_tokens: int = 0
    kept_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.stored_tokens + self.kept_tokens


def work_on_disk(out: Path) -> WorkOnDisk:
    work = WorkOnDisk()
    keys = set()
    for store in out.glob("*/completions.jsonl"):
        for record in _json_lines(store):
            if record.get("key") not in keys and isinstance(record.get("token_counts"), list):
                keys.add(record["key"])
                work.stored += 1
                work.stored_tokens += sum(record["token_counts"])
    for log in out.glob("*/completions.partial.jsonl"):
        for record in _json_lines(log):
            if record.get("key") not in keys and isinstance(record.get("token_ids"), list):
                work.kept_tokens += len(record["token_ids"])
    return work


def run_killed_at(args: list[str], out: Path, tokens: int) -> tuple[float, WorkOnDisk]:
    """Start `cfteval eval`, SIGKILL it once `tokens` output tokens are on disk.

    Work, not answers: with continuous batching the first half of the answers to finish are
    the short ones, so "half the answers stored" comes long after half the work was done.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        [*cfteval_command(), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while process.poll() is None:
        if work_on_disk(out).tokens >= tokens:
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.2)
    process.wait()
    return time.perf_counter() - started, work_on_disk(out)
