"""How one evaluation's runs are set up: the prompts each mode renders, which (mode, temperature)
pairs run, and what each run's manifest records about its mode. Split from evaluate.py, which
drives the runs."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from cfteval.modes import ModeName, ModeSetup, PromptSet
from cfteval.prompts import (
    critique_fingerprint,
    question_with_choices,
    render_critique,
    render_prompt,
    template_fingerprint,
)
from cfteval.records import Problem

if TYPE_CHECKING:
    from cfteval.evaluate import EvalConfig


def prompt_set(spec_template: str, config: EvalConfig, tokenizer: Any) -> PromptSet:
    """The solve, self-critique and critique renderers of one benchmark."""

    def solve(problem: Problem) -> str:
        return render_prompt(problem, spec_template, config.prompt_format, tokenizer)

    def self_critique(problem: Problem) -> str:
        return render_prompt(problem, "self-critique", config.prompt_format, tokenizer)

    def critique(problem: Problem, solution: str) -> str:
        question = question_with_choices(problem)
        return render_critique(question, solution, config.critique_template, tokenizer)

    return PromptSet(solve, self_critique, critique)


def mode_info(
    setup: ModeSetup,
    mode_name: ModeName,
    prompt_info: dict[str, Any],
    config: EvalConfig,
    tokenizer: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest's sampling and prompt records of one run, with its mode's own prompts."""
    sampling_info = asdict(setup.sampling)
    prompt_info = dict(prompt_info)
    if mode_name is ModeName.SINGLE_PASS:
        prompt_info["template"] = "self-critique"
        prompt_info["template_hash"] = template_fingerprint(
            "self-critique", config.prompt_format, tokenizer
        )
    if mode_name is ModeName.TWO_STAGE:
        critique = replace(setup.critique_sampling or setup.sampling, n=1)
        sampling_info["critique"] = asdict(critique)
        # A greedy retry would repeat itself: the mode makes one attempt at temperature 0.
        greedy = setup.sampling.temperature == 0
        sampling_info["max_attempts"] = 1 if greedy else setup.max_attempts
        prompt_info["critique_template"] = config.critique_template.value
        prompt_info["critique_template_hash"] = critique_fingerprint(
            config.critique_template, tokenizer
        )
    return sampling_info, prompt_info


def mode_temperatures(config: EvalConfig) -> list[tuple[ModeName, float]]:
    """Every (mode, temperature) pair asked for, modes first (the summary table's row order)."""
    if config.runs is not None:
        return [(ModeName(mode), float(t)) for mode, t in config.runs]
    return [(ModeName(mode), t) for mode in config.modes for t in config.temperatures]
