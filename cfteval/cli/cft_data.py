"""`cfteval cft-data`: build CFT training data with critiques checked against the gold answers."""

from __future__ import annotations

from pathlib import Path

import click

from cfteval.backends import BACKEND_NAMES
from cfteval.cftdata.verify import KeepPolicy
from cfteval.cli.common import (
    DATA_DIR_OPTION,
    GRADE_TIMEOUT_OPTION,
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
from cfteval.prompts import PROMPT_FORMATS
from cfteval.records import ANSWER_TYPES


def _role_options(role: str, what: str, temperature: float, max_tokens: int):  # type: ignore[no-untyped-def]
    """--<role>-backend, --<role>-base-url, --<role>-prompt-format, sampling: one set per model."""
    options = [
        click.option(
            f"--{role}-backend",
            type=click.Choice(BACKEND_NAMES),
            default="auto",
            show_default=True,
            help=f"Backend of the {role}; openai: server(s) at --{role}-base-url, the model "
            "being the served name.",
        ),
        click.option(
            f"--{role}-base-url",
            default=None,
            help=f"--{role}-backend openai: server URL(s), comma-separated replicas.",
        ),
        click.option(
            f"--{role}-prompt-format",
            type=click.Choice(PROMPT_FORMATS),
            default="chatml",
            show_default=True,
            help=f"{what} prompt: chatml = raw ChatML; chat = the {role}'s chat template "
            "(with openai: the server's chat endpoint).",
        ),
        click.option(
            f"--{role}-max-tokens",
            type=click.IntRange(min=1),
            default=max_tokens,
            show_default=True,
            help=f"Max new tokens of each {what.lower()}.",
        ),
    ]
    if role == "teacher":
        options.append(
            click.option(
                "--teacher-temperature",
                type=click.FloatRange(min=0),
                default=temperature,
                show_default=True,
                help="Sampling temperature of the critiques.",
            )
        )

    def apply(function):  # type: ignore[no-untyped-def]
        for option in reversed(options):
            function = option(function)
        return function

    return apply


def _role(model: str, backend: str, base_url: str | None, prompt_format: str, temperature: float,
          max_tokens: int, flag: str):  # type: ignore[no-untyped-def]  # fmt: skip
    """One role's options as RoleSettings; a base URL without the openai backend (or the
    reverse) is refused here, before any model or question is read."""
    from cfteval.cftdata.config import RoleSettings

    if (backend == "openai") != (base_url is not None):
        raise UserError(f"--{flag}-backend openai and --{flag}-base-url go together")
    return RoleSettings(
        model=model,
        backend=backend,
        base_urls=base_url.split(",") if base_url else [],
        prompt_format=prompt_format,
        temperature=temperature,
        max_tokens=max_tokens,
    )


@click.command("cft-data")
@click.option(
    "--questions",
    required=True,
    help="Questions with gold answers: a JSONL/JSON/parquet file, or a registered benchmark name "
    "(its test split, e.g. gsm8k).",
)
@click.option(
    "--fields",
    default=None,
    help="Column names of the file: e.g. question=problem,answer=gold,id=uid.",
)
@click.option(
    "--answer-type",
    type=click.Choice(ANSWER_TYPES),
    default="math",
    show_default=True,
    help="How the file's answers are graded.",
)
@click.option(
    "--solutions-column",
    default=None,
    help="Take the noisy solutions from this column of the file (one text or a list) instead "
    "of sampling a solver: the paper's reference-solution setting.",
)
@DATA_DIR_OPTION
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Only the first K questions."
)
@click.option("--solver", default=None, help="Model that writes the noisy solutions.")
@_role_options("solver", "Solution", temperature=0.7, max_tokens=1024)
@click.option(
    "--n",
    "n_solutions",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Solutions sampled per question (distinct ones are critiqued).",
)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0),
    default=0.7,
    show_default=True,
    help="Sampling temperature of the solver.",
)
@click.option("--teacher", required=True, help="Model that writes the critiques.")
@_role_options("teacher", "Critique", temperature=0.0, max_tokens=1024)
@server_options("openai backends")
@click.option(
    "--keep",
    type=click.Choice([policy.value for policy in KeepPolicy]),
    default="agree",
    show_default=True,
    help="agree: drop critiques whose conclusion contradicts the grader or cannot be read; "
    "all: keep them (they stay flagged in rows.jsonl).",
)
@click.option(
    "--wrong-ratio",
    type=click.FloatRange(0, 1),
    default=None,
    help="Share of critiques of wrong solutions in the data (rows of the larger side dropped) "
    "[default: as they come].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling and balancing seed.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for cft.jsonl, rows.jsonl, manifest.json and the completion stores.",
)
@dtype_option(
    "Dtype of offline models; auto: the checkpoint's, or float32 on CPUs without bfloat16."
)
@max_model_len_option("Context length of offline models in tokens [default: the model's].")
@click.option(
    "--grade-profile",
    type=click.Choice(PROFILE_NAMES),
    default="cfteval",
    show_default=True,
    help="Grader that decides whether a solution is right.",
)
@GRADE_TIMEOUT_OPTION
@click.option("--overwrite", is_flag=True, help="Regenerate every solution and critique.")
@RESTART_PARTIAL_OPTION
def cft_data_command(**options) -> None:  # type: ignore[no-untyped-def]
    """Build CFT data: sample solutions, have a teacher critique them, keep verified critiques."""
    from cfteval.backends.served import ServerOptions
    from cfteval.cftdata.config import CftDataConfig
    from cfteval.cftdata.questions import parse_fields

    if options["solver"] is None and options["solutions_column"] is None:
        raise UserError("give --solver MODEL to sample solutions, or --solutions-column COLUMN")
    if options["solver"] is not None and options["solutions_column"] is not None:
        # Silently ignoring one of them would build data from solutions the user did not mean.
        raise UserError(
            "--solver and --solutions-column: give one (sampled or reference solutions)"
        )
    solver = None
    if options["solver"] is not None:
        solver = _role(
            options["solver"], options["solver_backend"], options["solver_base_url"],
            options["solver_prompt_format"], options["temperature"], options["solver_max_tokens"],
            "solver",
        )  # fmt: skip
    teacher = _role(
        options["teacher"], options["teacher_backend"], options["teacher_base_url"],
        options["teacher_prompt_format"], options["teacher_temperature"],
        options["teacher_max_tokens"], "teacher",
    )  # fmt: skip
    config = CftDataConfig(
        questions=options["questions"],
        out=options["out"],
        teacher=teacher,
        solver=solver,
        solutions_column=options["solutions_column"],
        fields=parse_fields(options["fields"]),
        answer_type=options["answer_type"],
        data_dir=options["data_dir"],
        limit=options["limit"],
        n=options["n_solutions"],
        keep=KeepPolicy(options["keep"]),
        wrong_ratio=options["wrong_ratio"],
        seed=options["seed"],
        dtype=options["dtype"],
        max_model_len=options["max_model_len"],
        server=ServerOptions(
            options["api_key"],
            options["concurrency"],
            options["connect_timeout"],
            options["request_timeout"],
            options["max_retries"],
        ),  # fmt: skip
        grade_profile=options["grade_profile"],
        grade_timeout=options["grade_timeout"],
        overwrite=options["overwrite"],
        restart_partial=options["restart_partial"],
    )
    _run_and_report(config)


