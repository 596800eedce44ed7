"""One request inside the vLLM engine: its samples' tokens, text and ends as they stream in.

Kept apart from the engine driver (vllm.py) because it holds the rules of continuing an
interrupted request: which samples still need the engine, from which kept tokens and with which
seed, what to hand over as partial progress, and how a continued sample's text is rebuilt
(see partials.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cfteval.backends.decoding import (
    continuation_seed,
    request_seed,
    sample_seed,
    truncate_at_stop,
)
from cfteval.partials import PartialDelta, PartialSample, token_array
from cfteval.records import Completion, Request

# Turns token ids into text as the engine does (special tokens skipped).
Decode = Callable[[Sequence[int]], str]

# A UTF-8 character spans at most 4 byte tokens: a kept sample cut inside one loses at most this
# many trailing tokens before its text ends cleanly.
MAX_TOKENS_PER_CHARACTER = 4
REPLACEMENT_CHARACTER = "\ufffd"


class InFlightRequest:
    """One request in the engine: the token ids, text and end of each of its samples so far.

    Normally one engine request generates all n samples. A request with kept progress runs as
    one engine request per sample still to generate (`engine_requests`): a kept sample
    continues from its tokens, one that had not started gets the seed it would have had.
    """

    def __init__(
        self,
        request: Request,
        prompt_tokens: int,
        kept: dict[int, PartialSample],
        decode: Decode,
    ) -> None:
        self.request = request
        self.prompt_tokens = prompt_tokens
        self.started = time.perf_counter()
        self.greedy = request.sampling.temperature == 0
        # vLLM refuses n > 1 for greedy decoding; greedy samples are identical anyway, so one
        # is generated and copied (see completion()).
        self.n = 1 if self.greedy else request.sampling.n
        self._decode = decode
        self.token_ids = [token_array() for _ in range(self.n)]
        self.texts: list[list[str]] = [[] for _ in range(self.n)]
        self.reasons: list[str | None] = [None] * self.n
        self.continued_from = [0] * self.n
        # How many of each sample's tokens have been handed to `Continuation.save`.
        self.saved = [0] * self.n
        self.kept = {index: sample for index, sample in kept.items() if index < self.n}
        for index, sample in self.kept.items():
            self.token_ids[index] = token_array(sample.token_ids)
            self.reasons[index] = sample.finish_reason
        self.outstanding = 0
        # Continued samples whose text may still complete a stop string begun in the kept
        # tokens, which the engine cannot see (it searches only the continuation's text): the
        # kept text's tail, until the continuation is longer than any stop string.
        self._kept_tails: dict[int, str] = {}
        self._stopped_early: set[int] = set()

    def engine_requests(self, room: int) -> Iterator[tuple[int | None, int, int | None, list[int]]]:
        """(sample index or None for all, n, seed, kept token ids) of each engine request.

        `room` is how many tokens the context leaves after the prompt: a kept sample that
        fills it (the context was made smaller since) ends there, as it would have.
        """
        limit = min(self.request.sampling.max_tokens, room)
        if not self.kept:
            self.outstanding = 1
            yield None, self.n, None if self.greedy else request_seed(self.request), []
            return
        for index in range(self.n):
            kept = self.token_ids[index]
            if self.reasons[index] is None:
                self._end_kept_tokens_on_a_character(kept)
            if len(kept) >= limit:
                del kept[limit:]
                self.reasons[index] = self.reasons[index] or "length"
            self.continued_from[index] = self.saved[index] = len(kept)
            if self.reasons[index] is None and kept and self.request.sampling.stop:
                self._watch_for_a_stop_string_across(index, kept)
            if self.reasons[index] is not None:
                continue
            if self.greedy:
                seed = None
            elif kept:
                seed = continuation_seed(self.request, index, len(kept))
            else:
                seed = sample_seed(self.request, index)
            self.outstanding += 1
            yield index, 1, seed, kept.tolist()

    def _end_kept_tokens_on_a_character(self, kept: Any) -> None:
        """Drop trailing tokens that hold only part of a character.

        Continuing there would start the engine's detokenizer inside a character; its first
        text would then repeat the prompt.
        """
        for _ in range(MAX_TOKENS_PER_CHARACTER):
            tail = kept[-2 * MAX_TOKENS_PER_CHARACTER :]
            if not tail or not self._decode(tail).endswith(REPLACEMENT_CHARACTER):
                return
            del kept[-1]

    def _watch_for_a_stop_string_across(self, index: int, kept: Any) -> None:
        """End a kept sample that already holds a stop string; else watch its kept tail."""
        stop = self.request.sampling.stop
        if truncate_at_stop(self._decode(kept), stop)[1]:
            self.reasons[index] = "stop"  # the engine would not have seen it: no need to ask
            return
        tail_tokens = MAX_TOKENS_PER_CHARACTER * max(len(string) for string in stop)
        self._kept_tails[index] = self._decode(kept[-tail_tokens:])

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
            elif position in self._kept_tails:
                self._check_stop_across_kept_tokens(position)
        return new

    def _check_stop_across_kept_tokens(self, index: int) -> None:
        """Mark a continued sample stopped once a stop string spans its kept tokens and new text.

        The tail's text can differ from the end of the whole text (tokenisers that drop a
        leading space when decoding a piece), so a hit is confirmed on the whole text.
        """
        stop = self.request.sampling.stop
        new_text = "".join(self.texts[index])
        if (
            truncate_at_stop(self._kept_tails[index] + new_text, stop)[1]
            and (truncate_at_stop(self._decode(self.token_ids[index]), stop)[1])
        ):
            self.reasons[index] = "stop"
            self._stopped_early.add(index)
            del self._kept_tails[index]
        elif len(new_text) >= max(len(string) for string in stop):
            del self._kept_tails[index]  # any stop string from here on is the engine's to find

    def stopped_early(self, index: int | None) -> bool:
        """Whether sample `index` ended on a stop string the engine could not see (abort it)."""
        return index in self._stopped_early

    def unsaved(self) -> list[PartialDelta]:
        """What each sample added since the last call, as log lines; marks it saved."""
        deltas = []
        for index in range(self.n):
            ids = self.token_ids[index]
            if len(ids) == self.saved[index]:
                continue
            start = self.saved[index]
            deltas.append(
                PartialDelta(
                    self.request.key, index, start, ids[start:].tolist(), self.reasons[index]
                )
            )
            self.saved[index] = len(ids)
        return deltas

    def _continued_sample(self, index: int) -> tuple[str, int, str]:
        """Text, token count and finish reason of a sample continued from kept tokens.

        Decoded from all its tokens: the engine streamed only the continuation's text. A stop
        string that straddles the kept tokens and the continuation went unseen by the engine;
        the text is cut there and the count covers the tokens up to the stop string.
        """
        ids = self.token_ids[index]
        stop = self.request.sampling.stop
        text, stopped = truncate_at_stop(self._decode(ids), stop)
        if not stopped:
            return text, len(ids), self.reasons[index] or "length"
        low, high = 1, len(ids)  # the fewest tokens whose text holds a stop string
        while low < high:
            middle = (low + high) // 2
            if truncate_at_stop(self._decode(ids[:middle]), stop)[1]:
                high = middle
            else:
                low = middle + 1
        return text, low, "stop"

    def completion(self) -> Completion:
        copies = self.request.sampling.n if self.n == 1 else 1
        texts, counts, reasons = [], [], []
        for index in range(self.n):
            if self.continued_from[index]:
                text, count, reason = self._continued_sample(index)
            else:
                text = "".join(self.texts[index])
                count, reason = len(self.token_ids[index]), self.reasons[index] or "length"
            texts.append(text)
            counts.append(count)
            reasons.append(reason)
        continued = any(self.continued_from)
        # A sample cut at a stop string inside its kept tokens was continued from its end.
        continued_from = [
            min(kept, count) for kept, count in zip(self.continued_from, counts, strict=True)
        ]
        return Completion(
            key=self.request.key,
            texts=texts * copies,
            token_counts=counts * copies,
            finish_reasons=reasons * copies,
            prompt_tokens=self.prompt_tokens,
            seconds=round(time.perf_counter() - self.started, 3),
            seed=None if self.greedy else request_seed(self.request),
            continued_from=continued_from * copies if continued else None,
        )
