"""The completion cache: an append-only JSONL of Completions keyed by request hash.

Every completion is appended to `<out>/<model-slug>/completions.jsonl` in small fsynced batches
while the backend is still generating the rest of the round, so a run killed at 90% keeps its
90%: the next run with the same settings finds the completions by key and generates only what is
missing. A changed prompt or sampling setting changes the key, so stale outputs are never reused.

The file is written by one process at a time (`StoreLock`), and reading it never fails on what a
crash or a foreign tool can leave behind: a torn last line, a line cut inside a multi-byte
character, invalid UTF-8, or a record of the wrong shape is skipped with a warning (that
completion is regenerated), never an exception that makes the whole cache unreadable.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cfteval.manifest import redacted_command
from cfteval.records import Completion

if TYPE_CHECKING:
    from cfteval.partials import PartialLog

log = logging.getLogger(__name__)

Record = TypeVar("Record")

# Append in batches: an fsync per completion would cost more than generating short answers.
# CFTEVAL_STORE_FLUSH_SECONDS shortens the interval (tests that kill runs mid-way use it).
FLUSH_EVERY_COMPLETIONS = 256
FLUSH_EVERY_SECONDS = float(os.environ.get("CFTEVAL_STORE_FLUSH_SECONDS", "3.0"))


def completion_from_record(record: Any) -> Completion:
    """Validate one decoded cache line; raise ValueError naming what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, got {type(record).__name__}")
    key, texts = record.get("key"), record.get("texts")
    counts, reasons = record.get("token_counts"), record.get("finish_reasons")
    if not isinstance(key, str) or not key:
        raise ValueError("'key' is not a non-empty string")
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise ValueError("'texts' is not a list of strings")
    if not isinstance(counts, list) or not all(
        isinstance(count, int) and not isinstance(count, bool) for count in counts
    ):
        raise ValueError("'token_counts' is not a list of integers")
    if not isinstance(reasons, list) or not all(isinstance(reason, str) for reason in reasons):
        raise ValueError("'finish_reasons' is not a list of strings")
    if not texts or not len(texts) == len(counts) == len(reasons):
        raise ValueError(
            "'texts', 'token_counts' and 'finish_reasons' differ in length or are empty"
        )
    continued = record.get("continued_from")
    if continued is not None and not (
        isinstance(continued, list)
        and len(continued) == len(texts)
        and all(isinstance(count, int) and not isinstance(count, bool) for count in continued)
    ):
        raise ValueError("'continued_from' is not null or one integer per text")
    known = {name: record[name] for name in Completion.__dataclass_fields__ if name in record}
    try:
        return Completion(**known)
    except TypeError as error:
        raise ValueError(str(error)) from None


class CompletionStore:
    """Append-only cache of Completions; the last record for a key wins.

    `add` appends durably at once; `writer()` returns a batching appender for streams.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._by_key: dict[str, Completion] = {}
        self.skipped_lines = 0
        self._partial_log: PartialLog | None = None
        self._load()

    def partial_log(self) -> PartialLog:
        """The progress of answers in flight beside this store (partials.py), one per store.

        Read on first use, without the requests this store already holds. Use it while
        holding the store's lock: reading compacts the file.
        """
        if self._partial_log is None:
            from cfteval.partials import PartialLog, partial_log_path

            self._partial_log = PartialLog(partial_log_path(self.path))
            self._partial_log.load(finished=self.__contains__)
        return self._partial_log

    def _load(self) -> None:
        if not self.path.is_file():
            return
        # A torn line's completion is regenerated.
        for _, completion in read_jsonl(self.path, completion_from_record, self._skip):
            self._by_key[completion.key] = completion

    def _skip(self, line_number: int, why: str) -> None:
        self.skipped_lines += 1
        log.warning("%s:%d: skipping unreadable cache line (%s)", self.path, line_number, why)

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, key: str) -> Completion | None:
        return self._by_key.get(key)

    def add(self, completions: Iterable[Completion]) -> None:
        """Append completions durably (written, flushed and fsynced before returning)."""
        completions = list(completions)
        if not completions:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = b"".join(jsonl_line(asdict(completion)) for completion in completions)
        append_durably(self.path, lines)
        for completion in completions:
            self._by_key[completion.key] = completion

    def writer(
        self,
        every: int = FLUSH_EVERY_COMPLETIONS,
        seconds: float = FLUSH_EVERY_SECONDS,
    ) -> BatchedWriter:
        """A batching appender: use as a context manager so the last batch is always written."""
        return BatchedWriter(self, every, seconds)


def read_jsonl(
    path: Path, parse: Callable[[Any], Record], skipped: Callable[[int, str], None]
) -> Iterator[tuple[int, Record]]:
    """(line number, parsed record) of each line of a JSONL file that `parse` accepts.

    A line that is not UTF-8 or not JSON, or that `parse` rejects with ValueError, goes to
    `skipped(line number, why)` instead: what a crash or a foreign tool leaves behind (a torn
    last line, a line cut inside a multi-byte character) is never an exception.
    """
    if not path.is_file():
        return
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                # json.JSONDecodeError is a ValueError.
                record = parse(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, ValueError, RecursionError) as error:
                skipped(line_number, str(error))
                continue
            yield line_number, record


def jsonl_line(record: dict[str, Any]) -> bytes:
    """One JSONL line as UTF-8 bytes.

    A lone surrogate (any model text can hold one) becomes its JSON escape: valid UTF-8 that
    reads back as the same string.
    """
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


def append_durably(path: Path, lines: bytes) -> None:
    """Append whole JSONL lines: written, flushed and fsynced before returning.

    A crash can leave a torn last line; it is ended first, or the next record would be glued
    onto it and lost on reload.
    """
    with path.open("ab") as handle:
        if handle.tell() > 0 and not _ends_with_newline(path):
            handle.write(b"\n")
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


class BatchedWriter:
    """Collects streamed completions and appends them every `every` records or `seconds`.

    A crash loses at most the batch in memory; `close` (or leaving the `with` block, also by an
    exception or Ctrl-C) writes what is pending.
    """

    def __init__(self, store: CompletionStore, every: int, seconds: float) -> None:
        self._store = store
        self._every = every
        self._seconds = seconds
        self._pending: list[Completion] = []
        self._last_flush = time.monotonic()
        self.written = 0

    def add(self, completion: Completion) -> None:
        self._pending.append(completion)
        if (
            len(self._pending) >= self._every
            or time.monotonic() - self._last_flush >= self._seconds
        ):
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._store.add(self._pending)
            self.written += len(self._pending)
            self._pending = []
        self._last_flush = time.monotonic()

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> BatchedWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class StoreLock:
    """One writer per model store: an advisory lock on `<store>.lock` held for a whole run.

    A second cfteval on the same output folder would interleave appends and duplicate work; it
    is refused with a one-line message naming the process that holds the lock. The lock is
    released by the kernel when the holder dies, so a SIGKILLed run never leaves a stale lock.
    """

    def __init__(self, store_path: Path) -> None:
        self.path = store_path.with_name(store_path.name + ".lock")
        self._handle: Any = None

    def acquire(self) -> None:
        import fcntl

        from cfteval.errors import UserError

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise UserError(
                f"{self.path.parent} is being written by {holder}; wait for it to finish or "
                "use another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        command = " ".join(redacted_command(sys.argv[:6]))
        handle.write(f"cfteval pid {os.getpid()} ({command})".strip())
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            import fcntl

            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
