"""The child side of the grading sandbox: `python -m cfteval.grading.worker FD`.

Runs in a fresh interpreter started by `sandbox.GradingPool` (never a fork of the caller, which
may hold torch/vLLM threads). Protocol over the socket FD, with multiprocessing's framing:
  parent → ("init", sys_path, (grader module, grader name), memory_limit), then (profile, [(index, item), ...]) chunks,
           and None to stop;
  child  → ("start", index, monotonic_time) and ("done", index, GradeResult, error_or_None).
The parent enforces the per-item limit from the "start" times and kills this process on overrun.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from multiprocessing.connection import Connection

logger = logging.getLogger("cfteval.grading.worker")


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the grading process dies, even mid-item."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import os

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(0)
    except (OSError, AttributeError):
        logger.debug("prctl(PR_SET_PDEATHSIG) unavailable")


def _limit_memory(limit_bytes: int | None) -> None:
    """Cap the address space so a hostile answer raises MemoryError instead of eating the RAM."""
    if limit_bytes is None:
        return
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = limit_bytes if hard == resource.RLIM_INFINITY else min(limit_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, ValueError, OSError):
        logger.debug("could not cap worker memory")


def _warm_up(grader, profile: str) -> None:
    """Import the profile's modules before the first item's clock starts."""
    from cfteval.grading.profiles import get_profile, grade_one

    if grader is grade_one:
        try:
            get_profile(profile)
        except Exception:  # noqa: BLE001 - reported per item by the grader itself
            logger.debug("profile %s failed to load", profile, exc_info=True)


def _grade_safely(grader, item, profile: str):
    """Run the grader; any exception becomes a wrong answer plus its description."""
    from cfteval.grading.types import GradeResult

    start = time.perf_counter()
    try:
        return grader(item, profile), None
    except Exception as error:  # noqa: BLE001 - the contract is "never crash on model output"
        description = f"{type(error).__name__}: {str(error)[:300]}"
        return GradeResult(None, False, False, time.perf_counter() - start), description


def serve(conn: Connection) -> None:
    """The worker loop; returns on None or when the parent closes its end."""
    try:
        _, sys_path, (grader_module, grader_name), memory_limit = conn.recv()
    except (EOFError, OSError):
        return
    # The caller's import path first, then the grader by name (it may live in the caller's code).
    sys.path[:] = sys_path
    import importlib

    grader = getattr(importlib.import_module(grader_module), grader_name)
    importlib.import_module("cfteval.grading.preload")  # sympy & co. before any clock starts
    _limit_memory(memory_limit)
    warmed: set[str] = set()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        profile, chunk = message
        if profile not in warmed:
            _warm_up(grader, profile)
            warmed.add(profile)
        for index, item in chunk:
            conn.send(("start", index, time.monotonic()))
            result, error = _grade_safely(grader, item, profile)
            conn.send(("done", index, result, error))


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent()
    # The channel is the inherited socket; stdout is pointed at stderr so that a stray print in
    # grading code can never corrupt it.
    import os

    os.dup2(2, 1)
    conn = Connection(int(sys.argv[1]))
    try:
        serve(conn)
    finally:
        conn.close()


if __name__ == "__main__":
    main()
