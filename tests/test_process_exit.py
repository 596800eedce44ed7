"""Leaving a process quickly after torch without losing what it wrote, and the frozen heap.

Real subprocesses: the exit handlers still run (servers and children are stopped by them), the
standard streams are flushed through a pipe, and the status is the one `sys.exit` would give.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfteval.engine_env import FREEZE_IMPORTS_VARIABLE, freeze_imported_objects
from cfteval.process_exit import exit_code

PROGRAM = """
import atexit, sys
{imports}
from cfteval.process_exit import leave
atexit.register(lambda: open(sys.argv[1], "w").write("handlers ran"))
print("written to a pipe", end="")
sys.stderr.write("and to stderr")
leave({code})
"""


@pytest.mark.parametrize("imports", ["import torch", ""])
@pytest.mark.parametrize(("code", "status"), [("None", 0), ("3", 3), ("'message'", 1)])
def test_leave_runs_exit_handlers_flushes_and_keeps_the_status(
    tmp_path: Path, imports: str, code: str, status: int
) -> None:
    marker = tmp_path / "marker"
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(imports=imports, code=code), str(marker)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == status, result.stderr
    assert result.stdout == "written to a pipe"
    assert result.stderr.startswith("and to stderr")
    assert marker.read_text() == "handlers ran"
    if code == "'message'":
        assert "message" in result.stderr


def test_a_running_non_daemon_thread_is_waited_for(tmp_path: Path) -> None:
    """The normal exit joins such threads (a writer finishing a file); os._exit would not."""
    marker = tmp_path / "marker"
    program = (
        "import sys, threading, time, torch\n"
        "from cfteval.process_exit import leave\n"
        "def finish():\n"
        "    time.sleep(0.5)\n"
        "    open(sys.argv[1], 'w').write('finished')\n"
        "threading.Thread(target=finish).start()\n"
        "leave(0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program, str(marker)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "finished"


def test_exit_code_matches_sys_exit() -> None:
    assert exit_code(None) == 0 and exit_code(0) == 0 and exit_code(130) == 130
    assert exit_code("failed") == 1


def test_imported_objects_are_frozen_only_when_the_cli_asks(monkeypatch) -> None:
    before = gc.get_freeze_count()
    try:
        monkeypatch.delenv(FREEZE_IMPORTS_VARIABLE, raising=False)
        freeze_imported_objects()
        assert gc.get_freeze_count() == before, "library callers are left alone"
        monkeypatch.setenv(FREEZE_IMPORTS_VARIABLE, "1")
        freeze_imported_objects()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_commands_invoked_in_process_do_not_freeze_their_callers_heap(monkeypatch) -> None:
    """Only the `cfteval` script asks for the freeze; a CliRunner (or notebook) caller does not."""
    from click.testing import CliRunner

    from cfteval.cli import main

    monkeypatch.delenv(FREEZE_IMPORTS_VARIABLE, raising=False)
    result = CliRunner().invoke(main, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert FREEZE_IMPORTS_VARIABLE not in os.environ
