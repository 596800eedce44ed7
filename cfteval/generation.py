"""Answering a round of requests: from the completion cache, else from the backend, streamed.

The backend is created only when something is missing, so re-running a finished evaluation
(after a grader change, say) needs no model at all. Fresh completions go to the store in small
fsynced batches while the backend is still generating the rest of the round: a run killed by
SIGKILL loses at most one batch, and Ctrl-C, a dead server or a dead data-parallel worker loses
nothing that had finished.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cfteval.backends.base import PROMPT_TOO_LONG, Backend
from cfteval.completion_store import FLUSH_EVERY_SECONDS, CompletionStore
from cfteval.errors import UserError
from cfteval.models import ModelInfo, resolve_model
from cfteval.partials import Continuation, PartialDelta
from cfteval.progress import Progress
from cfteval.records import Completion, Request

log = logging.getLogger(__name__)


@dataclass
class BackendOptions:
    """How to build the backend, should one be needed."""

    name: str
    model_path: str
    seed: int = 0
    max_model_len: int | None = None
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    dtype: str = "auto"
    engine_kwargs: dict[str, Any] = field(default_factory=dict)


def resolve_model_for(
    backend: str, model: str, base_urls: list[str], api_key: str | None
) -> ModelInfo:
    """The model's identity: a served model's from its server, else the checkpoint's own."""
    if backend == "openai":
        from cfteval.backends.served import resolve_served_model

        return resolve_served_model(model, base_urls, api_key)
    return resolve_model(model)


@dataclass
class Provenance:
    """Where one run's completions came from, for its manifest."""

    generated: int = 0
    from_cache: int = 0
    generated_by: Counter = field(default_factory=Counter)
    continued: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated_this_invocation": self.generated,
            "from_cache": self.from_cache,
            "generated_by": dict(self.generated_by),
            "continued_after_interruption": self.continued,
        }


