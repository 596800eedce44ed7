"""`cfteval grade-file` on hostile and mistaken input, run as a user runs it: any text round-trips,
output is written as it goes, and every user mistake is one line with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cfteval as _run_cfteval


def run_cfteval(*args: str, timeout: float = 120):
    return _run_cfteval(*args, env={"COLUMNS": "250"}, timeout=timeout)


def _assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def _row(pred: str, gold: str = "1", benchmark: str = "math", **extra) -> str:
    return json.dumps({"gold": gold, "pred": pred, "benchmark": benchmark, **extra}) + "\n"


def test_a_lone_surrogate_round_trips_and_nothing_is_lost(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    # "\ud800" is valid JSON but cannot be encoded as UTF-8.
    cases.write_text(
        _row("\\boxed{1}") + '{"gold": "1", "pred": "\\\\boxed{1} \\ud800", '
        '"benchmark": "math"}\n' + _row("\\boxed{2}", "2"),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = run_cfteval("grade-file", str(cases), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["correct"] for r in rows] == [True, True, True]
    assert rows[1]["pred"] == "\\boxed{1} \ud800"
    to_stdout = run_cfteval("grade-file", str(cases))
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert len(to_stdout.stdout.splitlines()) == 3


def test_rows_before_a_bad_line_are_already_written(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    good = "".join(_row(f"\\boxed{{{i}}}", str(i)) for i in range(300))  # more than one batch
    cases.write_text(good + "{not json\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run_cfteval("grade-file", str(cases), "--out", str(out))
    _assert_one_line_error(result, f"{cases}:301", "malformed JSON")
    written = out.read_text(encoding="utf-8").splitlines()
    assert len(written) >= 256 and all(json.loads(line)["correct"] for line in written)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"gold": "1", "pred": "\xff\xfe", "benchmark": "math"}\n', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
        (
            b'{"gold": "1", "pred": "1", "benchmark": "math", "n": ' + b"9" * 5000 + b"}\n",
            "malformed JSON",
        ),
        (_row("1", benchmark="not_a_benchmark").encode(), "unknown benchmark"),
        (_row("1", finish_reason=3).encode(), "finish_reason"),
        (_row("1", n_choices=True).encode(), "n_choices"),
    ],
)
def test_bad_input_is_one_line_naming_the_line(tmp_path: Path, content: bytes, fragment: str):
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(content)
    _assert_one_line_error(run_cfteval("grade-file", str(cases)), f"{cases}:1", fragment)


@pytest.mark.parametrize("value", ["inf", "1e308", "nan", "-1", "0", "abc"])
def test_a_bad_grade_timeout_is_refused(tmp_path: Path, value: str) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(_row("1"), encoding="utf-8")
    result = run_cfteval("grade-file", str(cases), "--grade-timeout", value)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "--grade-timeout" in result.stderr


def test_a_byte_order_mark_and_aliases_are_accepted(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    body = _row("The answer is (C).", "C", "gpqa") + _row("#### 18", "18", "gsm8k")
    cases.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    result = run_cfteval("grade-file", str(cases))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["correct"] for line in result.stdout.splitlines()] == [True, True]


def test_finish_reason_is_read_from_the_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cut = "Adding up: 3 + 4 = 7. Next we check whether 7 is"
    cases.write_text(
        _row(cut, "7", "gsm8k") + _row(cut, "7", "gsm8k", finish_reason="length"),
        encoding="utf-8",
    )
    result = run_cfteval("grade-file", str(cases))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["correct"] for r in rows] == [True, False]
    assert rows[1]["extracted"] is None
