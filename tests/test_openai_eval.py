"""`cfteval eval --backend openai` end to end, against real vLLM servers on 127.0.0.1.

The session's `tiny_server` (conftest.py) answers the comparison with the offline backend and
the reruns; `stock_server` runs with vLLM's stock settings (at most 4 stop strings, while the
protocols send 7) and is killed by the last test of this file, so it is started once here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cfteval.backends import load_backend
from cfteval.backends.local_server import LocalVLLMServer
from cfteval.records import Request, Sampling
from tests.helpers import BENCHMARKS_DIR, needs_benchmarks, run_cfteval

pytestmark = [needs_benchmarks, pytest.mark.slow]


def _eval(out: Path, *extra: str) -> list[str]:
    return ["eval", "--data-dir", str(BENCHMARKS_DIR), "--out", str(out), *extra]


def _samples(out: Path, benchmark: str, temperature: str = "0.0") -> list[dict]:
    [samples] = out.glob(f"*/{benchmark}/direct/t{temperature}/samples.jsonl")
    return [json.loads(line) for line in samples.read_text().splitlines()]


def _store_keys(out: Path) -> list[str]:
    """Keys of the store's readable records (a torn last line is skipped)."""
    keys = []
    for store in out.glob("*/completions.jsonl"):
        for raw in store.read_bytes().split(b"\n"):
            try:
                keys.append(json.loads(raw.decode("utf-8"))["key"])
            except (ValueError, KeyError, TypeError):
                continue
    return keys


@pytest.fixture(scope="module")
def stock_server(tiny_model_dir: Path):
    """The tiny model behind a vLLM server with stock limits; `kill`ed by the last test."""
    pytest.importorskip("vllm")
    server = LocalVLLMServer(
        tiny_model_dir,
        served_name="tiny",
        max_model_len=1024,
        kv_cache_gib=1,
        env={"VLLM_MAX_STOP_STRINGS": "4"},
    )
    with server:
        yield server


def test_openai_backend_scores_like_the_offline_backend(
    tiny_model_dir: Path, tiny_server: LocalVLLMServer, tmp_path: Path
) -> None:
    """Greedy decoding of the same checkpoint by the same engine: the same texts and answers."""
    common = ["--benchmarks", "gsm8k,math500", "--limit", "6", "--max-tokens", "48",
              "--max-model-len", "1024"]  # fmt: skip
    offline = run_cfteval(
        *_eval(tmp_path / "offline", "--model", str(tiny_model_dir), "--backend", "vllm"),
        *common,
    )
    assert offline.returncode == 0, offline.stderr
    served = run_cfteval(
        *_eval(tmp_path / "served", "--model", "tiny", "--backend", "openai"),
        "--base-url", tiny_server.base_url, *common,
    )  # fmt: skip
    assert served.returncode == 0, served.stderr
    for benchmark in ("gsm8k", "math500"):
        by_offline = _samples(tmp_path / "offline", benchmark)
        by_server = _samples(tmp_path / "served", benchmark)
        assert [s["problem_id"] for s in by_server] == [s["problem_id"] for s in by_offline]
        for mine, theirs in zip(by_server, by_offline, strict=True):
            assert mine["prompt"] == theirs["prompt"]
            assert mine["generation"] == theirs["generation"], mine["problem_id"]
            assert mine["extracted"] == theirs["extracted"]
            assert mine["correct"] == theirs["correct"]
            assert mine["tokens"] == theirs["tokens"]
            assert mine["finish_reason"] == theirs["finish_reason"]
    manifest = json.loads(
        next((tmp_path / "served").glob("*/gsm8k/direct/t0.0/manifest.json")).read_text()
    )
    assert manifest["backend"]["name"] == "openai"
    assert manifest["model"]["identity"].startswith("openai:tiny@")


