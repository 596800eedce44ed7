"""Training rows: read CFT or SFT data, map its fields, validate every row, build chat messages.

CFT rows come in WebInstruct-CFT's Alpaca form (instruction, input, output = the critique);
SFT rows are question → solution. `format` renames the logical fields to a file's own column
names. Every row is checked before any model is loaded, and a bad row is reported with the
file and line (or hub row) where the user can find it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfteval.errors import UserError
from cfteval.loaders import RawRows, read_data_file, read_hub_rows, sha256_file
from cfteval.rows import require
from cfteval.train.config import TrainMode

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = "You are a helpful assistant."

# Short names for the paper's data sets on the hub: (hub id, config).
HUB_ALIASES = {
    "webinstruct-cft-4k": ("TIGER-Lab/WebInstruct-CFT", "WebInstruct-CFT-4K"),
    "webinstruct-cft-50k": ("TIGER-Lab/WebInstruct-CFT", "WebInstruct-CFT-50K"),
    "webinstruct-cft-600k": ("TIGER-Lab/WebInstruct-CFT", "WebInstruct-CFT-600K"),
}

# Logical fields of each mode; `input` may be empty (Alpaca rows without context).
FIELDS = {
    TrainMode.CFT: ("instruction", "input", "output"),
    TrainMode.SFT: ("question", "solution"),
}
_OPTIONAL = {"input"}
_RESPONSE = {TrainMode.CFT: "output", TrainMode.SFT: "solution"}


@dataclass(frozen=True)
class TrainRow:
    """One validated row: the prompt turns, the response to learn, and where it came from."""

    where: str
    messages: tuple[dict[str, str], ...]  # system + user
    response: str


def parse_format(spec: str | None, mode: TrainMode) -> dict[str, str]:
    """`--format question=problem,solution=answer` → {logical field: column}."""
    if not spec:
        return {}
    mapping = {}
    for part in spec.split(","):
        if "=" not in part:
            raise UserError(f"--format: {part!r} is not field=column")
        name, column = (piece.strip() for piece in part.split("=", 1))
        if name not in FIELDS[mode]:
            raise UserError(
                f"--format: {name!r} is not a {mode.value} field; known: {', '.join(FIELDS[mode])}"
            )
        mapping[name] = column
    return mapping


def read_raw_rows(data: str, data_config: str | None) -> RawRows:
    """Rows of a local JSON/JSONL/parquet file, or of a hub dataset (id or alias)."""
    path = Path(data)
    if path.is_file():
        return read_data_file(path)
    if path.exists() or data.startswith((".", "/")) or data.count("/") > 1:
        raise UserError(f"--data {data}: no such file (a JSON, JSONL or parquet file, or hub id)")
    hub_id, config = HUB_ALIASES.get(data.lower(), (data, data_config))
    return read_hub_rows(
        hub_id,
        [data_config or config],
        "train",
        "main",
        offline_hint="Download it once and pass the local file with --data.",
    )


def data_fingerprint(data: str) -> str:
    """sha256 of a local data file, or the hub id: recorded with the run."""
    path = Path(data)
    return f"sha256:{sha256_file(path)}" if path.is_file() else f"hub:{data}"


def _text(row: dict[str, Any], column: str, where: str, optional: bool) -> str:
    if optional and column not in row:
        return ""
    value = require(row, column, where)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise UserError(f"{where}: field {column!r} must be text, got {type(value).__name__}")
    return value


def to_train_row(
    where: str, row: dict[str, Any], mode: TrainMode, columns: dict[str, str]
) -> TrainRow:
    """Validate one raw row and build its chat turns (the paper's prompt at training time)."""
    values = {
        name: _text(row, columns.get(name, name), where, name in _OPTIONAL) for name in FIELDS[mode]
    }
    response_field = _RESPONSE[mode]
    if not values[response_field].strip():
        what = "critique" if mode is TrainMode.CFT else "solution"
        raise UserError(
            f"{where}: empty {what} (field {columns.get(response_field, response_field)!r})"
        )
    if mode is TrainMode.CFT:
        if not values["instruction"].strip() and not values["input"].strip():
            raise UserError(f"{where}: empty instruction and input: nothing to critique")
        user = values["instruction"] + "\n" + values["input"]
    else:
        if not values["question"].strip():
            raise UserError(
                f"{where}: empty question (field {columns.get('question', 'question')!r})"
            )
        user = values["question"]
    messages = ({"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user})
    return TrainRow(where=where, messages=messages, response=values[response_field])


def load_rows(
    data: str,
    mode: TrainMode,
    columns: dict[str, str] | None = None,
    data_config: str | None = None,
    limit: int | None = None,
) -> list[TrainRow]:
    """All rows (or the first `limit`), each validated; an empty data set is an error."""
    rows: list[TrainRow] = []
    raw: Iterator[tuple[str, dict[str, Any]]] = read_raw_rows(data, data_config)
    for where, row in raw:
        if limit is not None and len(rows) >= limit:
            break
        rows.append(to_train_row(where, row, mode, columns or {}))
    if not rows:
        raise UserError(f"--data {data}: no rows")
    logger.info("read %d %s rows from %s", len(rows), mode.value, data)
    return rows
