"""`cfteval bench grading`: grading throughput of cfteval's sandbox versus Math-Verify.

Both graders get the same (gold, prediction) pairs: the labelled dev cases, real MMLU-Pro model
outputs and simple synthetic variations, repeated to `n`. cfteval runs as the pipeline runs it
(`grade_items`, a worker pool with a per-item limit). Math-Verify runs as its users run it
(`verify(parse(gold), parse(pred))` in one process), but in a child process with an overall
time limit, because its own timeout does not stop every runaway (power towers); the
"pathological" dev cases are not given to it at all, and the output says so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cfteval.errors import UserError
from cfteval.grading.grade_file import infer_answer_type
from cfteval.grading.sandbox import grade_items
from cfteval.grading.types import GradeItem
from cfteval.store import read_jsonl

_PROGRESS_EVERY = 25


@dataclass
class Pair:
    gold: str
    pred: str
    benchmark: str
    pathological: bool = False


@dataclass
class BenchResult:
    grader: str
    items: int
    seconds: float
    workers: int
    note: str = ""

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0


def default_data_dir() -> Path:
    """$CFTEVAL_GRADING_DIR, else ../shared/grading beside the repository."""
    if os.environ.get("CFTEVAL_GRADING_DIR"):
        return Path(os.environ["CFTEVAL_GRADING_DIR"])
    return Path(__file__).resolve().parents[1].parent / "shared" / "grading"


def load_pairs(data_dir: Path, n: int, seed: int = 0) -> list[Pair]:
    """`n` pairs: dev cases + MMLU-Pro outputs + synthetic variations, cycled and shuffled."""
    cases_path, outputs_path = data_dir / "cases.dev.jsonl", data_dir / "mmlu_pro_outputs.dev.jsonl"
    for path in (cases_path, outputs_path):
        if not path.is_file():
            raise UserError(
                f"grading data not found: {path} (pass --data DIR or set CFTEVAL_GRADING_DIR)"
            )
    cases = read_jsonl(cases_path)
    base = [
        Pair(c["gold"], c["pred"], c["benchmark"], c.get("category") == "pathological")
        for c in cases
    ]
    base += [Pair(o["answer"], o["generated_text"], "mmlu_pro") for o in read_jsonl(outputs_path)]
    # Synthetic: each maths gold stated in a closing sentence, once right and once off by one.
    for case in cases:
        gold = case["gold"]
        if case["benchmark"] in ("gpqa", "mmlu_pro") or case.get("category") == "pathological":
            continue
        base.append(
            Pair(
                gold, f"Putting it together, the answer is $\\boxed{{{gold}}}$.", case["benchmark"]
            )
        )
        base.append(Pair(gold, f"So we get $\\boxed{{{gold} + 1}}$.", case["benchmark"]))
    pairs = [base[i % len(base)] for i in range(n)]
    random.Random(seed).shuffle(pairs)
    return pairs


def bench_cfteval(pairs: list[Pair], workers: int | None, timeout: float) -> BenchResult:
    items = []
    for pair in pairs:
        answer_type, n_choices = infer_answer_type(pair.benchmark, pair.gold)
        items.append(GradeItem(pair.pred, pair.gold, answer_type, pair.benchmark, n_choices))
    start = time.perf_counter()
    results = grade_items(items, profile="cfteval", timeout=timeout, workers=workers)
    seconds = time.perf_counter() - start
    used = min(workers or os.cpu_count() or 1, len(items))
    timeouts = sum(r.timed_out for r in results)
    return BenchResult(
        "cfteval",
        len(items),
        seconds,
        used,
        f"pool start-up included; {timeouts} time-outs at {timeout:g}s",
    )


def bench_math_verify(pairs: list[Pair], limit: float, processes: int = 1) -> BenchResult:
    """Math-Verify over the non-pathological pairs in `processes` child processes (one shard
    each, the same number of processes cfteval's pool used: like with like), all killed after
    `limit` s. Throughput is the pairs done over the slowest child's time."""
    if importlib.util.find_spec("math_verify") is None:
        raise UserError("Math-Verify is not installed (pip install math-verify)")
    usable = [p for p in pairs if not p.pathological]
    skipped = len(pairs) - len(usable)
    processes = max(1, min(processes, len(usable) or 1))
    with tempfile.TemporaryDirectory(prefix="cfteval-bench-") as tmp:
        children = []
        for shard in range(processes):
            pairs_path = Path(tmp) / f"pairs{shard}.jsonl"
            progress_path = Path(tmp) / f"progress{shard}.json"
            pairs_path.write_text(
                "".join(json.dumps([p.gold, p.pred]) + "\n" for p in usable[shard::processes]),
                encoding="utf-8",
            )
            command = [sys.executable, "-m", "cfteval.bench_grading", str(pairs_path)]
            child = subprocess.Popen([*command, str(progress_path)], stdin=subprocess.DEVNULL)
            children.append((child, progress_path))
        deadline, stopped, failed = time.monotonic() + limit, False, 0
        for child, _ in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                stopped = True
            failed += child.returncode not in (0, None) and not stopped
        progress = [
            json.loads(path.read_text()) if path.is_file() else (0, 0.0) for _, path in children
        ]
    done = sum(count for count, _ in progress)
    seconds = max((elapsed for _, elapsed in progress), default=0.0)
    notes = [f"{skipped} pathological pairs not given to it"]
    if stopped:
        notes.append(f"stopped at the {limit:g}s limit after {done} of {len(usable)} pairs")
    elif failed:
        notes.append(f"{failed} children failed after {done} pairs")
    return BenchResult("math-verify", done, seconds, processes, "; ".join(notes))


def _math_verify_child(pairs_path: str, progress_path: str) -> None:
    """Child process: grade every pair the way Math-Verify's users do, writing progress often."""
    import logging

    from math_verify import parse, verify

    logging.disable(logging.WARNING)  # Math-Verify logs every time-out it hits
    pairs = [json.loads(line) for line in Path(pairs_path).read_text(encoding="utf-8").splitlines()]

    def report(done: int, seconds: float) -> None:
        tmp = progress_path + ".tmp"
        Path(tmp).write_text(json.dumps([done, seconds]))
        os.replace(tmp, progress_path)

    start = time.perf_counter()
    for done, (gold, pred) in enumerate(pairs, start=1):
        verify(parse(gold), parse(pred))
        if done % _PROGRESS_EVERY == 0:
            report(done, time.perf_counter() - start)
    report(len(pairs), time.perf_counter() - start)


def bench_table(results: list[BenchResult]):
    """Rich table: one row per grader."""
    from rich.table import Table

    table = Table(title="grading throughput")
    for name in ("grader", "processes", "pairs", "seconds", "pairs/s", "note"):
        table.add_column(name, justify="left" if name in ("grader", "note") else "right")
    for r in results:
        table.add_row(
            r.grader,
            str(r.workers),
            str(r.items),
            f"{r.seconds:.1f}",
            f"{r.items_per_second:.1f}",
            r.note,
        )
    return table


if __name__ == "__main__":
    _math_verify_child(sys.argv[1], sys.argv[2])
