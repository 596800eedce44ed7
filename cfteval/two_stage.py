"""Two-stage self-critique (the paper's Table 8): solve, let the model critique, retry if needed.

Each sample is a chain of attempts. Stage 1 is the direct prompt; stage 2 asks the model to
critique (question, stage-1 solution). A verdict other than Correct (Incorrect or none) sends the
chain back to stage 1 for a fresh attempt: a new draw, hence a new request key and seed (the
critique is not fed back). After `max_attempts` the last solution stands.

The mode works in rounds, solve and critique alternating, and every round returns the requests
of *all* unresolved chains at once: one batched backend call per stage per round, never one
problem at a time. Attempt `a` of sample `s` is draw `a * n + s`, so attempt 0 of sample 0 is
draw 0 and shares its key (and cache entry) with the direct mode's request at n = 1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from cfteval.modes import (
    Attempt,
    Draft,
    ModeName,
    ModeSetup,
    PromptSet,
    register,
    single_draw,
)
from cfteval.records import Completion, Problem, Request
from cfteval.verdict import Verdict, parse_verdict

log = logging.getLogger(__name__)

SOLVE, CRITIQUE = "solve", "critique"


@dataclass
class _Chain:
    """The attempts of one (problem, sample index) and the request it is waiting for."""

    problem: Problem
    sample_index: int
    solve_prompt: str
    attempts: list[Attempt] = field(default_factory=list)
    waiting: Request | None = None
    done: bool = False


@register(ModeName.TWO_STAGE)
class TwoStageMode:
    """Stage 1 solves, stage 2 critiques; not Correct → a fresh attempt, up to max_attempts."""

    name: str

    def __init__(self, setup: ModeSetup) -> None:
        self._setup = setup
        self._prompts: PromptSet = setup.prompts
        self._solve_sampling = single_draw(setup.sampling)
        self._critique_sampling = single_draw(setup.critique_sampling or setup.sampling)
        self._n = setup.sampling.n
        self._max_attempts = setup.max_attempts
        if setup.sampling.temperature == 0 and setup.max_attempts > 1:
            # A greedy fresh attempt repeats the first one word for word: retrying costs
            # compute and cannot change the answer.
            log.info("two-stage at temperature 0: one attempt per problem (retries are identical)")
            self._max_attempts = 1
        self._chains = [
            _Chain(problem, index, self._prompts.solve(problem))
            for problem in setup.problems
            for index in range(self._n)
        ]
        self._stage = SOLVE

    def _solve_request(self, chain: _Chain) -> Request:
        attempt = len(chain.attempts)
        return Request(
            chain.problem.id,
            chain.solve_prompt,
            self._solve_sampling,
            self._setup.model_identity,
            mode=self.name,
            stage=SOLVE,
            round=attempt,
            draw=attempt * self._n + chain.sample_index,
        )

    def _critique_request(self, chain: _Chain) -> Request:
        attempt = chain.attempts[-1]
        return Request(
            chain.problem.id,
            self._prompts.critique(chain.problem, attempt.solution),
            self._critique_sampling,
            self._setup.model_identity,
            mode=self.name,
            stage=CRITIQUE,
            round=len(chain.attempts) - 1,
            draw=attempt.draw,
        )

    def _issue(self, make: Callable[[_Chain], Request]) -> list[Request]:
        """The next request of every unresolved chain: one round of one stage, as one batch."""
        requests = []
        for chain in self._chains:
            if not chain.done:
                chain.waiting = make(chain)
                requests.append(chain.waiting)
        return requests

    def start(self) -> list[Request]:
        self._stage = SOLVE
        return self._issue(self._solve_request)

    def advance(self, completions: dict[str, Completion]) -> list[Request]:
        active = [chain for chain in self._chains if not chain.done]
        for chain in active:
            assert chain.waiting is not None
            completion = completions[chain.waiting.key]
            text, tokens = completion.texts[0], completion.token_counts[0]
            finish = completion.finish_reasons[0]
            if self._stage == SOLVE:
                chain.attempts.append(Attempt(chain.waiting.draw, text, tokens, finish))
            else:
                attempt = chain.attempts[-1]
                attempt.critique, attempt.critique_tokens = text, tokens
                attempt.critique_finish_reason = finish
                attempt.verdict = parse_verdict(text)
                if attempt.verdict is Verdict.CORRECT or len(chain.attempts) >= self._max_attempts:
                    chain.done = True
            chain.waiting = None
        if self._stage == SOLVE:
            self._stage = CRITIQUE
            return self._issue(self._critique_request)
        self._stage = SOLVE
        return self._issue(self._solve_request)

    def drafts(self) -> list[Draft]:
        drafts = []
        for chain in self._chains:
            if not chain.attempts:
                continue
            final = chain.attempts[-1]
            drafts.append(
                Draft(
                    problem=chain.problem,
                    mode=self.name,
                    temperature=self._solve_sampling.temperature,
                    sample_index=chain.sample_index,
                    prompt=chain.solve_prompt,
                    generation=final.solution,
                    tokens=sum(a.solution_tokens + a.critique_tokens for a in chain.attempts),
                    finish_reason=final.finish_reason,
                    attempts=list(chain.attempts),
                )
            )
        return drafts
