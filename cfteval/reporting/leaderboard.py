"""`cfteval leaderboard`: every run as rows of one long CSV, and wide pivots in the paper's layouts.

The long CSV is the source of truth: one row per (run, metric). Writing it again with more runs
updates it: a run already there (same run id and metric) is replaced by the newer one, never
duplicated. The pivots are derived from it. Runs graded with different profiles or prompt
formats are never averaged together: those settings are part of every pivot row's key.
"""

from __future__ import annotations

import enum
import html
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cfteval.errors import UserError
from cfteval.reporting.paper import AVERAGE, MATHS6, TABLE3_SET, load_paper, paper_label
from cfteval.reporting.tables import sampling_metric_names
from cfteval.rundir import Run

LONG_COLUMNS = [
    "model",
    "checkpoint",
    "benchmark",
    "mode",
    "temperature",
    "n",
    "metric",
    "value",
    "stderr",
    "n_problems",
    "timeouts",
    "run_id",
    "cfteval_version",
    "grader_profile",
    "prompt_format",
    "prompt",
    "date",
]
# What makes two rows of a pivot comparable; a difference in any of these is a separate row.
ROW_KEY = ["model", "mode", "temperature", "grader_profile", "prompt_format"]


class TableFormat(str, enum.Enum):
    csv = "csv"
    md = "md"
    html = "html"


def long_rows(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run and metric: accuracy (with its standard error), pass@k and maj@k."""
    records = []
    for run in runs:
        prompt = run.manifest.get("prompt") or {}
        base = {
            "model": run.model,
            "checkpoint": run.checkpoint,
            "benchmark": run.benchmark,
            "mode": run.mode,
            "temperature": run.temperature,
            "n": run.samples_per_problem,
            "n_problems": run.metrics.get("n_problems"),
            "timeouts": run.metrics.get("timeouts"),
            "run_id": run.run_id,
            "cfteval_version": run.manifest.get("cfteval_version"),
            "grader_profile": run.profile,
            "prompt_format": prompt.get("format", "?"),
            "prompt": run.prompt_id,
            "date": run.date,
        }
        metrics = ["accuracy", *sampling_metric_names([run.metrics])]
        for metric in metrics:
            if metric not in run.metrics:
                continue
            stderr = run.metrics.get("stderr") if metric == "accuracy" else None
            records.append(
                base | {"metric": metric, "value": run.metrics[metric], "stderr": stderr}
            )
    return pd.DataFrame.from_records(records, columns=LONG_COLUMNS)


def merge_long(existing: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """`new` rows replace `existing` rows of the same run and metric; the rest are kept."""
    if existing is None or existing.empty:
        merged = new
    else:
        missing = set(LONG_COLUMNS) - set(existing.columns)
        if missing:
            raise UserError(
                f"the existing leaderboard lacks column(s) {', '.join(sorted(missing))}; "
                "write to a new file with -o"
            )
        kept = existing.merge(
            new[["run_id", "metric"]], on=["run_id", "metric"], how="left", indicator=True
        )
        kept = kept[kept["_merge"] == "left_only"].drop(columns="_merge")
        merged = pd.concat([kept[LONG_COLUMNS], new], ignore_index=True)
    return merged.sort_values(["model", "benchmark", "mode", "temperature", "metric"]).reset_index(
        drop=True
    )


def read_long(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, dtype={"checkpoint": str, "date": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not a leaderboard CSV ({str(error).splitlines()[0]})") from None


def _mean_if_complete(row: pd.Series, benchmarks: Sequence[str]) -> float:
    values = [row.get(b) for b in benchmarks]
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return math.nan
    return round(sum(values) / len(values), 2)


def pivot(long: pd.DataFrame, benchmarks: Sequence[str] | None = None) -> pd.DataFrame:
    """Models × benchmarks accuracy. With `benchmarks` (a paper layout), those columns in that
    order and their AVG (blank unless a row has them all); otherwise every benchmark present."""
    accuracy = long[long["metric"] == "accuracy"]
    if accuracy.empty:
        return pd.DataFrame(columns=[*ROW_KEY, *(benchmarks or [])])
    wide = accuracy.pivot_table(index=ROW_KEY, columns="benchmark", values="value", aggfunc="first")
    wide.columns.name = None
    columns = list(benchmarks) if benchmarks else sorted(wide.columns)
    wide = wide.reindex(columns=columns)
    if benchmarks:
        wide[AVERAGE] = wide.apply(_mean_if_complete, axis=1, benchmarks=benchmarks)
    return wide.reset_index()


def paper_pivot_rows(benchmarks: Sequence[str], paper_dir: Path | None = None) -> pd.DataFrame:
    """The paper's rows that report every one of `benchmarks`, in the same layout as `pivot`."""
    paper = load_paper(paper_dir)
    paper = paper.assign(label=paper.apply(paper_label, axis=1))
    paper["temperature"] = paper["temperature"].fillna(0.0)
    wide = paper.pivot_table(
        index=["label", "temperature"],
        columns="benchmark",
        values="value",
        aggfunc="first",
        sort=False,  # the paper's own row order
    )
    wanted = [*benchmarks, AVERAGE]
    wide = wide.reindex(columns=wanted).dropna(subset=list(benchmarks))
    wide = wide.reset_index().rename(columns={"label": "model"})
    wide.insert(1, "mode", "direct")
    wide.insert(3, "grader_profile", "paper")
    wide.insert(4, "prompt_format", "paper")
    return wide[[*ROW_KEY, *wanted]]


def layouts(
    long: pd.DataFrame, with_paper: bool, paper_dir: Path | None = None
) -> dict[str, pd.DataFrame]:
    """The wide tables to write: every benchmark, and each paper layout that our runs touch."""
    present = set(long["benchmark"])
    tables = {"wide": pivot(long)}
    for name, benchmarks in (("maths6", MATHS6), ("table3", TABLE3_SET)):
        if present & set(benchmarks) or with_paper:
            table = pivot(long, benchmarks)
            if with_paper:
                table = pd.concat(
                    [table, paper_pivot_rows(benchmarks, paper_dir)], ignore_index=True
                )
            tables[name] = table
    return tables


def render(table: pd.DataFrame, fmt: TableFormat) -> str:
    """A wide table as CSV, Markdown or an HTML fragment (numbers with one decimal, blanks '—')."""
    if fmt is TableFormat.csv:
        return table.to_csv(index=False, float_format="%.2f")
    cells = [[_text(value) for value in row] for row in table.itertuples(index=False)]
    if fmt is TableFormat.md:
        head = "| " + " | ".join(map(str, table.columns)) + " |"
        rule = "|" + "|".join("---" for _ in table.columns) + "|"
        body = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join([head, rule, *body]) + "\n"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in cells
    )
    return (
        f'<table class="leaderboard"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n'
    )


