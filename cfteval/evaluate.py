"""The evaluation pipeline: benchmark → prompt → generate → grade → score → run folders.

One model load per invocation: every (benchmark, temperature) run of a round is sent to the
backend in a single batch, after the completion cache has answered what it already knows.
The backend is only created when something is missing, so re-running a finished evaluation
(e.g. after a grader change) needs no model at all.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cfteval.backends.base import PROMPT_TOO_LONG, Backend
from cfteval.backends.served import resolve_served_model
from cfteval.benchmarks import data_fingerprint, data_source, get_spec, load_problems
from cfteval.errors import UserError
from cfteval.grading.sandbox import grade_items
from cfteval.grading.types import GradeItem
from cfteval.manifest import RunManifest, git_revision, hardware_summary, software_versions
from cfteval.metrics import summarize
from cfteval.models import ModelInfo, model_slug, resolve_model
from cfteval.modes import Draft, Mode, make_mode
from cfteval.progress import Progress
from cfteval.prompts import chat_messages, render_prompt, template_fingerprint
from cfteval.records import Completion, Request, Sample, Sampling
from cfteval.store import CompletionStore, write_json_atomic, write_jsonl_atomic

log = logging.getLogger(__name__)


@dataclass
class EvalConfig:
    """Everything `cfteval eval` was asked to do."""

    model: str
    benchmarks: list[str]
    mode: str = "direct"
    temperatures: list[float] = field(default_factory=lambda: [0.0])
    n: int = 1
    seed: int = 0
    top_p: float = 1.0
    max_tokens: int | None = None  # None: each benchmark's own default (2048 in the protocol)
    limit: int | None = None
    backend: str = "auto"
    data_dir: Path | None = None
    out: Path = Path("results/runs")
    prompt_format: str = "chatml"
    grade_profile: str = "cfteval"
    grade_timeout: float = 3.0
    max_model_len: int | None = None
    tensor_parallel_size: int = 1
    # --backend openai: the servers, and how requests are sent to them.
    base_urls: list[str] = field(default_factory=list)
    api_key: str | None = None
    concurrency: int = 128
    connect_timeout: float = 10.0
    request_timeout: float = 1800.0
    max_retries: int = 6

    def openai_options(self) -> dict[str, Any]:
        """The openai backend's options (empty for the offline backends)."""
        if self.backend != "openai":
            return {}
        return {
            "base_urls": self.base_urls,
            "api_key": self.api_key,
            "concurrency": self.concurrency,
            "connect_timeout": self.connect_timeout,
            "request_timeout": self.request_timeout,
            "max_retries": self.max_retries,
        }


@dataclass
class RunResult:
    """One finished (benchmark, mode, temperature) run."""

    benchmark: str
    mode: str
    temperature: float
    run_dir: Path
    metrics: dict[str, Any]


@dataclass
class _Run:
    benchmark: str
    temperature: float
    mode: Mode
    run_dir: Path
    manifest_parts: dict[str, Any]


def run_dir_for(out: Path, slug: str, benchmark: str, mode: str, temperature: float) -> Path:
    """`<out>/<model-slug>/<benchmark>/<mode>/t<temperature>/` (t0.0, t0.6, ...)."""
    return out / slug / benchmark / mode / f"t{float(temperature)}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _load_tokenizer(model: ModelInfo) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model.path)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot load the tokenizer of {model.path}: {error}") from None


def plan_runs(config: EvalConfig, model: ModelInfo) -> list[_Run]:
    """Load every benchmark once and set up one mode per (benchmark, temperature)."""
    chat = config.prompt_format == "chat"
    # An OpenAI-compatible server applies its own chat template to the messages it receives;
    # the offline backends render it here with the model's tokenizer.
    served_chat = chat and config.backend == "openai"
    tokenizer = _load_tokenizer(model) if chat and not served_chat else None
    slug = model_slug(config.model)
    runs = []
    for benchmark in config.benchmarks:
        spec = get_spec(benchmark)
        problems = load_problems(benchmark, config.data_dir, config.limit, gpqa_seed=config.seed)

        def render(problem, template=spec.prompt_template):
            return render_prompt(problem, template, config.prompt_format, tokenizer)

        def messages(problem, template=spec.prompt_template):
            return chat_messages(problem, template) if served_chat else None

        max_tokens = config.max_tokens or spec.max_tokens
        prompt_info = {
            "template": spec.prompt_template,
            "format": config.prompt_format,
            "template_hash": template_fingerprint(
                spec.prompt_template, config.prompt_format, tokenizer
            ),
        }
        data_info = {
            "source": data_source(benchmark, config.data_dir),
            "fingerprint": data_fingerprint(benchmark, config.data_dir),
            "n_problems": len(problems),
        }
        if any("shuffle_seed" in problem.meta for problem in problems):
            # GPQA's choice order depends on this seed; the reference code never recorded it.
            data_info["choice_shuffle_seed"] = problems[0].meta["shuffle_seed"]
        for temperature in config.temperatures:
            sampling = Sampling(
                temperature=temperature,
                top_p=config.top_p,
                max_tokens=max_tokens,
                # Greedy decoding gives one text however often it is asked (vLLM refuses n > 1).
                n=config.n if temperature > 0 else 1,
                seed=config.seed,
                stop=tuple(spec.stop),
            )
            mode = make_mode(config.mode, problems, render, sampling, model.identity, messages)
            runs.append(
                _Run(
                    benchmark,
                    temperature,
                    mode,
                    run_dir_for(config.out, slug, benchmark, config.mode, temperature),
                    {"sampling": asdict(sampling), "prompt": prompt_info, "data": data_info},
                )
            )
    return runs


