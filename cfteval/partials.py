"""Samples in flight, kept across a crash: the tokens each had generated when the run died.

The completion store only holds finished requests. With continuous batching hundreds of
requests are in flight at any moment, each part-way through its answer; a run killed at 50% of
its completions has done far more than 50% of its work, and a long reasoning answer can take
minutes. So while it generates, the backend hands over every few seconds the tokens each
running sample has added since the last time, and they are appended (fsynced) to
`completions.partial.jsonl` beside the store. A rerun continues each such sample from its
tokens instead of starting it over (`Continuation`); a sample that had not started is generated
with exactly the seed it would have had. Only token ids are kept: the text of a continued
sample is decoded from all its tokens (streamed text lags behind the tokens while the engine
holds back a possible stop string, and can be cut inside a character).

A continued sample is a correct sample from the model, but not the text an uninterrupted run
would have drawn at temperature > 0: the continuation's seed is derived from the key, the
sample index and the number of tokens kept (`decoding.continuation_seed`), so a rerun after the
same interruption is reproducible, and the completion records where it was continued
(`Completion.continued_from`). `--restart-partial` regenerates such samples from their start.

A delta names the token position it starts at. One that starts inside or at the end of what
the sample holds replaces the rest (a sample regenerated from its start by `--overwrite`
resets it); one that leaves a gap is skipped. Reading never fails: a torn or malformed line is
skipped too (that sample continues from what came before). Records of requests the store
already holds are dropped, and the file is removed once nothing in it is unfinished.
"""

from __future__ import annotations

import logging
import os
from array import array
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cfteval.completion_store import append_durably, jsonl_line, read_jsonl

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial.jsonl"
# The log is rewritten without finished requests once this much has been appended (and more
# than twice what is unfinished).
COMPACT_AFTER_BYTES = 64 * 2**20


def token_array(token_ids: Iterable[int] = ()) -> array:
    """Token ids held compactly (hundreds of long answers can be in flight at once)."""
    return array("l", token_ids)


@dataclass
class PartialSample:
    """One sample of a request in flight: its tokens so far, and its end if it ended.

    A sample can end while others of its request (n > 1) run on; the request is stored only
    when all have ended.
    """

    token_ids: array = field(default_factory=token_array)
    finish_reason: str | None = None


@dataclass
class PartialDelta:
    """One line of the log: tokens `start`… of sample `index` of request `key`."""

    key: str
    index: int
    start: int
    token_ids: list[int]
    finish_reason: str | None = None


# key -> sample index -> progress
Partials = dict[str, dict[int, PartialSample]]
ProgressSink = Callable[[list[PartialDelta]], None]


@dataclass
class Continuation:
    """What a resumable stream starts from, and where it reports the progress of its samples.

    `partials` holds the progress of (some of) the streamed requests; `save` receives, at most
    every `every_seconds`, what each running sample has added since the last call.
    """

    partials: Partials
    save: ProgressSink
    every_seconds: float


def partial_log_path(store_path: Path) -> Path:
    """`completions.partial.jsonl` beside `completions.jsonl`."""
    return store_path.with_name(store_path.stem + PARTIAL_SUFFIX)


