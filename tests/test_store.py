"""The completion cache: durable appends, what a crash leaves behind, the one-writer lock."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from cfteval.completion_store import CompletionStore, StoreLock
from cfteval.errors import UserError
from cfteval.records import Completion, Request, Sampling
from cfteval.store import read_jsonl, write_json_atomic


def _completion(key: str, text: str = "x") -> Completion:
    return Completion(key=key, texts=[text], token_counts=[1], finish_reasons=["stop"])


def test_store_persists_and_reloads(tmp_path) -> None:
    path = tmp_path / "m" / "completions.jsonl"
    store = CompletionStore(path)
    store.add([_completion("k1"), _completion("k2", "y")])
    reloaded = CompletionStore(path)
    assert len(reloaded) == 2
    assert reloaded.get("k2").texts == ["y"]
    assert "k3" not in reloaded


def test_append_after_a_torn_line_keeps_the_new_record(tmp_path) -> None:
    """The torn line is lost (regenerated), the fsynced record appended after it is not."""
    path = tmp_path / "completions.jsonl"
    CompletionStore(path).add([_completion("k1")])
    with path.open("a") as handle:
        handle.write('{"key": "k2", "texts": ["trunc')
    store = CompletionStore(path)
    assert "k1" in store and "k2" not in store and store.skipped_lines == 1
    store.add([_completion("k3")])
    reloaded = CompletionStore(path)
    assert "k1" in reloaded and "k3" in reloaded


def test_bad_bytes_and_bad_shapes_skip_one_line_each(tmp_path, caplog) -> None:
    path = tmp_path / "completions.jsonl"
    good = json.dumps(
        {"key": "ok", "texts": ["é"], "token_counts": [1], "finish_reasons": ["stop"]},
        ensure_ascii=False,
    )
    bad_lines = [
        good.encode()[: good.encode().index("é".encode()) + 1],  # torn inside a 2-byte character
        b'{"key": "k\xff", "texts": ["a"], "token_counts": [1], "finish_reasons": ["stop"]}',
        b'{"key": 7, "texts": ["a"], "token_counts": [1], "finish_reasons": ["stop"]}',
        b'{"key": "n", "texts": null, "token_counts": [1], "finish_reasons": ["stop"]}',
        b'{"key": "s", "texts": "abc", "token_counts": [1], "finish_reasons": ["stop"]}',
        b'{"key": "c", "texts": ["a", "b"], "token_counts": [1], "finish_reasons": ["stop"]}',
        b'{"key": "t", "texts": ["a"], "token_counts": [true], "finish_reasons": ["stop"]}',
        b"[1, 2, 3]",
        b"[" * 100_000,
    ]
    path.write_bytes(b"\n".join([*bad_lines, good.encode()]) + b"\n")
    with caplog.at_level(logging.WARNING):
        store = CompletionStore(path)
    assert len(store) == 1 and store.get("ok").texts == ["é"]
    assert store.skipped_lines == len(bad_lines)
    assert sum("skipping unreadable cache line" in r.message for r in caplog.records) == len(
        bad_lines
    )


def test_any_text_round_trips_including_lone_surrogates(tmp_path) -> None:
    path = tmp_path / "completions.jsonl"
    texts = ["\\boxed{1} \ud800", "naïve 数学 \U0001f600", "\x00\n\r\u2028"]
    CompletionStore(path).add([_completion(f"k{i}", text) for i, text in enumerate(texts)])
    path.read_bytes().decode("utf-8")  # the file stays valid UTF-8
    reloaded = CompletionStore(path)
    assert [reloaded.get(f"k{i}").texts[0] for i in range(3)] == texts


def test_batched_writer_writes_the_last_batch_on_exit(tmp_path) -> None:
    path = tmp_path / "completions.jsonl"
    store = CompletionStore(path)
    with pytest.raises(KeyboardInterrupt), store.writer(every=3, seconds=3600) as writer:
        for index in range(5):
            writer.add(_completion(f"k{index}"))
            if index == 2:  # the first batch of three is on disk before the block ends
                assert len(CompletionStore(path)) == 3
        raise KeyboardInterrupt
    assert len(CompletionStore(path)) == 5


def test_request_key_covers_model_prompt_sampling_and_draw() -> None:
    base = Request("1", "prompt", Sampling(temperature=0.0), "model-a")
    assert base.key == Request("1", "prompt", Sampling(temperature=0.0), "model-a").key
    assert base.key != Request("1", "prompt!", Sampling(temperature=0.0), "model-a").key
    assert base.key != Request("1", "prompt", Sampling(temperature=0.6), "model-a").key
    assert base.key != Request("1", "prompt", Sampling(temperature=0.0), "model-b").key
    assert base.key != Request("1", "prompt", Sampling(stop=("[END]",)), "model-a").key
    draws = {Request("1", "prompt", Sampling(), "model-a", draw=d).key for d in range(8)}
    assert len(draws) == 8 and base.key in draws  # draw 0 keeps the earlier key


def test_second_writer_is_refused_naming_the_first(tmp_path) -> None:
    store = tmp_path / "m" / "completions.jsonl"
    with StoreLock(store):
        with pytest.raises(UserError, match=rf"pid {os.getpid()}.*another --out"):
            StoreLock(store).acquire()
    with StoreLock(store):  # released on exit
        pass


def test_lock_of_a_killed_process_is_released(tmp_path) -> None:
    store = tmp_path / "completions.jsonl"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from cfteval.completion_store import "
            "StoreLock; lock = StoreLock(Path(sys.argv[1])); lock.acquire(); print('locked', flush=True); "
            "time.sleep(60)",
            str(store),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(UserError, match=f"pid {holder.pid}"):
            StoreLock(store).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            with StoreLock(store):
                break
        except UserError:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_atomic_json_and_malformed_jsonl(tmp_path) -> None:
    target = tmp_path / "a" / "metrics.json"
    write_json_atomic(target, {"accuracy": 1.0})
    assert json.loads(target.read_text()) == {"accuracy": 1.0}
    assert [p.name for p in target.parent.iterdir()] == ["metrics.json"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{oops\n')
    with pytest.raises(UserError, match=r"bad.jsonl:2"):
        read_jsonl(bad)
