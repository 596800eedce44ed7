"""The contract every backend implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cfteval.records import Completion, Request

# Finish reason of a prompt that does not fit the model's context: no text was generated.
PROMPT_TOO_LONG = "prompt_too_long"

# Called with the number of requests just finished, for progress bars.
ProgressCallback = Callable[[int], None]


class Backend(Protocol):
    """Generates completions for requests; one model load per backend instance."""

    name: str

    def version(self) -> str:
        """Version of the underlying engine, recorded in every run manifest."""
        ...

    def generate(
        self, requests: list[Request], progress: ProgressCallback | None = None
    ) -> list[Completion]:
        """Return one Completion per Request, in the same order, each with `sampling.n` texts."""
        ...

    def close(self) -> None:
        """Free the model (GPU memory, worker processes)."""
        ...