def _text(value: object) -> str:
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:.1f}"
    return str(value)


def write_leaderboard(
    runs: Sequence[Run],
    out: Path,
    fmt: TableFormat = TableFormat.csv,
    with_paper: bool = False,
    paper_dir: Path | None = None,
) -> dict[str, Path]:
    """Update the long CSV at `out` and write the pivots beside it; returns what was written."""
    from cfteval.store import write_text_atomic

    seen: dict[str, Path] = {}
    for run in runs:
        if run.run_id in seen:
            raise UserError(
                f"{seen[run.run_id]} and {run.path} are both run {run.run_id}; a leaderboard "
                "holds one run per model, benchmark, mode and temperature: name one of them"
            )
        seen[run.run_id] = run.path
    long = merge_long(read_long(out), long_rows(runs))
    written = {"long": out}
    write_text_atomic(out, long.to_csv(index=False))
    for name, table in layouts(long, with_paper, paper_dir).items():
        path = out.with_name(f"{out.stem}-{name}.{fmt.value}")
        write_text_atomic(path, render(table, fmt))
        written[name] = path
    return written


def mixed_settings(long: pd.DataFrame) -> list[str]:
    """Settings that differ between rows (shown to the user; each is its own pivot row)."""
    notes = []
    for column, what in (
        ("grader_profile", "grader profiles"),
        ("prompt_format", "prompt formats"),
    ):
        values = sorted(set(long[column].astype(str)))
        if len(values) > 1:
            notes.append(f"{what} differ ({', '.join(values)}): their runs are separate rows")
    return notes
