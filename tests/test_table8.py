"""Table 8's plan and layout: which runs `reproduce table8` asks for and how its CSV reads."""

from __future__ import annotations

import csv
from pathlib import Path

from cfteval.evaluate import EvalConfig, RunResult
from cfteval.modes import ModeName
from cfteval.run_setup import mode_temperatures
from cfteval.table8 import table8_config, table8_rows, write_table8_csv


def test_table8_plans_the_papers_twenty_runs() -> None:
    config = table8_config(EvalConfig(model="m", benchmarks=[], limit=20))
    assert config.benchmarks == ["math", "minerva_math"] and config.limit == 20
    pairs = mode_temperatures(config)
    assert [t for mode, t in pairs if mode is ModeName.DIRECT] == [0.0, 0.1, 0.3, 0.6]
    assert [t for mode, t in pairs if mode is ModeName.SINGLE_PASS] == [0.1, 0.3, 0.6]
    assert [t for mode, t in pairs if mode is ModeName.TWO_STAGE] == [0.1, 0.3, 0.6]


def test_table8_csv_puts_paper_numbers_and_differences_beside_ours(tmp_path: Path) -> None:
    results = [
        RunResult("math", "direct", 0.0, tmp_path, {"accuracy": 80.0}),
        RunResult("minerva_math", "two-stage", 0.6, tmp_path, {"accuracy": 30.25}),
    ]
    rows = table8_rows(results)
    write_table8_csv(rows, tmp_path / "table8.csv")
    with (tmp_path / "table8.csv").open() as handle:
        read = list(csv.DictReader(handle))
    assert list(read[0]) == [
        "Method", "Temperature", "MATH", "MATH (paper)", "MATH Δ",
        "Minerva-Math", "Minerva-Math (paper)", "Minerva-Math Δ",
    ]  # fmt: skip
    assert len(read) == 10
    assert (read[0]["MATH"], read[0]["MATH (paper)"], read[0]["MATH Δ"]) == ("80.0", "79.4", "0.6")
    assert read[0]["Minerva-Math"] == ""  # not run: empty, never a made-up number
    last = read[-1]
    assert last["Method"] == "Two-stage self-critique" and last["Temperature"] == "0.6"
    assert (last["Minerva-Math"], last["Minerva-Math Δ"]) == ("30.2", "-1.2")
