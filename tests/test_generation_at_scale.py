"""Generation at scale, end to end through the real `cfteval` command on the tiny model.

Crash safety (SIGKILL at random points, Ctrl-C), reproducible seeded sampling, one writer per
store, early refusal of a bad output folder, replay from a manifest, and data parallelism.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from cfteval.models import model_slug
from tests.helpers import BENCHMARKS_DIR, needs_benchmarks, run_cfteval

pytestmark = [needs_benchmarks, pytest.mark.slow]

SAMPLE_FIELDS = {"problem_id", "sample_index", "generation", "extracted", "gold", "correct"}


def _eval_args(model: Path, out: Path, *extra: str, data_dir: Path = BENCHMARKS_DIR) -> list[str]:
    return [
        "eval", "--model", str(model), "--data-dir", str(data_dir), "--out", str(out), *extra,
    ]  # fmt: skip


def _cfteval_command() -> str:
    return str(Path(sys.executable).parent / "cfteval")


def _store_records(out: Path) -> list[dict]:
    """The readable records of the one model store under `out` (torn lines skipped)."""
    [store] = out.glob("*/completions.jsonl")
    records = []
    for raw in store.read_bytes().split(b"\n"):
        try:
            record = json.loads(raw.decode("utf-8"))
        except ValueError:
            continue
        if isinstance(record, dict) and "key" in record:
            records.append(record)
    return records


def _store_keys(out: Path) -> list[str]:
    return [record["key"] for record in _store_records(out)]


def _store_lines(out: Path) -> int:
    stores = list(out.glob("*/completions.jsonl"))
    return stores[0].read_bytes().count(b"\n") if stores else 0


def _samples(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]


def _start(args: list[str]) -> subprocess.Popen:
    env = os.environ.copy()
    env.pop("CFTEVAL_DATA_DIR", None)
    env["CFTEVAL_STORE_FLUSH_SECONDS"] = "0.2"  # progress shows on disk batch by batch
    # Its own process group: signals reach it and every process it started, as from a terminal.
    return subprocess.Popen(
        [_cfteval_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def _wait_for_growth(process: subprocess.Popen, out: Path, above: int, timeout: float) -> bool:
    """Wait until the store has more than `above` lines; False if the run ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _store_lines(out) > above:
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.05)
    raise AssertionError("the run made no progress in time")


# 12 problems × 4 temperatures, batches of 8 on transformers: many batches of 512 tokens, each
# stored as it ends, so that even a fast machine is still generating when the signal comes.
SWEEP = ["--benchmarks", "gsm8k", "--limit", "12", "--temperatures", "0,0.3,0.6,0.9", "--n", "2"]


