"""Run folders: the one place that knows `<out>/<model>/<benchmark>/<mode>/t<temp>/` and its files.

Evaluate, regrade, runs/show, leaderboard, compare, plot and report all read and write runs
through this module, so that the layout and the checks on it (a truncated samples file, a run
with other settings in the same folder, a read-only folder) are decided once.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfteval.errors import UserError
from cfteval.records import Sample
from cfteval.store import commit_staged, iter_jsonl, stage_text

SAMPLES = "samples.jsonl"
METRICS = "metrics.json"
MANIFEST = "manifest.json"

_SAMPLE_FIELDS = {f.name for f in dataclasses.fields(Sample)}
_REQUIRED = {
    f.name
    for f in dataclasses.fields(Sample)
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
}
# Where the data came from is a path on one machine; its fingerprint says whether it is the same.
_NOT_SETTINGS = {"data.source"}


def run_dir_for(out: Path, slug: str, benchmark: str, mode: str, temperature: float) -> Path:
    """`<out>/<model-slug>/<benchmark>/<mode>/t<temperature>/` (t0.0, t0.6, ...)."""
    return out / slug / benchmark / mode / f"t{float(temperature)}"


@dataclass
class Run:
    """One run folder as read from disk: its manifest and metrics (samples on demand)."""

    path: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    samples: list[Sample] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # samples.jsonl as written

    @property
    def benchmark(self) -> str:
        return str(self.manifest["benchmark"])

    @property
    def mode(self) -> str:
        return str(self.manifest.get("mode", "direct"))

    @property
    def temperature(self) -> float:
        return float(self.manifest.get("temperature", 0.0))

    @property
    def model(self) -> str:
        """The model slug: the folder name under the output root (what the user asked for)."""
        parts = self.path.parts
        if len(parts) >= 4 and parts[-3:-1] == (self.benchmark, self.mode):
            return parts[-4]
        from cfteval.models import model_slug

        model = self.manifest.get("model") or {}
        return model_slug(str(model.get("name") or model.get("path") or "?"))

    @property
    def checkpoint(self) -> str:
        model = self.manifest.get("model") or {}
        return str(model.get("revision_or_hash") or model.get("path") or "")

    @property
    def samples_per_problem(self) -> int:
        return int(self.metrics.get("samples_per_problem", 1) or 1)

    @property
    def profile(self) -> str:
        return str((self.manifest.get("grading") or {}).get("profile", "?"))

    @property
    def prompt_id(self) -> str:
        """Template, format and template hash: runs with different prompts are not comparable."""
        prompt = self.manifest.get("prompt") or {}
        return f"{prompt.get('template', '?')}/{prompt.get('format', '?')}/{prompt.get('template_hash', '?')}"

    @property
    def date(self) -> str:
        return str(self.manifest.get("finished_at") or self.manifest.get("started_at") or "")

    @property
    def run_id(self) -> str:
        """Stable id of this run: model/benchmark/mode/temperature (the folder's own path parts)."""
        return f"{self.model}/{self.benchmark}/{self.mode}/t{self.temperature}"


def find_run_dirs(root: Path) -> list[Path]:
    """`root` itself if it holds samples.jsonl, else every folder below it that does."""
    if not root.is_dir():
        raise UserError(f"{root}: not a folder")
    if (root / SAMPLES).is_file():
        return [root]
    found = sorted(path.parent for path in root.rglob(SAMPLES))
    if not found:
        raise UserError(f"{root}: no {SAMPLES} in it or below it")
    return found


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from `path`; anything else is a one-line UserError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UserError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    except OSError as error:
        raise UserError(f"{path}: cannot read ({error.strerror})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    return data


def expected_samples(manifest: Mapping[str, Any], metrics: Mapping[str, Any]) -> int | None:
    """How many samples the run wrote, from metrics.json, else the manifest's problems × n."""
    if isinstance(metrics.get("n_samples"), int):
        return int(metrics["n_samples"])
    problems = (manifest.get("data") or {}).get("n_problems")
    n = (manifest.get("sampling") or {}).get("n", 1)
    if isinstance(problems, int) and isinstance(n, int):
        return problems * n
    return None


def read_samples(run_dir: Path, expected: int | None = None) -> tuple[list[dict], list[Sample]]:
    """samples.jsonl as rows and Samples; empty, torn or short files are UserErrors.

    A crash or a full disk leaves a short file; grading it would silently score fewer problems.
    """
    path = run_dir / SAMPLES
    rows, samples = [], []
    for where, row in iter_jsonl(path):
        missing = _REQUIRED - set(row)
        if missing:
            raise UserError(f"{where}: missing field(s) {', '.join(sorted(missing))}")
        rows.append(row)
        samples.append(
            Sample(**{key: value for key, value in row.items() if key in _SAMPLE_FIELDS})
        )
    if not samples:
        raise UserError(f"{path}: empty (no samples); re-run the evaluation for this run")
    if expected is not None and len(samples) != expected:
        raise UserError(
            f"{path}: {len(samples)} samples, but the run wrote {expected}; "
            "the file is truncated or edited — re-run the evaluation for this run"
        )
    return rows, samples


def load_run(run_dir: Path, with_samples: bool = False) -> Run:
    """Read one run folder (manifest required; metrics optional; samples if asked)."""
    manifest_path = run_dir / MANIFEST
    if not manifest_path.is_file():
        raise UserError(f"{run_dir}: no {MANIFEST} (not a run folder)")
    manifest = read_json_object(manifest_path)
    if not isinstance(manifest.get("benchmark"), str):
        raise UserError(f"{manifest_path}: no 'benchmark' entry")
    metrics_path = run_dir / METRICS
    metrics = read_json_object(metrics_path) if metrics_path.is_file() else {}
    run = Run(run_dir, manifest, metrics)
    if with_samples:
        run.rows, run.samples = read_samples(run_dir, expected_samples(manifest, metrics))
    return run


def load_runs(roots: Iterable[Path], with_samples: bool = False) -> list[Run]:
    """Every run under each root, in path order, each folder once."""
    dirs = dict.fromkeys(d.resolve() for root in roots for d in find_run_dirs(root))
    return [load_run(d, with_samples) for d in dirs]


def check_writable(run_dirs: Iterable[Path]) -> None:
    """Refuse before any work when a folder cannot be rewritten (atomic writes rename in it)."""
    for run_dir in run_dirs:
        if not os.access(run_dir, os.W_OK | os.X_OK):
            raise UserError(f"{run_dir}: folder is not writable; nothing was changed")


def write_runs(contents: Iterable[tuple[Path, Mapping[str, Any]]]) -> None:
    """Write several runs' files all or nothing: every file is staged first, then renamed.

    `contents` pairs a run folder with {file name: JSON-able data}; `.jsonl` files take a list
    of rows. A failure while staging (disk full, permissions) removes the staged files and
    leaves every run as it was.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for run_dir, files in contents:
            for name, data in files.items():
                staged.append((stage_text(run_dir / name, _serialise(name, data)), run_dir / name))
    except OSError as error:
        for tmp_name, _ in staged:
            Path(tmp_name).unlink(missing_ok=True)
        raise UserError(f"cannot write {error.filename or 'run files'}: {error.strerror}") from None
    except BaseException:
        for tmp_name, _ in staged:
            Path(tmp_name).unlink(missing_ok=True)
        raise
    commit_staged(staged)


def write_run(run_dir: Path, rows: list[dict], metrics: dict, manifest: dict) -> None:
    """One run's samples.jsonl, metrics.json and manifest.json (all or nothing)."""
    write_runs([(run_dir, {SAMPLES: rows, METRICS: metrics, MANIFEST: manifest})])


def _serialise(name: str, data: Any) -> str:
    if name.endswith(".jsonl"):
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in data)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def settings_differences(run_dir: Path, settings: Mapping[str, Any]) -> list[str]:
    """What differs between the run already in `run_dir` and a new run's `settings`.

    `settings` holds the manifest entries that decide what a score means (sampling, prompt,
    data with n_problems, limit). Empty when there is no run there or nothing differs.
    """
    manifest_path = run_dir / MANIFEST
    if not manifest_path.is_file():
        return []
    old = _flatten(read_json_object(manifest_path))
    # Through JSON, so that tuples compare equal to the lists read back from disk.
    new = _flatten(json.loads(json.dumps(dict(settings))))
    return [
        f"{key}: {json.dumps(old.get(key))} → {json.dumps(value)}"
        for key, value in new.items()
        if key not in _NOT_SETTINGS and old.get(key) != value
    ]


def refuse_changed_settings(planned: Iterable[tuple[Path, Mapping[str, Any]]]) -> None:
    """A UserError when any planned run would replace a run made with other settings."""
    for run_dir, settings in planned:
        differences = settings_differences(run_dir, settings)
        if differences:
            shown = "; ".join(differences[:3]) + ("; …" if len(differences) > 3 else "")
            raise UserError(
                f"{run_dir} holds a run with other settings ({shown}); keep both with another "
                "--out, or pass --overwrite to replace it"
            )
