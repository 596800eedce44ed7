"""The benchmark registry: one YAML file per benchmark under `benchmarks/`, loaded into Problems.

A benchmark's YAML names where its data lives (a file under the user's data directory, or a
dataset-hub id with config, split and pinned revision), how its rows map onto a `Problem`
(field names and the rule that derives the gold answer), and how it is prompted (template name,
stop strings, token budget). Adding a benchmark is adding a YAML file; the loading code is
generic (`loaders` reads rows, `rows.parse_row` normalises them).

Data comes from, in order: the `data_dir` argument, the CFTEVAL_DATA_DIR environment variable,
else the dataset hub. A data directory that lacks a file is an error, never a silent fallback
to the hub: the user asked for local data.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from cfteval import loaders
from cfteval.errors import UserError
from cfteval.grading.rules import DEFAULT_RULES, GradingRules, parse_rules
from cfteval.records import ANSWER_TYPES, Problem
from cfteval.rows import GOLD_RULES, PER_ROW, RowRules, last_boxed, parse_row

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

_TOP_KEYS = {
    "name",
    "title",
    "order",
    "rows",
    "answer_type",
    "prompt_template",
    "max_tokens",
    "stop",
    "local",
    "hub",
    "fields",
    "gold",
    "meta",
    "flags",
    "question_suffix",
    "grading",
}
_LOCAL_KEYS = {"file", "format", "member", "password"}
_HUB_KEYS = {"id", "config", "configs", "split", "revision", "fields", "gold", "meta", "flags"}
_FIELD_KEYS = {"id", "question"}


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


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark as its YAML file declares it."""

    name: str
    title: str  # the name the paper's tables use
    order: int  # position in listings (the paper's column order)
    hub_id: str
    configs: tuple[str | None, ...]  # hub configs, loaded one after another
    split: str
    revision: str
    local_file: str  # relative to the data directory
    format: str  # one of loaders.LOCAL_FORMATS
    answer_type: str  # one of records.ANSWER_TYPES, or "per_row" (TheoremQA)
    prompt_template: str
    stop: tuple[str, ...]
    max_tokens: int
    expected_rows: int | None
    local_rules: RowRules
    hub_rules: RowRules
    yaml_path: Path
    zip_member: str | None = None
    zip_password: str | None = None
    grading: GradingRules = DEFAULT_RULES  # the `grading:` section (grading/rules.py)

    @property
    def config(self) -> str | None:
        """The hub config as one string (several are joined by commas), or None."""
        named = [config for config in self.configs if config]
        return ",".join(named) if named else None


def _fail(path: Path, message: str) -> UserError:
    return UserError(f"{path}: {message}")


def _check_keys(path: Path, section: str, found: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise _fail(path, f"unknown key(s) {', '.join(unknown)} in {section}")


def _row_rules(path: Path, name: str, answer_type: str, doc: Mapping[str, Any]) -> RowRules:
    """RowRules from a YAML block holding fields/gold/meta/flags (and the top-level suffix)."""
    fields = doc.get("fields") or {}
    _check_keys(path, "fields", fields, _FIELD_KEYS)
    if not fields.get("question"):
        raise _fail(path, "fields.question is required")
    gold = dict(doc.get("gold") or {})
    rule = gold.get("rule")
    if rule not in GOLD_RULES:
        raise _fail(path, f"gold.rule must be one of {', '.join(GOLD_RULES)}, not {rule!r}")
    missing = GOLD_RULES[rule][1] - set(gold)
    if missing:
        raise _fail(path, f"gold rule {rule} needs {', '.join(sorted(missing))}")
    return RowRules(
        benchmark=name,
        answer_type=answer_type,
        question_field=str(fields["question"]),
        gold=gold,
        id_field=fields.get("id"),
        meta=dict(doc.get("meta") or {}),
        flags=dict(doc.get("flags") or {}),
        question_suffix=doc.get("question_suffix"),
    )


def _parse_spec(path: Path) -> BenchmarkSpec:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise _fail(path, f"invalid YAML ({error})") from None
    if not isinstance(doc, dict):
        raise _fail(path, "expected a mapping at the top level")
    _check_keys(path, "the top level", doc, _TOP_KEYS)
    name = doc.get("name")
    if name != path.stem:
        raise _fail(path, f"name {name!r} must match the file name {path.stem!r}")
    answer_type = doc.get("answer_type")
    if answer_type not in (*ANSWER_TYPES, PER_ROW):
        raise _fail(path, f"answer_type must be one of {(*ANSWER_TYPES, PER_ROW)}")
    local, hub = doc.get("local") or {}, doc.get("hub") or {}
    _check_keys(path, "local", local, _LOCAL_KEYS)
    _check_keys(path, "hub", hub, _HUB_KEYS)
    for section, block, key in (
        ("local", local, "file"),
        ("hub", hub, "id"),
        ("hub", hub, "split"),
    ):
        if not block.get(key):
            raise _fail(path, f"{section}.{key} is required")
    if local.get("format") not in loaders.LOCAL_FORMATS:
        raise _fail(path, f"local.format must be one of {', '.join(loaders.LOCAL_FORMATS)}")
    stop = doc.get("stop") or []
    if not isinstance(stop, list) or not all(isinstance(item, str) for item in stop):
        raise _fail(path, "stop must be a list of strings")

    local_rules = _row_rules(path, name, answer_type, doc)
    # The hub copy may name its fields differently: its blocks override the top-level ones.
    hub_doc = {**doc, **{key: hub[key] for key in ("gold", "meta", "flags") if key in hub}}
    hub_doc["fields"] = {**(doc.get("fields") or {}), **(hub.get("fields") or {})}
    hub_rules = _row_rules(path, name, answer_type, hub_doc)

    configs = hub.get("configs") or [hub.get("config")]
    return BenchmarkSpec(
        name=name,
        title=str(doc.get("title") or name),
        order=int(doc.get("order", 1000)),
        hub_id=str(hub["id"]),
        configs=tuple(str(config) if config else None for config in configs),
        split=str(hub["split"]),
        revision=str(hub.get("revision") or "main"),
        local_file=str(local["file"]),
        format=str(local["format"]),
        answer_type=answer_type,
        prompt_template=str(doc.get("prompt_template") or ""),
        stop=tuple(stop),
        max_tokens=int(doc.get("max_tokens", 2048)),
        expected_rows=doc.get("rows"),
        local_rules=local_rules,
        hub_rules=hub_rules,
        yaml_path=path,
        zip_member=local.get("member"),
        zip_password=local.get("password"),
        grading=parse_rules(doc.get("grading"), str(path)),
    )


@cache
def _registry(directory: Path) -> dict[str, BenchmarkSpec]:
    specs = [_parse_spec(path) for path in sorted(directory.glob("*.yaml"))]
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
