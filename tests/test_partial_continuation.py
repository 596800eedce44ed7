"""Samples in flight survive a crash: the partial log, and continuing from kept tokens in vLLM.

The log is tested on real files (torn lines, bad records, deltas that do not extend their
sample, compaction); continuation on the real vLLM engine with the tiny model: what is saved
rebuilds what was generated, a continued greedy sample is the uninterrupted one, a sample that
had not started gets exactly its uninterrupted seed and text, and the seeds reach the engine.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from cfteval import partials
from cfteval.backends.base import Backend
from cfteval.backends.decoding import continuation_seed, request_seed, sample_seed
from cfteval.completion_store import CompletionStore, completion_from_record
from cfteval.generation import BackendOptions, Generator
from cfteval.partials import (
    Continuation,
    PartialDelta,
    PartialLog,
    PartialSample,
    partial_log_path,
)
from cfteval.progress import Progress
from cfteval.records import Completion, Request, Sampling

CHATML = "<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"


def _request(question: str, sampling: Sampling) -> Request:
    return Request("p", CHATML.format(q=question), sampling, model="tiny")


def _log(tmp_path: Path) -> PartialLog:
    return PartialLog(partial_log_path(tmp_path / "completions.jsonl"))


# --- the log on disk ----------------------------------------------------------------------------


def test_log_sits_beside_the_store(tmp_path: Path) -> None:
    path = partial_log_path(tmp_path / "model" / "completions.jsonl")
    assert path == tmp_path / "model" / "completions.partial.jsonl"


def test_saved_deltas_read_back_as_the_samples_they_extend(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.save([PartialDelta("k1", 0, 0, [1, 2], "ab"), PartialDelta("k1", 1, 0, [7], "x")])
    log.save([PartialDelta("k1", 0, 2, [3], "c"), PartialDelta("k1", 1, 1, [8], "y", "stop")])
    again = _log(tmp_path)
    again.load(finished=lambda key: False)
    assert again.samples == {
        "k1": {0: PartialSample([1, 2, 3], "abc"), 1: PartialSample([7, 8], "xy", "stop")}
    }
    assert again.for_keys(["k1", "other"]) == {"k1": again.samples["k1"]}


def test_torn_bad_and_disconnected_lines_are_skipped_not_fatal(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.save([PartialDelta("k1", 0, 0, [1, 2], "ab"), PartialDelta("k2", 0, 0, [5], "e")])
    good = {"key": "k3", "index": 0, "start": 0, "token_ids": [9], "text": "z"}
    bad_lines = [
        json.dumps({**good, "token_ids": "12"}),  # wrong shape
        json.dumps({**good, "index": -1}),
        json.dumps({**good, "key": 7}),
        json.dumps({"key": "k1", "index": 0, "start": 5, "token_ids": [4], "text": "?"}),  # gap
        '{"key": "k2", "index": 0, "st\xe9',  # torn inside a multi-byte character
    ]
    with log.path.open("ab") as handle:
        handle.write(b"\xff\xfe not utf-8\n")
        handle.write("\n".join(bad_lines).encode("utf-8")[:-1])
    # The next append after a torn line is not glued onto it.
    log.save([PartialDelta("k2", 0, 1, [6], "f")])
    again = _log(tmp_path)
    again.load(finished=lambda key: False)
    assert again.skipped_lines == 6
    assert again.samples["k1"][0] == PartialSample([1, 2], "ab")
    assert again.samples["k2"][0] == PartialSample([5, 6], "ef")


def test_finished_requests_are_dropped_and_the_file_removed_when_empty(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.save([PartialDelta("done", 0, 0, [1], "a"), PartialDelta("open", 0, 0, [2], "b")])
    again = _log(tmp_path)
    again.load(finished=lambda key: key == "done")
    assert set(again.samples) == {"open"}
    lines = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert [line["key"] for line in lines] == ["open"], "compacted on load"
    again.forget(["open"])
    assert not log.path.exists()


def test_a_long_run_log_is_rewritten_once_finished_answers_dominate_it(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(partials, "COMPACT_AFTER_BYTES", 2000)
    log = _log(tmp_path)
    log.save([PartialDelta("live", 0, 0, [1], "a")])
    sizes = []
    for number in range(40):  # answers that finish and reach the store one after another
        key = f"done-{number}"
        log.save([PartialDelta(key, 0, 0, list(range(30)), "x" * 60)])
        log.forget([key])
        sizes.append(log.path.stat().st_size)
    assert max(sizes) < 2000 + 400, "rewritten instead of growing with every finished answer"
    assert min(sizes) < 200, "down to the one unfinished sample after a rewrite"
    assert set(log.samples) == {"live"}
    log.save([PartialDelta("live", 0, 1, [2], "b")])
    again = _log(tmp_path)
    again.load(finished=lambda key: key.startswith("done"))
    assert again.samples == {"live": {0: PartialSample([1, 2], "ab")}}
    assert again.skipped_lines == 0


def test_store_records_check_the_continuation_field() -> None:
    record = {
        "key": "k", "texts": ["a", "b"], "token_counts": [1, 2], "finish_reasons": ["stop"] * 2,
    }  # fmt: skip
    assert completion_from_record({**record, "continued_from": [0, 4]}).continued_from == [0, 4]
    assert completion_from_record(record).continued_from is None
    for bad in ([1], "4", [1, "2"]):
        with pytest.raises(ValueError, match="continued_from"):
            completion_from_record({**record, "continued_from": bad})


def test_continuation_seeds_differ_by_sample_and_kept_length() -> None:
    request = _request("What is 2 + 2?", Sampling(temperature=1.0, n=2, seed=3))
    assert sample_seed(request, 1) == request_seed(request) + 1
    seeds = {continuation_seed(request, index, kept) for index in (0, 1) for kept in (5, 6)}
    assert len(seeds) == 4
    assert continuation_seed(request, 0, 5) == continuation_seed(request, 0, 5)


# --- continuing in the vLLM engine --------------------------------------------------------------


class MemoryLog(PartialLog):
    """The partial log without a file: every saved delta kept in order, applied in memory."""

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent/never-written.jsonl"))
        self.deltas: list[PartialDelta] = []

    def save(self, deltas: list[PartialDelta]) -> None:
        self.deltas.extend(deltas)
        for delta in deltas:
            assert self._apply(delta), delta

    def prefix(self, key: str, tokens: int) -> PartialSample:
        """Sample 0 of `key` as it stood once it held `tokens` tokens (a step boundary)."""
        sample = PartialSample()
        for delta in self.deltas:
            if delta.key == key and delta.index == 0 and len(sample.token_ids) < tokens:
                sample.token_ids += delta.token_ids
                sample.text += delta.text
        return sample


def _stream_saving(backend, requests: list[Request], kept=None) -> tuple[list, MemoryLog]:
    """Stream with the progress of running samples saved after every engine step."""
    log = MemoryLog()
    log.samples = copy.deepcopy(kept or {})  # as the real log holds what it kept
    continuation = Continuation(kept or {}, log.save, every_seconds=0.0)
    return list(backend.stream_resumable(requests, None, continuation)), log


@pytest.mark.slow
def test_saved_progress_rebuilds_running_samples(vllm_backend) -> None:
    """What is saved while the request runs is a prefix of each sample's final tokens and text."""
    request = _request("Find $x$ if $2x + 3 = 11$.", Sampling(temperature=1.0, max_tokens=40, n=2))
    [completion], log = _stream_saving(vllm_backend, [request])
    samples = log.samples[request.key]
    assert set(samples) == {0, 1}
    for index, sample in samples.items():
        assert 0 < len(sample.token_ids) <= completion.token_counts[index]
        assert completion.texts[index].startswith(sample.text)
    assert completion.continued_from is None


