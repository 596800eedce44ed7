"""Core records that flow through the pipeline: benchmark → prompt → generate → grade → score.

Plain dataclasses, JSON-serialisable with `dataclasses.asdict`, so that every stage can be
logged, cached and resumed from disk.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


# Answer types understood by extraction and equivalence.
#   math             free-form maths answer (LaTeX), graded symbolically (MATH, Minerva, AIME, ...)
#   multiple_choice  a letter; Problem.choices holds the option texts (GPQA A-D, MMLU-Pro A-J)
#   bool, integer, float, option, list   TheoremQA's typed answers
class AnswerType(StrEnum):
    """The kinds of answer extraction and equivalence know (a str: JSON and YAML keep strings)."""

    MATH = "math"
    MULTIPLE_CHOICE = "multiple_choice"
    BOOL = "bool"
    INTEGER = "integer"
    FLOAT = "float"
    OPTION = "option"
    LIST = "list"


ANSWER_TYPES = tuple(kind.value for kind in AnswerType)


@dataclass
class Problem:
    """One benchmark item with its gold answer, normalised from the benchmark's own format."""

    benchmark: str
    id: str
    question: str
    gold: str
    answer_type: str
    choices: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sampling:
    """Everything about decoding that changes the output; part of the request key."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 2048
    n: int = 1
    seed: int = 0
    stop: tuple[str, ...] = ()


@dataclass
class Request:
    """One prompt to generate `sampling.n` completions for.

    `model` is the model's identity (path or hub id plus revision/hash) so that the same prompt
    sent to two models never shares a cache entry.
    """

    problem_id: str
    prompt: str
    sampling: Sampling
    model: str
    mode: str = "direct"
    stage: str = "solve"
    round: int = 0
    draw: int = 0
    # Chat messages as (role, content) pairs, for servers that apply their own chat template
    # (the openai backend; `--prompt-format chat` there sends prompts rendered as JSON messages
    # instead); offline backends always use `prompt`.
    messages: tuple[tuple[str, str], ...] | None = None

    @property
    def key(self) -> str:
        """Stable hash of everything that affects the output: how caching and resume work.

        `draw` numbers independent samples of the same prompt and sampling (a fresh attempt of
        the two-stage mode, say): without it they would share one key, one seed and one cached
        answer. Draw 0 is left out of the payload so that keys of single-draw requests stay
        those of earlier versions (their caches remain valid); so are absent `messages`.
        """
        payload: dict[str, Any] = {
            "model": self.model,
            "prompt": self.prompt,
            "sampling": asdict(self.sampling),
        }
        if self.draw:
            payload["draw"] = self.draw
        if self.messages is not None:
            payload["messages"] = [list(pair) for pair in self.messages]
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:32]


@dataclass
class Completion:
    """The backend's answer to one Request: `n` texts with their token counts."""

    key: str
    texts: list[str]
    token_counts: list[int]
    finish_reasons: list[str]
    prompt_tokens: int = 0
    seconds: float = 0.0
    # Provenance, stamped by the evaluator when the completion is stored: the sampling seed
    # (None for greedy decoding; sample i of n uses seed + i, and a sample continued after a
    # crash draws its continuation from a seed derived from this one's request, see
    # decoding.continuation_seed) and the backend with its version that generated it.
    seed: int | None = None
    backend: str | None = None
    # Per sample, the number of tokens kept from an interrupted run that this one continued
    # from (see partials.py); None when every sample was generated in one go.
    continued_from: list[int] | None = None


@dataclass
class Sample:
    """One line of a run's samples.jsonl: one (problem, sample index) graded."""

    problem_id: str
    sample_index: int
    mode: str
    temperature: float
    prompt: str
    generation: str
    extracted: str | None
    gold: str
    correct: bool
    timed_out: bool
    answer_type: str = "math"
    n_choices: int | None = None
    tokens: int = 0
    finish_reason: str = ""
    stages: list[dict[str, Any]] = field(default_factory=list)
