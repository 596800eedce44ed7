"""`cfteval reproduce table8`: the paper's Table 8 (inference methods × temperature) for one model.

Direct inference at 0.0/0.1/0.3/0.6 and both self-critique modes at 0.1/0.3/0.6 on MATH and
Minerva-Math, as 20 runs of one `run_eval` call (one model load; every round of every run in one
backend batch). The CSV keeps the paper's layout (Method, Temperature, MATH, Minerva-Math) with
the paper's number and the difference beside each measured one. The paper's numbers are those of
Qwen2.5-Math-7B-CFT; for any other model the difference says how far it is from that model.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from rich.table import Table

from cfteval.evaluate import EvalConfig, RunResult
from cfteval.modes import ModeName

BENCHMARKS = ("math", "minerva_math")
TITLES = {"math": "MATH", "minerva_math": "Minerva-Math"}
METHODS = {
    ModeName.DIRECT: "Direct inference",
    ModeName.SINGLE_PASS: "Single-pass self-critique",
    ModeName.TWO_STAGE: "Two-stage self-critique",
}
# Table 8 of the paper (Qwen2.5-Math-7B-CFT): (mode, temperature) → (MATH, Minerva-Math).
PAPER: dict[tuple[ModeName, float], tuple[float, float]] = {
    (ModeName.DIRECT, 0.0): (79.4, 36.8),
    (ModeName.DIRECT, 0.1): (78.8, 35.9),
    (ModeName.DIRECT, 0.3): (77.5, 34.7),
    (ModeName.DIRECT, 0.6): (75.2, 33.1),
    (ModeName.SINGLE_PASS, 0.1): (77.2, 33.7),
    (ModeName.SINGLE_PASS, 0.3): (76.1, 32.2),
    (ModeName.SINGLE_PASS, 0.6): (73.5, 31.3),
    (ModeName.TWO_STAGE, 0.1): (77.9, 35.2),
    (ModeName.TWO_STAGE, 0.3): (75.8, 32.4),
    (ModeName.TWO_STAGE, 0.6): (74.6, 31.5),
}


def table8_config(base: EvalConfig) -> EvalConfig:
    """`base` (model, backend, limit, ...) with Table 8's benchmarks and (mode, T) runs."""
    return replace(
        base,
        benchmarks=list(BENCHMARKS),
        modes=list(METHODS),
        temperatures=sorted({t for _, t in PAPER}),
        runs=list(PAPER),
    )


def table8_rows(results: list[RunResult]) -> list[dict[str, object]]:
    """One row per (method, temperature) in the paper's order: measured, paper, difference."""
    measured = {(r.mode, r.temperature, r.benchmark): r.metrics["accuracy"] for r in results}
    rows = []
    for (mode, temperature), paper in PAPER.items():
        row: dict[str, object] = {"Method": METHODS[mode], "Temperature": temperature}
        for benchmark, paper_value in zip(BENCHMARKS, paper, strict=True):
            title = TITLES[benchmark]
            value = measured.get((mode.value, temperature, benchmark))
            row[title] = None if value is None else round(value, 1)
            row[f"{title} (paper)"] = paper_value
            row[f"{title} Δ"] = None if value is None else round(value - paper_value, 1)
        rows.append(row)
    return rows


def write_table8_csv(rows: list[dict[str, object]], path: Path) -> None:
    """table8.csv: the paper's columns, each followed by the paper's value and the difference."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def table8_table(rows: list[dict[str, object]], title: str) -> Table:
    """The CSV as a rich table, the method named once per group as in the paper."""
    table = Table(title=title)
    for name in rows[0]:
        table.add_column(name, justify="left" if name == "Method" else "right")
    previous = None
    for row in rows:
        cells = []
        for name, value in row.items():
            if name == "Method":
                cells.append("" if value == previous else str(value))
                previous = value
            elif value is None:
                cells.append("—")
            elif name.endswith("Δ"):
                colour = "green" if float(value) >= 0 else "red"  # type: ignore[arg-type]
                cells.append(f"[{colour}]{float(value):+.1f}[/]")  # type: ignore[arg-type]
            else:
                cells.append(f"{float(value):.1f}" if name != "Temperature" else f"{value}")  # type: ignore[arg-type]
        table.add_row(*cells)
    return table
