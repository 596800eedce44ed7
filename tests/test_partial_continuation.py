"""Samples in flight survive a crash: the partial log, and continuing from kept tokens in vLLM.

The log is tested on real files (torn lines, bad records, gaps, rewinds, compaction);
continuation on the real vLLM engine with the tiny model: what is saved is what was generated,
a continued greedy sample is the uninterrupted one, a sample that had not started gets exactly
its uninterrupted seed and text, the seeds and budgets reach the engine, kept tokens cut inside
a character or past a stop string are handled; and the evaluator's side with a recording
backend (failed rounds, --restart-partial / --overwrite, a disk that refuses the log).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfteval import partials
from cfteval.backends.base import Backend
from cfteval.backends.decoding import continuation_seed, request_seed, sample_seed
from cfteval.backends.inflight import InFlightRequest
from cfteval.completion_store import CompletionStore, completion_from_record
from cfteval.generation import BackendOptions, Generator
from cfteval.partials import (
    Continuation,
    PartialDelta,
    PartialLog,
    PartialSample,
    partial_log_path,
    token_array,
)
from cfteval.progress import Progress
from cfteval.records import Completion, Request, Sampling

CHATML = "<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"


def _request(question: str, sampling: Sampling) -> Request:
    return Request("p", CHATML.format(q=question), sampling, model="tiny")


def _log(tmp_path: Path) -> PartialLog:
    return PartialLog(partial_log_path(tmp_path / "completions.jsonl"))


# --- the log on disk ----------------------------------------------------------------------------


def _sample(token_ids: list[int], finish_reason: str | None = None) -> PartialSample:
    return PartialSample(token_array(token_ids), finish_reason)


def _reloaded(log: PartialLog, finished=lambda key: False) -> PartialLog:
    again = PartialLog(log.path)
    again.load(finished=finished)
    return again


def test_log_sits_beside_the_store(tmp_path: Path) -> None:
    path = partial_log_path(tmp_path / "model" / "completions.jsonl")
    assert path == tmp_path / "model" / "completions.partial.jsonl"


def test_saved_deltas_read_back_as_the_samples_they_extend(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.save([PartialDelta("k1", 0, 0, [1, 2]), PartialDelta("k1", 1, 0, [7])])
    log.save([PartialDelta("k1", 0, 2, [3]), PartialDelta("k1", 1, 1, [8], "stop")])
    again = _reloaded(log)
    assert again.samples == {"k1": {0: _sample([1, 2, 3]), 1: _sample([7, 8], "stop")}}
    assert again.for_keys(["k1", "other"]) == {"k1": again.samples["k1"]}


def test_torn_bad_and_disconnected_lines_are_skipped_not_fatal(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.save([PartialDelta("k1", 0, 0, [1, 2]), PartialDelta("k2", 0, 0, [5])])
    good = {"key": "k3", "index": 0, "start": 0, "token_ids": [9]}
    bad_lines = [
        json.dumps({**good, "token_ids": "12"}),  # wrong shape
        json.dumps({**good, "index": -1}),
        json.dumps({**good, "key": 7}),
        json.dumps({"key": "k1", "index": 0, "start": 5, "token_ids": [4]}),  # a gap
        '{"key": "k2", "index": 0, "st\xe9',  # torn inside a multi-byte character
    ]
    with log.path.open("ab") as handle:
        handle.write(b"\xff\xfe not utf-8\n")
        handle.write("\n".join(bad_lines).encode("utf-8")[:-1])
    # The next append after a torn line is not glued onto it.
    log.save([PartialDelta("k2", 0, 1, [6])])
    (tmp_path / "completions.partial.jsonl.tmp").write_text("a rewrite cut short")
    again = _reloaded(log)
    assert again.skipped_lines == 6
    assert again.samples == {"k1": {0: _sample([1, 2])}, "k2": {0: _sample([5, 6])}}
    assert not (tmp_path / "completions.partial.jsonl.tmp").exists()


def test_a_sample_generated_again_from_its_start_replaces_the_old_one(tmp_path: Path) -> None:
    """--overwrite or --restart-partial: the new answer's deltas start at 0 and win."""
    log = _log(tmp_path)
    log.save([PartialDelta("k", 0, 0, list(range(100)))])
    log.save([PartialDelta("k", 0, 0, [7] * 60)])
    log.save([PartialDelta("k", 0, 60, [8] * 40), PartialDelta("k", 0, 100, [9] * 30)])
    expected = {"k": {0: _sample([7] * 60 + [8] * 40 + [9] * 30)}}
    assert log.samples == expected
    assert _reloaded(log).samples == expected


