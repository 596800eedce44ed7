"""Run folders with known samples, written through the same module as the real evaluator."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from cfteval.metrics import summarize
from cfteval.records import Sample
from cfteval.rundir import run_dir_for, write_run


def make_samples(
    verdicts: dict[str, list[bool]],
    answers: dict[str, list[str | None]] | None = None,
    temperature: float = 0.0,
    mode: str = "direct",
    timed_out: set[str] = frozenset(),
) -> list[Sample]:
    """One Sample per verdict: problem id → the correctness of its samples, in sample order."""
    samples = []
    for problem_id, flags in verdicts.items():
        for index, correct in enumerate(flags):
            extracted = answers[problem_id][index] if answers else ("7" if correct else "8")
            samples.append(
                Sample(
                    problem_id=problem_id,
                    sample_index=index,
                    mode=mode,
                    temperature=temperature,
                    prompt=f"question {problem_id}",
                    generation=f"Working for {problem_id}. So $\\boxed{{{extracted}}}$.",
                    extracted=extracted,
                    gold="7",
                    correct=correct,
                    timed_out=problem_id in timed_out and index == 0,
                )
            )
    return samples


def write_known_run(
    out: Path,
    model: str,
    benchmark: str,
    samples: list[Sample],
    temperature: float = 0.0,
    mode: str = "direct",
    profile: str = "cfteval",
    prompt_format: str = "chatml",
    limit: int | None = None,
) -> Path:
    """A complete run folder (samples, metrics computed from them, a manifest) under `out`."""
    run_dir = run_dir_for(out, model, benchmark, mode, temperature)
    metrics = summarize(samples)
    n = metrics["samples_per_problem"]
    manifest = {
        "benchmark": benchmark,
        "mode": mode,
        "temperature": temperature,
        "model": {"name": model, "path": f"/models/{model}", "revision_or_hash": "abc123"},
        "sampling": {"temperature": temperature, "top_p": 1.0, "max_tokens": 2048, "n": n},
        "prompt": {"template": "qwen25-math-cot", "format": prompt_format, "template_hash": "h1"},
        "grading": {"profile": profile, "timeout_seconds": 3.0},
        "data": {"source": "/data", "fingerprint": "f1", "n_problems": metrics["n_problems"]},
        "limit": limit,
        "started_at": "2026-12-01T00:00:00+00:00",
        "finished_at": "2026-12-01T00:01:00+00:00",
        "cfteval_version": "0.1.0",
    }
    write_run(run_dir, [asdict(s) for s in samples], metrics, manifest)
    return run_dir
