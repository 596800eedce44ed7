"""`cfteval eval --replay RUN_DIR`: re-run a run exactly as its manifest says.

A manifest records everything that moves a score (model and its hash, prompt template and its
hash, every sampling setting, seeds, data fingerprint, grader); replay turns it back into an
evaluation config. What cannot be made identical is said, not hidden: a data file or template
whose fingerprint changed, or a local checkpoint whose content hash changed, gets a warning.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfteval.errors import UserError
from cfteval.evaluate import EvalConfig
from cfteval.modes import ModeName
from cfteval.prompts import CritiqueTemplate

log = logging.getLogger(__name__)


@dataclass
class Replay:
    """The config that reproduces a run, and what differs from when it was first run."""

    config: EvalConfig
    warnings: list[str] = field(default_factory=list)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "manifest.json" if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise UserError(f"--replay {run_dir}: no manifest.json there (is it a run folder?)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: unreadable manifest ({error})") from None
    if not isinstance(manifest, dict):
        raise UserError(f"{path}: a manifest is a JSON object")
    return manifest


def _field(manifest: dict[str, Any], path: str, where: Path) -> Any:
    value: Any = manifest
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise UserError(f"{where}: the manifest has no {path!r}; it cannot be replayed")
        value = value[part]
    return value


def replay_config(
    run_dir: Path,
    out: Path,
    data_dir: Path | None,
    base_url: str | None = None,
    api_key: str | None = None,
) -> Replay:
    """The EvalConfig that re-runs `run_dir` (written under `out`), with warnings.

    `base_url` (the replay's own --base-url) replaces the servers an openai run recorded;
    `api_key` is the replay's own: manifests never hold one.
    """
    manifest = read_manifest(run_dir)
    where = run_dir / "manifest.json"
    sampling = _field(manifest, "sampling", where)
    backend = manifest.get("backend") or {}
    prompt = manifest.get("prompt") or {}
    recorded_dir = (manifest.get("data") or {}).get("data_dir")
    if data_dir is None and recorded_dir and Path(recorded_dir).is_dir():
        data_dir = Path(recorded_dir)
    config = EvalConfig(
        model=_field(manifest, "model.name", where),
        benchmarks=[_field(manifest, "benchmark", where)],
        modes=[_mode(_field(manifest, "mode", where), where)],
        temperatures=[float(_field(manifest, "temperature", where))],
        n=int(sampling.get("n", 1)),
        seed=int(sampling.get("seed", 0)),
        top_p=float(sampling.get("top_p", 1.0)),
        max_tokens=int(sampling["max_tokens"]) if sampling.get("max_tokens") else None,
        limit=manifest.get("limit"),
        backend=backend.get("name") or "auto",
        data_dir=data_dir,
        out=out,
        prompt_format=prompt.get("format", "chatml"),
        grade_profile=(manifest.get("grading") or {}).get("profile", "cfteval"),
        grade_timeout=float((manifest.get("grading") or {}).get("timeout_seconds", 3.0)),
        max_model_len=backend.get("max_model_len"),
        tensor_parallel_size=int(backend.get("tensor_parallel_size", 1)),
        dtype=backend.get("dtype") or "auto",
        critique_template=CritiqueTemplate(prompt.get("critique_template", "paper")),
        critique_temperature=(sampling.get("critique") or {}).get("temperature"),
        max_attempts=int(sampling.get("max_attempts", 8)),
        **served_settings(backend, base_url, api_key, where),
    )
    return Replay(config, _differences(manifest, config))


def served_settings(
    backend: dict[str, Any], base_url: str | None, api_key: str | None, where: Path
) -> dict[str, Any]:
    """EvalConfig fields of an openai run: its servers and how requests were sent to them."""
    if backend.get("name") != "openai":
        if base_url:
            raise UserError(
                f"--base-url replays a run made with --backend openai; {where} was made with "
                f"the {backend.get('name') or 'auto'} backend"
            )
        return {}
    urls = base_url.split(",") if base_url else backend.get("base_urls")
    if not urls:
        raise UserError(
            f"{where}: this openai run's manifest records no server (older cfteval); "
            "give --base-url to replay it"
        )
    settings: dict[str, Any] = {"base_urls": list(urls), "api_key": api_key}
    for name, kind in _SERVED_FIELDS.items():
        if backend.get(name) is not None:
            settings[name] = kind(backend[name])
    return settings


# Recorded by EvalConfig.openai_settings beside the base URLs (never the API key).
_SERVED_FIELDS: dict[str, type] = {
    "concurrency": int,
    "connect_timeout": float,
    "request_timeout": float,
    "max_retries": int,
}


def _mode(name: str, where: Path) -> ModeName:
    try:
        return ModeName(name)
    except ValueError:
        raise UserError(f"{where}: unknown mode {name!r}; it cannot be replayed") from None


def _differences(manifest: dict[str, Any], config: EvalConfig) -> list[str]:
    """What is no longer as it was: data file, prompt template, model content."""
    from cfteval.backends.served import resolve_served_model
    from cfteval.benchmarks import data_fingerprint, get_spec
    from cfteval.models import resolve_model
    from cfteval.prompts import template_fingerprint

    warnings = []
    benchmark = config.benchmarks[0]
    recorded = (manifest.get("data") or {}).get("fingerprint")
    try:
        current = data_fingerprint(benchmark, config.data_dir)
    except (UserError, OSError) as error:
        current = f"unavailable ({error})"
    if recorded and current != recorded:
        warnings.append(
            f"the {benchmark} data changed since the run (fingerprint {recorded[:16]} → "
            f"{current[:16]}): scores may differ"
        )
    prompt = manifest.get("prompt") or {}
    if prompt.get("template_hash") and config.prompt_format == "chatml":
        template = prompt.get("template") or get_spec(benchmark).prompt_template
        current_hash = template_fingerprint(template, "chatml")
        if current_hash != prompt["template_hash"]:
            warnings.append(
                f"the {benchmark} prompt template changed since the run "
                f"({prompt['template_hash']} → {current_hash}): prompts will be re-generated"
            )
    try:
        if config.backend == "openai":  # the served model's root and folder hash, if local
            model = resolve_served_model(config.model, config.base_urls, config.api_key)
        else:
            model = resolve_model(config.model)
    except UserError as error:
        raise UserError(f"cannot replay: {error}") from None
    recorded_hash = (manifest.get("model") or {}).get("revision_or_hash")
    if recorded_hash and model.revision_or_hash != recorded_hash:
        warnings.append(
            f"model {config.model} changed since the run ({recorded_hash} → "
            f"{model.revision_or_hash})"
        )
    return warnings
