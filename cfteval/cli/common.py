"""What several command modules share: the consoles, a parameter type and options whose
wording must stay the same wherever they appear."""

from __future__ import annotations

import math
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from cfteval.errors import RunInterrupted
from cfteval.reporting.console import make_console

console = make_console()
err_console = make_console(stderr=True)


class _GradeTimeout(click.ParamType):
    """Seconds allowed to grade one answer: finite, above 0 and at most an hour. (A float range
    accepts `nan`, which then times every item out, and `inf`, which overflows the clock.)"""

    name = "seconds"
    MAX_SECONDS = 3600.0

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or not 0 < seconds <= self.MAX_SECONDS:
            self.fail(f"{value!r}: give a number of seconds above 0 and at most 3600", param, ctx)
        return seconds


GRADE_TIMEOUT = _GradeTimeout()


def grade_timeout_option(
    help_text: str = "Seconds allowed to grade one answer.",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--grade-timeout`, 3 s by default, in the words of the command that takes it."""
    return click.option(
        "--grade-timeout", type=GRADE_TIMEOUT, default=3.0, show_default=True, help=help_text
    )


GRADE_TIMEOUT_OPTION = grade_timeout_option()


# Each `click.option(...)` makes a fresh Option per command it decorates.
DATA_DIR_OPTION = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    envvar="CFTEVAL_DATA_DIR",
    help="Local benchmark files [env CFTEVAL_DATA_DIR]; the dataset hub otherwise.",
)
RESTART_PARTIAL_OPTION = click.option(
    "--restart-partial",
    is_flag=True,
    help="Regenerate answers a killed run left part-way from their start (the samples an "
    "uninterrupted run draws) instead of continuing them from their kept tokens (vllm backend).",
)
LIMIT_OPTION = click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Only the first K problems."
)
GENERATION_BACKEND_OPTION = click.option(
    "--backend",
    type=click.Choice(["auto", "vllm", "hf"]),
    default="auto",
    show_default=True,
    help="Generation backend, as for cfteval eval.",
)


DTYPES = ("auto", "float32", "bfloat16", "float16")


def dtype_option(
    help_text: str = "Model dtype; auto: the checkpoint's, or float32 on CPUs without native bfloat16.",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--dtype` of the offline engines, in the words of the command that takes it."""
    return click.option(
        "--dtype", type=click.Choice(DTYPES), default="auto", show_default=True, help=help_text
    )


def max_model_len_option(
    help_text: str = "Context length in tokens [default: the model's].",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--max-model-len` of the offline engines, in the words of the command that takes it."""
    return click.option("--max-model-len", type=click.IntRange(min=1), default=None, help=help_text)


def server_options(prefix: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """How requests reach OpenAI-compatible servers (`--api-key`, `--concurrency`, timeouts,
    retries), worded for the command: `prefix` says when the options apply."""

    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(_server_option_list(prefix)):
            function = option(function)
        return function

    return apply


def _server_option_list(prefix: str) -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    return [
        click.option(
            "--api-key",
            envvar="OPENAI_API_KEY",
            default=None,
            help=f"{prefix}: bearer token [env OPENAI_API_KEY].",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(min=1),
            default=128,
            show_default=True,
            help=f"{prefix}: requests in flight per base URL.",
        ),
        click.option(
            "--connect-timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=10.0,
            show_default=True,
            help=f"{prefix}: seconds to open a connection.",
        ),
        click.option(
            "--request-timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=1800.0,
            show_default=True,
            help=f"{prefix}: seconds to wait for one response (then it is retried).",
        ),
        click.option(
            "--max-retries",
            type=click.IntRange(min=0),
            default=6,
            show_default=True,
            help=f"{prefix}: retries per request (exponential back-off) on connection "
            "errors, timeouts, 429 and 5xx, before the run stops.",
        ),
    ]


def exit_interrupted(interrupted: RunInterrupted) -> NoReturn:
    """Ctrl-C during a run: say what was saved and the exact command that resumes; exit 130."""
    resume = shlex.join(["cfteval", *sys.argv[1:]])
    part_way = (
        f", with the progress of {interrupted.kept_part_way} answer(s) still generating"
        if interrupted.kept_part_way
        else ""
    )
    err_console.print(
        f"interrupted: {interrupted.saved} completion(s) generated in this run are saved in "
        f"{interrupted.store}{part_way}; resume with:\n  {resume}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    sys.exit(130)
