"""Grading what self-critique modes produce besides the final answer.

The critic's quality is measured against the grader, so the solutions it judged need grades too:
every attempt of a two-stage chain, and the first answer of a single-pass generation (before its
self-correction). `extra_texts` lists what to grade for a draft beyond its final generation (the
evaluator grades everything in one pool run); `stage_records` turns the grades into the per-stage
records written to samples.jsonl, which `critic_metrics` reads.
"""

from __future__ import annotations

from typing import Any

from cfteval.grading.boxes import boxed_contents
from cfteval.grading.types import GradeResult
from cfteval.modes import Draft, ModeName
from cfteval.verdict import Verdict, parse_verdict


def _boxes(text: str) -> list[str]:
    return [content for _, content in boxed_contents(text)]


def extra_texts(draft: Draft) -> list[str]:
    """Texts to grade for `draft` besides its generation, in the order `stage_records` expects."""
    if draft.mode == ModeName.TWO_STAGE.value:
        return [attempt.solution for attempt in draft.attempts]
    if draft.mode == ModeName.SINGLE_PASS.value:
        boxes = _boxes(draft.generation)
        # The first answer needs its own grade only when a later box replaced it.
        if len(boxes) > 1 and boxes[0] != boxes[-1]:
            return [f"\\boxed{{{boxes[0]}}}"]
    return []


def stage_records(
    draft: Draft, final: GradeResult, extra: list[GradeResult]
) -> list[dict[str, Any]]:
    """The per-stage records of one sample (empty for the direct mode)."""
    if draft.mode == ModeName.TWO_STAGE.value:
        return [
            {
                "attempt": index,
                "draw": attempt.draw,
                "solution": attempt.solution,
                "solution_tokens": attempt.solution_tokens,
                "finish_reason": attempt.finish_reason,
                "critique": attempt.critique,
                "critique_tokens": attempt.critique_tokens,
                "critique_finish_reason": attempt.critique_finish_reason,
                "verdict": attempt.verdict.value if attempt.verdict else None,
                "extracted": result.extracted,
                "correct": result.correct,
                "timed_out": result.timed_out,
            }
            for index, (attempt, result) in enumerate(zip(draft.attempts, extra, strict=True))
        ]
    if draft.mode == ModeName.SINGLE_PASS.value:
        boxes = _boxes(draft.generation)
        verdict = parse_verdict(draft.generation)
        changed = len(boxes) > 1 and boxes[0] != boxes[-1]
        first_correct = extra[0].correct if changed else (final.correct if boxes else None)
        return [
            {
                "stage": "self-critique",
                "verdict": verdict.value,
                "first_answer": boxes[0] if boxes else None,
                "first_correct": first_correct,
                "answer_changed": changed,
                # An explicit "incorrect" conclusion, or (without one) a replaced answer.
                "declared_wrong": verdict is Verdict.INCORRECT
                or (verdict is Verdict.NONE and changed),
            }
        ]
    return []
