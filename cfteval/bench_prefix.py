"""`cfteval bench prefix-cache`: what vLLM's prefix caching buys the two-stage self-critique mode.

The same two-stage workload (Table 8's temperatures, `--max-attempts` rounds of solve and
critique on the first K problems of a benchmark) runs twice on fresh engines, with
`enable_prefix_caching` on and off, everything else equal (seeded sampling, so both runs generate
the same texts and the comparison is like for like). Where the cache can help: a fresh attempt
re-sends its problem's solve prompt, the temperatures of a sweep share it, and every critique
prompt starts with the same system turn and instruction. A critique prompt does *not* share the
solve prompt's prefix (its system turn differs), so the solution text itself is prefilled anew.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from cfteval.backends import load_backend
from cfteval.benchmarks import get_spec, load_problems
from cfteval.evaluate import EvalConfig
from cfteval.models import resolve_model
from cfteval.modes import ModeName, ModeSetup, make_mode
from cfteval.records import Sampling
from cfteval.run_setup import prompt_set

TEMPERATURES = (0.1, 0.3, 0.6)


@dataclass
class PrefixBenchResult:
    """One engine's pass over the workload."""

    prefix_caching: bool
    requests: int
    prompt_tokens: int
    generated_tokens: int
    seconds: float
    texts: list[str]

    @property
    def tokens_per_second(self) -> float:
        return self.generated_tokens / self.seconds if self.seconds else 0.0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_workload(
    model: str,
    benchmark: str,
    data_dir: Path | None,
    limit: int,
    max_tokens: int,
    max_attempts: int,
    prefix_caching: bool,
) -> PrefixBenchResult:
    """Drive two-stage modes (one per temperature) round by round on a fresh vLLM engine."""
    info = resolve_model(model)
    spec = get_spec(benchmark)
    problems = load_problems(benchmark, data_dir, limit)
    config = EvalConfig(model=model, benchmarks=[benchmark])
    prompts = prompt_set(spec.prompt_template, config, None)
    modes = [
        make_mode(
            ModeName.TWO_STAGE,
            ModeSetup(
                problems,
                prompts,
                Sampling(temperature=t, max_tokens=max_tokens, stop=tuple(spec.stop)),
                info.identity,
                max_attempts=max_attempts,
            ),
        )
        for t in TEMPERATURES
    ]
    backend = load_backend(
        "vllm", info.path, max_model_len=4096, enable_prefix_caching=prefix_caching
    )
    try:
        pending = [mode.start() for mode in modes]
        requests_done = prompt_tokens = generated = 0
        texts: list[str] = []
        started = time.perf_counter()
        while any(pending):
            batch = [request for requests in pending for request in requests]
            completions = {c.key: c for c in backend.generate(batch)}
            requests_done += len(batch)
            for completion in completions.values():
                prompt_tokens += completion.prompt_tokens
                generated += sum(completion.token_counts)
            texts += [completions[request.key].texts[0] for request in batch]
            pending = [
                mode.advance(completions) if reqs else []
                for mode, reqs in zip(modes, pending, strict=True)
            ]
        seconds = time.perf_counter() - started
    finally:
        backend.close()
    return PrefixBenchResult(
        prefix_caching, requests_done, prompt_tokens, generated, seconds, texts
    )