def delta_from_record(record: Any) -> PartialDelta:
    """Validate one decoded log line; raise ValueError naming what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, got {type(record).__name__}")
    key, index, start = record.get("key"), record.get("index"), record.get("start")
    token_ids = record.get("token_ids")
    finish_reason = record.get("finish_reason")
    if not isinstance(key, str) or not key:
        raise ValueError("'key' is not a non-empty string")
    for name, value in (("index", index), ("start", start)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"'{name}' is not a non-negative integer")
    if not isinstance(token_ids, list) or not all(
        isinstance(token, int) and not isinstance(token, bool) for token in token_ids
    ):
        raise ValueError("'token_ids' is not a list of integers")
    if finish_reason is not None and not isinstance(finish_reason, str):
        raise ValueError("'finish_reason' is neither null nor a string")
    return PartialDelta(key, index, start, token_ids, finish_reason)


class PartialLog:
    """The progress of unfinished samples, in memory and in an append-only file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.samples: Partials = {}
        self.skipped_lines = 0
        # Bytes appended since the file last held only unfinished samples (see `forget`).
        self._appended = 0

    def load(self, finished: Callable[[str], bool]) -> None:
        """Read the file, dropping requests for which `finished(key)` is true, and compact it."""
        self._temporary().unlink(missing_ok=True)  # a rewrite a crash interrupted
        for line_number, delta in read_jsonl(self.path, delta_from_record, self._skip):
            if not self._apply(delta):
                self._skip(line_number, f"tokens {delta.start}… of a sample that holds fewer")
        self.forget([key for key in self.samples if finished(key)], compact=True)

    def _skip(self, line_number: int, why: str) -> None:
        self.skipped_lines += 1
        log.warning("%s:%d: skipping unreadable line (%s)", self.path, line_number, why)

    def _apply(self, delta: PartialDelta) -> bool:
        """Put the delta's tokens at its start; False (nothing changed) if that leaves a gap."""
        samples = self.samples.get(delta.key, {})
        sample = samples.get(delta.index) or PartialSample()
        if delta.start > len(sample.token_ids):
            return False
        del sample.token_ids[delta.start :]
        sample.token_ids.extend(delta.token_ids)
        sample.finish_reason = delta.finish_reason
        self.samples.setdefault(delta.key, samples)[delta.index] = sample
        return True

    def for_keys(self, keys: Iterable[str]) -> Partials:
        """A copy of the progress of these requests (those that have any).

        A copy: the log goes on extending its own samples as the stream saves progress.
        """
        return {
            key: {
                index: PartialSample(token_array(sample.token_ids), sample.finish_reason)
                for index, sample in self.samples[key].items()
            }
            for key in keys
            if key in self.samples
        }

    def save(self, deltas: list[PartialDelta]) -> None:
        """Append deltas durably and apply them in memory (a `ProgressSink`)."""
        if not deltas:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = b"".join(jsonl_line(asdict(delta)) for delta in deltas)
        append_durably(self.path, lines)
        self._appended += len(lines)
        for delta in deltas:
            if not self._apply(delta):
                log.warning(
                    "%s: progress of %s does not follow what was saved", self.path, delta.key
                )

    def forget(self, keys: Iterable[str], compact: bool = False) -> None:
        """Drop finished requests; remove the file once nothing unfinished is left in it.

        Called only after the store holds those requests durably, so a crash in between loses
        nothing: on reload, records of stored requests are dropped again. The file keeps the
        deltas of finished requests until it has grown well past what is still unfinished,
        then it is rewritten with one line per unfinished sample: a long run's log stays
        about the size of the answers in flight, at a rewrite cost spread over many saves.
        `compact` rewrites it now (after loading, at the end of a round).
        """
        for key in keys:
            self.samples.pop(key, None)
        if not self.path.exists():
            return
        if not self.samples:
            self.path.unlink(missing_ok=True)
            self._appended = 0
            return
        unfinished = sum(
            8 * len(sample.token_ids)
            for samples in self.samples.values()
            for sample in samples.values()
        )
        if compact or self._appended > max(COMPACT_AFTER_BYTES, 2 * unfinished):
            self._rewrite()

    def _temporary(self) -> Path:
        return self.path.with_name(self.path.name + ".tmp")

    def _rewrite(self) -> None:
        """Replace the file, atomically, with one line per unfinished sample."""
        lines = b"".join(
            jsonl_line(
                asdict(PartialDelta(key, index, 0, sample.token_ids.tolist(), sample.finish_reason))
            )
            for key, samples in self.samples.items()
            for index, sample in samples.items()
        )
        temporary = self._temporary()
        with temporary.open("wb") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        self._appended = 0
