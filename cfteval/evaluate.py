"""The evaluation pipeline: benchmark → prompt → generate → grade → score → run folders.

One model load per invocation: every (benchmark, temperature) run of a round is sent to the
backend in a single batch, after the completion cache has answered what it already knows.
The backend is only created when something is missing, so re-running a finished evaluation
(e.g. after a grader change) needs no model at all.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cfteval.backends.served import ServerOptions
from cfteval.benchmarks import (
    data_fingerprint,
    data_source,
    get_spec,
    load_problems,
    resolve_data_dir,
)
from cfteval.completion_store import CompletionStore, StoreLock
from cfteval.critic_metrics import critic_metrics
from cfteval.critique_grading import extra_texts, stage_records
from cfteval.errors import RunInterrupted, UserError
from cfteval.generation import BackendOptions, Generator, backend_record, resolve_model_for
from cfteval.grading.sandbox import grade_items
from cfteval.grading.types import GradeItem
from cfteval.manifest import (
    RunManifest,
    git_revision,
    hardware_summary,
    redacted_command,
    software_versions,
)
from cfteval.metrics import summarize
from cfteval.models import ModelInfo, load_tokenizer, model_slug
from cfteval.modes import Draft, Mode, ModeName, ModeSetup, make_mode
from cfteval.progress import Progress
from cfteval.prompts import CritiqueTemplate, template_fingerprint
from cfteval.records import Completion, Sample, Sampling
from cfteval.run_setup import mode_info, mode_temperatures, prompt_set
from cfteval.rundir import refuse_changed_settings, run_dir_for, write_run

log = logging.getLogger(__name__)


@dataclass
class EvalConfig:
    """Everything `cfteval eval` was asked to do."""

    model: str
    benchmarks: list[str]
    modes: list[ModeName] = field(default_factory=lambda: [ModeName.DIRECT])
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
    data_parallel_size: int = 1
    dtype: str = "auto"  # "auto": the backend's best for this machine (see backends.default_dtype)
    # Regenerate every completion, and replace runs made with other settings in the same folders.
    overwrite: bool = False
    # Generate samples a killed run left part-way from their start instead of continuing them.
    restart_partial: bool = False
    # --backend openai: the servers, and how requests are sent to them.
    base_urls: list[str] = field(default_factory=list)
    api_key: str | None = None
    concurrency: int = 128
    connect_timeout: float = 10.0
    request_timeout: float = 1800.0
    max_retries: int = 6

    def openai_settings(self) -> dict[str, Any]:
        """The openai backend's settings as manifests record them and replay restores them.

        Never the API key: manifests travel with results. Empty for the offline backends.
        """
        if self.backend != "openai":
            return {}
        return self.server.recorded(self.base_urls)

    def openai_options(self) -> dict[str, Any]:
        """The openai backend's options (empty for the offline backends)."""
        if self.backend != "openai":
            return {}
        return self.server.engine_options(self.base_urls, chat=self.prompt_format == "chat")

    @property
    def server(self) -> ServerOptions:
        return ServerOptions(
            self.api_key,
            self.concurrency,
            self.connect_timeout,
            self.request_timeout,
            self.max_retries,
        )

    critique_template: CritiqueTemplate = CritiqueTemplate.PAPER
    critique_temperature: float | None = None  # None: each run's own temperature
    max_attempts: int = 8
    # Explicit (mode, temperature) runs instead of every mode × every temperature (Table 8 runs
    # self-critique at fewer temperatures than direct inference).
    runs: list[tuple[ModeName, float]] | None = None


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
    mode_name: str
    run_dir: Path
    manifest_parts: dict[str, Any]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def plan_runs(config: EvalConfig, model: ModelInfo) -> list[_Run]:
    """Load every benchmark once and set up one mode per (benchmark, mode, temperature)."""
    needs_tokenizer = config.prompt_format == "chat" or (
        config.critique_template is CritiqueTemplate.CHAT and ModeName.TWO_STAGE in config.modes
    )
    # With --backend openai there is no local checkpoint: a server applies its chat template.
    tokenizer = load_tokenizer(model) if needs_tokenizer and config.backend != "openai" else None
    slug = model_slug(config.model)
    runs = []
    for benchmark in config.benchmarks:
        spec = get_spec(benchmark)
        problems = load_problems(benchmark, config.data_dir, config.limit, gpqa_seed=config.seed)
        data_dir = resolve_data_dir(config.data_dir)

        prompts = prompt_set(spec.prompt_template, config, tokenizer)
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
            "data_dir": str(data_dir.resolve()) if data_dir else None,
            "fingerprint": data_fingerprint(benchmark, config.data_dir),
            "n_problems": len(problems),
        }
        if any("shuffle_seed" in problem.meta for problem in problems):
            # GPQA's choice order depends on this seed; the reference code never recorded it.
            data_info["choice_shuffle_seed"] = problems[0].meta["shuffle_seed"]
        for mode_name, temperature in mode_temperatures(config):
            sampling = Sampling(
                temperature=temperature,
                top_p=config.top_p,
                max_tokens=max_tokens,
                # Greedy decoding gives one text however often it is asked (vLLM refuses n > 1).
                n=config.n if temperature > 0 else 1,
                seed=config.seed,
                stop=tuple(spec.stop),
            )
            critique_sampling = None
            if config.critique_temperature is not None:
                critique_sampling = replace(sampling, temperature=config.critique_temperature)
            setup = ModeSetup(
                problems,
                prompts,
                sampling,
                model.identity,
                critique_sampling=critique_sampling,
                max_attempts=config.max_attempts,
            )
            mode = make_mode(mode_name, setup)
            sampling_info, run_prompt_info = mode_info(
                setup, mode_name, prompt_info, config, tokenizer
            )
            runs.append(
                _Run(
                    benchmark,
                    temperature,
                    mode,
                    mode_name.value,
                    run_dir_for(config.out, slug, benchmark, mode_name.value, temperature),
                    {"sampling": sampling_info, "prompt": run_prompt_info, "data": data_info},
                )
            )
    return runs


