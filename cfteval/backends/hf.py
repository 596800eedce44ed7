"""transformers backend: batched, left-padded `generate`; the reference and the CPU fallback.

Slower than vLLM but with no engine to install: any checkpoint transformers loads runs here.
Output conventions follow the vLLM backend so that the two are interchangeable: text cut at the
first stop string (excluded), token counts including the end-of-sequence token, finish reasons
"stop" / "length".
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from cfteval.backends.base import Backend, TokenCallback
from cfteval.backends.decoding import (
    eos_token_ids,
    request_seed,
    special_token_stop_ids,
    truncate_at_stop,
)
from cfteval.engine_release import free_memory
from cfteval.errors import UserError
from cfteval.records import Completion, Request, Sampling

logger = logging.getLogger(__name__)

_TORCH_DTYPES = {
    "float32": "float32",
    "float": "float32",
    "float16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
}


class HFBackend(Backend):
    """One transformers model per instance; requests are grouped by sampling and batched."""

    name = "hf"

    def __init__(
        self,
        model_path: str,
        *,
        seed: int = 0,
        max_model_len: int | None = None,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        batch_size: int = 8,
        device: str | None = None,
        **model_kwargs: Any,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if tensor_parallel_size != 1:
            raise UserError("the hf backend runs on one device; use --backend vllm for --tp > 1")
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = batch_size
        self.max_model_len = max_model_len
        if dtype == "auto":
            # Half precision on CPU is slow and, for some ops, missing: use float32 there.
            torch_dtype: Any = "auto" if self.device.startswith("cuda") else torch.float32
        elif dtype in _TORCH_DTYPES:
            torch_dtype = getattr(torch, _TORCH_DTYPES[dtype])
        else:
            raise UserError(f"unknown dtype {dtype!r}; use auto, float32, float16 or bfloat16")
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(model_path)
            self._model = AutoModelForCausalLM.from_pretrained(
                model_path, dtype=torch_dtype, **model_kwargs
            )
        except (OSError, ValueError) as error:
            raise UserError(f"cannot load model {model_path} with transformers: {error}") from None
        self._model.to(self.device).eval()
        # Left padding keeps every prompt's last token next to its first generated token.
        self._tokenizer.padding_side = "left"
        if self._tokenizer.pad_token_id is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._eos_ids = eos_token_ids(
            self._tokenizer, getattr(self._model.generation_config, "eos_token_id", None)
        )

    def version(self) -> str:
        import torch
        import transformers

        return f"transformers {transformers.__version__}, torch {torch.__version__}"

    def stream(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> Iterator[Completion]:
        """Yield Completions batch by batch; batches hold requests with equal sampling."""
        groups: dict[Sampling, list[Request]] = defaultdict(list)
        for request in {request.key: request for request in requests}.values():
            groups[request.sampling].append(request)
        for sampling, members in groups.items():
            lengths = {r.key: len(self._tokenizer(r.prompt)["input_ids"]) for r in members}
            # Similar lengths in a batch waste less compute on padding.
            ordered = sorted(members, key=lambda r: lengths[r.key], reverse=True)
            for start in range(0, len(ordered), self.batch_size):
                completions = self._generate_batch(
                    ordered[start : start + self.batch_size], sampling
                )
                if on_tokens is not None:
                    # Greedy copies were generated once.
                    counted = 1 if sampling.temperature == 0 else sampling.n
                    on_tokens(sum(sum(c.token_counts[:counted]) for c in completions))
                yield from completions

    def _generate_batch(self, batch: list[Request], sampling: Sampling) -> list[Completion]:
        import torch

        greedy = sampling.temperature == 0
        n = 1 if greedy else sampling.n  # greedy samples are identical: generate one, copy it
        stop_ids = self._eos_ids | special_token_stop_ids(self._tokenizer, sampling.stop)
        # Special-token stops are handled by id; text stops by transformers and by truncation.
        text_stops = [s for s in sampling.stop if s and s not in self._tokenizer.get_added_vocab()]
        inputs = self._tokenizer(
            [request.prompt for request in batch], return_tensors="pt", padding=True
        ).to(self.device)
        max_new_tokens = sampling.max_tokens
        if self.max_model_len is not None:
            max_new_tokens = max(
                1, min(max_new_tokens, self.max_model_len - inputs["input_ids"].shape[1])
            )
        options: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "num_return_sequences": n,
            "eos_token_id": sorted(stop_ids),
            "pad_token_id": self._tokenizer.pad_token_id,
            # Neutralise the checkpoint's own generation defaults (top_k, repetition penalty)
            # so that decoding is exactly what the request says, as with vLLM.
            "top_k": 0,
            "repetition_penalty": 1.0,
        }
        if greedy:
            options.update(do_sample=False, temperature=None, top_p=None)
        else:
            options.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
        if text_stops:
            options.update(stop_strings=text_stops, tokenizer=self._tokenizer)
        started = time.perf_counter()
        # Seed from the batch's requests, on a forked RNG so the global torch state is untouched.
        devices = [torch.device(self.device)] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            # One sampling stream per batch (transformers has no per-row generator): the seed
            # of the batch's first request, recorded on every completion of the batch.
            seed = None if greedy else request_seed(batch[0])
            torch.manual_seed(seed or 0)
            output = self._model.generate(**inputs, **options)
        seconds = (time.perf_counter() - started) / len(batch)
        generated = output[:, inputs["input_ids"].shape[1] :].tolist()
        prompt_tokens = inputs["attention_mask"].sum(dim=1).tolist()
        completions = []
        for row, request in enumerate(batch):
            samples = [
                self._finish(generated[row * n + k], sampling, stop_ids, max_new_tokens)
                for k in range(n)
            ] * (sampling.n if greedy else 1)
            completions.append(
                Completion(
                    key=request.key,
                    texts=[text for text, _, _ in samples],
                    token_counts=[count for _, count, _ in samples],
                    finish_reasons=[reason for _, _, reason in samples],
                    prompt_tokens=int(prompt_tokens[row]),
                    seconds=seconds,
                    seed=seed,
                )
            )
        return completions

    def _finish(
        self, ids: list[int], sampling: Sampling, stop_ids: set[int], max_new_tokens: int
    ) -> tuple[str, int, str]:
        """(text, token count, finish reason) of one generated row, padding removed."""
        end, reason = len(ids), "length"
        for position, token_id in enumerate(ids):
            if token_id in stop_ids:
                end, reason = position + 1, "stop"  # count the eos token, as vLLM does
                break
        else:
            # A row stopped by a stop string is padded to the batch's longest row.
            pad = self._tokenizer.pad_token_id
            while end > 0 and ids[end - 1] == pad:
                end -= 1
            if end < max_new_tokens:
                reason = "stop"
        text = self._tokenizer.decode(ids[:end], skip_special_tokens=True)
        text, found = truncate_at_stop(text, sampling.stop)
        return text, end, "stop" if found else reason

    def close(self) -> None:
        """Drop the model and free its memory."""
        self._model = None
        free_memory()
