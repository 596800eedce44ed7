"""Run folders: files follow the umask, writes are all or nothing, short files and changed
settings are refused, and `regrade` checks writability before it grades."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cfteval.errors import UserError
from cfteval.rundir import load_run, refuse_changed_settings, write_runs
from tests.helpers import BENCHMARKS_DIR, needs_benchmarks, run_cfteval
from tests.run_builder import make_samples, write_known_run


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_run_files_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        run_dir = write_known_run(tmp_path, "m", "gsm8k", make_samples({"p1": [True]}))
    finally:
        os.umask(old)
    for name in ("samples.jsonl", "metrics.json", "manifest.json"):
        assert (run_dir / name).stat().st_mode & 0o777 == mode, name


def test_write_runs_is_all_or_nothing(tmp_path):
    first = write_known_run(tmp_path, "m", "gsm8k", make_samples({"p1": [True]}))
    before = (first / "metrics.json").read_bytes()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the second run's folder should be")
    with pytest.raises(UserError, match="cannot write"):
        write_runs([(first, {"metrics.json": {"accuracy": 0}}), (blocker / "run", {"a.json": {}})])
    assert (first / "metrics.json").read_bytes() == before
    assert not list(first.glob(".*.tmp"))


def test_a_run_with_other_settings_is_not_replaced_silently(tmp_path):
    run_dir = write_known_run(
        tmp_path, "m", "gsm8k", make_samples({f"p{i}": [True] for i in range(50)}), limit=50
    )
    manifest = json.loads((run_dir / "manifest.json").read_text())
    same = {k: manifest[k] for k in ("sampling", "prompt", "data", "limit")}
    refuse_changed_settings([(run_dir, same)])  # the same settings: fine
    moved = same | {"data": same["data"] | {"source": "/elsewhere"}}
    refuse_changed_settings([(run_dir, moved)])  # the same data read from another path: fine
    fewer = same | {"limit": 5, "data": same["data"] | {"n_problems": 5}}
    with pytest.raises(UserError) as error:
        refuse_changed_settings([(run_dir, fewer)])
    message = str(error.value)
    assert "limit: 50 → 5" in message and "data.n_problems: 50 → 5" in message
    assert "--out" in message and "--overwrite" in message and "\n" not in message


@needs_benchmarks
def test_eval_refuses_before_generating_when_settings_differ(tmp_path, tiny_model_dir):
    from cfteval.models import model_slug

    slug = model_slug(str(tiny_model_dir))
    existing = write_known_run(
        tmp_path, slug, "gsm8k", make_samples({f"p{i}": [True] for i in range(3)}), limit=3
    )
    before = (existing / "samples.jsonl").read_bytes()
    result = run_cfteval(
        "eval", "--model", str(tiny_model_dir), "--benchmarks", "GSM8K", "--limit", "2",
        "--backend", "hf", "--out", str(tmp_path),
        env={"CFTEVAL_DATA_DIR": str(BENCHMARKS_DIR)}, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "other settings" in result.stderr and "--overwrite" in result.stderr
    assert "Traceback" not in result.stderr
    assert (existing / "samples.jsonl").read_bytes() == before
    assert not (tmp_path / slug / "completions.jsonl").exists()  # nothing was generated


def test_regrade_refuses_empty_and_truncated_samples(tmp_path):
    run_dir = write_known_run(tmp_path, "m", "gsm8k", make_samples({"p1": [True], "p2": [False]}))
    samples = run_dir / "samples.jsonl"
    samples.write_text(samples.read_text().splitlines()[0] + "\n")
    result = run_cfteval("regrade", str(run_dir), timeout=120)
    assert result.returncode == 2
    assert "1 samples, but the run wrote 2" in result.stderr and "truncated" in result.stderr
    samples.write_text("")
    result = run_cfteval("regrade", str(run_dir), timeout=120)
    assert result.returncode == 2 and "empty" in result.stderr


def _make_read_only(folder: Path) -> bool:
    """Make `folder` unwritable, even for root (immutable flag); False when that is impossible."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return True
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0


def _make_writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_regrade_on_a_read_only_folder_changes_nothing(tmp_path):
    writable = write_known_run(tmp_path, "m", "gsm8k", make_samples({"p1": [True]}))
    read_only = write_known_run(tmp_path, "m", "math", make_samples({"p1": [True]}))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.json*")}
    if not _make_read_only(read_only):
        pytest.skip("root without chattr (or a file system without the immutable flag)")
    try:
        result = run_cfteval("regrade", str(tmp_path), timeout=120)
    finally:
        _make_writable(read_only)
    assert result.returncode == 2, result.stderr
    assert "not writable" in result.stderr and "nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.json*")} == before
    assert writable.is_dir()


def test_show_and_runs_print_the_run(tmp_path):
    write_known_run(tmp_path, "model-a", "gsm8k", make_samples({"p1": [True], "p2": [False]}))
    listed = run_cfteval("runs", str(tmp_path), timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "model-a" in listed.stdout and "gsm8k" in listed.stdout and "50.0" in listed.stdout
    shown = run_cfteval("show", str(tmp_path / "model-a/gsm8k/direct/t0.0"), "--only", "wrong")
    assert shown.returncode == 0, shown.stderr
    assert "p2" in shown.stdout and "p1" not in shown.stdout.split("samples (wrong)")[1]
    run = load_run(tmp_path / "model-a/gsm8k/direct/t0.0", with_samples=True)
    assert run.model == "model-a" and len(run.samples) == 2


@needs_benchmarks
@pytest.mark.slow
def test_end_of_run_summary_shows_sampling_metrics_unwrapped(tmp_path, tiny_model_dir):
    result = run_cfteval(
        "eval", "--model", str(tiny_model_dir), "--benchmarks", "gsm8k,Math500", "--limit", "2",
        "--temperatures", "0,0.7", "--n", "2", "--max-tokens", "8", "--backend", "hf",
        "--out", str(tmp_path), env={"CFTEVAL_DATA_DIR": str(BENCHMARKS_DIR)}, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "benchmark" in line and "accuracy" in line)
    for column in ("problems", "± se", "pass@1", "pass@2", "maj@2", "time-outs"):
        assert column in header  # all on one line: piped output does not fold the table
    sampled = [line for line in lines if "math500" in line and " 0.7 " in line]
    assert len(sampled) == 1 and len(sampled[0].split()) >= 10, sampled
    assert header.rstrip().endswith("time-outs ┃")  # no stray empty column
    assert "--n 2 became one sample per problem" in result.stdout
    assert (tmp_path.glob("*/math500/direct/t0.7/samples.jsonl").__next__()).is_file()
