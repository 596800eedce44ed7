"""`cfteval cft-data` for real: the tiny model solves offline (vLLM) and, served by a real vLLM
OpenAI-compatible server on 127.0.0.1, critiques through the openai backend; `cfteval train`
then trains on the rows it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfteval.backends.local_server import LocalVLLMServer
from tests.helpers import run_cfteval

pytestmark = pytest.mark.slow

QUESTIONS = [
    {"uid": "a", "problem": "What is 2 + 3?", "gold": 5},
    {"uid": "b", "problem": "What is 7 * 6?", "gold": "42"},
    {"uid": "c", "problem": "Simplify 10 / 4.", "gold": "\\frac{5}{2}"},
]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_cft_data_with_an_offline_solver_and_a_served_teacher_feeds_cfteval_train(
    tiny_model_dir: Path, tiny_server: LocalVLLMServer, tmp_path: Path
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(row) + "\n" for row in QUESTIONS))
    out = tmp_path / "cft"
    command = [
        "cft-data", "--questions", str(questions), "--fields", "id=uid,question=problem,answer=gold",
        "--solver", str(tiny_model_dir), "--solver-backend", "vllm", "--n", "2",
        "--temperature", "1.0", "--solver-max-tokens", "24", "--max-model-len", "1024",
        "--teacher", "tiny", "--teacher-backend", "openai", "--teacher-base-url", tiny_server.base_url,
        "--teacher-max-tokens", "24", "--keep", "all", "--seed", "5", "--out", str(out),
    ]  # fmt: skip
    first = run_cfteval(*command)
    assert first.returncode == 0, first.stderr
    assert "CFT data" in first.stdout and "rows kept" in first.stdout

    manifest = json.loads((out / "manifest.json").read_text())
    rows = _jsonl(out / "rows.jsonl")
    data = _jsonl(out / "cft.jsonl")
    # Two sampled solutions per question, each critiqued once (identical ones would be merged).
    assert 3 <= manifest["counts"]["solutions"] == len(rows) <= 6
    assert {row["question_id"] for row in rows} == {"a", "b", "c"}
    assert all(row["solution_correct"] is False or row["extracted"] for row in rows)
    # A random model writes no conclusion: every critique is flagged, and --keep all keeps it.
    assert manifest["teacher_agreement"]["critiques"] == len(rows)
    assert len(data) == manifest["counts"]["kept"] == len(rows)
    for row, written in zip(rows, data, strict=True):
        assert written["input"].startswith(f"Question:\n{row['question']}\n\nSolution:\n")
        assert written["output"].endswith("[END]")
    assert manifest["teacher"]["backend"]["name"] == "openai"
    assert manifest["teacher"]["backend"]["base_urls"] == [tiny_server.base_url]
    assert manifest["teacher"]["model"]["identity"].startswith("openai:tiny@")
    assert manifest["solutions"]["backend"]["name"] == "vllm"
    assert manifest["solutions"]["backend"]["generated_this_invocation"] == 3

    # The same command again: everything comes from the stores; the data is the same.
    again = run_cfteval(*command)
    assert again.returncode == 0, again.stderr
    rerun = json.loads((out / "manifest.json").read_text())
    assert rerun["solutions"]["backend"]["generated_this_invocation"] == 0
    assert rerun["teacher"]["backend"]["generated_this_invocation"] == 0
    assert _jsonl(out / "cft.jsonl") == data

    trained = run_cfteval(
        "train", "--mode", "cft", "--model", str(tiny_model_dir), "--data", str(out / "cft.jsonl"),
        "--out", str(tmp_path / "ckpt"), "--max-steps", "2", "--save-steps", "2",
        "--batch-size", "2", "--max-length", "512",
        env={"OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert (tmp_path / "ckpt" / "checkpoint-2" / "model.safetensors").is_file()

    # A hosted chat model as teacher: the messages go to the server's chat endpoint, which
    # applies the model's chat template; the solutions still come from the store.
    chat = run_cfteval(*command, "--teacher-prompt-format", "chat")
    assert chat.returncode == 0, chat.stderr
    chat_manifest = json.loads((out / "manifest.json").read_text())
    assert chat_manifest["teacher"]["prompt_format"] == "chat"
    assert chat_manifest["teacher"]["prompt_hash"] != manifest["teacher"]["prompt_hash"]
    assert chat_manifest["solutions"]["backend"]["generated_this_invocation"] == 0
    assert chat_manifest["teacher"]["backend"]["generated_this_invocation"] == len(rows)
    assert len(_jsonl(out / "cft.jsonl")) == len(rows)


def test_cft_data_refuses_bad_options_in_one_line(tmp_path: Path) -> None:
    missing = run_cfteval(
        "cft-data", "--questions", str(tmp_path / "nope.jsonl"), "--solver", "m", "--teacher", "t",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"error: --questions {tmp_path / 'nope.jsonl'}: no such file (or a registered benchmark "
        "name)"
    ]
    no_solver = run_cfteval(
        "cft-data", "--questions", "gsm8k", "--teacher", "t", "--out", str(tmp_path / "out")
    )
    assert no_solver.returncode == 2 and "--solver" in no_solver.stderr
    both = run_cfteval(
        "cft-data", "--questions", "gsm8k", "--solver", "m", "--solutions-column", "s",
        "--teacher", "t", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert both.returncode == 2 and "--solver and --solutions-column" in both.stderr
    server_without_url = run_cfteval(
        "cft-data", "--questions", "gsm8k", "--solver", "m", "--teacher", "t",
        "--teacher-backend", "openai", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert server_without_url.returncode == 2
    assert "--teacher-base-url" in server_without_url.stderr
