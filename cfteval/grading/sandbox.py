"""Grade many items in worker processes, each item under a hard wall-clock limit.

Why processes: sympy can spend minutes (or all memory) on one hostile answer, and a thread
cannot be stopped. A worker that overruns its item is killed (SIGKILL) and replaced; the item is
scored wrong and counted as a time-out. An exception while grading is logged and scored wrong,
never raised to the caller.

Why fresh interpreters (`python -m cfteval.grading.worker`, see worker.py) and not
multiprocessing: the caller may hold torch/vLLM threads (fork is unsafe), and spawn/forkserver
re-run the caller's `__main__`, which breaks unguarded scripts. A worker starts in about 0.3 s
(sympy + latex2sympy imports), all workers in parallel.

Why it stays cheap per item: items go to workers in small chunks (one message per chunk), and a
worker reports when it starts and finishes every item, so the limit is still per item: the
parent knows which item each worker is on and since when.

The pool is reusable: keep a `GradingPool` open across many `grade` calls to pay start-up once;
`grade_items` is the one-shot convenience wrapper.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import subprocess
import sys
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from cfteval.grading.profiles import PROFILE_NAMES, grade_one
from cfteval.grading.types import GradeItem, GradeResult

logger = logging.getLogger(__name__)

Grader = Callable[[GradeItem, str], GradeResult]

# A worker must send its first "start" within this many seconds of receiving work (it may be
# starting up or importing a profile's modules); otherwise it is treated as broken and replaced.
STARTUP_LIMIT_S = 60.0
# Address-space cap per worker: a hostile answer gets a MemoryError, not the machine's RAM.
DEFAULT_MEMORY_LIMIT = 4 * 1024**3
_MAX_CHUNK = 16
_MAX_CONSECUTIVE_START_FAILURES = 3
_ERRORS_LOGGED_IN_FULL = 5  # per call; the rest are counted in one summary line
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Connection
    in_flight: deque[int] = field(default_factory=deque)  # dispatched, not finished, in order
    current: int | None = None  # the item being graded now
    deadline: float = 0.0  # monotonic; for `current`, or for the first "start" after dispatch
    started_any: bool = False


def _stop_workers(workers: list[_Worker]) -> None:
    """Ask idle workers to exit, then kill whatever is left. Safe to call twice."""
    for worker in workers:
        if worker.in_flight:
            worker.process.kill()
        else:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
    deadline = time.monotonic() + 1.0
    for worker in workers:
        try:
            worker.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        worker.conn.close()
    workers.clear()


class GradingPool:
    """A reusable pool of grading worker processes; use as a context manager.

    `workers`: pool size (default: os.cpu_count()). Workers start lazily, only as many as the
    items of a call can use. `grader` replaces `profiles.grade_one` (it must be a module-level
    function so that workers can import it; tests use this to simulate slow or crashing items).
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        grader: Grader = grade_one,
        memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be ≥ 1, got {workers}")
        self.size = workers or os.cpu_count() or 1
        self._grader_ref = (grader.__module__, grader.__qualname__)
        self._is_default_grader = grader is grade_one
        self._memory_limit = memory_limit
        self._workers: list[_Worker] = []
        self._finalizer = weakref.finalize(self, _stop_workers, self._workers)

    def __enter__(self) -> GradingPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker (also done at garbage collection and interpreter exit).

        The pool stays usable: a later `grade` call starts workers again.
        """
        _stop_workers(self._workers)

    def _spawn(self) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "cfteval.grading.worker", str(child_sock.fileno())],
                pass_fds=(child_sock.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            child_sock.close()
        conn = Connection(parent_sock.detach())
        conn.send(("init", list(sys.path), self._grader_ref, self._memory_limit))
        worker = _Worker(process, conn)
        self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.wait()
        worker.conn.close()
        self._workers.remove(worker)

    def grade(
        self,
        items: Sequence[GradeItem],
        profile: str = "cfteval",
        timeout: float = 3.0,
        progress: Callable[[int], None] | None = None,
    ) -> list[GradeResult]:
        """Grade `items` (results in input order); every item gets at most `timeout` seconds."""
        if profile not in PROFILE_NAMES and self._is_default_grader:
            from cfteval.grading.profiles import get_profile

            get_profile(profile)  # raises the UserError naming the choices
        if not 0 < timeout < math.inf:  # also refuses nan, which would time every item out
            raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout}")
        if not items:
            return []
        try:
            return _GradingRun(self, list(items), profile, timeout, progress).run()
        except BaseException:
            # Interrupted (Ctrl-C) or failed: workers may be mid-item; start clean next time.
            _stop_workers(self._workers)
            raise


class _GradingRun:
    """The scheduling loop of one `GradingPool.grade` call."""

    def __init__(
        self,
        pool: GradingPool,
        items: list[GradeItem],
        profile: str,
        timeout: float,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.pool, self.items, self.profile, self.timeout = pool, items, profile, timeout
        self.progress = progress
        self.results: list[GradeResult | None] = [None] * len(items)
        self.pending: deque[int] = deque(range(len(items)))
        self.finished = 0
        self.start_failures = 0
        self.errors = 0
        self.n_workers = min(pool.size, len(items))

    def run(self) -> list[GradeResult]:
        workers = self.pool._workers
        while len(workers) < self.n_workers:
            self.pool._spawn()
        while self.finished < len(self.items):
            self._dispatch()
            reported = self.finished
            active = [w for w in workers if w.in_flight]
            wait_s = (
                max(0.0, min(w.deadline for w in active) - time.monotonic()) if active else None
            )
            # A worker's socket also turns readable (EOF) when the worker dies.
            ready = wait([w.conn for w in active], wait_s)
            for worker in list(active):
                if worker.conn in ready:
                    self._drain(worker)
            self._enforce_deadlines()
            if self.progress is not None and self.finished > reported:
                self.progress(self.finished - reported)
        if self.errors > _ERRORS_LOGGED_IN_FULL:
            logger.warning(
                "%d of %d items raised while grading and were scored wrong "
                "(details with --verbose)",
                self.errors,
                len(self.items),
            )
        return [result for result in self.results if result is not None]

    def _dispatch(self) -> None:
        for worker in self.pool._workers[: self.n_workers]:
            if worker.in_flight or not self.pending:
                continue
            size = max(1, min(_MAX_CHUNK, len(self.pending) // (2 * self.n_workers)))
            chunk = [self.pending.popleft() for _ in range(min(size, len(self.pending)))]
            try:
                worker.conn.send((self.profile, [(i, self.items[i]) for i in chunk]))
            except (OSError, ValueError):
                self.pending.extendleft(reversed(chunk))
                self._replace(worker, reason="pipe closed before dispatch")
                continue
            worker.in_flight.extend(chunk)
            worker.deadline = time.monotonic() + STARTUP_LIMIT_S

    def _drain(self, worker: _Worker) -> None:
        """Read every message the worker has sent; replace it if it has died."""
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):  # the socket closed: the worker is gone or going
            try:
                worker.process.wait(5.0)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            self._on_death(worker)

    def _handle(self, worker: _Worker, message: tuple) -> None:
        if message[0] == "start":
            _, index, started = message
            worker.current, worker.started_any = index, True
            worker.deadline = started + self.timeout
            self.start_failures = 0
            return
        _, index, result, error = message
        if error is not None:
            self.errors += 1
            item = self.items[index]
            log = logger.warning if self.errors <= _ERRORS_LOGGED_IN_FULL else logger.debug
            log(
                "grading item %d (%s) raised %s; scored wrong",
                index,
                item.benchmark or item.answer_type,
                error,
            )
        self._finish(index, result)
        worker.in_flight.remove(index)
        worker.current = None
        if worker.in_flight:  # next item's "start" is on its way; give it the startup slack
            worker.deadline = time.monotonic() + STARTUP_LIMIT_S

    def _finish(self, index: int, result: GradeResult) -> None:
        if self.results[index] is None:
            self.results[index] = result
            self.finished += 1

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for worker in list(self.pool._workers):
            if not worker.in_flight or now < worker.deadline:
                continue
            self._drain(worker)  # a result may have arrived just in time
            if worker not in self.pool._workers or not worker.in_flight or now < worker.deadline:
                continue
            if worker.current is not None:
                self._finish(worker.current, GradeResult(None, False, True, self.timeout))
                worker.in_flight.remove(worker.current)
                self._replace(worker, reason=f"item {worker.current} ran past {self.timeout}s")
            else:
                self._replace(worker, reason=f"no item started within {STARTUP_LIMIT_S}s")

    def _on_death(self, worker: _Worker) -> None:
        code = worker.process.returncode
        if worker.current is not None:
            logger.warning(
                "grading worker died (exit code %s) on item %d; scored wrong", code, worker.current
            )
            self._finish(worker.current, GradeResult(None, False, False, 0.0))
            worker.in_flight.remove(worker.current)
        self._replace(worker, reason=f"worker exited with code {code}")

    def _replace(self, worker: _Worker, reason: str) -> None:
        """Kill `worker`, put its unstarted items back at the front, start a fresh worker."""
        logger.info("replacing grading worker: %s", reason)
        if not worker.started_any:
            self.start_failures += 1
            if self.start_failures > _MAX_CONSECUTIVE_START_FAILURES:
                raise RuntimeError(
                    f"grading workers keep failing before grading anything ({reason})"
                )
        self.pending.extendleft(reversed(worker.in_flight))
        worker.in_flight.clear()
        worker.current = None
        self.pool._retire(worker)
        self.pool._spawn()


def grade_items(
    items: list[GradeItem],
    profile: str = "cfteval",
    timeout: float = 3.0,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[GradeResult]:
    """Grade `items` with a one-off pool; results in input order, each item time-limited.

    `workers` defaults to os.cpu_count(); no more workers than items are started.
    """
    if not items:
        return []
    size = min(workers or os.cpu_count() or 1, len(items))
    with GradingPool(size) as pool:
        return pool.grade(items, profile=profile, timeout=timeout, progress=progress)
