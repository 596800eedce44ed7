"""The processes `cfteval bench generation` compares: `cfteval eval` runs and the bare baseline.

Split from bench_generation.py, which turns their timings into the (a)-(d) comparisons: this
module only starts them on the bench's prompts and sampling and reads back tokens and times.
The bare baseline is this module run as a script (`python -m cfteval.bench_runs INPUTS`), in a
process of its own like every `cfteval eval` it is compared with.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfteval.bench_interrupt import cfteval_command

BARE_SCRIPT_MODULE = "cfteval.bench_runs"


@dataclass
class BenchSettings:
    model: str
    benchmark: str = "gsm8k"
    limit: int = 32
    max_tokens: int = 256
    temperature: float = 0.6
    sweep: tuple[float, ...] = (0.0, 0.3, 0.6, 0.9)
    seed: int = 0
    data_dir: Path | None = None
    dtype: str = "auto"


@dataclass
class RunTiming:
    wall_seconds: float
    generation_seconds: float = 0.0
    tokens: int = 0
    returncode: int = 0
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.generation_seconds if self.generation_seconds else 0.0


def eval_args(
    settings: BenchSettings, out: Path, temperatures: str, *extra: str, model: str | None = None
) -> list[str]:
    """`cfteval eval` on the bench's prompts and sampling; `model` names a served model."""
    args = [
        "eval", "--model", model or settings.model, "--benchmarks", settings.benchmark,
        "--limit", str(settings.limit), "--max-tokens", str(settings.max_tokens),
        "--temperatures", temperatures, "--seed", str(settings.seed), "--out", str(out), *extra,
    ]  # fmt: skip
    if settings.data_dir is not None:
        args += ["--data-dir", str(settings.data_dir)]
    return args


def offline_args(settings: BenchSettings, out: Path, temperatures: str, *extra: str) -> list[str]:
    """`cfteval eval --backend vllm` (the offline engine) in the bench's dtype."""
    return eval_args(
        settings, out, temperatures, "--backend", "vllm", "--dtype", settings.dtype, *extra
    )


def run_eval_process(args: list[str], out: Path) -> RunTiming:
    """Run `cfteval eval` to the end; read tokens and generation time from its run folders."""
    started = time.perf_counter()
    result = subprocess.run([*cfteval_command(), *args], capture_output=True, text=True)
    timing = RunTiming(time.perf_counter() - started, returncode=result.returncode)
    timing.stderr = result.stderr[-2000:]
    generation = {}
    for manifest_path in out.glob("*/*/*/*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        metrics = json.loads((manifest_path.parent / "metrics.json").read_text())
        timing.tokens += int(metrics.get("tokens_generated", 0))
        # Every run of one invocation shares the invocation's generation time.
        generation[manifest["started_at"]] = manifest["backend"].get("generation_seconds", 0.0)
    timing.generation_seconds = sum(generation.values())
    return timing


def write_bare_inputs(settings: BenchSettings, path: Path) -> int:
    """The prompts and per-request sampling `cfteval eval` would send, for the bare baseline."""
    from cfteval.backends.decoding import request_seed
    from cfteval.benchmarks import get_spec, load_problems
    from cfteval.models import resolve_model
    from cfteval.prompts import render_prompt
    from cfteval.records import Request, Sampling

    spec = get_spec(settings.benchmark)
    model = resolve_model(settings.model)
    problems = load_problems(settings.benchmark, settings.data_dir, settings.limit)
    sampling = Sampling(
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
        stop=tuple(spec.stop),
    )
    rows = []
    for problem in problems:
        # The model's identity is part of the key, hence of the seed: the same samples as eval.
        prompt = render_prompt(problem, spec.prompt_template)
        request = Request(problem.id, prompt, sampling, model.identity)
        rows.append({"prompt": request.prompt, "seed": request_seed(request)})
    path.write_text(
        json.dumps(
            {
                "model": model.path,
                "dtype": settings.dtype,
                "temperature": settings.temperature,
                "max_tokens": settings.max_tokens,
                "stop": list(spec.stop),
                "rows": rows,
            }
        )
    )
    return len(rows)


def run_bare_process(inputs: Path) -> RunTiming:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", BARE_SCRIPT_MODULE, str(inputs)], capture_output=True, text=True
    )
    timing = RunTiming(time.perf_counter() - started, returncode=result.returncode)
    timing.stderr = result.stderr[-2000:]
    if result.returncode == 0:
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        timing.tokens, timing.generation_seconds = figures["tokens"], figures["seconds"]
    return timing


def _bare_main(inputs_path: str) -> None:
    """The baseline: one `LLM.generate` call, configured as cfteval configures vLLM."""
    from vllm import LLM, SamplingParams

    from cfteval.backends.decoding import special_token_stop_ids
    from cfteval.backends.vllm import default_cpu_dtype, on_cpu

    inputs = json.loads(Path(inputs_path).read_text())
    options: dict[str, Any] = {"model": inputs["model"], "seed": 0, "dtype": inputs["dtype"]}
    if on_cpu():
        options.update(enforce_eager=True, enable_chunked_prefill=False)
        if inputs["dtype"] == "auto":
            options["dtype"] = default_cpu_dtype()
    llm = LLM(**options)
    # As the vLLM backend does: special-token stop strings are stop token ids (decoding skips
    # special tokens, so as strings they would never match).
    stop_ids = sorted(special_token_stop_ids(llm.get_tokenizer(), inputs["stop"])) or None
    params = [
        SamplingParams(
            temperature=inputs["temperature"],
            max_tokens=inputs["max_tokens"],
            stop=inputs["stop"],
            stop_token_ids=stop_ids,
            seed=row["seed"] if inputs["temperature"] > 0 else None,
        )
        for row in inputs["rows"]
    ]
    started = time.perf_counter()
    outputs = llm.generate([row["prompt"] for row in inputs["rows"]], params, use_tqdm=False)
    seconds = time.perf_counter() - started
    tokens = sum(len(sample.token_ids) for output in outputs for sample in output.outputs)
    print(json.dumps({"tokens": tokens, "seconds": seconds}))


if __name__ == "__main__":
    _bare_main(sys.argv[1])
