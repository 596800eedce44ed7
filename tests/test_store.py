"""The completion cache: durable appends, reload, torn lines, atomic writes."""

from __future__ import annotations

import json

import pytest

from cfteval.errors import UserError
from cfteval.records import Completion, Request, Sampling
from cfteval.store import CompletionStore, read_jsonl, write_json_atomic


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


def test_store_skips_a_torn_last_line(tmp_path) -> None:
    path = tmp_path / "completions.jsonl"
    CompletionStore(path).add([_completion("k1")])
    with path.open("a") as handle:
        handle.write('{"key": "k2", "texts": ["trunc')
    reloaded = CompletionStore(path)
    assert "k1" in reloaded and "k2" not in reloaded


def test_request_key_covers_model_prompt_and_sampling() -> None:
    base = Request("1", "prompt", Sampling(temperature=0.0), "model-a")
    assert base.key == Request("1", "prompt", Sampling(temperature=0.0), "model-a").key
    assert base.key != Request("1", "prompt!", Sampling(temperature=0.0), "model-a").key
    assert base.key != Request("1", "prompt", Sampling(temperature=0.6), "model-a").key
    assert base.key != Request("1", "prompt", Sampling(temperature=0.0), "model-b").key
    assert base.key != Request("1", "prompt", Sampling(stop=("[END]",)), "model-a").key


def test_atomic_json_and_malformed_jsonl(tmp_path) -> None:
    target = tmp_path / "a" / "metrics.json"
    write_json_atomic(target, {"accuracy": 1.0})
    assert json.loads(target.read_text()) == {"accuracy": 1.0}
    assert [p.name for p in target.parent.iterdir()] == ["metrics.json"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{oops\n')
    with pytest.raises(UserError, match=r"bad.jsonl:2"):
        read_jsonl(bad)