def test_chat_prompt_format_sends_messages(tiny_server: LocalVLLMServer, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = run_cfteval(
        *_eval(out, "--model", "tiny", "--backend", "openai", "--base-url", tiny_server.base_url),
        "--benchmarks", "gsm8k", "--limit", "2", "--max-tokens", "16", "--prompt-format", "chat",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    samples = _samples(out, "gsm8k")
    assert len(samples) == 2
    for sample in samples:
        messages = json.loads(sample["prompt"])
        assert [m["role"] for m in messages] == ["system", "user"]
        assert sample["tokens"] > 0


def test_stop_strings_beyond_the_servers_limit_are_applied_here(
    stock_server: LocalVLLMServer, tiny_server: LocalVLLMServer
) -> None:
    question = "<|im_start|>user\nWhat is 12 + 35?<|im_end|>\n<|im_start|>assistant\n"
    reference = load_backend("openai", "tiny", base_urls=tiny_server.base_url)
    stock = load_backend("openai", "tiny", base_urls=stock_server.base_url)
    try:
        [full] = reference.generate([Request("p", question, Sampling(max_tokens=40), "tiny")])
        text = full.texts[0]
        stop = text[6:9]
        stops = ("NEVER-1", "NEVER-2", "NEVER-3", "NEVER-4", stop)  # the fifth one fires
        request = Request("p", question, Sampling(max_tokens=40, stop=stops), "tiny")
        [on_stock] = stock.generate([request])
        [on_reference] = reference.generate([request])
    finally:
        reference.close()
        stock.close()
    assert on_stock.texts == on_reference.texts == [text[: text.find(stop)]]
    assert on_stock.finish_reasons == on_reference.finish_reasons == ["stop"]


def test_replay_of_an_openai_run_finds_its_server_and_never_records_the_key(
    tiny_server: LocalVLLMServer, tmp_path: Path
) -> None:
    secret = "sk-test-never-recorded"
    address = tiny_server.base_url.removesuffix("/v1")  # as users paste it; recorded with /v1
    first = run_cfteval(
        *_eval(tmp_path / "first", "--model", "tiny", "--backend", "openai"),
        "--base-url", address, "--api-key", secret, "--concurrency", "3", "--max-retries", "2",
        "--benchmarks", "gsm8k", "--limit", "2", "--max-tokens", "16", "--temperatures", "0.7",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    [run_dir] = (tmp_path / "first").glob("*/gsm8k/direct/t0.7")
    for written in (tmp_path / "first").rglob("*"):
        if written.is_file():
            assert secret not in written.read_text(errors="replace"), written
    backend = json.loads((run_dir / "manifest.json").read_text())["backend"]
    assert backend["base_urls"] == [tiny_server.base_url]
    assert (backend["concurrency"], backend["max_retries"]) == (3, 2)

    replayed = run_cfteval("eval", "--replay", str(run_dir), "--out", str(tmp_path / "replayed"))
    assert replayed.returncode == 0, replayed.stderr
    assert _samples(tmp_path / "replayed", "gsm8k", "0.7") == _samples(
        tmp_path / "first", "gsm8k", "0.7"
    )
    again = json.loads(next((tmp_path / "replayed").glob("*/gsm8k/*/*/manifest.json")).read_text())
    assert again["backend"]["base_urls"] == [tiny_server.base_url]
    assert again["backend"]["concurrency"] == 3

    # A server that moved: --base-url on the replay command line replaces the recorded one.
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["backend"]["base_urls"] = ["http://127.0.0.1:9/v1"]  # nothing listens there
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    moved = run_cfteval(
        "eval", "--replay", str(run_dir), "--out", str(tmp_path / "moved"),
        "--base-url", tiny_server.base_url,
    )  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    assert _samples(tmp_path / "moved", "gsm8k", "0.7") == _samples(
        tmp_path / "first", "gsm8k", "0.7"
    )


def test_server_killed_mid_run_stops_with_one_line_and_the_rerun_completes(
    stock_server: LocalVLLMServer, tiny_server: LocalVLLMServer, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    args = _eval(out, "--model", "tiny", "--backend", "openai", "--benchmarks", "gsm8k",
                 "--limit", "20", "--temperatures", "0.7", "--max-tokens", "256",
                 "--concurrency", "1", "--max-retries", "2")  # fmt: skip
    # One request at a time, long enough that the run is still going when the store's first
    # batches (every few seconds) are on disk, however fast the machine.
    env = os.environ.copy()
    env.pop("CFTEVAL_DATA_DIR", None)
    command = [str(Path(sys.executable).parent / "cfteval"), *args]
    process = subprocess.Popen(
        [*command, "--base-url", stock_server.base_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 300
    while len(_store_keys(out)) < 4:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run stored nothing in time"
        time.sleep(0.1)
    stock_server.kill()
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 3, stderr
    assert "Traceback" not in stderr
    message = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(message) == 1, stderr
    assert stock_server.base_url in message[0] and "rerun" in message[0]
    saved = _store_keys(out)
    assert len(saved) == len(set(saved)) and 4 <= len(saved) < 20

    rerun = run_cfteval(*args, "--base-url", tiny_server.base_url)
    assert rerun.returncode == 0, rerun.stderr
    keys = _store_keys(out)
    assert len(keys) == len(set(keys)) == 20, "each request generated exactly once"
    assert set(saved) <= set(keys)
    samples = _samples(out, "gsm8k", "0.7")
    assert len(samples) == 20 and all(isinstance(s["correct"], bool) for s in samples)
    manifest = json.loads(next(out.glob("*/gsm8k/direct/t0.7/manifest.json")).read_text())
    assert manifest["backend"]["generated_this_invocation"] == 20 - len(saved)
