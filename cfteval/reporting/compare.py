"""`cfteval compare A B`: two sets of runs (or runs and a paper table) side by side.

A difference in accuracy is only worth reporting when it is larger than chance. Both sides
graded the same problems, so the test is paired: McNemar's exact test on the problems one side
solved and the other did not (one sample per problem), or a paired bootstrap of the mean
per-problem difference (several samples per problem). A benchmark of 30 problems moves 3.3
points per problem; the comparison says so rather than letting a reader trust the digits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cfteval.errors import UserError
from cfteval.records import Sample
from cfteval.rundir import Run, load_runs

SIGNIFICANCE = 0.05
SMALL_BENCHMARK = 100  # problems; below this, one problem is a point or more
BOOTSTRAP_RESAMPLES = 10_000


@dataclass
class PairedTest:
    """The outcome of a paired test over the problems both runs graded."""

    name: str  # "McNemar exact" or "paired bootstrap"
    n_problems: int
    p_value: float
    a_only: int | None = None  # McNemar: problems only A solved
    b_only: int | None = None
    ci_low: float | None = None  # bootstrap: 95% interval of B − A in points
    ci_high: float | None = None

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE


@dataclass
class ComparisonRow:
    benchmark: str
    mode: str
    temperature: float
    a_accuracy: float
    a_stderr: float | None
    b_accuracy: float
    b_stderr: float | None
    n_problems: int
    test: PairedTest | None
    notes: list[str]

    @property
    def difference(self) -> float:
        return round(self.b_accuracy - self.a_accuracy, 2)


def per_problem(samples: Sequence[Sample]) -> dict[str, float]:
    """Each problem's mean correctness (1.0 or 0.0 with one sample per problem)."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for sample in samples:
        groups[sample.problem_id].append(sample.correct)
    return {pid: sum(flags) / len(flags) for pid, flags in groups.items()}


def mcnemar_exact(a: Sequence[bool], b: Sequence[bool]) -> PairedTest:
    """Exact McNemar: under 'no difference', each discordant problem favours A or B with p = ½."""
    from scipy.stats import binomtest

    a_only = sum(x and not y for x, y in zip(a, b, strict=True))
    b_only = sum(y and not x for x, y in zip(a, b, strict=True))
    discordant = a_only + b_only
    p_value = 1.0 if discordant == 0 else float(binomtest(a_only, discordant, 0.5).pvalue)
    return PairedTest("McNemar exact", len(a), p_value, a_only=a_only, b_only=b_only)


