"""Inference modes: turn Problems into rounds of Requests and fold Completions back into drafts.

A mode is a small state machine driven by the evaluator:
    requests = mode.start()
    while requests:
        completions = <cache or backend>(requests)
        requests = mode.advance(completions)
    drafts = mode.drafts()
Direct mode needs one round. Modes with several stages (self-critique, later) return the next
stage's requests from `advance`, so every round of every (benchmark, temperature) still goes to
the backend as one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cfteval.records import Completion, Problem, Request, Sampling

MODE_NAMES = ("direct",)


@dataclass
class Draft:
    """One generated sample before grading: the text to grade and how it was produced."""

    problem: Problem
    mode: str
    temperature: float
    sample_index: int
    prompt: str
    generation: str
    tokens: int
    finish_reason: str
    stages: list[dict[str, Any]] = field(default_factory=list)


class Mode(Protocol):
    name: str

    def start(self) -> list[Request]: ...

    def advance(self, completions: dict[str, Completion]) -> list[Request]: ...

    def drafts(self) -> list[Draft]: ...


class DirectMode:
    """One prompt per problem, `n` samples each; the graded text is the generation itself."""

    name = "direct"

    def __init__(
        self,
        problems: list[Problem],
        render: Callable[[Problem], str],
        sampling: Sampling,
        model_identity: str,
        messages: Callable[[Problem], tuple[tuple[str, str], ...] | None] | None = None,
    ) -> None:
        self._problems = problems
        self._requests = [
            Request(
                problem.id,
                render(problem),
                sampling,
                model_identity,
                mode=self.name,
                messages=messages(problem) if messages is not None else None,
            )
            for problem in problems
        ]
        self._drafts: list[Draft] = []

    def start(self) -> list[Request]:
        return list(self._requests)

    def advance(self, completions: dict[str, Completion]) -> list[Request]:
        for problem, request in zip(self._problems, self._requests, strict=True):
            completion = completions[request.key]
            for index, text in enumerate(completion.texts):
                self._drafts.append(
                    Draft(
                        problem=problem,
                        mode=self.name,
                        temperature=request.sampling.temperature,
                        sample_index=index,
                        prompt=request.prompt,
                        generation=text,
                        tokens=completion.token_counts[index],
                        finish_reason=completion.finish_reasons[index],
                    )
                )
        return []

    def drafts(self) -> list[Draft]:
        return list(self._drafts)


def make_mode(
    name: str,
    problems: list[Problem],
    render: Callable[[Problem], str],
    sampling: Sampling,
    model_identity: str,
    messages: Callable[[Problem], tuple[tuple[str, str], ...] | None] | None = None,
) -> Mode:
    """The mode called `name` for one (benchmark, temperature) run.

    `messages` gives a request's chat messages when a server renders the chat template.
    """
    if name == "direct":
        return DirectMode(problems, render, sampling, model_identity, messages)
    raise ValueError(f"unknown mode {name!r}")