@pytest.mark.slow
def test_greedy_sample_continued_from_kept_tokens_is_the_uninterrupted_one(
    vllm_backend,
) -> None:
    request = _request("What is 12 + 35?", Sampling(temperature=0.0, max_tokens=30))
    [full], log = _stream_saving(vllm_backend, [request])
    kept_sample = log.prefix(request.key, 10)
    assert 0 < len(kept_sample.token_ids) < full.token_counts[0]
    [continued], _ = _stream_saving(vllm_backend, [request], {request.key: {0: kept_sample}})
    assert continued.continued_from == [len(kept_sample.token_ids)]
    assert continued.token_counts == full.token_counts
    # Prefilling the kept tokens computes what decoding them did: the same greedy text.
    assert continued.texts == full.texts


@pytest.mark.slow
def test_sample_that_had_not_started_gets_its_uninterrupted_seed_and_text(
    vllm_backend, monkeypatch
) -> None:
    """n = 2: sample 0 ended before the crash, sample 1 had not started (or kept nothing)."""
    request = _request("Compute $1/2 + 1/3$.", Sampling(temperature=1.0, max_tokens=30, n=2))
    [full], _ = _stream_saving(vllm_backend, [request])
    kept = {request.key: {0: PartialSample([11, 12], "kept text", "stop")}}
    engine = vllm_backend._llm.llm_engine
    seeds = []
    real_add = engine.add_request

    def add_request(request_id, prompt, params, *args, **kwargs):
        seeds.append((params.n, params.seed, params.max_tokens))
        return real_add(request_id, prompt, params, *args, **kwargs)

    monkeypatch.setattr(engine, "add_request", add_request)
    [resumed], _ = _stream_saving(vllm_backend, [request], kept)
    assert seeds == [(1, sample_seed(request, 1), 30)]
    assert resumed.texts == ["kept text", full.texts[1]]
    assert resumed.finish_reasons[0] == "stop" and resumed.continued_from == [2, 0]
    assert resumed.seed == full.seed == request_seed(request)


