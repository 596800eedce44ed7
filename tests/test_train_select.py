"""Checkpoints from `cfteval train` in both backends, scored by `cfteval eval` and `cfteval select`."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from cfteval.train.select import CheckpointScore, curve_rows, mark_best, pick_best
from tests.helpers import BENCHMARKS_DIR, needs_benchmarks, run_cfteval
from tests.train_data import cft_rows, write_jsonl


def _score(step: int, accuracy: float) -> CheckpointScore:
    return CheckpointScore(step, Path(f"checkpoint-{step}"), accuracy, 1.0)


def test_best_is_the_highest_accuracy_and_the_earliest_on_a_tie(tmp_path: Path) -> None:
    scores = [_score(2, 30.0), _score(4, 42.5), _score(6, 42.5), _score(8, 40.0)]
    best = pick_best(scores)
    assert best.step == 4
    rows = curve_rows(scores, width=10)
    assert [row[0] for row in rows] == ["2", "4", "6", "8"]
    assert len(rows[1][3]) == 10 and len(rows[0][3]) == 7  # bars scale with accuracy
    for step in (4, 6):
        (tmp_path / f"checkpoint-{step}").mkdir()
    link = mark_best(tmp_path, best)
    assert link.resolve() == (tmp_path / "checkpoint-4").resolve()
    mark_best(tmp_path, _score(6, 50.0))  # a rerun moves the mark
    assert link.resolve() == (tmp_path / "checkpoint-6").resolve()


def test_select_without_checkpoints_is_a_user_error(tmp_path: Path) -> None:
    result = run_cfteval("select", str(tmp_path), "--limit", "1")
    assert result.returncode == 2
    assert "no complete checkpoint-* folders" in result.stderr


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from cfteval.train.config import TrainConfig
    from cfteval.train.trainer import run_training

    base = tmp_path_factory.mktemp("trained")
    data = write_jsonl(base / "cft.jsonl", cft_rows(16))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_training(
            TrainConfig(
                model=str(tiny_model_dir),
                data=str(data),
                out=base / "run",
                lr=1e-3,
                max_steps=8,
                batch_size=4,
                max_length=256,
                save_steps=4,
            )  # fmt: skip
        )
    finally:
        torch.set_num_threads(threads)
    return base / "run"


@pytest.mark.slow
def test_checkpoint_loads_in_the_hf_backend(trained: Path) -> None:
    from cfteval.backends import load_backend
    from cfteval.records import Request, Sampling

    backend = load_backend("hf", str(trained / "checkpoint-8"))
    try:
        [completion] = backend.generate(
            [
                Request(
                    "q",
                    "<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n",
                    Sampling(max_tokens=8),
                    model="ckpt",
                )
            ]  # fmt: skip
        )
    finally:
        backend.close()
    assert completion.texts and completion.token_counts[0] > 0


@pytest.mark.slow
@needs_benchmarks
def test_cfteval_eval_scores_a_checkpoint_with_vllm(trained: Path, tmp_path: Path) -> None:
    pytest.importorskip("vllm")
    result = run_cfteval(
        "eval", "--model", str(trained / "checkpoint-4"), "--benchmarks", "math500",
        "--limit", "2", "--max-tokens", "16", "--backend", "vllm", "--max-model-len", "1024",
        "--data-dir", str(BENCHMARKS_DIR), "--out", str(tmp_path / "runs"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    [metrics] = list((tmp_path / "runs").glob("*/math500/direct/t0.0/metrics.json"))
    manifest = metrics.with_name("manifest.json").read_text()
    assert '"name": "vllm"' in manifest and "checkpoint-4" in manifest


@pytest.mark.slow
@needs_benchmarks
def test_select_scores_every_checkpoint_and_marks_the_best(trained: Path) -> None:
    args = ("select", str(trained), "--limit", "2", "--max-tokens", "8", "--backend", "hf",
            "--data-dir", str(BENCHMARKS_DIR))  # fmt: skip
    result = run_cfteval(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    with (trained / "selection.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["step"] for row in rows] == ["4", "8"]
    best = [row for row in rows if row["best"] == "1"]
    assert len(best) == 1
    assert float(best[0]["accuracy"]) == max(float(row["accuracy"]) for row in rows)
    assert os.readlink(trained / "best") == best[0]["checkpoint"]
    assert "accuracy (%) vs step" in result.stdout
    # A rerun answers from the completion cache: nothing is generated again.
    again = run_cfteval(*args)
    assert again.returncode == 0 and "generating" not in again.stderr
