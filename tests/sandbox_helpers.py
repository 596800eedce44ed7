"""A scripted grader for sandbox tests: the item's text says how the grading should misbehave.

It lives in a module (not in a test) because workers import the grader by name.
"""

from __future__ import annotations

import os
import time

from cfteval.grading.types import GradeResult


def scripted_grade(item, profile: str) -> GradeResult:
    """`sleep:S` sleeps S seconds, `spin` never returns, `crash` kills the worker, `raise`
    raises, `pid` answers with the worker's process id; anything else is compared with gold."""
    text = item.text
    if text.startswith("sleep:"):
        time.sleep(float(text.split(":", 1)[1]))
    elif text == "spin":
        while True:
            pass
    elif text == "crash":
        os._exit(3)
    elif text == "raise":
        raise ValueError("scripted failure")
    elif text == "pid":
        return GradeResult(str(os.getpid()), False)
    return GradeResult(text, text == item.gold)


_STARTUP: list[float] = []


def worker_startup_seconds() -> float:
    """How long one fresh grading worker takes to start and grade a trivial item on this machine
    now (measured once per session). Bounds on a call that replaces workers scale with it, so
    that they hold on a loaded machine: generous bounds on the time limit, not speed figures."""
    if not _STARTUP:
        import time

        from cfteval.grading.sandbox import grade_items
        from cfteval.grading.types import GradeItem

        start = time.monotonic()
        grade_items([GradeItem("1", "1", "math")], workers=1, timeout=60)
        _STARTUP.append(time.monotonic() - start)
    return _STARTUP[0]
