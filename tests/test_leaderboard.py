"""Leaderboards, pass@k / maj@k and the paired test, checked against numbers worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cfteval.reporting.compare import compare_runs, mcnemar_exact, paired_bootstrap
from cfteval.reporting.leaderboard import layouts, long_rows, merge_long, pivot
from cfteval.rundir import load_runs
from tests.helpers import run_cfteval
from tests.run_builder import make_samples, write_known_run


def _two_models(out):
    # Model A: gsm8k 3/4 right, math 1/5; model B: gsm8k 4/4, math 2/5.
    write_known_run(
        out,
        "A",
        "gsm8k",
        make_samples(dict(zip("abcd", [[True], [True], [False], [True]], strict=True))),
    )
    write_known_run(out, "A", "math", make_samples({p: [p == "a"] for p in "abcde"}))
    write_known_run(out, "B", "gsm8k", make_samples({p: [True] for p in "abcd"}))
    write_known_run(out, "B", "math", make_samples({p: [p in "ab"] for p in "abcde"}))


def _sampled_run(out):
    # Four samples per problem at T=0.6: q1 1 right, q2 2 right, q3 none.
    verdicts = {
        "q1": [True, False, False, False],
        "q2": [True, True, False, False],
        "q3": [False, False, False, False],
    }
    answers = {
        "q1": ["7", "8", "8", "9"],  # majority 8: wrong
        "q2": ["7", "7", "8", "9"],  # majority 7: right
        "q3": ["8", "9", "9", None],  # majority 9: wrong
    }
    samples = make_samples(verdicts, answers, temperature=0.6)
    return write_known_run(out, "A", "math500", samples, temperature=0.6), verdicts


def _value(long, model, benchmark, metric, column="value"):
    rows = long[(long.model == model) & (long.benchmark == benchmark) & (long.metric == metric)]
    assert len(rows) == 1
    return rows[column].iloc[0]


def test_long_rows_hold_every_number(tmp_path):
    _two_models(tmp_path)
    long = long_rows(load_runs([tmp_path]))
    assert len(long) == 4 and set(long.metric) == {"accuracy"}
    # accuracy; stderr = sd of per-problem correctness / sqrt(problems), in points
    expected = {
        ("A", "gsm8k"): (75.0, 100 * math.sqrt(0.25 / 4)),
        ("A", "math"): (20.0, 100 * math.sqrt(0.2 / 5)),
        ("B", "gsm8k"): (100.0, 0.0),
        ("B", "math"): (40.0, 100 * math.sqrt(0.3 / 5)),
    }
    for (model, benchmark), (accuracy, stderr) in expected.items():
        assert _value(long, model, benchmark, "accuracy") == accuracy
        assert _value(long, model, benchmark, "accuracy", "stderr") == pytest.approx(
            stderr, abs=0.005
        )
    assert _value(long, "A", "math", "accuracy", "n_problems") == 5
    assert _value(long, "A", "math", "accuracy", "run_id") == "A/math/direct/t0.0"
    assert set(long.grader_profile) == {"cfteval"} and set(long.cfteval_version) == {"0.1.0"}


def test_pass_at_k_and_maj_at_k_match_the_closed_form(tmp_path):
    _, verdicts = _sampled_run(tmp_path)
    long = long_rows(load_runs([tmp_path]))

    def closed_form(n, c, k):
        return 1 - math.comb(n - c, k) / math.comb(n, k)

    for k in (1, 2, 4):
        expected = 100 * sum(closed_form(4, sum(v), k) for v in verdicts.values()) / 3
        assert _value(long, "A", "math500", f"pass@{k}") == pytest.approx(expected, abs=0.005)
    assert _value(long, "A", "math500", "pass@2") == pytest.approx(44.44, abs=0.005)
    assert _value(long, "A", "math500", "maj@4") == pytest.approx(100 / 3, abs=0.005)
    assert _value(long, "A", "math500", "accuracy") == 25.0
    assert _value(long, "A", "math500", "accuracy", "n") == 4


def test_pivot_and_paper_layout_averages(tmp_path):
    _two_models(tmp_path)
    long = long_rows(load_runs([tmp_path]))
    wide = pivot(long).set_index("model")
    assert wide.loc["A", "gsm8k"] == 75.0 and wide.loc["A", "math"] == 20.0
    assert wide.loc["B", "gsm8k"] == 100.0 and wide.loc["B", "math"] == 40.0
    six = layouts(long, with_paper=True)["maths6"].set_index("model")
    assert math.isnan(six.loc["A", "AVG"])  # four of the six benchmarks missing: no average
    paper = six.loc["paper T2: Qwen2.5-Math-7B WebInstruct-CFT"]
    assert paper["math"] == 79.4 and paper["AVG"] == 56.0
    # A model with all six benchmarks gets their plain mean.
    for index, benchmark in enumerate(("minerva_math", "olympiadbench", "aime24", "amc23")):
        write_known_run(
            tmp_path, "B", benchmark, make_samples({p: [p < "ab"[index % 2]] for p in "ab"})
        )
    long = long_rows(load_runs([tmp_path]))
    b_row = pivot(long, ("math", "minerva_math", "gsm8k", "olympiadbench", "aime24", "amc23"))
    b_row = b_row.set_index("model").loc["B"]
    assert b_row["AVG"] == pytest.approx((40 + 0 + 100 + 50 + 0 + 50) / 6, abs=0.005)


def test_leaderboard_updates_without_duplicates_and_keeps_profiles_apart(tmp_path):
    runs_a, runs_b = tmp_path / "a", tmp_path / "b"
    _two_models(runs_a)
    out = tmp_path / "lb" / "leaderboard.csv"
    first = run_cfteval("leaderboard", str(runs_a), "-o", str(out), "--format", "md", timeout=120)
    assert first.returncode == 0, first.stderr
    assert len(pd.read_csv(out)) == 4
    assert "| A | direct | 0.0 | cfteval | chatml | 75.0 | 20.0 |" in (
        out.with_name("leaderboard-wide.md").read_text()
    ).replace("| gsm8k | math |", "")
    # A second folder: model C graded with the qwen profile on gsm8k.
    write_known_run(runs_b, "C", "gsm8k", make_samples({"a": [True], "b": [False]}), profile="qwen")
    write_known_run(runs_b, "C", "math", make_samples({"a": [True], "b": [True]}))
    again = run_cfteval("leaderboard", str(runs_a), str(runs_b), "-o", str(out), timeout=120)
    assert again.returncode == 0, again.stderr
    long = pd.read_csv(out)
    assert len(long) == 6 and not long.duplicated(subset=["run_id", "metric"]).any()
    assert "grader profiles differ (cfteval, qwen)" in again.stderr
    wide = pd.read_csv(out.with_name("leaderboard-wide.csv"))
    c_rows = wide[wide.model == "C"].set_index("grader_profile")
    assert c_rows.loc["qwen", "gsm8k"] == 50.0 and math.isnan(c_rows.loc["qwen", "math"])
    assert c_rows.loc["cfteval", "math"] == 100.0 and math.isnan(c_rows.loc["cfteval", "gsm8k"])
    # Two folders holding the same run: refused, not merged silently.
    write_known_run(tmp_path / "c", "C", "math", make_samples({"a": [False]}))
    clash = run_cfteval("leaderboard", str(runs_b), str(tmp_path / "c"), "-o", str(out))
    assert clash.returncode == 2 and "are both run C/math/direct/t0.0" in clash.stderr
    assert len(pd.read_csv(out)) == 6
    # A re-graded run replaces its row.
    write_known_run(runs_a, "A", "gsm8k", make_samples({p: [True] for p in "abcd"}))
    merged = merge_long(long, long_rows(load_runs([runs_a])))
    assert len(merged) == 6 and _value(merged, "A", "gsm8k", "accuracy") == 100.0


def test_mcnemar_matches_the_hand_computation(tmp_path):
    # 12 problems: 1 only A solves, 7 only B solves, 2 both, 2 neither.
    a = {f"p{i}": [i == 0 or i in (8, 9)] for i in range(12)}
    b = {f"p{i}": [1 <= i <= 9] for i in range(12)}
    write_known_run(tmp_path / "a", "A", "aime24", make_samples(a))
    write_known_run(tmp_path / "b", "B", "aime24", make_samples(b))
    (row,) = compare_runs(tmp_path / "a", tmp_path / "b")
    assert (row.a_accuracy, row.b_accuracy, row.difference) == (25.0, 75.0, 50.0)
    assert (row.test.a_only, row.test.b_only, row.test.n_problems) == (1, 7, 12)
    # Exact two-sided binomial: 2 · P(X ≤ 1), X ~ Bin(8, ½) = 2 · (1 + 8) / 256
    assert row.test.p_value == pytest.approx(18 / 256)
    assert not row.test.significant
    assert any("only 12 problems" in note for note in row.notes)
    strong = mcnemar_exact([False] * 8 + [True], [True] * 8 + [True])
    assert strong.p_value == pytest.approx(2 / 256) and strong.significant


def test_paired_bootstrap_over_problems():
    # B gains half a point of correctness on 15 of 20 problems and loses nothing.
    a = [0.25] * 20
    b = [0.75] * 15 + [0.25] * 5
    test = paired_bootstrap(a, b)
    assert test.significant and test.p_value == 0.0
    assert test.ci_low <= 100 * 0.5 * 15 / 20 <= test.ci_high
    same = paired_bootstrap([0.5, 0.0, 1.0], [0.5, 0.0, 1.0])
    assert same.p_value == 1.0 and not same.significant


def test_compare_command_prints_the_verdict(tmp_path):
    write_known_run(
        tmp_path / "a", "A", "gsm8k", make_samples({f"p{i}": [i < 3] for i in range(10)})
    )
    write_known_run(
        tmp_path / "b", "B", "gsm8k", make_samples({f"p{i}": [i < 9] for i in range(10)})
    )
    result = run_cfteval("compare", str(tmp_path / "a"), str(tmp_path / "b"), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "+60.0" in result.stdout and "McNemar" in result.stdout
    assert "significant (p=0.0312" in result.stdout  # 2 · (1/2)^6
    assert "only 10 problems" in result.stdout
    paper = run_cfteval("compare", str(tmp_path / "a"), "paper:2:Qwen2.5-Math-7B:Base", timeout=120)
    assert paper.returncode == 0, paper.stderr
    assert "91.6" in paper.stdout and "no paired test" in paper.stdout
