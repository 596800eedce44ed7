"""User mistakes: a one-line error naming the problem, exit code 2, no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import BENCHMARKS_DIR, needs_benchmarks, run_cfteval


def _assert_user_error(result, *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_unknown_benchmark(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = run_cfteval("eval", "--model", str(tiny_model_dir), "--benchmarks", "gsm8k,nope",
                         "--out", str(tmp_path))  # fmt: skip
    _assert_user_error(result, "nope", "gsm8k")


def test_missing_data_names_the_expected_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "data"
    empty.mkdir()
    result = run_cfteval("eval", "--model", str(tiny_model_dir), "--benchmarks", "gsm8k",
                         "--data-dir", str(empty), "--out", str(tmp_path / "runs"))  # fmt: skip
    _assert_user_error(result, str(empty / "gsm8k" / "test.jsonl"), "--data-dir")


def test_missing_data_offline_without_data_dir(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = run_cfteval(
        "eval", "--model", str(tiny_model_dir), "--benchmarks", "aime24", "--out", str(tmp_path),
        env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"},
    )  # fmt: skip
    _assert_user_error(result, "aime24", "CFTEVAL_DATA_DIR")


@needs_benchmarks
def test_malformed_data_line_names_file_and_line(tiny_model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data" / "gsm8k"
    data.mkdir(parents=True)
    lines = (BENCHMARKS_DIR / "gsm8k" / "test.jsonl").read_text().splitlines()[:3]
    (data / "test.jsonl").write_text("\n".join([*lines, '{"question": "broken', *lines]) + "\n")
    result = run_cfteval("eval", "--model", str(tiny_model_dir), "--benchmarks", "gsm8k",
                         "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "runs"))  # fmt: skip
    _assert_user_error(result, f"{data / 'test.jsonl'}:4")


@needs_benchmarks
@pytest.mark.parametrize("model", ["/no/such/model/dir", "EMPTY_DIR"])
def test_unloadable_model_path(model: str, tmp_path: Path) -> None:
    if model == "EMPTY_DIR":
        model = str(tmp_path / "empty-model")
        Path(model).mkdir()
    result = run_cfteval("eval", "--model", model, "--benchmarks", "gsm8k", "--limit", "1",
                         "--data-dir", str(BENCHMARKS_DIR), "--out", str(tmp_path / "runs"))  # fmt: skip
    _assert_user_error(result, model)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--n", "4", "--temperatures", "0"], "--n"),
        (["--backend", "hf", "--tp", "2"], "--tp"),
        (["--temperatures", "0,hot"], "temperatures"),
        (["--mode", "telepathy"], "--mode"),
    ],
)
def test_conflicting_or_invalid_options(options: list[str], needle: str, tmp_path: Path) -> None:
    result = run_cfteval("eval", "--model", "x", "--benchmarks", "gsm8k", *options,
                         "--out", str(tmp_path))  # fmt: skip
    _assert_user_error(result, needle)


def test_corrupt_weights_are_a_user_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_model_dir, broken)
    for weights in broken.glob("*.safetensors"):
        weights.write_bytes(b"not a safetensors file")
    if not BENCHMARKS_DIR.is_dir():
        pytest.skip("benchmark copies absent")
    result = run_cfteval("eval", "--model", str(broken), "--benchmarks", "gsm8k", "--limit", "1",
                         "--backend", "hf", "--data-dir", str(BENCHMARKS_DIR),
                         "--out", str(tmp_path / "runs"))  # fmt: skip
    _assert_user_error(result, str(broken))