def _grade_item(draft: Draft, text: str, finish_reason: str | None = None) -> GradeItem:
    """What the grader needs; the finish reason (where known) tells a cut-off text apart."""
    return GradeItem(
        text=text,
        gold=draft.problem.gold,
        answer_type=draft.problem.answer_type,
        benchmark=draft.problem.benchmark,
        n_choices=len(draft.problem.choices) if draft.problem.choices else None,
        finish_reason=finish_reason,
    )


def _grade(drafts: list[Draft], config: EvalConfig, progress: Progress) -> list[Sample]:
    items = [_grade_item(draft, draft.generation, draft.finish_reason) for draft in drafts]
    # Self-critique modes also grade the solutions their critic judged (one pool run for all).
    extras = [extra_texts(draft) for draft in drafts]
    extra_items = [
        _grade_item(d, text) for d, texts in zip(drafts, extras, strict=True) for text in texts
    ]
    advance = progress.stage("grading", len(items) + len(extra_items))
    all_results = grade_items(
        items + extra_items,
        profile=config.grade_profile,
        timeout=config.grade_timeout,
        progress=advance,
    )
    results, extra_results = all_results[: len(items)], iter(all_results[len(items) :])
    samples = []
    for draft, item, result, texts in zip(drafts, items, results, extras, strict=True):
        graded_extras = [next(extra_results) for _ in texts]
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
                stages=draft.stages or stage_records(draft, result, graded_extras),
            )
        )
    return samples


def check_output_folder(out: Path) -> None:
    """Refuse an output folder that cannot be written, before any model is loaded.

    Found after generation, the same mistake used to cost the whole run.
    """
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".cfteval-write-check-"):
            pass
    except OSError as error:
        raise UserError(f"--out {out} is not writable: {error.strerror or error}") from None


def backend_options(config: EvalConfig, model: ModelInfo) -> BackendOptions:
    return BackendOptions(
        name=config.backend,
        model_path=model.path,
        seed=config.seed,
        max_model_len=config.max_model_len,
        tensor_parallel_size=config.tensor_parallel_size,
        data_parallel_size=config.data_parallel_size,
        dtype=config.dtype,
        engine_kwargs=config.openai_options(),
    )


def run_eval(config: EvalConfig, progress: Progress | None = None) -> list[RunResult]:
    """Run the whole evaluation and write one run folder per (benchmark, temperature).

    Raises `RunInterrupted` on Ctrl-C, after saving every finished completion.
    """
    progress = progress or Progress()
    started_at, start = _now(), time.perf_counter()
    check_output_folder(config.out)
    model = resolve_model_for(config.backend, config.model, config.base_urls, config.api_key)
    runs = plan_runs(config, model)
    if not config.overwrite:  # before any generation: refusing afterwards would waste it
        refuse_changed_settings(
            (run.run_dir, run.manifest_parts | {"limit": config.limit}) for run in runs
        )
    store_path = config.out / model_slug(config.model) / "completions.jsonl"
    with StoreLock(store_path):
        store = CompletionStore(store_path)
        generator = Generator(
            backend_options(config, model),
            store,
            overwrite=config.overwrite,
            restart_partial=config.restart_partial,
        )
        used: dict[int, list[Completion]] = {id(run): [] for run in runs}
        try:
            pending = {id(run): run.mode.start() for run in runs}
            while any(pending.values()):
                batch = [request for requests in pending.values() for request in requests]
                completions = generator.complete(batch, progress)
                for run_id, requests in pending.items():
                    used[run_id].extend(completions[request.key] for request in requests)
                pending = {
                    id(run): run.mode.advance(completions) for run in runs if pending.get(id(run))
                }
        except KeyboardInterrupt:
            raise RunInterrupted(generator.generated, store_path, generator.kept_part_way) from None
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
        "command": redacted_command(sys.argv),
    }
    results, offset = [], 0
    for run, drafts in zip(runs, drafts_per_run, strict=True):
        samples = all_samples[offset : offset + len(drafts)]
        offset += len(drafts)
        metrics = summarize(samples, wall_seconds=wall) | critic_metrics(samples)
        metrics["generation_seconds"] = round(generator.generation_seconds, 2)
        manifest = RunManifest(
            benchmark=run.benchmark,
            mode=run.mode_name,
            temperature=run.temperature,
            model={
                "name": config.model,
                "path": model.path,
                "identity": model.identity,
                "revision_or_hash": model.revision_or_hash,
            },
            backend=backend_record(generator, used[id(run)]) | config.openai_settings(),
            grading={"profile": config.grade_profile, "timeout_seconds": config.grade_timeout},
            limit=config.limit,
            started_at=started_at,
            finished_at=_now(),
            **run.manifest_parts,
            **shared,
        )
        write_run(run.run_dir, [asdict(s) for s in samples], metrics, asdict(manifest))
        results.append(
            RunResult(run.benchmark, run.mode_name, run.temperature, run.run_dir, metrics)
        )
    return results
