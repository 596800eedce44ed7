"""The grading commands, run as a user runs them: `cfteval grade-file`, `regrade`, `bench grading`."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

from cfteval.records import Sample
from tests.helpers import GRADING_DIR, needs_grading_data
from tests.helpers import run_cfteval as _run_cfteval

CASES = [
    {
        "gold": "12",
        "pred": "Therefore, the area is $\\boxed{12}$ square units.",
        "benchmark": "math",
        "equal": True,
    },
    {
        "gold": "0.25",
        "pred": "The probability is $\\boxed{25}$.",
        "benchmark": "math",
        "equal": False,
    },
    {
        "gold": "C",
        "pred": "Option A fails, so the answer is (C).",
        "benchmark": "gpqa_diamond",
        "equal": True,
    },
    {"gold": "B", "pred": "The answer is (J).", "benchmark": "mmlu_pro", "equal": False},
]


def run_cfteval(*args: str, env: dict[str, str] | None = None, timeout: float = 120):
    """The real command, with a wide terminal so that rich does not wrap paths and messages."""
    return _run_cfteval(*args, env={"COLUMNS": "250", **(env or {})}, timeout=timeout)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def test_grade_file_adds_verdicts_and_summarises(tmp_path):
    cases = tmp_path / "cases.jsonl"
    _write_jsonl(cases, CASES)
    result = run_cfteval("grade-file", str(cases), "--profile", "qwen", timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["gold"] for r in rows] == [c["gold"] for c in CASES]  # input order, input fields kept
    assert [r["correct"] for r in rows] == [True, True, True, False]  # qwen: 25 == 0.25
    assert [r["extracted"] for r in rows] == ["12", "25", "C", "J"]
    assert not any(r["timed_out"] for r in rows)
    assert "n=4" in result.stderr and "accuracy=75.00%" in result.stderr
    assert "agreement=75.00%" in result.stderr and "false_positives=1" in result.stderr


def test_grade_file_takes_theoremqa_list_type_names(tmp_path):
    cases = tmp_path / "cases.jsonl"
    rows = [
        {"gold": "[1, 2]", "pred": "The answer is [1, 2].", "benchmark": "theoremqa"},
        {"gold": "[0.5, 1.0]", "pred": "The answer is [0.51, 1.3].", "benchmark": "theoremqa"},
    ]
    rows[0]["answer_type"], rows[1]["answer_type"] = "list of integer", "list of float"
    _write_jsonl(cases, rows)
    result = run_cfteval("grade-file", str(cases), "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["correct"] for line in result.stdout.splitlines()] == [True, False]


def test_grade_file_writes_out_file(tmp_path):
    cases, out = tmp_path / "cases.jsonl", tmp_path / "graded.jsonl"
    _write_jsonl(cases, CASES[:2])
    result = run_cfteval(
        "grade-file", str(cases), "--out", str(out), "--profile", "qwen", timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert len(out.read_text().splitlines()) == 2


def test_grade_file_malformed_line_names_file_and_line(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(CASES[0]) + "\n{not json\n", encoding="utf-8")
    result = run_cfteval("grade-file", str(cases), timeout=60)
    assert result.returncode == 2
    assert f"{cases}:2" in result.stderr
    assert "Traceback" not in result.stderr

    _write_jsonl(cases, [CASES[0], {"gold": "1", "benchmark": "math"}])
    result = run_cfteval("grade-file", str(cases), timeout=60)
    assert result.returncode == 2
    assert f"{cases}:2" in result.stderr and "pred" in result.stderr


def _write_run(run_dir: Path, benchmark: str, samples: list[Sample]) -> None:
    run_dir.mkdir(parents=True)
    _write_jsonl(run_dir / "samples.jsonl", [asdict(s) for s in samples])
    (run_dir / "metrics.json").write_text(json.dumps({"accuracy": 0.0, "wall_seconds": 12.5}))
    (run_dir / "manifest.json").write_text(
        json.dumps({"benchmark": benchmark, "grading": {"profile": "cfteval"}})
    )


def _sample(problem_id: str, generation: str, gold: str, **extra) -> Sample:
    # Saved verdicts are deliberately wrong, so a rewrite is visible.
    return Sample(
        problem_id=problem_id,
        sample_index=0,
        mode="direct",
        temperature=0.0,
        prompt="Q",
        generation=generation,
        extracted="stale",
        gold=gold,
        correct=False,
        timed_out=False,
        **extra,
    )


def test_regrade_rewrites_every_run_below_a_folder(tmp_path):
    root = tmp_path / "runs"
    _write_run(
        root / "m" / "math500" / "direct" / "t0.0",
        "math500",
        [
            _sample("p1", "So $\\boxed{12}$.", "12"),
            _sample("p2", "The probability is $\\boxed{25}$.", "0.25"),
        ],
    )
    _write_run(
        root / "m" / "gpqa_diamond" / "direct" / "t0.0",
        "gpqa_diamond",
        [
            _sample(
                "g1", "Thus the answer is (C).", "C", answer_type="multiple_choice", n_choices=4
            ),
        ],
    )
    result = run_cfteval("regrade", str(root), "--profile", "qwen", "--compare", "cfteval")
    assert result.returncode == 0, result.stderr

    math_dir = root / "m" / "math500" / "direct" / "t0.0"
    rows = [json.loads(line) for line in (math_dir / "samples.jsonl").read_text().splitlines()]
    assert [r["correct"] for r in rows] == [True, True]
    assert [r["extracted"] for r in rows] == ["12", "25"]
    assert rows[0]["prompt"] == "Q"  # everything else is kept
    metrics = json.loads((math_dir / "metrics.json").read_text())
    assert metrics["accuracy"] == 100.0 and metrics["n_samples"] == 2
    assert metrics["wall_seconds"] == 12.5
    manifest = json.loads((math_dir / "manifest.json").read_text())
    assert manifest["grading"]["profile"] == "qwen" and "regraded_at" in manifest["grading"]
    gpqa_rows = (root / "m" / "gpqa_diamond" / "direct" / "t0.0" / "samples.jsonl").read_text()
    assert json.loads(gpqa_rows)["correct"] is True

    # The comparison lists p2 (25 vs 0.25): right under qwen, wrong under the cfteval profile.
    assert "math500" in result.stdout and "gpqa_diamond" in result.stdout
    assert re.search(r"p2\b", result.stdout)
    assert "graded differently" in result.stdout


def test_regrade_without_runs_is_a_user_error(tmp_path):
    result = run_cfteval("regrade", str(tmp_path), timeout=60)
    assert result.returncode == 2
    assert "no samples.jsonl" in result.stderr


@needs_grading_data
def test_bench_grading_prints_a_ratio():
    result = run_cfteval(
        "bench", "grading", "--n", "500", env={"CFTEVAL_GRADING_DIR": str(GRADING_DIR)}, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "math-verify" in result.stdout and "pathological" in result.stdout
    match = re.search(r"ratio cfteval / math-verify: ([0-9.]+)x", result.stdout)
    assert re.search(r"both with \d+ processes", result.stdout)
    assert match and float(match.group(1)) > 0


def test_bench_grading_without_data_is_a_user_error(tmp_path):
    result = run_cfteval(
        "bench", "grading", "--n", "10", "--data", str(tmp_path / "absent"), timeout=60
    )
    assert result.returncode == 2
    assert "grading data not found" in result.stderr
