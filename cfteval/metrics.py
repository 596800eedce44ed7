"""Scores from graded samples: accuracy (avg@n), pass@k (unbiased), maj@k, standard error.

Accuracy is the mean correctness over all samples (= avg@n), in percent. With one sample per
problem it is the paper's accuracy. The standard error is over problems (each problem's mean
correctness is one observation), which is the honest unit when n > 1.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

from cfteval.records import Sample


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): P(at least one of k draws from n samples is correct)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    # 1 - C(n-c, k) / C(n, k), as a product to stay in floating point range.
    return 1.0 - math.prod((n - c - i) / (n - i) for i in range(k))


def majority_correct(samples: list[Sample]) -> bool:
    """maj@k for one problem: is the most frequent extracted answer correct?

    Answers are grouped by their extracted string; a group counts as correct when any of its
    samples was graded correct (same string, same verdict, except under time-outs).
    Ties go to the answer seen first, so the result is deterministic.
    """
    answered = [s for s in samples if s.extracted is not None]
    if not answered:
        return False
    counts = Counter(s.extracted for s in answered)
    top = max(counts.values())
    winner = next(s.extracted for s in answered if counts[s.extracted] == top)
    return any(s.correct for s in answered if s.extracted == winner)


def _by_problem(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[sample.problem_id].append(sample)
    return groups


def summarize(samples: list[Sample], wall_seconds: float | None = None) -> dict:
    """metrics.json content for one run (one benchmark, mode and temperature)."""
    groups = _by_problem(samples)
    n_problems = len(groups)
    per_problem = [sum(s.correct for s in group) / len(group) for group in groups.values()]
    accuracy = 100.0 * sum(per_problem) / n_problems if n_problems else 0.0
    if n_problems > 1:
        mean = accuracy / 100.0
        variance = sum((p - mean) ** 2 for p in per_problem) / (n_problems - 1)
        stderr = 100.0 * math.sqrt(variance / n_problems)
    else:
        stderr = 0.0
    n_per_problem = min((len(g) for g in groups.values()), default=0)
    metrics: dict = {
        "accuracy": round(accuracy, 2),
        "stderr": round(stderr, 2),
        "n_problems": n_problems,
        "n_samples": len(samples),
        "samples_per_problem": n_per_problem,
        "correct": sum(s.correct for s in samples),
        "timeouts": sum(s.timed_out for s in samples),
        "empty_answers": sum(s.extracted is None for s in samples),
        "tokens_generated": sum(s.tokens for s in samples),
        # The compute a mode costs: critiques and retries included (see modes.Draft.tokens).
        "tokens_per_problem": round(sum(s.tokens for s in samples) / n_problems, 1)
        if n_problems
        else 0.0,
        "truncated": sum(s.finish_reason == "length" for s in samples),
    }
    if n_per_problem > 1:
        for k in sorted({1, n_per_problem} | {k for k in (2, 4, 8, 16, 32) if k < n_per_problem}):
            metrics[f"pass@{k}"] = round(
                100.0
                * sum(pass_at_k(len(g), sum(s.correct for s in g), k) for g in groups.values())
                / n_problems,
                2,
            )
        metrics[f"maj@{n_per_problem}"] = round(
            100.0 * sum(majority_correct(g) for g in groups.values()) / n_problems, 2
        )
    if wall_seconds is not None:
        metrics["wall_seconds"] = round(wall_seconds, 2)
    return metrics