@pytest.mark.slow
def test_sampled_continuation_uses_its_derived_seed_and_the_remaining_budget(
    vllm_backend, monkeypatch
) -> None:
    request = _request("What is 7 times 8?", Sampling(temperature=0.8, max_tokens=20))
    kept_ids = vllm_backend._tokenizer("The answer is")["input_ids"]
    kept = {request.key: {0: PartialSample(kept_ids, "The answer is")}}
    engine = vllm_backend._llm.llm_engine
    calls = []
    real_add = engine.add_request

    def add_request(request_id, prompt, params, *args, **kwargs):
        calls.append((prompt["prompt_token_ids"][-len(kept_ids) :], params.seed, params.max_tokens))
        return real_add(request_id, prompt, params, *args, **kwargs)

    monkeypatch.setattr(engine, "add_request", add_request)
    [first], _ = _stream_saving(vllm_backend, [request], kept)
    [second], _ = _stream_saving(vllm_backend, [request], kept)
    expected_seed = continuation_seed(request, 0, len(kept_ids))
    assert calls == [(kept_ids, expected_seed, 20 - len(kept_ids))] * 2
    assert first.texts == second.texts and first.texts[0].startswith("The answer is")
    assert len(kept_ids) < first.token_counts[0] <= 20


@pytest.mark.slow
def test_a_stream_stopped_early_saves_the_progress_of_what_it_aborts(vllm_backend) -> None:
    """Ctrl-C or an error downstream: nothing generated is lost, even between saves."""
    requests = [
        _request("What is 3 + 4?", Sampling(temperature=0.0, max_tokens=2)),
        _request("Name a prime.", Sampling(temperature=0.7, max_tokens=60, n=2)),
    ]
    log = MemoryLog()
    stream = vllm_backend.stream_resumable(requests, None, Continuation({}, log.save, 1e9))
    first = next(stream)
    assert first.key == requests[0].key and not log.deltas, "no periodic save yet"
    stream.close()
    assert not vllm_backend._llm.llm_engine.has_unfinished_requests()
    saved = log.samples[requests[1].key]
    assert set(saved) == {0, 1} and all(sample.token_ids for sample in saved.values())


