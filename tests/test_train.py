"""`cfteval train` end to end on the tiny model: it learns, checkpoints, resumes, runs on 2 processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cfteval.train.config import TrainConfig
from cfteval.train.trainer import list_checkpoints, run_training
from tests.helpers import run_cfteval
from tests.train_data import cft_rows, write_jsonl

# The files that make a checkpoint an ordinary HF model folder (what the engines load).
MODEL_FILES = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
               "generation_config.json"}  # fmt: skip


def _records(out: Path, kind: str) -> list[dict]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def _trajectory(out: Path) -> dict[int, list[str]]:
    """Rows of each step; a step redone after a crash keeps its last (surviving) record."""
    return {record["step"]: record["rows"] for record in _records(out, "step")}


def _train_flags(model: Path, data: Path, out: Path, steps: int, batch: int) -> list[str]:
    return ["train", "--model", str(model), "--data", str(data), "--out", str(out),
            "--max-steps", str(steps), "--save-steps", "4", "--batch-size", str(batch),
            "--lr", "1e-3", "--max-length", "256", "--seed", "3"]  # fmt: skip


# One thread: the tiny model gains nothing from more, and on a busy CI machine threads that
# wait for each other make every step many times slower.
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def cft_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("data") / "cft.jsonl", cft_rows(32))


@pytest.mark.slow
def test_training_the_tiny_model_really_learns(tiny_model_dir: Path, cft_file: Path, tmp_path):
    config = TrainConfig(
        model=str(tiny_model_dir), data=str(cft_file), out=tmp_path / "run", lr=3e-3,
        max_steps=150, batch_size=8, max_length=256, save_steps=150, logging_steps=5,
    )  # fmt: skip
    result = run_training(config)
    assert result.global_step == 150
    losses = [record["loss"] for record in _records(config.out, "log") if "loss" in record]
    first, last = losses[0], sum(losses[-3:]) / 3
    assert last < 0.25 * first, losses
    # Tokens are counted per micro-batch (padding left out): 150 steps of 8 rows, each row
    # at most 256 tokens; the speed line has a figure from the second log on.
    logs = [record for record in _records(config.out, "log") if "loss" in record]
    assert 150 * 8 * 20 < logs[-1]["num_tokens"] <= 150 * 8 * 256
    assert [r["num_tokens"] for r in logs] == sorted({r["num_tokens"] for r in logs})
    assert all(record["tokens_per_second"] > 0 for record in logs[1:])
    # Only the critiques count: the data report says how many tokens carried the loss.
    report = json.loads((config.out / "data_report.json").read_text())
    assert 0 < report["supervised_tokens"] < report["tokens"] / 2
    assert MODEL_FILES <= {p.name for p in config.out.iterdir()}


@pytest.fixture(scope="module")
def single_run(tiny_model_dir: Path, cft_file: Path, tmp_path_factory) -> Path:
    """An uninterrupted single-process run: the reference for resume and for 2 processes."""
    out = tmp_path_factory.mktemp("single") / "run"
    config = TrainConfig(
        model=str(tiny_model_dir), data=str(cft_file), out=out, lr=1e-3, max_steps=20,
        batch_size=4, max_length=256, save_steps=4, seed=3,
    )  # fmt: skip
    run_training(config)
    return out


@pytest.mark.slow
def test_killed_run_resumes_from_its_last_checkpoint(
    tiny_model_dir: Path, cft_file: Path, single_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    command = [str(Path(sys.executable).parent / "cfteval"),
               *_train_flags(tiny_model_dir, cft_file, out, steps=20, batch=4)]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=os.environ | ONE_THREAD,
    )
    # Kill it (no clean shutdown) once a checkpoint is complete and training has gone past it.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        steps = _trajectory(out) if (out / "metrics.jsonl").is_file() else {}
        if list_checkpoints(out) and steps and max(steps) >= 6:
            os.killpg(process.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    killed_at = max(_trajectory(out))
    last = list_checkpoints(out)[-1]
    assert 4 <= int(last.name.split("-")[1]) < 20

    rerun = run_cfteval(*_train_flags(tiny_model_dir, cft_file, out, 20, 4), env=ONE_THREAD)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"resumed from {last}" in rerun.stdout
    state = json.loads((out / "checkpoint-20" / "trainer_state.json").read_text())
    assert state["global_step"] == 20
    # The same rows, step by step, as the run that was never interrupted: nothing repeated,
    # nothing skipped (steps redone after the kill replaced the ones the crash threw away).
    resumed = _trajectory(out)
    assert sorted(resumed) == list(range(1, 21))
    assert resumed == _trajectory(single_run)
    assert killed_at < 20
    first_epoch = [row for step in range(1, 9) for row in resumed[step]]
    assert len(first_epoch) == len(set(first_epoch)) == 32


@pytest.mark.slow
def test_changed_settings_do_not_resume_silently(tiny_model_dir: Path, single_run: Path) -> None:
    copy = single_run.parent / "copy"
    shutil.copytree(single_run, copy)
    flags = _train_flags(tiny_model_dir, single_run.parent / "other.jsonl", copy, 20, 4)
    write_jsonl(single_run.parent / "other.jsonl", cft_rows(3))
    result = run_cfteval(*flags, env=ONE_THREAD)
    assert result.returncode == 2
    assert "different data" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_two_processes_over_gloo_write_the_same_checkpoint_format(
    tiny_model_dir: Path, cft_file: Path, single_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ddp"
    launcher = Path(sys.executable).parent / "accelerate"
    # accelerate's torchrun launcher is the --multi_gpu one; without CUDA the trainer runs
    # DDP over gloo on CPU processes (`--cpu` would start one process only).
    command = [str(launcher), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
               str(Path(sys.executable).parent / "cfteval"),
               *_train_flags(tiny_model_dir, cft_file, out, steps=8, batch=2)]  # fmt: skip
    env = os.environ | ONE_THREAD
    env.pop("CFTEVAL_DATA_DIR", None)
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    single, ddp = list_checkpoints(single_run), list_checkpoints(out)
    assert [p.name for p in ddp] == ["checkpoint-4", "checkpoint-8"]
    model_files = {p.name for p in single[0].iterdir()} & MODEL_FILES
    assert model_files == MODEL_FILES
    assert model_files <= {p.name for p in ddp[-1].iterdir()}
    state = json.loads((ddp[-1] / "trainer_state.json").read_text())
    assert state["global_step"] == 8
    # Each step trained 2 processes × 2 rows, and the 8 steps went through the 32 rows once.
    steps = _trajectory(out)
    assert all(len(rows) == 4 for rows in steps.values())
    seen = [row for rows in steps.values() for row in rows]
    assert len(set(seen)) == 32

    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(ddp[-1])


@pytest.mark.slow
def test_lora_checkpoints_hold_adapters_and_the_final_model_is_merged(
    tiny_model_dir: Path, cft_file: Path, tmp_path: Path
) -> None:
    from safetensors import safe_open

    from cfteval.train.config import LoraSettings

    config = TrainConfig(
        model=str(tiny_model_dir), data=str(cft_file), out=tmp_path / "lora", lr=1e-3,
        max_steps=2, batch_size=4, max_length=256, save_steps=2, lora=LoraSettings(r=4),
    )  # fmt: skip
    run_training(config)
    assert (config.out / "checkpoint-2" / "adapter_model.safetensors").is_file()
    with safe_open(config.out / "model.safetensors", "pt") as merged:
        names = list(merged.keys())
    assert names and not [name for name in names if "lora" in name]
    with safe_open(tiny_model_dir / "model.safetensors", "pt") as base:
        assert set(names) == set(base.keys())