class Generator:
    """Answers requests from the cache, generating only the missing ones (one stream per round).

    `overwrite` regenerates every request once in this invocation, whatever the cache holds.
    Samples a killed run left part-way are continued from their kept tokens (partials.py)
    unless `restart_partial` (or `overwrite`) says to generate them from their start.
    Create it while holding the store's lock: it compacts the store's partial log.
    """

    def __init__(
        self,
        options: BackendOptions,
        store: CompletionStore,
        overwrite: bool = False,
        restart_partial: bool = False,
    ) -> None:
        self._options = options
        self._store = store
        self._overwrite = overwrite
        self._continue_partial = not (overwrite or restart_partial)
        self._partials = store.partial_log()
        self._saving_progress = True
        self._regenerated: set[str] = set()
        self._fresh: set[str] = set()
        self._asked: set[str] = set()  # keys this generator was asked to generate
        self._backend: Backend | None = None
        self._closed = False
        self.generated = 0
        self.generation_seconds = 0.0

    @property
    def used(self) -> bool:
        return self._backend is not None

    @property
    def kept_part_way(self) -> int:
        """How many of the requests asked of it have progress kept for a rerun (partials.py)."""
        return len(self._partials.for_keys(self._asked))

    @property
    def label(self) -> str | None:
        """`<backend> <version>`, stamped on every completion this generator stores."""
        if self._backend is None:
            return None
        return f"{self._backend.name} {self._backend.version()}"

    def backend_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": self._backend.name if self._backend else self._options.name,
            "version": self._backend.version() if self._backend else None,
            "used": self.used,
            "dtype": getattr(self._backend, "dtype", None) or self._options.dtype,
            "max_model_len": self._options.max_model_len,
            "tensor_parallel_size": self._options.tensor_parallel_size,
            "data_parallel_size": self._options.data_parallel_size,
            "generation_seconds": round(self.generation_seconds, 2),
        }
        load_seconds = getattr(self._backend, "load_seconds", None)
        if load_seconds is not None:
            info["load_seconds"] = round(load_seconds, 2)
        return info

    def _ensure_backend(self) -> Backend:
        if self._backend is None:
            from cfteval.backends import load_backend

            options = self._options
            try:
                self._backend = load_backend(
                    options.name,
                    options.model_path,
                    seed=options.seed,
                    max_model_len=options.max_model_len,
                    tensor_parallel_size=options.tensor_parallel_size,
                    data_parallel_size=options.data_parallel_size,
                    dtype=options.dtype,
                    **options.engine_kwargs,
                )
            except UserError:
                raise
            except Exception as error:  # noqa: BLE001 - any load failure is the model's, not ours
                log.debug("backend load failed", exc_info=True)
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise UserError(
                    f"cannot load model {options.model_path} with the {options.name} "
                    f"backend: {type(error).__name__}: {first_line}"
                ) from None
        return self._backend

    def _is_missing(self, key: str) -> bool:
        if self._overwrite and key not in self._regenerated:
            return True
        return key not in self._store

    def complete(self, requests: list[Request], progress: Progress) -> dict[str, Completion]:
        """One Completion per distinct request key; generates what the cache does not hold."""
        unique = {request.key: request for request in requests}
        missing = [request for key, request in unique.items() if self._is_missing(key)]
        fresh: dict[str, Completion] = {}
        if missing:
            fresh = self._generate(missing, progress)
        return {key: fresh.get(key) or self._store.get(key) for key in unique}  # type: ignore[misc]

    def _generate(self, missing: list[Request], progress: Progress) -> dict[str, Completion]:
        backend = self._ensure_backend()
        label = self.label
        self._asked.update(request.key for request in missing)
        kept = self._partials.for_keys(request.key for request in missing)
        if kept and not (self._continue_partial and backend.continues_partial_answers):
            self._partials.forget(kept, compact=True)  # generated afresh: their progress goes
            kept = {}
        continued = f", {len(kept)} continued from a killed run" if kept else ""
        stage = progress.stage(f"generating ({len(missing)} requests{continued})", len(missing))
        fresh: dict[str, Completion] = {}
        started = time.perf_counter()
        continuation = Continuation(kept, self._save_progress, FLUSH_EVERY_SECONDS)
        unflushed: list[str] = []  # given to the writer, not yet durably in the store
        try:
            with self._store.writer() as writer:
                for completion in backend.stream_resumable(missing, stage.tokens, continuation):
                    completion.backend = label
                    fresh[completion.key] = completion
                    self._regenerated.add(completion.key)
                    # A prompt longer than the context is not a model output: keep it out of
                    # the cache so that a run with a larger --max-model-len generates it.
                    if PROMPT_TOO_LONG not in completion.finish_reasons:
                        flushed = writer.written
                        writer.add(completion)
                        unflushed.append(completion.key)
                        if writer.written != flushed:  # the batch reached the store
                            self._partials.forget(unflushed)
                            unflushed = []
                    self.generated += 1
                    stage(1)
        finally:
            self.generation_seconds += time.perf_counter() - started
            self._fresh.update(fresh)
            # Only those the store now holds durably (the writer has flushed).
            stored = [key for key, done in fresh.items() if self._store.get(key) is done]
            self._partials.forget(stored, compact=True)
        unanswered = [request.key for request in missing if request.key not in fresh]
        if unanswered:
            raise RuntimeError(
                f"the {backend.name} backend left {len(unanswered)} request(s) unanswered"
            )
        return fresh

    def _save_progress(self, deltas: list[PartialDelta]) -> None:
        """Keep the progress of answers in flight; a failure to write it stops only that.

        Saving progress only spares a rerun some work: a full disk must not end a run whose
        finished answers can still be stored.
        """
        if not self._saving_progress:
            return
        try:
            self._partials.save(deltas)
        except OSError as error:
            self._saving_progress = False
            log.warning(
                "cannot save the progress of answers in flight (%s); a crash would now restart "
                "them from their start",
                error,
            )

    def provenance(self, completions: list[Completion]) -> Provenance:
        """Where these completions came from: generated now or read from the cache, and by what."""
        result = Provenance()
        for completion in completions:
            if completion.key in self._fresh:
                result.generated += 1
            else:
                result.from_cache += 1
            result.generated_by[completion.backend or "unknown (older cache record)"] += 1
            result.continued += completion.continued_from is not None
        return result

    def close(self) -> None:
        """Free the model (idempotent); what it generated stays described for the manifest."""
        if self._backend is not None and not self._closed:
            self._closed = True
            self._backend.close()


def backend_record(generator: Generator, completions: list[Completion]) -> dict[str, Any]:
    """The manifest's backend block: what generated this run's completions, now or earlier.

    A run served from the cache names the backend and version recorded with the cached
    completions, rather than the backend this invocation would have used.
    """
    info = generator.backend_info()
    provenance = generator.provenance(completions)
    if not generator.used and provenance.generated_by:
        label = provenance.generated_by.most_common(1)[0][0]
        name, _, version = label.partition(" ")
        info.update(name=name, version=version or None)
    return info | provenance.as_dict()
