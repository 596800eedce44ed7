"""The benchmark registry: one YAML file per benchmark under `benchmarks/`, loaded into Problems.

A benchmark's YAML names where its data lives (a file under the user's data directory, or a
dataset-hub id with config, split and pinned revision), how its rows map onto a `Problem`
(field names and the rule that derives the gold answer), and how it is prompted (template name,
stop strings, token budget). Adding a benchmark is adding a YAML file; the loading code is
generic (`benchmark_spec` reads and checks the YAML, `loaders` reads rows, `rows.parse_row`
normalises them).

Data comes from, in order: the `data_dir` argument, the CFTEVAL_DATA_DIR environment variable,
else the dataset hub. A data directory that lacks a file is an error, never a silent fallback
to the hub: the user asked for local data.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cfteval import loaders
from cfteval.benchmark_spec import BenchmarkSpec, parse_spec
from cfteval.errors import UserError
from cfteval.records import Problem
from cfteval.rows import last_boxed, parse_row

__all__ = [
    "BENCHMARK_NAMES",
    "BenchmarkSpec",
    "BenchmarkSummary",
    "DATA_DIR_ENV",
    "data_fingerprint",
    "data_source",
    "describe_benchmarks",
    "get_spec",
    "last_boxed",
    "load_problems",
    "registry_dir",
    "resolve_benchmarks",
    "resolve_data_dir",
]

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "CFTEVAL_DATA_DIR"
REGISTRY_ENV = "CFTEVAL_BENCHMARKS_DIR"


def registry_dir() -> Path:
    """The folder of benchmark YAML files: the repository's `benchmarks/` unless overridden.

    A wheel install has no repository; its YAML files are installed as data files under
    `<prefix>/share/cfteval/benchmarks` (see pyproject.toml).
    """
    override = os.environ.get(REGISTRY_ENV)
    if override:
        return Path(override)
    source_tree = Path(__file__).resolve().parents[1] / "benchmarks"
    installed = Path(sys.prefix) / "share" / "cfteval" / "benchmarks"
    return source_tree if source_tree.is_dir() or not installed.is_dir() else installed


@cache
def _registry(directory: Path) -> dict[str, BenchmarkSpec]:
    specs = [parse_spec(path) for path in sorted(directory.glob("*.yaml"))]
    specs.sort(key=lambda spec: (spec.order, spec.name))
    return {spec.name: spec for spec in specs}


def _specs() -> dict[str, BenchmarkSpec]:
    directory = registry_dir()
    if not directory.is_dir():
        raise UserError(f"benchmark registry {directory} not found (set {REGISTRY_ENV})")
    return _registry(directory)


def _names_at_import() -> tuple[str, ...]:
    # A broken registry must not break `import cfteval.benchmarks` (nor `cfteval --help`):
    # the error resurfaces, with its file name, on the first get_spec/load_problems.
    try:
        return tuple(_specs())
    except UserError as error:
        logger.error("benchmark registry: %s", error)
        return ()


# The registered benchmarks in the paper's order (MATH-500, the validation set, last).
BENCHMARK_NAMES: tuple[str, ...] = _names_at_import()


def all_specs() -> list[BenchmarkSpec]:
    """Every registered benchmark's spec, in listing order."""
    return list(_specs().values())


def get_spec(name: str) -> BenchmarkSpec:
    """The spec of one benchmark; an unknown name is a UserError listing the valid ones."""
    specs = _specs()
    if name not in specs:
        raise UserError(f"unknown benchmark {name!r}; valid: {', '.join(specs)}")
    return specs[name]


def resolve_benchmarks(spec: str) -> list[str]:
    """'all' or a comma-separated list of names → the names, validated, duplicates dropped."""
    names = (
        list(_specs())
        if spec.strip().lower() == "all"
        else [part.strip().lower() for part in spec.split(",") if part.strip()]
    )
    if not names:
        raise UserError(f"no benchmark named; use 'all' or some of: {', '.join(_specs())}")
    for name in names:
        get_spec(name)
    return list(dict.fromkeys(names))