def test_finished_requests_are_dropped_and_the_file_removed_when_empty(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.save([PartialDelta("done", 0, 0, [1]), PartialDelta("open", 0, 0, [2])])
    again = _reloaded(log, finished=lambda key: key == "done")
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
    log.save([PartialDelta("live", 0, 0, [1])])
    sizes = []
    for number in range(40):  # answers that finish and reach the store one after another
        key = f"done-{number}"
        log.save([PartialDelta(key, 0, 0, list(range(100, 160)))])
        log.forget([key])
        sizes.append(log.path.stat().st_size)
    assert max(sizes) < 2000 + 400, "rewritten instead of growing with every finished answer"
    assert min(sizes) < 200, "down to the one unfinished sample after a rewrite"
    assert set(log.samples) == {"live"}
    log.save([PartialDelta("live", 0, 1, [2])])
    again = _reloaded(log, finished=lambda key: key.startswith("done"))
    assert again.samples == {"live": {0: _sample([1, 2])}}
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


def test_kept_tokens_beyond_a_smaller_context_end_the_sample_there() -> None:
    """--max-model-len lowered after the crash: the sample ends where the context now does."""
    request = _request("What is 2 + 2?", Sampling(temperature=0.5, max_tokens=50))
    pending = InFlightRequest(request, 7, {0: _sample(list(range(10)))}, decode=str)
    assert list(pending.engine_requests(room=6)) == []
    completion = pending.completion()
    assert completion.finish_reasons == ["length"] and completion.token_counts == [6]
    assert completion.continued_from == [6]


# --- continuing in the vLLM engine --------------------------------------------------------------


class MemoryLog(PartialLog):
    """The partial log without a file: every saved delta kept in order, applied in memory."""

    def __init__(self, kept: dict | None = None) -> None:
        super().__init__(Path("/nonexistent/never-written.jsonl"))
        self.deltas: list[PartialDelta] = []
        for key, samples in (kept or {}).items():  # as the real log holds what it kept
            for index, sample in samples.items():
                self._apply(PartialDelta(key, index, 0, sample.token_ids.tolist()))

    def save(self, deltas: list[PartialDelta]) -> None:
        self.deltas.extend(deltas)
        for delta in deltas:
            assert self._apply(delta), delta


def _stream_saving(backend, requests: list[Request], kept=None) -> tuple[list, MemoryLog]:
    """Stream with the progress of running samples saved after every engine step."""
    log = MemoryLog(kept)
    continuation = Continuation(kept or {}, log.save, every_seconds=0.0)
    return list(backend.stream_resumable(requests, None, continuation)), log


def _recording_engine_requests(backend, monkeypatch) -> list[tuple[list[int], object]]:
    """(prompt token ids, SamplingParams) of every request the engine is given from now on."""
    engine = backend._llm.llm_engine
    calls = []
    real_add = engine.add_request

    def add_request(request_id, prompt, params, *args, **kwargs):
        calls.append((list(prompt["prompt_token_ids"]), params))
        return real_add(request_id, prompt, params, *args, **kwargs)

    monkeypatch.setattr(engine, "add_request", add_request)
    return calls


def _ids(backend, text: str) -> list[int]:
    return list(backend._tokenizer(text, add_special_tokens=False)["input_ids"])


@pytest.mark.slow
def test_saved_progress_is_what_each_running_sample_generated(vllm_backend) -> None:
    request = _request("Find $x$ if $2x + 3 = 11$.", Sampling(temperature=1.0, max_tokens=40, n=2))
    [completion], log = _stream_saving(vllm_backend, [request])
    samples = log.samples[request.key]
    assert set(samples) == {0, 1}
    for index, sample in samples.items():
        assert 0 < len(sample.token_ids) <= completion.token_counts[index]
    assert completion.continued_from is None


@pytest.mark.slow
def test_greedy_sample_continued_from_kept_tokens_is_the_uninterrupted_one(
    vllm_backend,
) -> None:
    request = _request("What is 12 + 35?", Sampling(temperature=0.0, max_tokens=30))
    [full], log = _stream_saving(vllm_backend, [request])
    all_tokens = log.samples[request.key][0].token_ids
    kept = {request.key: {0: _sample(all_tokens[:10].tolist())}}
    [continued], _ = _stream_saving(vllm_backend, [request], kept)
    assert continued.continued_from == [10]
    assert continued.token_counts == full.token_counts
    # Prefilling the kept tokens computes what decoding them did: the same greedy text,
    # decoded from all the tokens as the engine's detokenizer wrote it.
    assert continued.texts == full.texts


@pytest.mark.slow
def test_sample_that_had_not_started_gets_its_uninterrupted_seed_and_text(
    vllm_backend, monkeypatch
) -> None:
    """n = 2: sample 0 ended before the crash, sample 1 had not started (or kept nothing)."""
    request = _request("Compute $1/2 + 1/3$.", Sampling(temperature=1.0, max_tokens=30, n=2))
    [full], _ = _stream_saving(vllm_backend, [request])
    ended = _ids(vllm_backend, "The sum is 5/6.")
    kept = {request.key: {0: _sample(ended, "stop")}}
    calls = _recording_engine_requests(vllm_backend, monkeypatch)
    [resumed], _ = _stream_saving(vllm_backend, [request], kept)
    [(_, params)] = calls
    assert (params.n, params.seed, params.max_tokens) == (1, sample_seed(request, 1), 30)
    assert resumed.texts == ["The sum is 5/6.", full.texts[1]]
    assert resumed.finish_reasons[0] == "stop" and resumed.continued_from == [len(ended), 0]
    assert resumed.seed == full.seed == request_seed(request)


@pytest.mark.slow
def test_sampled_continuation_uses_its_derived_seed_and_the_remaining_budget(
    vllm_backend, monkeypatch
) -> None:
    request = _request("What is 7 times 8?", Sampling(temperature=0.8, max_tokens=20))
    kept_ids = _ids(vllm_backend, "The answer is")
    kept = {request.key: {0: _sample(kept_ids)}}
    calls = _recording_engine_requests(vllm_backend, monkeypatch)
    [first], _ = _stream_saving(vllm_backend, [request], kept)
    [second], _ = _stream_saving(vllm_backend, [request], kept)
    expected_seed = continuation_seed(request, 0, len(kept_ids))
    for prompt, params in calls:
        assert prompt[-len(kept_ids) :] == kept_ids
        assert (params.seed, params.max_tokens) == (expected_seed, 20 - len(kept_ids))
    assert len(calls) == 2
    assert first.texts == second.texts and first.texts[0].startswith("The answer is")
    assert len(kept_ids) < first.token_counts[0] <= 20


@pytest.mark.slow
def test_kept_tokens_cut_inside_a_character_are_trimmed_to_its_start(
    vllm_backend, monkeypatch
) -> None:
    """A save can fall inside a multi-byte character; the engine must not start there."""
    whole = _ids(vllm_backend, "Then x ≥ 2 and 🦜🦜 holds")
    decode = vllm_backend._decode
    cuts = [m for m in range(1, len(whole)) if decode(whole[:m]).endswith("\ufffd")]
    assert cuts, "the test string has characters spread over several tokens"
    cut = cuts[0]
    clean = max(m for m in range(cut) if not decode(whole[:m]).endswith("\ufffd"))
    request = _request("Is x at least 2?", Sampling(temperature=0.0, max_tokens=cut + 12))
    calls = _recording_engine_requests(vllm_backend, monkeypatch)
    [completion], _ = _stream_saving(
        vllm_backend, [request], {request.key: {0: _sample(whole[:cut])}}
    )
    [(prompt, _)] = calls
    assert prompt[-clean:] == whole[:clean] and prompt[-1] == whole[clean - 1]
    assert completion.continued_from == [clean]
    assert completion.texts[0].startswith(decode(whole[:clean]))
    assert "Is x at least 2?" not in completion.texts[0], "no prompt echoed into the answer"


@pytest.mark.slow
def test_a_stop_string_kept_before_the_crash_ends_the_sample_there(vllm_backend) -> None:
    """The engine only searches the continuation's text; the kept part is searched here."""
    request = _request("Say 4.", Sampling(temperature=0.0, max_tokens=40, stop=("END",)))
    kept = _ids(vllm_backend, "The answer is 4. END and then")
    [completion], _ = _stream_saving(vllm_backend, [request], {request.key: {0: _sample(kept)}})
    assert completion.texts == ["The answer is 4. "]
    assert completion.finish_reasons == ["stop"]
    through_stop = next(m for m in range(len(kept) + 1) if "END" in vllm_backend._decode(kept[:m]))
    assert completion.token_counts == [through_stop]
    assert completion.continued_from == [through_stop], "continued from the end it kept"


@pytest.mark.slow
def test_a_stop_string_across_kept_and_new_tokens_stops_the_engine(vllm_backend) -> None:
    """The engine searches only the continuation's text; a stop string that began in the kept
    tokens is found here, and the sample's engine request is aborted rather than run on."""
    request = _request("Count on.", Sampling(temperature=0.0, max_tokens=48))
    [full], log = _stream_saving(vllm_backend, [request])
    assert full.finish_reasons == ["length"], "the uninterrupted sample runs to its budget"
    tokens = log.samples[request.key][0].token_ids.tolist()
    decode = vllm_backend._decode
    text = decode(tokens)
    stop = None
    for kept_count in range(8, 30):  # a boundary whose text ends cleanly in the whole text
        kept_text = decode(tokens[:kept_count])
        if len(kept_text) >= 3 and text.startswith(kept_text) and len(text) > len(kept_text) + 3:
            stop = text[len(kept_text) - 2 : len(kept_text) + 2]
            if stop not in kept_text and text.find(stop) == len(kept_text) - 2:
                break
            stop = None
    assert stop is not None, f"no usable boundary in {text!r}"
    stopping = _request("Count on.", Sampling(temperature=0.0, max_tokens=48, stop=(stop,)))
    kept = {stopping.key: {0: _sample(tokens[:kept_count])}}
    generated: list[int] = []
    [completion] = list(
        vllm_backend.stream_resumable(
            [stopping], generated.append, Continuation(kept, lambda deltas: None, 0.0)
        )
    )
    assert completion.texts == [text[: len(kept_text) - 2]]
    assert completion.finish_reasons == ["stop"]
    assert completion.continued_from == [kept_count]
    # Aborted within a few tokens of the stop string, not run on to the budget (48 - kept).
    assert 1 <= sum(generated) <= 6 < 48 - kept_count


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
    kept_ids = _ids(vllm_backend, "It is two")[:3]
    kept = {request.key: {0: _sample(kept_ids)}}
    [completion] = list(
        vllm_backend.stream_resumable([request], None, Continuation(kept, print, 9))
    )
    assert completion.texts == [vllm_backend._decode(kept_ids)]
    assert completion.finish_reasons == ["length"]
    assert completion.token_counts == [3] and completion.continued_from == [3]


@pytest.mark.slow
def test_requests_with_equal_keys_share_one_engine_request(vllm_backend, monkeypatch) -> None:
    twice = [_request("What is 9 - 4?", Sampling(temperature=0.0, max_tokens=6))] * 2
    calls = _recording_engine_requests(vllm_backend, monkeypatch)
    completions = vllm_backend.generate(twice)
    assert len(calls) == 1 and completions[0] is completions[1]


# --- the evaluator's side (a recording backend) --------------------------------------------------


class RecordingBackend(Backend):
    """Saves one delta per request, then answers it (or fails at `fail_at`); records what it got."""

    name = "recording"
    continues_partial_answers = True

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
            continuation.save([PartialDelta(request.key, 0, start, [1, 2])])
            if request.key == self.fail_at:
                raise RuntimeError("the engine died")
            yield Completion(request.key, [f"kept {start}"], [start + 2], ["stop"])


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
    assert continuation.partials == {second.key: {0: _sample([1, 2])}}
    assert completions[second.key].texts == ["kept 2"]
    assert not log_path.exists(), "removed once every kept request is stored"


@pytest.mark.parametrize("option", ["restart_partial", "overwrite"])
def test_restart_partial_and_overwrite_generate_kept_samples_afresh(
    tmp_path: Path, option: str
) -> None:
    [request] = _requests("three?")
    log = _log(tmp_path)
    log.save([PartialDelta(request.key, 0, 0, [7, 7, 7])])
    backend = RecordingBackend(fail_at=request.key)
    generator, store = _generator(tmp_path, backend, **{option: True})
    with pytest.raises(RuntimeError):  # killed again, after its first save
        generator.complete([request], Progress())
    assert backend.continuations[0].partials == {}
    # What the log keeps is the new attempt's progress, not the old one's spliced into it.
    assert store.partial_log().samples == {request.key: {0: _sample([1, 2])}}
    assert _reloaded(log).samples == {request.key: {0: _sample([1, 2])}}


def test_a_backend_that_cannot_continue_is_given_nothing_to_continue(tmp_path: Path) -> None:
    """transformers or an openai server after a killed vLLM run: kept answers restart."""
    [request] = _requests("six?")
    _log(tmp_path).save([PartialDelta(request.key, 0, 0, [7, 7, 7])])
    backend = RecordingBackend()
    backend.continues_partial_answers = False
    generator, _ = _generator(tmp_path, backend)
    completions = generator.complete([request], Progress())
    assert backend.continuations[0].partials == {}
    assert completions[request.key].texts == ["kept 0"]


def test_a_log_the_disk_refuses_does_not_end_the_run(tmp_path: Path, monkeypatch, caplog) -> None:
    first, second = _requests("four?", "five?")
    generator, store = _generator(tmp_path, RecordingBackend())

    def full_disk(deltas) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.partial_log(), "save", full_disk)
    completions = generator.complete([first, second], Progress())
    assert set(completions) == {first.key, second.key} and second.key in store
    assert "No space left on device" in caplog.text and caplog.text.count("cannot save") == 1


