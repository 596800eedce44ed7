"""The grading sandbox: per-item time limits, worker replacement, order, clean-up, safety."""

from __future__ import annotations

import logging
import os
import time

import pytest

from cfteval.errors import UserError
from cfteval.grading.sandbox import GradingPool, grade_items
from cfteval.grading.types import GradeItem
from tests.sandbox_helpers import scripted_grade, worker_startup_seconds


def _item(text: str, gold: str = "") -> GradeItem:
    return GradeItem(text=text, gold=gold, answer_type="math", benchmark="test")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def pool():
    with GradingPool(2, grader=scripted_grade) as scripted:
        yield scripted


def test_results_come_back_in_input_order(pool):
    items = [_item(f"answer {i}", gold=f"answer {i}" if i % 3 else "other") for i in range(300)]
    results = pool.grade(items, timeout=5)
    assert [r.extracted for r in results] == [f"answer {i}" for i in range(300)]
    assert [r.correct for r in results] == [i % 3 != 0 for i in range(300)]
    assert not any(r.timed_out for r in results)


def test_slow_items_time_out_and_the_rest_are_graded(pool):
    items = [_item("a", "a"), _item("sleep:30"), _item("b", "b"), _item("spin"), _item("c", "c")]
    start = time.monotonic()
    results = pool.grade(items, timeout=0.5)
    elapsed = time.monotonic() - start
    # Two time-outs: two replacement workers start (each as slow as a fresh start here).
    bound = 10 + 3 * worker_startup_seconds()
    assert elapsed < bound, "a hung item must not hold the call beyond its limit"
    assert [r.timed_out for r in results] == [False, True, False, True, False]
    assert [r.correct for r in results] == [True, False, True, False, True]
    assert results[1].extracted is None


def test_a_killed_worker_is_replaced_and_the_pool_stays_usable():
    with GradingPool(1, grader=scripted_grade) as single:
        before, stuck, after = single.grade(
            [_item("pid"), _item("spin"), _item("pid")], timeout=0.5
        )
        assert stuck.timed_out
        assert before.extracted != after.extracted, "the stuck worker should have been replaced"
        assert not _alive(int(before.extracted))
        again = single.grade([_item("x", "x")], timeout=0.5)
        assert again[0].correct


def test_crashing_and_raising_items_are_wrong_not_fatal(pool, caplog):
    items = [_item("crash"), _item("ok", "ok"), _item("raise"), _item("ok", "ok")]
    with caplog.at_level(logging.WARNING, logger="cfteval.grading.sandbox"):
        results = pool.grade(items, timeout=5)
    assert [r.correct for r in results] == [False, True, False, True]
    assert not any(r.timed_out for r in results)
    assert any("ValueError: scripted failure" in message for message in caplog.messages)
    assert any("died" in message for message in caplog.messages)


def test_no_worker_outlives_the_pool():
    with GradingPool(2, grader=scripted_grade) as scripted:
        pids = {int(r.extracted) for r in scripted.grade([_item("pid")] * 40, timeout=5)}
    assert pids and not any(_alive(pid) for pid in pids)


def test_an_interrupt_mid_call_kills_every_worker():
    seen: list[int] = []
    scripted = GradingPool(2, grader=scripted_grade)

    def interrupt(advance: int) -> None:
        seen.extend(w.process.pid for w in scripted._workers)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scripted.grade(
            [_item("ok", "ok")] + [_item("sleep:10")] * 4, timeout=30, progress=interrupt
        )
    assert seen and not any(_alive(pid) for pid in seen)
    assert scripted.grade([_item("y", "y")], timeout=5)[0].correct  # usable again
    scripted.close()


def test_progress_counts_every_item(pool):
    advanced: list[int] = []
    pool.grade([_item(str(i)) for i in range(50)], timeout=5, progress=advanced.append)
    assert sum(advanced) == 50


def test_empty_input_and_bad_arguments():
    assert grade_items([]) == []
    with pytest.raises(UserError, match="unknown grading profile"):
        grade_items([_item("1", "1")], profile="nope")
    with pytest.raises(ValueError):
        GradingPool(0)


@pytest.mark.parametrize("profile", ["qwen", "cfteval"])
def test_code_in_model_output_is_never_run(tmp_path, profile):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    items = [
        GradeItem(payload, "1", "math", "math"),
        GradeItem(f"The answer is $\\boxed{{{payload}}}$", "1", "math", "math"),
        GradeItem("The answer is \\boxed{1}", payload, "math", "math"),
        GradeItem(f"so x = {payload}", "x", "math", "math"),
        GradeItem(f"The answer is {payload}", "A", "multiple_choice", "gpqa", 4),
    ]
    results = grade_items(items, profile=profile, timeout=3)
    assert not marker.exists()
    assert len(results) == len(items)
    assert not any(r.correct for r in results[:2])


@pytest.mark.parametrize("profile", ["qwen", "cfteval"])
def test_power_towers_end_within_the_limit(profile):
    towers = [
        "\\boxed{2^{2^{2^{2^{2^{2}}}}}}",
        "\\boxed{9^{9^{9^{9}}}}",
        "\\boxed{10^10^10^10}",
        "\\boxed{(10^{10})!}",
    ]
    start = time.monotonic()
    results = grade_items(
        [GradeItem(t, "3", "math", "math") for t in towers], profile=profile, timeout=2
    )
    # Each tower may time out and cost a replacement worker's start.
    assert time.monotonic() - start < 15 + len(towers) * worker_startup_seconds()
    assert not any(r.correct for r in results)
