"""Which model a run uses: resolving `--model`, its cache identity and its run-folder name.

`--model` may be a local checkpoint folder, a Hugging Face hub id ("org/name"), or the name of a
model pulled with `cfteval models pull` (see `cfteval.model_pull`). Resolution happens once, up
front, so that a typo fails in a second with a one-line `UserError` rather than after an engine
has spent a minute starting.

The identity goes into every request's cache key: two different checkpoints must never share
cached completions, and re-running on the same checkpoint must hit the cache. For a local folder
it is the resolved path plus a short hash of the small files (config, tokenizer) and of the weight
files' names, sizes and modification times, so it is cheap (no reading of gigabytes) and still
changes when a training run overwrites the checkpoint in place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfteval.errors import UserError
from cfteval.model_pull import PULLABLE_MODELS, pulled_path

logger = logging.getLogger(__name__)

# Small files whose bytes define the model's behaviour besides the weights.
_CONTENT_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
)
# Weight files are only described (name, size, mtime): hashing their bytes would read gigabytes.
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")

# Last path components that say nothing about which model it is ("checkpoint-40", "final"):
# the run folder then also carries the parent's name, so two runs' checkpoints don't collide.
_GENERIC_NAME = re.compile(
    r"^((checkpoint|ckpt|step|global_step|epoch|iter)[-_]?\d+|final|latest|best|last|model|"
    r"merged|hf|output|outputs|[0-9a-f]{40})$",
    re.IGNORECASE,
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ModelInfo:
    """A resolved `--model`.

    path: what engines load: a local folder, or the hub id when it is resolved online.
    identity: the stable string request cache keys use ("local:<path>#<hash>" or "hub:<id>@<rev>").
    revision_or_hash: the hub commit, or the local folder's short content hash.
    is_local: whether `path` is a folder on this machine.
    """

    path: str
    identity: str
    revision_or_hash: str
    is_local: bool


def resolve_model(path_or_id: str) -> ModelInfo:
    """Turn `--model` into a loadable path and a cache identity, or raise a one-line UserError."""
    local = Path(path_or_id).expanduser()
    if local.exists():
        return _resolve_local_dir(local)
    if path_or_id in PULLABLE_MODELS:
        pulled = pulled_path(path_or_id)
        if pulled is None:
            raise UserError(
                f"model {path_or_id} is not pulled yet; run `cfteval models pull {path_or_id}` first"
            )
        return _resolve_local_dir(pulled)
    if _looks_like_path(path_or_id) or not _HUB_ID.match(path_or_id):
        raise UserError(f"cannot load model {path_or_id}: no such folder")
    return _resolve_hub_id(path_or_id)


def model_slug(path_or_id: str) -> str:
    """A filesystem-safe run-folder name for `--model`.

    Hub id "Qwen/Qwen2.5-Math-7B" → "Qwen__Qwen2.5-Math-7B"; a pulled model's name stays as is;
    a local folder → its last component, or "parent__last" when the last is generic
    ("runs/cft-qwen/checkpoint-40" → "cft-qwen__checkpoint-40"); a hub cache snapshot
    (".../models--Qwen--X/snapshots/<sha>") → "Qwen__X".
    """
    local = Path(path_or_id).expanduser()
    if local.exists():
        parts = local.resolve().parts
        name = parts[-1] if parts else "model"
        if len(parts) >= 3 and parts[-2] == "snapshots" and parts[-3].startswith("models--"):
            return _safe(parts[-3][len("models--") :].replace("--", "__"))
        if _GENERIC_NAME.match(name) and len(parts) >= 2:
            return _safe(f"{parts[-2]}__{name}")
        return _safe(name)
    return _safe(path_or_id.strip("/").replace("/", "__"))


def _safe(name: str) -> str:
    """Keep letters, digits, '.', '_' and '-'; never return '', '.' or '..'."""
    cleaned = _UNSAFE.sub("-", name).strip("-")
    return cleaned if cleaned.strip(".") else "model"


def _looks_like_path(text: str) -> bool:
    """Filesystem-looking strings are never sent to the hub: a typo'd path should fail as such."""
    return text.startswith(("/", "./", "../", "~", ".\\")) or text.count("/") > 1


def _resolve_local_dir(folder: Path) -> ModelInfo:
    folder = folder.resolve()
    if not folder.is_dir():
        raise UserError(
            f"cannot load model {folder}: not a folder (expected a Hugging Face checkpoint folder)"
        )
    if not (folder / "config.json").is_file():
        raise UserError(
            f"cannot load model {folder}: no config.json there (expected a Hugging Face "
            "checkpoint folder)"
        )
    digest = local_fingerprint(folder)
    return ModelInfo(
        path=str(folder),
        identity=f"local:{folder}#{digest}",
        revision_or_hash=digest,
        is_local=True,
    )


def local_fingerprint(folder: Path) -> str:
    """16 hex digits over the small files' bytes and the weight files' names, sizes and mtimes."""
    digest = hashlib.sha256()
    for name in _CONTENT_FILES:
        file = folder / name
        if file.is_file():
            digest.update(f"file {name}\n".encode())
            digest.update(file.read_bytes())
    for file in sorted(folder.iterdir()):
        if file.is_file() and (
            file.name.endswith(_WEIGHT_SUFFIXES) or file.name.endswith(".index.json")
        ):
            stat = file.stat()
            digest.update(f"weights {file.name} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _resolve_hub_id(repo_id: str) -> ModelInfo:
    """Online: pin the current commit. Offline or unreachable: use the local HF cache's snapshot."""
    if not _hub_offline():
        from huggingface_hub import HfApi
        from huggingface_hub.errors import RepositoryNotFoundError

        try:
            sha = HfApi().model_info(repo_id, timeout=10).sha
        except RepositoryNotFoundError:
            raise UserError(
                f"cannot load model {repo_id}: no such model on the hub (or it is "
                "gated and you are not logged in)"
            ) from None
        except Exception as error:  # any network failure means "try the cache"
            logger.warning("hub unreachable for %s (%s); trying the local cache", repo_id, error)
        else:
            if sha:
                return ModelInfo(
                    path=repo_id,
                    identity=f"hub:{repo_id}@{sha}",
                    revision_or_hash=sha,
                    is_local=False,
                )
    return _resolve_cached_hub_id(repo_id)


def _resolve_cached_hub_id(repo_id: str) -> ModelInfo:
    from huggingface_hub import snapshot_download

    try:
        snapshot = Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # "not in the cache" comes in several exception types
        raise UserError(
            f"cannot load model {repo_id}: the hub is offline or unreachable and it is not in the "
            "local Hugging Face cache; pass a local checkpoint folder instead"
        ) from None
    # The snapshot folder is named after the commit it holds, which pins the revision.
    revision = snapshot.name
    return ModelInfo(
        path=str(snapshot),
        identity=f"hub:{repo_id}@{revision}",
        revision_or_hash=revision,
        is_local=True,
    )


def load_tokenizer(model: ModelInfo) -> Any:
    """The model's tokenizer (for its chat template); a folder without one is the user's to fix."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model.path)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot load the tokenizer of {model.path}: {error}") from None
