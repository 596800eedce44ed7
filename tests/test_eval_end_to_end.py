"""`cfteval eval` end to end on a tiny random model: real backends, real files, real grading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import BENCHMARKS_DIR, needs_benchmarks, run_cfteval

pytestmark = [needs_benchmarks, pytest.mark.slow]

SAMPLE_FIELDS = {
    "problem_id", "sample_index", "mode", "temperature", "prompt", "generation",
    "extracted", "gold", "correct", "timed_out",
}  # fmt: skip
METRIC_FIELDS = {
    "accuracy", "n_problems", "n_samples", "timeouts", "empty_answers",
    "tokens_generated", "wall_seconds",
}  # fmt: skip
MANIFEST_FIELDS = {
    "cfteval_version", "git_revision", "model", "backend", "software", "sampling", "prompt",
    "data", "hardware", "started_at", "finished_at", "grading",
}  # fmt: skip


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _check_run_dir(run_dir: Path, n_problems: int, n_samples: int, temperature: float) -> dict:
    samples = _read_jsonl(run_dir / "samples.jsonl")
    assert len(samples) == n_problems * n_samples
    for sample in samples:
        assert SAMPLE_FIELDS <= sample.keys()
        assert sample["temperature"] == temperature
        assert sample["prompt"].startswith("<|im_start|>system\n")
        assert isinstance(sample["correct"], bool) and sample["gold"]
    assert {s["sample_index"] for s in samples} == set(range(n_samples))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert METRIC_FIELDS <= metrics.keys()
    assert metrics["n_problems"] == n_problems and metrics["n_samples"] == n_problems * n_samples
    expected = 100 * sum(s["correct"] for s in samples) / len(samples)
    assert metrics["accuracy"] == pytest.approx(expected, abs=0.01)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert MANIFEST_FIELDS <= manifest.keys()
    assert manifest["sampling"]["temperature"] == temperature
    assert manifest["data"]["fingerprint"] and manifest["prompt"]["template_hash"]
    return manifest


@pytest.mark.parametrize("backend", ["vllm", "hf"])
def test_eval_writes_run_folders_and_resumes(
    backend: str, tiny_model_dir: Path, tmp_path: Path
) -> None:
    args = [
        "eval", "--model", str(tiny_model_dir), "--benchmarks", "gsm8k,math500", "--limit", "3",
        "--temperatures", "0,0.6", "--n", "2", "--max-tokens", "24", "--backend", backend,
        "--data-dir", str(BENCHMARKS_DIR), "--out", str(tmp_path / "runs"),
    ]  # fmt: skip
    first = run_cfteval(*args)
    assert first.returncode == 0, first.stderr
    assert "gsm8k" in first.stdout and "math500" in first.stdout and "AVG" in first.stdout
    model_dirs = list((tmp_path / "runs").iterdir())
    assert len(model_dirs) == 1
    for benchmark in ("gsm8k", "math500"):
        for temperature in (0.0, 0.6):
            run_dir = model_dirs[0] / benchmark / "direct" / f"t{temperature}"
            # greedy runs keep one sample per problem: n identical texts would add nothing
            manifest = _check_run_dir(run_dir, 3, 2 if temperature > 0 else 1, temperature)
            assert manifest["backend"]["name"] == backend and manifest["backend"]["version"]
            assert manifest["backend"]["generated_this_invocation"] == 3
            assert manifest["backend"]["generation_seconds"] > 0
    # 2 benchmarks × 2 temperatures × 3 problems, one request each (n texts per request)
    cache = model_dirs[0] / "completions.jsonl"
    assert len(cache.read_text().splitlines()) == 12
    before = (model_dirs[0] / "gsm8k" / "direct" / "t0.6" / "samples.jsonl").read_text()

    second = run_cfteval(*args)
    assert second.returncode == 0, second.stderr
    manifest = json.loads(
        (model_dirs[0] / "gsm8k" / "direct" / "t0.0" / "manifest.json").read_text()
    )
    # Served from the cache: the manifest names what generated the completions back then.
    assert manifest["backend"]["generated_this_invocation"] == 0
    assert manifest["backend"]["from_cache"] == 3
    assert manifest["backend"]["used"] is False
    assert manifest["backend"]["name"] == backend
    [label] = manifest["backend"]["generated_by"]
    assert label.startswith(backend + " ")
    assert (model_dirs[0] / "gsm8k" / "direct" / "t0.6" / "samples.jsonl").read_text() == before
    assert len(cache.read_text().splitlines()) == 12


def test_eval_all_benchmarks_with_hf(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = run_cfteval(
        "eval", "--model", str(tiny_model_dir), "--benchmarks", "all", "--limit", "2",
        "--max-tokens", "8", "--backend", "hf", "--data-dir", str(BENCHMARKS_DIR),
        "--out", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_dirs = sorted(p.parent for p in tmp_path.glob("*/*/direct/t0.0/samples.jsonl"))
    assert len(run_dirs) == 10
    gpqa = _read_jsonl(tmp_path.glob("*/gpqa_diamond/direct/t0.0/samples.jsonl").__next__())
    assert all(s["gold"] in "ABCD" and "Answer Choices: (A)" in s["prompt"] for s in gpqa)
    gpqa_manifest = next(tmp_path.glob("*/gpqa_diamond/direct/t0.0/manifest.json"))
    assert json.loads(gpqa_manifest.read_text())["data"]["choice_shuffle_seed"] == 0
    mmlu = _read_jsonl(tmp_path.glob("*/mmlu_pro/direct/t0.0/samples.jsonl").__next__())
    assert all("Options:\nA. " in s["prompt"] for s in mmlu)