def _run_and_report(config) -> None:  # type: ignore[no-untyped-def]
    """Run the pipeline, write the outputs, print the summary; Ctrl-C prints how to resume."""
    from datetime import datetime, timezone

    from cfteval.cftdata.output import write_outputs
    from cfteval.cftdata.pipeline import build_cft_data
    from cfteval.errors import RunInterrupted
    from cfteval.progress import progress_for
    from cfteval.reporting.cft_data_table import cft_data_table

    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    progress = progress_for(err_console)
    try:
        result = build_cft_data(config, progress)
    except RunInterrupted as interrupted:
        progress.done()
        exit_interrupted(interrupted)
    finally:
        progress.done()
    manifest = write_outputs(config.out, config, result, started_at)
    console.print(cft_data_table(manifest))
    counts = manifest["counts"]
    if counts["kept"] == 0:
        err_console.print(
            f"[yellow]warning:[/] no row kept: {counts['dropped_unparseable']} critiques without a "
            f"readable conclusion, {counts['dropped_contradict']} contradicting the grader, "
            f"{counts['dropped_for_balance']} dropped for --wrong-ratio; rows.jsonl has them all",
            highlight=False,
        )
    console.print(
        f"{manifest['counts']['kept']} rows in {config.out / 'cft.jsonl'} "
        f"(train with: cfteval train --mode cft --data {config.out / 'cft.jsonl'} ...); every "
        f"critique with its verdict in {config.out / 'rows.jsonl'}",
        highlight=False,
        soft_wrap=True,
    )


COMMANDS: tuple[click.Command, ...] = (cft_data_command,)