@pytest.mark.slow
def test_kept_sample_at_its_token_budget_ends_without_the_engine(vllm_backend) -> None:
    request = _request("What is 1 + 1?", Sampling(temperature=0.0, max_tokens=3))
    kept = {request.key: {0: PartialSample([5, 6, 7], "abc")}}
    [completion] = list(
        vllm_backend.stream_resumable([request], None, Continuation(kept, print, 9))
    )
    assert completion.texts == ["abc"] and completion.finish_reasons == ["length"]
    assert completion.token_counts == [3] and completion.continued_from == [3]


# --- the evaluator's side (a recording backend) --------------------------------------------------


class RecordingBackend(Backend):
    """Saves one delta per request, then answers it (or fails at `fail_at`); records what it got."""

    name = "recording"

    def __init__(self, fail_at: str | None = None) -> None:
        self.fail_at = fail_at
        self.continuations: list[Continuation | None] = []

    def version(self) -> str:
        return "0"

    def stream_resumable(self, requests, on_tokens=None, continuation=None):
        self.continuations.append(continuation)
        for request in requests:
            kept = continuation.partials.get(request.key, {}) if continuation else {}
            start = len(kept[0].token_ids) if kept else 0
            continuation.save([PartialDelta(request.key, 0, start, [1, 2], "new")])
            if request.key == self.fail_at:
                raise RuntimeError("the engine died")
            text = (kept[0].text if kept else "") + "new"
            yield Completion(request.key, [text], [start + 2], ["stop"])


def _generator(tmp_path: Path, backend: Backend, **options) -> tuple[Generator, CompletionStore]:
    store = CompletionStore(tmp_path / "completions.jsonl")
    generator = Generator(BackendOptions("recording", "unused"), store, **options)
    generator._backend = backend  # noqa: SLF001 - instead of loading a model
    return generator, store


def _requests(*questions: str) -> list[Request]:
    return [_request(question, Sampling(temperature=0.7, max_tokens=50)) for question in questions]


def test_generator_keeps_progress_of_a_failed_round_and_continues_it(tmp_path: Path) -> None:
    first, second = _requests("one?", "two?")
    generator, store = _generator(tmp_path, RecordingBackend(fail_at=second.key))
    with pytest.raises(RuntimeError):
        generator.complete([first, second], Progress())
    assert first.key in store and second.key not in store
    log_path = partial_log_path(store.path)
    assert [json.loads(line)["key"] for line in log_path.read_text().splitlines()] == [second.key]

    backend = RecordingBackend()
    generator, store = _generator(tmp_path, backend)
    completions = generator.complete([first, second], Progress())
    [continuation] = backend.continuations
    assert set(continuation.partials) == {second.key}
    assert completions[second.key].texts == ["newnew"]
    assert not log_path.exists(), "removed once every kept request is stored"


@pytest.mark.parametrize("option", ["restart_partial", "overwrite"])
def test_restart_partial_and_overwrite_generate_kept_samples_afresh(
    tmp_path: Path, option: str
) -> None:
    [request] = _requests("three?")
    log = PartialLog(partial_log_path(tmp_path / "completions.jsonl"))
    log.save([PartialDelta(request.key, 0, 0, [7, 7, 7], "old")])
    backend = RecordingBackend()
    generator, _ = _generator(tmp_path, backend, **{option: True})
    completions = generator.complete([request], Progress())
    assert backend.continuations[0].partials == {}
    assert completions[request.key].texts == ["new"]


def test_generator_drops_kept_progress_of_stored_requests_on_start(tmp_path: Path) -> None:
    store_path = tmp_path / "completions.jsonl"
    store = CompletionStore(store_path)
    store.add([completion_from_record(
        {"key": "stored", "texts": ["t"], "token_counts": [1], "finish_reasons": ["stop"]}
    )])  # fmt: skip
    log = PartialLog(partial_log_path(store_path))
    log.save([PartialDelta("stored", 0, 0, [1], "t"), PartialDelta("open", 0, 0, [2], "u")])
    Generator(BackendOptions("vllm", "unused"), store)
    lines = partial_log_path(store_path).read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["open"]
