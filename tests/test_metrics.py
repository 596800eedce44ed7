"""Scores: accuracy, standard error, unbiased pass@k, maj@k."""

from __future__ import annotations

import math

import pytest

from cfteval.metrics import majority_correct, pass_at_k, summarize
from cfteval.records import Sample


def _sample(pid: str, index: int, correct: bool, extracted: str | None = "1", **kw) -> Sample:
    fields = {"timed_out": False} | kw
    return Sample(
        problem_id=pid, sample_index=index, mode="direct", temperature=0.6, prompt="p",
        generation="g", extracted=extracted, gold="1", correct=correct, **fields,
    )  # fmt: skip


def test_pass_at_k_matches_the_closed_form() -> None:
    assert pass_at_k(4, 0, 1) == 0.0
    assert pass_at_k(4, 4, 2) == 1.0
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - math.comb(7, 5) / math.comb(10, 5))
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_majority_vote_uses_the_most_frequent_answer() -> None:
    samples = [
        _sample("a", 0, False, "2"),
        _sample("a", 1, False, "2"),
        _sample("a", 2, True, "1"),
    ]
    assert majority_correct(samples) is False
    samples.append(_sample("a", 3, True, "1"))
    samples.append(_sample("a", 4, True, "1"))
    assert majority_correct(samples) is True
    assert majority_correct([_sample("a", 0, False, None)]) is False


def test_summarize_single_sample_accuracy_and_counts() -> None:
    samples = [
        _sample("a", 0, True, tokens=10),
        _sample("b", 0, False, None, tokens=5, finish_reason="length"),
        _sample("c", 0, True, tokens=1),
        _sample("d", 0, False, timed_out=True),
    ]
    metrics = summarize(samples, wall_seconds=1.234)
    assert metrics["accuracy"] == 50.0
    assert metrics["n_problems"] == 4 and metrics["n_samples"] == 4
    assert metrics["empty_answers"] == 1 and metrics["timeouts"] == 1
    assert metrics["tokens_generated"] == 16 and metrics["truncated"] == 1
    assert metrics["wall_seconds"] == 1.23
    # stderr of a 0/1 mean over 4 problems: sqrt(p(1-p)*4/3/4) = sqrt(1/12)
    assert metrics["stderr"] == pytest.approx(100 * math.sqrt(1 / 12), abs=0.01)
    assert "pass@1" not in metrics


def test_summarize_with_n_samples_reports_pass_and_maj() -> None:
    samples = [_sample("a", i, i == 0, str(i)) for i in range(4)]
    samples += [_sample("b", i, True, "1") for i in range(4)]
    metrics = summarize(samples)
    assert metrics["accuracy"] == pytest.approx(62.5)
    assert metrics["pass@1"] == pytest.approx(62.5)
    assert metrics["pass@4"] == 100.0
    assert metrics["maj@4"] == 100.0  # a: four distinct answers, the first one seen is correct
