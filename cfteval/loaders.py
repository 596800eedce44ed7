"""Read a benchmark's raw rows, each with a position for error messages, from a local file or the hub.

Only the file format matters here (JSON lines, a JSON array, a CSV inside a password-protected
zip); what the fields mean is `rows.parse_row`'s job. Every reader yields `(where, row)` pairs,
`where` being "path:line" or similar, so that a bad row is reported where the user can find it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import zipfile
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from cfteval.errors import UserError
from cfteval.store import iter_jsonl

logger = logging.getLogger(__name__)

RawRows = Iterator[tuple[str, dict[str, Any]]]

LOCAL_FORMATS = ("jsonl", "json", "zip_csv")


def read_jsonl(path: Path) -> RawRows:
    """One JSON object per line; blank lines are skipped, a broken line is an error."""
    return iter_jsonl(path)


def read_json_array(path: Path) -> RawRows:
    """A JSON array of objects (TheoremQA's release format)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UserError(f"{path}:{error.lineno}: malformed JSON ({error.msg})") from None
    if not isinstance(rows, list):
        raise UserError(f"{path}: expected a JSON array of objects")
    for item_number, row in enumerate(rows, start=1):
        where = f"{path} item {item_number}"
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected a JSON object, got {type(row).__name__}")
        yield where, row


def read_zip_csv(path: Path, member: str, password: str | None) -> RawRows:
    """A CSV inside a (possibly password-protected) zip, decrypted in memory, never written out.

    GPQA's authors ship their CSV this way so that the questions do not end up in plain text on
    the web; reading it in place honours that.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise UserError(f"{path}: not a readable zip file ({error})") from None
    with archive:
        try:
            raw = archive.read(member, pwd=password.encode("utf-8") if password else None)
        except KeyError:
            raise UserError(f"{path}: no member {member!r} in the zip") from None
        except RuntimeError as error:  # zipfile's way of saying "bad or missing password"
            raise UserError(f"{path}: cannot decrypt {member!r} ({error})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserError(f"{path}!{member}: not UTF-8 text ({error})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            # line_num is the line where the record ends: quoted fields may span lines.
            yield f"{path}!{member}:{reader.line_num}", dict(row)
    except csv.Error as error:
        raise UserError(f"{path}!{member}:{reader.line_num}: malformed CSV ({error})") from None


def read_local_rows(
    path: Path,
    file_format: str,
    *,
    member: str | None = None,
    password: str | None = None,
    limit: int | None = None,
) -> RawRows:
    """Rows of a local benchmark file in one of LOCAL_FORMATS, at most `limit` of them."""
    if file_format == "jsonl":
        rows = read_jsonl(path)
    elif file_format == "json":
        rows = read_json_array(path)
    elif file_format == "zip_csv":
        if not member:
            raise UserError(f"{path}: format zip_csv needs the zip member's name")
        rows = read_zip_csv(path, member, password)
    else:
        raise UserError(f"{path}: unknown format {file_format!r} (known: {LOCAL_FORMATS})")
    return islice(rows, limit) if limit is not None else rows


def read_parquet(path: Path) -> RawRows:
    """Rows of a parquet file, numbered from 1 like the other readers' lines."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # noqa: BLE001 - any parse failure is a bad file the user gave
        raise UserError(f"{path}: not a readable parquet file ({error})") from None
    for number, row in enumerate(frame.to_dict(orient="records"), start=1):
        yield f"{path} row {number}", row


def read_data_file(path: Path) -> RawRows:
    """Rows of a user's JSONL, JSON (array or one object per line) or parquet file, by suffix."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix == ".json":
        # A JSON file may hold an array or, like many exports, one object per line.
        with path.open("rb") as handle:
            first = handle.read(64).lstrip()[:1]
        return read_json_array(path) if first == b"[" else read_jsonl(path)
    if suffix == ".parquet":
        return read_parquet(path)
    raise UserError(f"{path}: unknown data format {suffix!r}; use .json, .jsonl or .parquet")


class HubUnreachable(UserError):
    """The dataset hub cannot be reached at all (no network): the same for every benchmark."""


_HUB_PROBE_TIMEOUT_S = 1.5
_hub_reachability: dict[str, bool] = {}


def _offline_mode() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")
    )


def hub_reachable() -> bool:
    """Whether a TCP connection to the dataset hub opens within 1.5 s (asked once per process).

    Why: without a network, `datasets` retries each request for minutes and prints a warning per
    retry; one quick probe tells the user at once, for all benchmarks, instead."""
    from urllib.parse import urlparse

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    host, port = parsed.hostname or "huggingface.co", parsed.port or 443
    if host not in _hub_reachability:
        import socket

        try:
            with socket.create_connection((host, port), timeout=_HUB_PROBE_TIMEOUT_S):
                _hub_reachability[host] = True
        except OSError:
            _hub_reachability[host] = False
    return _hub_reachability[host]


def read_hub_rows(
    hub_id: str,
    configs: Sequence[str | None],
    split: str,
    revision: str,
    *,
    limit: int | None = None,
    offline_hint: str = "",
) -> RawRows:
    """Rows from the dataset hub via `datasets.load_dataset`, config after config.

    Any failure to fetch (no network, offline mode, a gated repository, a moved revision) is
    something the user fixes, so it becomes a UserError that carries `offline_hint` (how to use
    a local copy instead).
    """
    local_copy = Path(hub_id).is_dir()  # a repository folder saved in the hub's format
    if not local_copy and not _offline_mode() and not hub_reachable():
        raise HubUnreachable(
            "the dataset hub is unreachable (no network?); set HF_DATASETS_OFFLINE=1 to use "
            f"copies in the datasets cache. {offline_hint}"
        )
    try:
        import datasets  # imported here: slow to import, and only the hub path needs it
    except ImportError as error:
        raise UserError(
            f"cannot load {hub_id}: the `datasets` package is missing. {offline_hint}"
        ) from error
    produced = 0
    for config in configs:
        label = f"{hub_id}" + (f"/{config}" if config else "")
        logger.info("loading %s split %s at revision %s from the hub", label, split, revision)
        try:
            dataset = datasets.load_dataset(hub_id, config, split=split, revision=revision)
        except Exception as error:  # noqa: BLE001 -- network, auth, offline: all fixable by the user
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise UserError(
                f"cannot load {label}@{revision} from the dataset hub ({reason}). {offline_hint}"
            ) from error
        for index, row in enumerate(dataset):
            if limit is not None and produced >= limit:
                return
            produced += 1
            yield f"{label}@{revision} row {index}", dict(row)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes: which copy of the data a run used."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