class _Generator:
    """Answers requests from the cache, generating only the missing ones (one batch per round)."""

    def __init__(self, config: EvalConfig, model: ModelInfo, store: CompletionStore) -> None:
        self._config = config
        self._model = model
        self._store = store
        self._backend: Backend | None = None
        self.generated = 0

    @property
    def backend_info(self) -> dict[str, Any]:
        if self._backend is None:
            return {"name": self._config.backend, "version": None, "used": False}
        return {"name": self._backend.name, "version": self._backend.version(), "used": True}

    def _ensure_backend(self) -> Backend:
        if self._backend is None:
            from cfteval.backends import load_backend

            try:
                self._backend = load_backend(
                    self._config.backend,
                    self._model.path,
                    seed=self._config.seed,
                    max_model_len=self._config.max_model_len,
                    tensor_parallel_size=self._config.tensor_parallel_size,
                    **self._config.openai_options(),
                )
            except UserError:
                raise
            except Exception as error:  # noqa: BLE001 - any load failure is the model's, not ours
                log.debug("backend load failed", exc_info=True)
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise UserError(
                    f"cannot load model {self._model.path} with the {self._config.backend} "
                    f"backend: {type(error).__name__}: {first_line}"
                ) from None
        return self._backend

    def complete(self, requests: list[Request], progress: Progress) -> dict[str, Completion]:
        unique = {request.key: request for request in requests}
        missing = [request for key, request in unique.items() if key not in self._store]
        if missing:
            backend = self._ensure_backend()
            advance = progress.stage(f"generating ({len(missing)} prompts)", len(missing))
            completions = backend.generate(missing, advance)
            # A prompt longer than the context is not a model output: keep it out of the cache
            # so that a later run with a larger --max-model-len generates it.
            self._store.add(c for c in completions if PROMPT_TOO_LONG not in c.finish_reasons)
            fresh = {completion.key: completion for completion in completions}
            self.generated += len(completions)
        else:
            fresh = {}
        return {key: fresh.get(key) or self._store.get(key) for key in unique}  # type: ignore[misc]

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def _grade(drafts: list[Draft], config: EvalConfig, progress: Progress) -> list[Sample]:
    items = [
        GradeItem(
            text=draft.generation,
            gold=draft.problem.gold,
            answer_type=draft.problem.answer_type,
            benchmark=draft.problem.benchmark,
            n_choices=len(draft.problem.choices) if draft.problem.choices else None,
        )
        for draft in drafts
    ]
    advance = progress.stage("grading", len(items))
    results = grade_items(
        items, profile=config.grade_profile, timeout=config.grade_timeout, progress=advance
    )
    samples = []
    for draft, item, result in zip(drafts, items, results, strict=True):
        samples.append(
            Sample(
                problem_id=draft.problem.id,
                sample_index=draft.sample_index,
                mode=draft.mode,
                temperature=draft.temperature,
                prompt=draft.prompt,
                generation=draft.generation,
                extracted=result.extracted,
                gold=draft.problem.gold,
                correct=result.correct,
                timed_out=result.timed_out,
                answer_type=item.answer_type,
                n_choices=item.n_choices,
                tokens=draft.tokens,
                finish_reason=draft.finish_reason,
                stages=draft.stages,
            )
        )
    return samples


def run_eval(config: EvalConfig, progress: Progress | None = None) -> list[RunResult]:
    """Run the whole evaluation and write one run folder per (benchmark, temperature)."""
    progress = progress or Progress()
    started_at, start = _now(), time.perf_counter()
    if config.backend == "openai":
        model = resolve_served_model(config.model, config.base_urls, config.api_key)
    else:
        model = resolve_model(config.model)
    runs = plan_runs(config, model)
    store = CompletionStore(config.out / model_slug(config.model) / "completions.jsonl")
    generator = _Generator(config, model, store)
    try:
        pending = {id(run): run.mode.start() for run in runs}
        while any(pending.values()):
            batch = [request for requests in pending.values() for request in requests]
            completions = generator.complete(batch, progress)
            pending = {
                id(run): run.mode.advance(completions) for run in runs if pending.get(id(run))
            }
    finally:
        generator.close()
    drafts_per_run = [run.mode.drafts() for run in runs]
    all_samples = _grade([d for drafts in drafts_per_run for d in drafts], config, progress)
    progress.done()
    wall = time.perf_counter() - start
    shared = {
        "git_revision": git_revision(),
        "software": software_versions(),
        "hardware": hardware_summary(),
        "command": list(sys.argv),
    }
    results, offset = [], 0
    for run, drafts in zip(runs, drafts_per_run, strict=True):
        samples = all_samples[offset : offset + len(drafts)]
        offset += len(drafts)
        metrics = summarize(samples, wall_seconds=wall)
        manifest = RunManifest(
            benchmark=run.benchmark,
            mode=config.mode,
            temperature=run.temperature,
            model={
                "name": config.model,
                "path": model.path,
                "identity": model.identity,
                "revision_or_hash": model.revision_or_hash,
            },
            backend=generator.backend_info
            | {
                "tensor_parallel_size": config.tensor_parallel_size,
                "completions_generated_this_invocation": generator.generated,
            },
            grading={"profile": config.grade_profile, "timeout_seconds": config.grade_timeout},
            limit=config.limit,
            started_at=started_at,
            finished_at=_now(),
            **run.manifest_parts,
            **shared,
        )
        write_jsonl_atomic(run.run_dir / "samples.jsonl", (asdict(s) for s in samples))
        write_json_atomic(run.run_dir / "metrics.json", metrics)
        write_json_atomic(run.run_dir / "manifest.json", asdict(manifest))
        results.append(RunResult(run.benchmark, config.mode, run.temperature, run.run_dir, metrics))
    return results
