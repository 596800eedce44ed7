"""Shared test utilities: where the shared data lives, and running the real `cfteval` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BENCHMARKS_DIR = SHARED / "benchmarks"
GRADING_DIR = SHARED / "grading"

needs_benchmarks = pytest.mark.skipif(
    not BENCHMARKS_DIR.is_dir(), reason=f"benchmark copies not found at {BENCHMARKS_DIR}"
)
needs_grading_data = pytest.mark.skipif(
    not GRADING_DIR.is_dir(), reason=f"grading reference data not found at {GRADING_DIR}"
)


def run_cfteval(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run the installed `cfteval` console script as a user would, capturing its output."""
    full_env = os.environ.copy()
    full_env.pop("CFTEVAL_DATA_DIR", None)
    full_env.update(env or {})
    command = [str(Path(sys.executable).parent / "cfteval"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=timeout)