def resolve_data_dir(data_dir: Path | str | None = None) -> Path | None:
    """The local data directory in force: the argument, else $CFTEVAL_DATA_DIR, else None (hub)."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV, "")
    return Path(from_env).expanduser() if from_env else None


def _local_path(spec: BenchmarkSpec, directory: Path) -> Path:
    path = directory / spec.local_file
    if not path.is_file():
        raise UserError(
            f"expected the local file {path} (from --data-dir or {DATA_DIR_ENV}); "
            f"put a copy of {spec.local_file} there, or drop the data directory to use the hub "
            f"({spec.hub_id})"
        )
    return path


def _offline_hint(spec: BenchmarkSpec) -> str:
    return (
        f"Without the hub, supply a local copy as <data_dir>/{spec.local_file} and pass "
        f"--data-dir <data_dir> or set {DATA_DIR_ENV}."
    )


def load_problems(
    name: str,
    data_dir: Path | str | None = None,
    limit: int | None = None,
    gpqa_seed: int = 0,
) -> list[Problem]:
    """The benchmark's problems, in file order, at most `limit` of them.

    `gpqa_seed` fixes the order of multiple-choice answers that the data leaves unordered
    (GPQA); it is recorded in each Problem's meta.
    """
    spec = get_spec(name)
    if limit is not None and limit < 0:
        raise UserError(f"limit must be zero or more, not {limit}")
    directory = resolve_data_dir(data_dir)
    if directory is not None:
        path = _local_path(spec, directory)
        source = str(path)
        rules = spec.local_rules
        raw_rows = loaders.read_local_rows(
            path, spec.format, member=spec.zip_member, password=spec.zip_password, limit=limit
        )
    else:
        source = f"{spec.hub_id}@{spec.revision}"
        rules = spec.hub_rules
        raw_rows = loaders.read_hub_rows(
            spec.hub_id,
            spec.configs,
            spec.split,
            spec.revision,
            limit=limit,
            offline_hint=_offline_hint(spec),
        )

    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for index, (where, row) in enumerate(raw_rows):
        problem = parse_row(rules, row, index, where, seed=gpqa_seed)
        if problem.id in first_seen:
            raise UserError(
                f"{where}: duplicate id {problem.id!r} (first at {first_seen[problem.id]})"
            )
        first_seen[problem.id] = where
        problems.append(problem)

    if limit is None and spec.expected_rows and len(problems) != spec.expected_rows:
        logger.warning(
            "%s: %d rows in %s, the paper's copy has %d",
            name,
            len(problems),
            source,
            spec.expected_rows,
        )
    logger.info("%s: %d problems from %s", name, len(problems), source)
    return problems


def data_source(name: str, data_dir: Path | str | None = None) -> str:
    """Where `load_problems` reads this benchmark: the local file's path, or the hub id."""
    spec = get_spec(name)
    directory = resolve_data_dir(data_dir)
    return str(directory / spec.local_file) if directory is not None else spec.hub_id


def data_fingerprint(name: str, data_dir: Path | str | None = None) -> str:
    """Identity of the data a run used: the local file's sha256, or "hub:<id>@<revision>"."""
    spec = get_spec(name)
    directory = resolve_data_dir(data_dir)
    if directory is None:
        return f"hub:{spec.hub_id}@{spec.revision}"
    return loaders.sha256_file(_local_path(spec, directory))


@dataclass(frozen=True)
class BenchmarkSummary:
    """One line of `cfteval benchmarks`: rows is None when the data could not be loaded."""

    name: str
    title: str
    rows: int | None
    source: str
    answer_type: str
    error: str | None = None
    hub_unreachable: bool = False  # the error is "no network": one message covers them all


def describe_benchmarks(data_dir: Path | str | None = None) -> list[BenchmarkSummary]:
    """Load every benchmark once and summarise it; a failure is reported, not raised."""
    summaries = []
    for name in _specs():
        spec = get_spec(name)
        unreachable = False
        try:
            rows: int | None = len(load_problems(name, data_dir))
            error = None
        except UserError as failure:
            rows, error = None, str(failure)
            unreachable = isinstance(failure, loaders.HubUnreachable)
        summaries.append(
            BenchmarkSummary(
                name=name,
                title=spec.title,
                rows=rows,
                source=data_source(name, data_dir),
                answer_type=spec.answer_type,
                error=error,
                hub_unreachable=unreachable,
            )
        )
    return summaries
