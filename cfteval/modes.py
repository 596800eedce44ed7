"""Inference modes: turn Problems into rounds of Requests and fold Completions back into drafts.

A mode is a small state machine driven by the evaluator:
    requests = mode.start()
    while requests:
        completions = <cache or backend>(requests)
        requests = mode.advance(completions)
    drafts = mode.drafts()
Direct and single-pass modes need one round. The two-stage mode (`two_stage.py`) alternates
solve and critique rounds, so every round of every (benchmark, mode, temperature) run still goes
to the backend as one batch. Modes live in a registry: a new mode is one class with `@register`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Protocol

from cfteval.records import Completion, Problem, Request, Sampling
from cfteval.verdict import Verdict


class ModeName(str, Enum):
    """The inference modes of the paper's Table 8."""

    DIRECT = "direct"
    SINGLE_PASS = "single-pass"
    TWO_STAGE = "two-stage"


@dataclass(frozen=True)
class PromptSet:
    """The prompt renderers a mode may need, each returning the text sent to the backend.

    A critique prompt needs the problem *and* a solution, so it is not a `render(problem)`.
    """

    solve: Callable[[Problem], str]
    self_critique: Callable[[Problem], str]
    critique: Callable[[Problem, str], str]


@dataclass(frozen=True)
class ModeSetup:
    """Everything one (benchmark, mode, temperature) run needs to build its requests."""

    problems: list[Problem]
    prompts: PromptSet
    sampling: Sampling  # of solutions; `n` = samples per problem
    model_identity: str
    critique_sampling: Sampling | None = None  # None: the solutions' sampling
    max_attempts: int = 8


@dataclass
class Attempt:
    """One solution of a two-stage chain and the model's critique of it."""

    draw: int
    solution: str
    solution_tokens: int
    finish_reason: str
    critique: str | None = None
    critique_tokens: int = 0
    critique_finish_reason: str = ""
    verdict: Verdict | None = None


@dataclass
class Draft:
    """One generated sample before grading: the text to grade and how it was produced.

    `tokens` counts every token generated for this sample, critiques and retries included:
    the compute the mode cost. `attempts` is filled by the two-stage mode only.
    """

    problem: Problem
    mode: str
    temperature: float
    sample_index: int
    prompt: str
    generation: str
    tokens: int
    finish_reason: str
    stages: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)


class Mode(Protocol):
    name: str

    def start(self) -> list[Request]: ...

    def advance(self, completions: dict[str, Completion]) -> list[Request]: ...

    def drafts(self) -> list[Draft]: ...


MODES: dict[ModeName, Callable[[ModeSetup], Mode]] = {}


def register(name: ModeName) -> Callable[[type], type]:
    """Class decorator: make a mode available under `name` (`--mode`, `make_mode`)."""

    def add(cls: type) -> type:
        cls.name = name.value
        MODES[name] = cls
        return cls

    return add


MODE_NAMES = tuple(name.value for name in ModeName)


def make_mode(name: ModeName | str, setup: ModeSetup) -> Mode:
    """The mode called `name` for one (benchmark, mode, temperature) run."""
    try:
        return MODES[ModeName(name)](setup)
    except (ValueError, KeyError):
        raise ValueError(f"unknown mode {name!r}; known: {', '.join(MODE_NAMES)}") from None


@register(ModeName.DIRECT)
class DirectMode:
    """One prompt per problem, `n` samples each; the graded text is the generation itself."""

    name: str

    def __init__(self, setup: ModeSetup) -> None:
        self._problems = setup.problems
        render = self._renderer(setup.prompts)
        self._requests = [
            Request(problem.id, render(problem), setup.sampling, setup.model_identity, self.name)
            for problem in setup.problems
        ]
        self._drafts: list[Draft] = []

    @staticmethod
    def _renderer(prompts: PromptSet) -> Callable[[Problem], str]:
        return prompts.solve

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


@register(ModeName.SINGLE_PASS)
class SinglePassMode(DirectMode):
    """Solve, critique and correct in one generation; the last boxed answer is graded.

    What the model concluded about its first answer (and whether the answer changed) is read
    at grading time (`critique_grading.py`), where the grader can judge the first answer too.
    """

    @staticmethod
    def _renderer(prompts: PromptSet) -> Callable[[Problem], str]:
        return prompts.self_critique


def single_draw(sampling: Sampling) -> Sampling:
    """`sampling` for one sample per request: chains of attempts draw their samples one by one."""
    return replace(sampling, n=1)


# Imported for its @register side effect; at the end because it builds on the classes above.
from cfteval import two_stage  # noqa: E402, F401