def test_generator_drops_kept_progress_of_stored_requests_on_start(tmp_path: Path) -> None:
    store_path = tmp_path / "completions.jsonl"
    store = CompletionStore(store_path)
    store.add([completion_from_record(
        {"key": "stored", "texts": ["t"], "token_counts": [1], "finish_reasons": ["stop"]}
    )])  # fmt: skip
    log = PartialLog(partial_log_path(store_path))
    log.save([PartialDelta("stored", 0, 0, [1]), PartialDelta("open", 0, 0, [2])])
    Generator(BackendOptions("vllm", "unused"), store)
    lines = partial_log_path(store_path).read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["open"]


def test_an_interrupted_run_says_how_many_answers_it_kept_part_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first answer is stored, the second kept part-way, the third never started."""
    from cfteval.cli.common import exit_interrupted
    from cfteval.errors import RunInterrupted

    first, second, third = _requests("one?", "two?", "three?")
    generator, store = _generator(tmp_path, RecordingBackend(fail_at=second.key))
    with pytest.raises(RuntimeError):
        generator.complete([first, second, third], Progress())
    assert store.get(first.key) is not None
    assert generator.kept_part_way == 1
    with pytest.raises(SystemExit) as exited:
        exit_interrupted(RunInterrupted(generator.generated, store.path, generator.kept_part_way))
    assert exited.value.code == 130
    message = capsys.readouterr().err
    assert "1 completion(s) generated in this run are saved" in message
    assert "with the progress of 1 answer(s) still generating; resume with:" in message
