"""Persistence: the completion cache (append-only JSONL keyed by request hash) and atomic writes.

Every completion is appended to `<out>/<model-slug>/completions.jsonl` as soon as the backend
returns it, so an interrupted run loses nothing: the next run with the same settings finds the
completions by key and generates only what is missing. A changed prompt or sampling setting
changes the key, so stale outputs are never reused (a defect of the reference code).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cfteval.records import Completion

log = logging.getLogger(__name__)


class CompletionStore:
    """Append-only cache of Completions; the last record for a key wins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._by_key: dict[str, Completion] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("r", encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    completion = Completion(**record)
                except (json.JSONDecodeError, TypeError) as error:
                    # A crash mid-append leaves a torn last line; that completion is regenerated.
                    log.warning(
                        "%s:%d: skipping unreadable cache line (%s)", self.path, line_number, error
                    )
                    continue
                self._by_key[completion.key] = completion

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, key: str) -> Completion | None:
        return self._by_key.get(key)

    def add(self, completions: Iterable[Completion]) -> None:
        """Append completions durably (flushed and fsynced before returning)."""
        completions = list(completions)
        if not completions:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            for completion in completions:
                handle.write(json.dumps(asdict(completion), ensure_ascii=False) + "\n")
                self._by_key[completion.key] = completion
            handle.flush()
            os.fsync(handle.fileno())


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def stage_text(path: Path, text: str) -> str:
    """Write `text` to a durable temporary file beside `path`; return its name for `commit_staged`.

    mkstemp creates files readable by their owner only (0600); results are shared on group
    machines, so the file gets the mode an ordinary `open` would give it (0666 less the umask).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return tmp_name


def commit_staged(staged: Iterable[tuple[str, Path]]) -> None:
    """Rename staged temporary files onto their targets (each rename is atomic)."""
    for tmp_name, path in staged:
        os.replace(tmp_name, path)


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file and rename, so readers never see half a file."""
    tmp_name = stage_text(path, text)
    try:
        commit_staged([(tmp_name, path)])
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_jsonl_atomic(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    write_text_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def iter_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (`file:line`, object) for each non-blank line; a broken line is a UserError.

    The location string lets callers name the exact line in their own error messages.
    """
    from cfteval.errors import UserError

    with path.open("r", encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise UserError(f"{where}: malformed JSON line ({error.msg})") from None
            if not isinstance(row, dict):
                raise UserError(f"{where}: expected a JSON object, got {type(row).__name__}")
            yield where, row


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All objects of a JSONL file (see `iter_jsonl` for the error reporting)."""
    return [row for _, row in iter_jsonl(path)]
