"""One request inside the vLLM engine: its samples' tokens, text and ends as they stream in.

Kept apart from the engine driver (vllm.py) because it holds the rules of continuing an
interrupted request: which samples still need the engine, from which kept tokens and with which
seed, and what to hand over as partial progress (see partials.py).
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Iterator
from typing import Any

from cfteval.backends.decoding import (
    continuation_seed,
    request_seed,
    sample_seed,
    truncate_at_stop,
)
from cfteval.partials import PartialDelta, PartialSample
from cfteval.records import Completion, Request


class InFlightRequest:
    """One request in the engine: the token ids, text and end of each of its samples so far.

    Normally one engine request generates all n samples. A request with kept progress runs as
    one engine request per sample still to generate (`engine_requests`): a kept sample
    continues from its tokens, one that had not started gets the seed it would have had.
    """

    def __init__(
        self, request: Request, prompt_tokens: int, kept: dict[int, PartialSample]
    ) -> None:
        self.request = request
        self.prompt_tokens = prompt_tokens
        self.started = time.perf_counter()
        self.greedy = request.sampling.temperature == 0
        # vLLM refuses n > 1 for greedy decoding; greedy samples are identical anyway, so one
        # is generated and copied (see completion()).
        self.n = 1 if self.greedy else request.sampling.n
        # Compact arrays: hundreds of long answers can be in flight at once.
        self.token_ids = [array("l") for _ in range(self.n)]
        # Per sample: the text handed to `Continuation.save` so far, then each step's delta since.
        self.texts: list[list[str]] = [[""] for _ in range(self.n)]
        self.reasons: list[str | None] = [None] * self.n
        self.continued_from = [0] * self.n
        # How many of each sample's tokens have been handed to `Continuation.save`.
        self.saved = [0] * self.n
        self.kept = {index: sample for index, sample in kept.items() if index < self.n}
        for index, sample in self.kept.items():
            self.token_ids[index] = array("l", sample.token_ids)
            self.texts[index] = [sample.text]
            self.reasons[index] = sample.finish_reason
            self.continued_from[index] = len(sample.token_ids)
            self.saved[index] = len(sample.token_ids)
        self.outstanding = 0

    def engine_requests(self) -> Iterator[tuple[int | None, int, int | None, list[int]]]:
        """(sample index or None for all, n, seed, kept token ids) of each engine request."""
        max_tokens = self.request.sampling.max_tokens
        if not self.kept:
            self.outstanding = 1
            yield None, self.n, None if self.greedy else request_seed(self.request), []
            return
        for index in range(self.n):
            kept = self.token_ids[index]
            if self.reasons[index] is None and len(kept) >= max_tokens:
                self.reasons[index] = "length"
            if self.reasons[index] is not None:
                continue
            if self.greedy:
                seed = None
            elif kept:
                seed = continuation_seed(self.request, index, len(kept))
            else:
                seed = sample_seed(self.request, index)
            self.outstanding += 1
            yield index, 1, seed, list(kept)

    def absorb(self, output: Any, index: int | None) -> int:
        """Add one step's deltas (of sample `index`, or of all); return how many tokens."""
        new = 0
        for sample in output.outputs:
            position = sample.index if index is None else index
            self.texts[position].append(sample.text)
            self.token_ids[position].extend(sample.token_ids)
            new += len(sample.token_ids)
            if sample.finish_reason is not None:
                self.reasons[position] = sample.finish_reason
        return new

    def unsaved(self) -> list[PartialDelta]:
        """What each sample added since the last call, as log lines; marks it saved."""
        deltas = []
        for index in range(self.n):
            ids, parts = self.token_ids[index], self.texts[index]
            if len(ids) == self.saved[index]:
                continue
            new_text = "".join(parts[1:])
            deltas.append(
                PartialDelta(
                    self.request.key,
                    index,
                    self.saved[index],
                    ids[self.saved[index] :].tolist(),
                    new_text,
                    self.reasons[index],
                )
            )
            self.saved[index] = len(ids)
            self.texts[index] = [parts[0] + new_text]  # one string, not thousands of deltas
        return deltas

    def completion(self) -> Completion:
        copies = self.request.sampling.n if self.n == 1 else 1
        texts = ["".join(parts) for parts in self.texts]
        reasons = [reason or "length" for reason in self.reasons]
        for index, kept in enumerate(self.continued_from):
            if kept:
                # vLLM matches stop strings in the text it generated; one that straddles the
                # kept text and the continuation is found here.
                texts[index], stopped = truncate_at_stop(texts[index], self.request.sampling.stop)
                reasons[index] = "stop" if stopped else reasons[index]
        continued = any(self.continued_from)
        return Completion(
            key=self.request.key,
            texts=texts * copies,
            token_counts=[len(ids) for ids in self.token_ids] * copies,
            finish_reasons=reasons * copies,
            prompt_tokens=self.prompt_tokens,
            seconds=round(time.perf_counter() - self.started, 3),
            seed=None if self.greedy else request_seed(self.request),
            continued_from=list(self.continued_from) * copies if continued else None,
        )
