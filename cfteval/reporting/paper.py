"""The paper's Tables 2–8 as data (results/paper/table*.csv), in the same long form as ours.

Benchmarks use the registry's names (math, minerva_math, ...) so that the paper's rows join with
our runs; AVG is kept as printed, not recomputed (a test checks that it matches the columns).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cfteval.errors import UserError

PAPER_COLUMNS = ("table", "model", "method", "data_size", "temperature", "benchmark", "value")
# The paper's two averages: the six maths benchmarks (Tables 2, 5–7) and Table 3's seven.
MATHS6 = ("math", "minerva_math", "gsm8k", "olympiadbench", "aime24", "amc23")
TABLE3_SET = ("math", "gpqa_diamond", "theoremqa", "mmlu_pro", "olympiadbench", "aime24", "amc23")
AVERAGE = "AVG"


def default_paper_dir() -> Path:
    """results/paper beside the cfteval source tree (a checkout's own copy)."""
    return Path(__file__).resolve().parents[2] / "results" / "paper"


def load_paper(paper_dir: Path | None = None, tables: tuple[int, ...] = ()) -> pd.DataFrame:
    """All of the paper's tables (or only `tables`) as one long DataFrame."""
    directory = paper_dir or default_paper_dir()
    files = sorted(directory.glob("table*.csv"))
    if not files:
        raise UserError(f"{directory}: no table*.csv (the paper's tables); pass --paper-dir")
    frames = []
    for path in files:
        frame = pd.read_csv(path, dtype={"model": str, "method": str, "data_size": str})
        missing = set(PAPER_COLUMNS) - set(frame.columns)
        if missing:
            raise UserError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    data[["method", "data_size"]] = data[["method", "data_size"]].fillna("")
    if tables:
        data = data[data["table"].isin(tables)]
    return data.reset_index(drop=True)


def paper_label(row: pd.Series) -> str:
    """How a paper row is named beside our runs: 'paper T2: Qwen2.5-Math-7B WebInstruct-CFT'."""
    method = f" {row['method']}" if row["method"] else ""
    return f"paper T{row['table']}: {row['model']}{method}"
