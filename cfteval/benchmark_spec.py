"""A benchmark's YAML file, read and checked into a `BenchmarkSpec`.

The file names where the data lives (a local file, or a dataset-hub id with configs, split and
revision), how rows map onto a `Problem` (fields, gold rule, meta, flags; the hub copy may
override them) and how the benchmark is prompted and graded. Every key is checked, so a typo is
an error naming the file rather than a silently ignored setting. This is apart from
`benchmarks.py`, which finds the registry's files and loads their rows, because the spec format
and its validation are one job that does not touch any data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cfteval import loaders
from cfteval.errors import UserError
from cfteval.grading.rules import DEFAULT_RULES, GradingRules, parse_rules
from cfteval.records import ANSWER_TYPES
from cfteval.rows import GOLD_RULES, PER_ROW, RowRules

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


def parse_spec(path: Path) -> BenchmarkSpec:
    """The spec a benchmark YAML file declares; any mistake in it is a UserError naming the file."""
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