def paired_bootstrap(a: Sequence[float], b: Sequence[float], seed: int = 0) -> PairedTest:
    """Bootstrap over problems of the mean difference B − A (in points), resampling pairs."""
    import numpy as np
    from scipy.stats import bootstrap

    differences = 100.0 * (np.asarray(b, dtype=float) - np.asarray(a, dtype=float))
    if np.all(differences == differences[0]):  # no spread: nothing to resample
        p_value = 1.0 if differences[0] == 0 else 0.0
        value = float(differences[0])
        return PairedTest("paired bootstrap", len(a), p_value, ci_low=value, ci_high=value)
    result = bootstrap(
        (differences,),
        np.mean,
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=0.95,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    means = result.bootstrap_distribution
    # Two-sided: how often the resampled mean falls on the far side of zero.
    p_value = min(1.0, 2.0 * min(float(np.mean(means <= 0)), float(np.mean(means >= 0))))
    interval = result.confidence_interval
    return PairedTest(
        "paired bootstrap",
        len(a),
        p_value,
        ci_low=round(float(interval.low), 2),
        ci_high=round(float(interval.high), 2),
    )


def paired_test(a: Run, b: Run) -> tuple[PairedTest | None, list[str]]:
    """The paired test over the problems both runs graded, with notes on what it covered."""
    a_scores, b_scores = per_problem(a.samples), per_problem(b.samples)
    shared = sorted(set(a_scores) & set(b_scores))
    notes = []
    if len(shared) < max(len(a_scores), len(b_scores)):
        notes.append(
            f"paired over the {len(shared)} problems both graded "
            f"(A has {len(a_scores)}, B has {len(b_scores)})"
        )
    if not shared:
        return None, [*notes, "no problem in common: no paired test"]
    xs, ys = [a_scores[p] for p in shared], [b_scores[p] for p in shared]
    binary = a.samples_per_problem == 1 and b.samples_per_problem == 1
    if binary:
        return mcnemar_exact([x == 1.0 for x in xs], [y == 1.0 for y in ys]), notes
    return paired_bootstrap(xs, ys), notes


def small_benchmark_note(n_problems: int) -> str | None:
    if n_problems >= SMALL_BENCHMARK:
        return None
    return (
        f"only {n_problems} problems: one problem is {100 / n_problems:.1f} points, and "
        "differences of several points arise by chance"
    )


def _match(a_runs: Sequence[Run], b_runs: Sequence[Run]) -> list[tuple[Run, Run]]:
    """Pair runs by (benchmark, mode, temperature); a benchmark run once on each side pairs too
    (so that T=0 of one folder can be compared with T=0.6 of another)."""

    def key(run: Run) -> tuple[str, str, float]:
        return (run.benchmark, run.mode, run.temperature)

    b_by_key = {key(run): run for run in b_runs}
    pairs = [(run, b_by_key[key(run)]) for run in a_runs if key(run) in b_by_key]
    paired = {a.benchmark for a, _ in pairs}
    for benchmark in dict.fromkeys(run.benchmark for run in a_runs):
        left = [r for r in a_runs if r.benchmark == benchmark]
        right = [r for r in b_runs if r.benchmark == benchmark]
        if benchmark not in paired and len(left) == 1 and len(right) == 1:
            pairs.append((left[0], right[0]))
    return pairs


def compare_runs(a_root: Path, b_root: Path) -> list[ComparisonRow]:
    """Every benchmark both sides ran, side by side with the paired test."""
    a_runs = load_runs([a_root], with_samples=True)
    b_runs = load_runs([b_root], with_samples=True)
    pairs = _match(a_runs, b_runs)
    if not pairs:
        raise UserError(f"{a_root} and {b_root} have no benchmark in common")
    rows = []
    for a, b in pairs:
        test, notes = paired_test(a, b)
        n_problems = test.n_problems if test else 0
        note = small_benchmark_note(n_problems) if n_problems else None
        if note:
            notes.append(note)
        if (a.mode, a.temperature) != (b.mode, b.temperature):
            notes.append(f"A is {a.mode} T={a.temperature:g}, B is {b.mode} T={b.temperature:g}")
        if a.profile != b.profile:
            notes.append(f"graded with different profiles ({a.profile} vs {b.profile})")
        rows.append(
            ComparisonRow(
                a.benchmark,
                a.mode,
                a.temperature,
                a.metrics["accuracy"],
                a.metrics.get("stderr"),
                b.metrics["accuracy"],
                b.metrics.get("stderr"),
                n_problems,
                test,
                notes,
            )
        )
    return rows


def compare_with_paper(
    a_root: Path, spec: str, paper_dir: Path | None = None
) -> list[ComparisonRow]:
    """Runs against a paper row: `paper:TABLE:MODEL[:METHOD]` (no per-problem data: no test)."""
    from cfteval.reporting.paper import load_paper

    parts = spec.split(":")
    if len(parts) not in (3, 4) or not parts[1].isdigit():
        raise UserError(
            f"{spec!r}: write a paper row as paper:TABLE:MODEL[:METHOD], "
            "e.g. paper:2:Qwen2.5-Math-7B:WebInstruct-CFT"
        )
    table, model, method = int(parts[1]), parts[2], parts[3] if len(parts) == 4 else ""
    paper = load_paper(paper_dir, tables=(table,))
    chosen = paper[(paper["model"] == model) & (paper["method"] == method)]
    if chosen.empty:
        known = sorted(
            {f"{m}:{t}" if t else m for m, t in zip(paper["model"], paper["method"], strict=True)}
        )
        raise UserError(f"{spec!r}: no such row in Table {table}; rows: {', '.join(known)}")
    rows = []
    for run in load_runs([a_root]):
        match = chosen[chosen["benchmark"] == run.benchmark]
        if "temperature" in match and match["temperature"].notna().any():
            match = match[(match["temperature"] == run.temperature)]
        if match.empty:
            continue
        n_problems = int(run.metrics.get("n_problems", 0))
        notes = ["the paper publishes no per-problem results: no paired test"]
        note = small_benchmark_note(n_problems) if n_problems else None
        if note:
            notes.append(note)
        stderr = run.metrics.get("stderr")
        if stderr:
            gap = float(match["value"].iloc[0]) - run.metrics["accuracy"]
            notes.append(f"the gap is {abs(gap) / stderr:.1f} of our standard errors")
        rows.append(
            ComparisonRow(
                run.benchmark,
                run.mode,
                run.temperature,
                run.metrics["accuracy"],
                stderr,
                float(match["value"].iloc[0]),
                None,
                n_problems,
                None,
                notes,
            )
        )
    if not rows:
        raise UserError(f"{a_root} has no run on a benchmark of {spec}")
    return rows


def verdict(row: ComparisonRow) -> str:
    """A few words on the difference: significant or not, at which p."""
    test = row.test
    if test is None:
        return "not tested"
    word = "significant" if test.significant else "not significant"
    return f"{word} (p={test.p_value:.3g}, {test.name})"
