"""The contract every backend implements: stream completions as they finish.

A backend receives a whole round of requests at once (so it can batch them) and yields each
Completion as soon as it is finished, in any order. The evaluator appends what it receives to the
completion store in small fsynced batches, so a crash loses at most one batch, never a round.
`generate` (all completions, in request order) is derived from `stream` for callers that want
the whole round at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from cfteval.partials import Continuation
from cfteval.records import Completion, Request

# Finish reason of a prompt that does not fit the model's context: no text was generated.
PROMPT_TOO_LONG = "prompt_too_long"


def prompt_too_long_completion(request: Request, prompt_tokens: int) -> Completion:
    """The empty completion of a prompt that does not fit the context: no text was generated.

    Every backend answers such a prompt the same way; the evaluator keeps it out of the cache.
    """
    n = request.sampling.n
    return Completion(
        key=request.key,
        texts=[""] * n,
        token_counts=[0] * n,
        finish_reasons=[PROMPT_TOO_LONG] * n,
        prompt_tokens=prompt_tokens,
    )


# Called with the number of output tokens generated since the last call (for tokens/s and
# progress that moves before whole requests finish). Optional for backends that cannot tell.
TokenCallback = Callable[[int], None]


class Backend:
    """Generates completions for requests; one model load per backend instance.

    Subclasses set `name` and implement `version`, `stream` and `close`.
    """

    name: str = "backend"
    # Whether `stream_resumable` continues kept samples (and saves progress) rather than
    # ignoring its continuation.
    continues_partial_answers: bool = False

    def version(self) -> str:
        """Version of the underlying engine, recorded in every cache record and run manifest."""
        raise NotImplementedError

    def stream(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> Iterator[Completion]:
        """Yield exactly one Completion per request (`sampling.n` texts each) as each finishes.

        The order is the backend's; `Completion.key` says which request it answers. Breaking
        out of the iterator (or an exception in the consumer) must leave the backend usable.
        """
        raise NotImplementedError

    def stream_resumable(
        self,
        requests: Sequence[Request],
        on_tokens: TokenCallback | None = None,
        continuation: Continuation | None = None,
    ) -> Iterator[Completion]:
        """`stream`, continuing samples from `continuation.partials` and saving their progress.

        Only engines that can prefill a sample's own tokens and report them as they come (the
        vLLM backend) continue; the others generate everything afresh and save nothing: their
        in-flight loss is bounded by their batch size or request concurrency anyway.
        """
        return self.stream(requests, on_tokens)

    def generate(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> list[Completion]:
        """Every Completion, in request order (requests with equal keys share one)."""
        by_key = {completion.key: completion for completion in self.stream(requests, on_tokens)}
        return [by_key[request.key] for request in requests]

    def close(self) -> None:
        """Free the model (GPU memory, worker processes, connections)."""
