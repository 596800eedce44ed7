"""`cfteval select`: score every checkpoint of a run with the normal eval pipeline, keep the best.

The paper keeps the checkpoint with the best MATH-500 accuracy (the best is usually mid-run).
Each checkpoint is one ordinary `run_eval` (greedy, the protocol prompt, one engine start at
most); generations land in the usual completion store, keyed by each checkpoint's identity, so
a rerun — after more checkpoints were written, or a grader fix — only generates what is new.
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cfteval.errors import UserError
from cfteval.progress import Progress
from cfteval.train.trainer import checkpoint_step, list_checkpoints

logger = logging.getLogger(__name__)

SELECTION_CSV = "selection.csv"
BEST_LINK = "best"


@dataclass(frozen=True)
class CheckpointScore:
    """One checkpoint's accuracy (percent) on the validation benchmark."""

    step: int
    checkpoint: Path
    accuracy: float
    stderr: float


@dataclass(frozen=True)
class Selection:
    scores: list[CheckpointScore]
    best: CheckpointScore
    csv_path: Path
    best_path: Path


def score_checkpoint(
    checkpoint: Path,
    benchmark: str,
    *,
    limit: int | None,
    backend: str,
    data_dir: Path | None,
    out: Path,
    max_tokens: int | None,
    progress: Progress | None,
) -> CheckpointScore:
    """Greedy accuracy of one checkpoint through `run_eval` (cached generations reused)."""
    from cfteval.evaluate import EvalConfig, run_eval

    config = EvalConfig(
        model=str(checkpoint),
        benchmarks=[benchmark],
        temperatures=[0.0],
        limit=limit,
        backend=backend,
        data_dir=data_dir,
        out=out,
        max_tokens=max_tokens,
    )
    [result] = run_eval(config, progress)
    return CheckpointScore(
        step=checkpoint_step(checkpoint),
        checkpoint=checkpoint,
        accuracy=float(result.metrics["accuracy"]),
        stderr=float(result.metrics["stderr"]),
    )


def pick_best(scores: list[CheckpointScore]) -> CheckpointScore:
    """Highest accuracy; on a tie the earlier step (the same score for less training)."""
    return max(scores, key=lambda score: (score.accuracy, -score.step))


def write_selection(ckpt_dir: Path, scores: list[CheckpointScore], best: CheckpointScore) -> Path:
    path = ckpt_dir / SELECTION_CSV
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "checkpoint", "accuracy", "stderr", "best"])
        for score in scores:
            best_mark = "1" if score is best else "0"
            writer.writerow(
                [score.step, score.checkpoint.name, score.accuracy, score.stderr, best_mark]
            )
    os.replace(tmp, path)
    return path


def mark_best(ckpt_dir: Path, best: CheckpointScore) -> Path:
    """`best` → checkpoint-N as a relative link (a text file where links are not allowed)."""
    link = ckpt_dir / BEST_LINK
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        raise UserError(f"{link} exists and is not a link; move it away to mark the best")
    try:
        link.symlink_to(best.checkpoint.name, target_is_directory=True)
    except OSError:
        link.write_text(best.checkpoint.name + "\n", encoding="utf-8")
    return link


def select_checkpoints(
    ckpt_dir: Path,
    benchmark: str = "math500",
    *,
    limit: int | None = None,
    backend: str = "auto",
    data_dir: Path | None = None,
    out: Path | None = None,
    max_tokens: int | None = None,
    progress: Progress | None = None,
) -> Selection:
    """Score every complete checkpoint-* under ckpt_dir, write selection.csv, mark the best."""
    from cfteval.benchmarks import get_spec

    get_spec(benchmark)  # an unknown benchmark fails before any model loads
    if not ckpt_dir.is_dir():
        raise UserError(f"{ckpt_dir}: no such folder")
    checkpoints = list_checkpoints(ckpt_dir)
    if not checkpoints:
        raise UserError(f"{ckpt_dir}: no complete checkpoint-* folders to score")
    runs_out = out or ckpt_dir / "selection-runs"
    scores = []
    for checkpoint in checkpoints:
        logger.info("scoring %s on %s", checkpoint.name, benchmark)
        scores.append(
            score_checkpoint(
                checkpoint,
                benchmark,
                limit=limit,
                backend=backend,
                data_dir=data_dir,
                out=runs_out,
                max_tokens=max_tokens,
                progress=progress,
            )
        )
    best = pick_best(scores)
    return Selection(
        scores, best, write_selection(ckpt_dir, scores, best), mark_best(ckpt_dir, best)
    )


def curve_rows(scores: list[CheckpointScore], width: int = 40) -> list[tuple[str, str, str, str]]:
    """(step, accuracy, ± stderr, bar) per checkpoint: the accuracy-vs-step curve as text."""
    top = max((score.accuracy for score in scores), default=0.0) or 1.0
    return [
        (
            str(score.step),
            f"{score.accuracy:.1f}",
            f"±{score.stderr:.1f}",
            "█" * round(width * score.accuracy / top),
        )
        for score in scores
    ]