def test_sigkill_at_random_points_then_resume_gives_one_valid_record_each(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    args = _eval_args(tiny_model_dir, out, *SWEEP, "--max-tokens", "512", "--backend", "hf")
    rng = random.Random(20261201)
    kills = 0
    for _ in range(3):
        before = _store_lines(out)
        process = _start(args)
        if _wait_for_growth(process, out, before, timeout=300):
            time.sleep(rng.uniform(0.0, 1.0))  # a random point after some progress
            os.killpg(process.pid, signal.SIGKILL)
            kills += process.wait() == -signal.SIGKILL
        else:
            process.wait()
    assert kills >= 2, "the runs finished before they could be killed"
    partial = len(set(_store_keys(out)))
    assert 0 < partial < 48

    final = run_cfteval(*args)
    assert final.returncode == 0, final.stderr
    keys = _store_keys(out)
    assert len(keys) == len(set(keys)) == 48, "each request generated exactly once"
    [model_dir] = out.iterdir()
    for temperature in ("0.0", "0.3", "0.6", "0.9"):
        samples = _samples(model_dir / "gsm8k" / "direct" / f"t{temperature}")
        per_sample = Counter((s["problem_id"], s["sample_index"]) for s in samples)
        expected_n = 1 if temperature == "0.0" else 2
        assert len(per_sample) == 12 * expected_n and set(per_sample.values()) == {1}
        assert all(SAMPLE_FIELDS <= s.keys() and isinstance(s["correct"], bool) for s in samples)
    # Not a terminal: plain progress lines with the output rate, not silence.
    assert "generating (" in final.stderr and "tok/s" in final.stderr


def test_ctrl_c_keeps_what_finished_and_says_how_to_resume(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    args = _eval_args(tiny_model_dir, out, *SWEEP, "--max-tokens", "512", "--backend", "hf")
    process = _start(args)
    assert _wait_for_growth(process, out, 0, timeout=300)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    # Interrupted while generating, the message names the resuming command; interrupted later
    # (the fast tiny model may be grading already), it says the same in words.
    assert "resume" in stderr
    if "saved in" in stderr:
        assert "resume with:" in stderr and "--temperatures" in stderr
    saved = set(_store_keys(out))
    assert 0 < len(saved) <= 48
    again = run_cfteval(*args)
    assert again.returncode == 0, again.stderr
    keys = _store_keys(out)
    assert len(keys) == len(set(keys)) == 48 and saved <= set(keys)


def test_same_command_twice_gives_identical_samples_on_vllm(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    common = ["--benchmarks", "gsm8k", "--limit", "4", "--temperatures", "0.6", "--n", "3"]
    texts = []
    for name in ("first", "second"):
        out = tmp_path / name
        result = run_cfteval(
            *_eval_args(tiny_model_dir, out, *common, "--max-tokens", "24", "--backend", "vllm")
        )
        assert result.returncode == 0, result.stderr
        [run_dir] = out.glob("*/gsm8k/direct/t0.6")
        texts.append([s["generation"] for s in _samples(run_dir)])
        [store] = out.glob("*/completions.jsonl")
        seeds = [json.loads(line)["seed"] for line in store.read_text().splitlines()]
        assert len(set(seeds)) == 4 and all(isinstance(seed, int) for seed in seeds)
    assert texts[0] == texts[1]
    assert len(set(texts[0])) > 1


def test_a_second_cfteval_on_the_same_folder_is_refused(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    store_dir = out / model_slug(str(tiny_model_dir))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from cfteval.completion_store import "
            "StoreLock; lock = StoreLock(Path(sys.argv[1])); lock.acquire(); "
            "print('locked', flush=True); time.sleep(120)",
            str(store_dir / "completions.jsonl"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run_cfteval(
            *_eval_args(tiny_model_dir, out, "--benchmarks", "gsm8k", "--limit", "1"),
            *("--max-tokens", "8", "--backend", "hf"),
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    assert f"pid {holder.pid}" in result.stderr and "Traceback" not in result.stderr


def test_an_output_folder_that_is_a_file_is_refused_before_loading(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "runs"
    not_a_folder.write_text("x")
    result = run_cfteval(
        *_eval_args(tiny_model_dir, not_a_folder, "--benchmarks", "gsm8k", "--limit", "1")
    )
    assert result.returncode == 2
    assert "is a file" in result.stderr and str(not_a_folder) in result.stderr
    assert "Traceback" not in result.stderr
    below_a_file = run_cfteval(
        *_eval_args(tiny_model_dir, not_a_folder / "sub", "--benchmarks", "gsm8k", "--limit", "1")
    )
    assert below_a_file.returncode == 2 and "not writable" in below_a_file.stderr


def test_replay_reproduces_a_run_and_warns_when_the_data_changed(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "gsm8k").mkdir(parents=True)
    shutil.copy(BENCHMARKS_DIR / "gsm8k" / "test.jsonl", data / "gsm8k" / "test.jsonl")
    original = tmp_path / "original"
    first = run_cfteval(
        *_eval_args(
            tiny_model_dir, original, "--benchmarks", "gsm8k", "--limit", "3",
            "--temperatures", "0.7", "--n", "2", "--max-tokens", "16", "--seed", "7",
            "--backend", "hf", data_dir=data,
        )
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    [run_dir] = original.glob("*/gsm8k/direct/t0.7")

    replayed = tmp_path / "replayed"
    env = {"CFTEVAL_DATA_DIR": ""}
    again = run_cfteval("eval", "--replay", str(run_dir), "--out", str(replayed), env=env)
    assert again.returncode == 0, again.stderr
    assert "warning" not in again.stderr
    [replay_dir] = replayed.glob("*/gsm8k/direct/t0.7")
    assert _samples(replay_dir) == _samples(run_dir)
    manifest = json.loads((replay_dir / "manifest.json").read_text())
    assert manifest["sampling"]["seed"] == 7 and manifest["sampling"]["n"] == 2

    with (data / "gsm8k" / "test.jsonl").open("a") as handle:
        handle.write("\n")
    changed = run_cfteval(
        "eval", "--replay", str(run_dir), "--out", str(tmp_path / "third"), env=env
    )
    assert changed.returncode == 0, changed.stderr
    assert "warning:" in changed.stderr and "gsm8k data changed" in changed.stderr


def test_data_parallel_gives_the_same_records_as_one_engine(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    common = [
        "--benchmarks", "gsm8k,math500", "--limit", "3", "--temperatures", "0,0.6", "--n", "2",
        "--max-tokens", "16", "--backend", "hf",
    ]  # fmt: skip
    records = {}
    for dp in ("1", "2"):
        out = tmp_path / f"dp{dp}"
        result = run_cfteval(*_eval_args(tiny_model_dir, out, *common, "--dp", dp))
        assert result.returncode == 0, result.stderr
        [store] = out.glob("*/completions.jsonl")
        lines = [json.loads(line) for line in store.read_text().splitlines()]
        records[dp] = {line["key"]: (line["texts"], line["token_counts"]) for line in lines}
        manifest = json.loads(next(out.glob("*/gsm8k/direct/t0.0/manifest.json")).read_text())
        assert manifest["backend"]["data_parallel_size"] == int(dp)
    assert records["1"].keys() == records["2"].keys() and len(records["1"]) == 12
    greedy = [key for key, (texts, _) in records["1"].items() if len(texts) == 1]
    assert all(records["1"][key] == records["2"][key] for key in greedy)


def _partial_samples(out: Path) -> dict[str, list[int]]:
    """Per request key, how many tokens each sample kept in the partial log (torn lines skipped)."""
    kept: dict[str, list[int]] = {}
    for path in out.glob("*/completions.partial.jsonl"):
        for raw in path.read_bytes().split(b"\n"):
            try:
                record = json.loads(raw.decode("utf-8"))
                end = record["start"] + len(record["token_ids"])
                counts = kept.setdefault(record["key"], [0, 0])
                counts[record["index"]] = end
            except (ValueError, KeyError, TypeError, IndexError):
                continue
    return kept


def test_sigkill_mid_answer_then_resume_continues_the_kept_tokens(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """vLLM with two data-parallel workers: answers part-way at the kill are continued."""
    out = tmp_path / "runs"
    args = _eval_args(
        tiny_model_dir, out, "--benchmarks", "gsm8k", "--limit", "6", "--temperatures", "0.8",
        "--n", "2", "--max-tokens", "600", "--backend", "vllm", "--dp", "2",
    )  # fmt: skip
    process = _start(args)
    deadline = time.monotonic() + 300
    while not _partial_samples(out) and process.poll() is None:
        assert time.monotonic() < deadline, "no progress was saved in time"
        time.sleep(0.05)
    time.sleep(0.3)  # a few more saves
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    stored = set(_store_keys(out)) if _store_lines(out) else set()
    kept = {key: tokens for key, tokens in _partial_samples(out).items() if key not in stored}
    assert kept, "requests were in flight at the kill"

    final = run_cfteval(*args)
    assert final.returncode == 0, final.stderr
    assert "continued from a killed run" in final.stderr
    lines = _store_records(out)
    assert len(lines) == len({line["key"] for line in lines}) == 6
    continued = {line["key"]: line for line in lines if line.get("continued_from")}
    assert {key for key, tokens in kept.items() if max(tokens) > 4} <= set(continued)
    for key, line in continued.items():
        # Kept tokens, less those of a character cut in two by the save (at most 4 bytes).
        for index, continued_from in enumerate(line["continued_from"]):
            kept_tokens = kept.get(key, line["continued_from"])[index]
            assert kept_tokens - 4 <= continued_from <= kept_tokens
        assert all(
            kept_tokens <= count <= 600
            for kept_tokens, count in zip(line["continued_from"], line["token_counts"], strict=True)
        )
    assert not list(out.glob("*/completions.partial.jsonl")), "removed once all is stored"
    manifest = json.loads(next(out.glob("*/gsm8k/direct/t0.8/manifest.json")).read_text())
    assert manifest["backend"]["continued_after_interruption"] == len(continued)
    samples = _samples(next(out.glob("*/gsm8k/direct/t0.8")))
    assert sorted((s["problem_id"], s["sample_index"]) for s in samples) == sorted(
        {(s["problem_id"], index) for s in samples for index in (0, 1)}
    )
