"""`cfteval eval` (also `--replay RUN_DIR`): parse the run's settings, print its tables."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from cfteval.backends import BACKEND_NAMES
from cfteval.cli.common import (
    DATA_DIR_OPTION,
    GRADE_TIMEOUT_OPTION,
    LIMIT_OPTION,
    RESTART_PARTIAL_OPTION,
    console,
    dtype_option,
    err_console,
    exit_interrupted,
    max_model_len_option,
    server_options,
)
from cfteval.errors import UserError
from cfteval.grading.profiles import PROFILE_NAMES
from cfteval.modes import MODE_NAMES, ModeName
from cfteval.prompts import PROMPT_FORMATS, CritiqueTemplate


def _parse_temperatures(ctx: click.Context, param: click.Parameter, value: str) -> list[float]:
    try:
        temperatures = [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of numbers") from None
    if not temperatures or any(t < 0 for t in temperatures):
        raise click.BadParameter(f"{value!r}: give one or more temperatures ≥ 0")
    return list(dict.fromkeys(temperatures))


def _parse_modes(ctx: click.Context, param: click.Parameter, value: str) -> list[ModeName]:
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in MODE_NAMES]
    if unknown or not names:
        raise click.BadParameter(
            f"{value!r}: give one or more of {', '.join(MODE_NAMES)}, comma-separated"
        )
    return [ModeName(name) for name in dict.fromkeys(names)]


@click.command("eval")
@click.option("--model", default=None, help="Local checkpoint folder or hub id.")
@click.option(
    "--benchmarks",
    "benchmark_spec",
    default="math500",
    show_default=True,
    help="Comma-separated benchmark names (any case), or 'all' for the ten.",
)
@click.option(
    "--mode",
    "modes",
    default="direct",
    show_default=True,
    callback=_parse_modes,
    help=f"Comma-separated inference modes ({', '.join(MODE_NAMES)}); each is a separate run.",
)
@click.option(
    "--temperatures",
    default="0",
    show_default=True,
    callback=_parse_temperatures,
    help="Comma-separated sampling temperatures; each is a separate run.",
)
@click.option(
    "--n",
    "n_samples",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Samples per problem.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option(
    "--top-p",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="Nucleus sampling mass (1: off).",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Max new tokens [default: the benchmark's, 2048].",
)
@LIMIT_OPTION
@click.option(
    "--backend",
    type=click.Choice(BACKEND_NAMES),
    default="auto",
    show_default=True,
    help="Inference engine; auto: vllm when installed, else transformers; openai: "
    "OpenAI-compatible server(s) at --base-url, --model being the served name.",
)
@click.option(
    "--base-url",
    "base_url",
    default=None,
    help="--backend openai: server URL(s), comma-separated replicas share the load "
    "(e.g. http://host:8000/v1).",
)
@server_options("--backend openai")
@DATA_DIR_OPTION
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("results/runs"),
    show_default=True,
    help="Root of the run folders (<out>/<model>/<benchmark>/<mode>/t<T>/).",
)
@click.option(
    "--prompt-format",
    type=click.Choice(PROMPT_FORMATS),
    default="chatml",
    show_default=True,
    help="chatml: the paper's raw ChatML prompt; chat: the tokenizer's chat template.",
)
@click.option(
    "--grade-profile",
    type=click.Choice(PROFILE_NAMES),
    default="cfteval",
    show_default=True,
    help="Grader: cfteval (best judgement) or qwen (the paper's code, for exact comparisons).",
)
@GRADE_TIMEOUT_OPTION
@max_model_len_option()
@click.option(
    "--critique-template",
    type=click.Choice([t.value for t in CritiqueTemplate]),
    default=CritiqueTemplate.PAPER.value,
    show_default=True,
    help="two-stage critique prompt: paper = CFT training wording in raw ChatML; "
    "chat = the same through the tokenizer's chat template.",
)
@click.option(
    "--critique-temperature",
    type=click.FloatRange(min=0),
    default=None,
    help="Temperature of two-stage critiques [default: the run's temperature].",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="two-stage: fresh solutions tried until one is judged Correct.",
)
@click.option(
    "--tp",
    "tensor_parallel_size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Tensor parallel GPUs (vllm).",
)
@click.option(
    "--dp",
    "data_parallel_size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Data parallel engines: worker processes, each on its own --tp GPUs.",
)
@dtype_option()
@click.option(
    "--overwrite",
    is_flag=True,
    help="Regenerate every completion, and replace runs in the same folders even when their "
    "settings differ.",
)
@RESTART_PARTIAL_OPTION
@click.option(
    "--replay",
    "replay_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Re-run the run in this folder from its manifest (model, prompt, sampling, seeds).",
)
def eval_command(
    model: str,
    benchmark_spec: str,
    modes: list[ModeName],
    temperatures: list[float],
    n_samples: int,
    seed: int,
    top_p: float,
    max_tokens: int | None,
    limit: int | None,
    backend: str,
    base_url: str | None,
    api_key: str | None,
    concurrency: int,
    connect_timeout: float,
    request_timeout: float,
    max_retries: int,
    data_dir: Path | None,
    out: Path,
    prompt_format: str,
    grade_profile: str,
    grade_timeout: float,
    max_model_len: int | None,
    critique_template: str,
    critique_temperature: float | None,
    max_attempts: int,
    tensor_parallel_size: int,
    data_parallel_size: int,
    dtype: str,
    overwrite: bool,
    restart_partial: bool,
    replay_dir: Path | None,
) -> None:
    """Score MODEL on benchmarks: one run folder per benchmark × mode × temperature."""
    # Imported here so that `cfteval --help` and the light commands start fast.
    from cfteval.benchmarks import resolve_benchmarks
    from cfteval.evaluate import EvalConfig

    if replay_dir is not None:
        from cfteval.replay import replay_config

        replay = replay_config(replay_dir, out, data_dir, base_url, api_key)
        for warning in replay.warnings:
            err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        replay.config.overwrite = overwrite
        replay.config.restart_partial = restart_partial
        _run_and_report(replay.config)
        return
    if model is None:
        raise UserError("give --model (a checkpoint folder or hub id), or --replay RUN_DIR")
    if n_samples > 1 and all(t == 0 for t in temperatures):
        raise UserError(
            "--n > 1 with only --temperatures 0 gives n identical greedy samples; "
            "add a temperature above 0"
        )
    if backend == "hf" and tensor_parallel_size > 1:
        raise UserError("--tp applies to the vllm backend only; drop it or use --backend vllm")
    if (backend == "openai") != (base_url is not None):
        raise UserError("--backend openai and --base-url go together; give both or neither")
    config = EvalConfig(
        model=model,
        benchmarks=resolve_benchmarks(benchmark_spec),
        modes=modes,
        temperatures=temperatures,
        n=n_samples,
        seed=seed,
        top_p=top_p,
        max_tokens=max_tokens,
        limit=limit,
        backend=backend,
        data_dir=data_dir,
        out=out,
        prompt_format=prompt_format,
        grade_profile=grade_profile,
        grade_timeout=grade_timeout,
        max_model_len=max_model_len,
        tensor_parallel_size=tensor_parallel_size,
        data_parallel_size=data_parallel_size,
        dtype=dtype,
        overwrite=overwrite,
        restart_partial=restart_partial,
        base_urls=base_url.split(",") if base_url else [],
        api_key=api_key,
        concurrency=concurrency,
        connect_timeout=connect_timeout,
        request_timeout=request_timeout,
        max_retries=max_retries,
        critique_template=CritiqueTemplate(critique_template),
        critique_temperature=critique_temperature,
        max_attempts=max_attempts,
    )
    _run_and_report(config)


def _run_and_report(config) -> None:  # type: ignore[no-untyped-def]
    """Run an evaluation with progress on stderr; Ctrl-C says what was kept and how to resume."""
    from cfteval.errors import RunInterrupted
    from cfteval.evaluate import run_eval
    from cfteval.models import model_slug
    from cfteval.progress import progress_for
    from cfteval.reporting.tables import counts_line, critic_table, greedy_note, summary_table

    progress = progress_for(err_console)
    try:
        results = run_eval(config, progress)
    except RunInterrupted as interrupted:
        progress.done()
        exit_interrupted(interrupted)
    finally:
        progress.done()
    slug = model_slug(config.model)
    console.print(summary_table(results, title=f"{slug} — accuracy (%)"))
    if any(result.mode != ModeName.DIRECT.value for result in results):
        console.print(critic_table(results))
    console.print(counts_line(results), highlight=False)
    note = greedy_note(config.n, config.temperatures)
    if note:
        console.print(note, highlight=False)
    console.print(f"run folders under {config.out / slug}", highlight=False)


COMMANDS: tuple[click.Command, ...] = (eval_command,)
