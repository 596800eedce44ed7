"""`cfteval bench train`: `cfteval train` against a hand-written masked cross-entropy loop.

Both sides train the same model on the same batches for the same number of optimizer steps,
each in a fresh process so that peak memory is the side's own: the trainer side runs first
and records which rows each step trained on; the reference side replays exactly those
batches with plain PyTorch (right padding, full logits, shifted cross-entropy with −100 on the
prompt, AdamW, gradient clipping, the same cosine schedule). Step 1 (allocation, warm-up) is
not timed. Memory is the peak resident set on CPU, peak allocated CUDA memory on a GPU.
"""

from __future__ import annotations

import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cfteval.errors import UserError
from cfteval.prompts import critique_row_fields


def sample_rows(n: int, seed: int = 0) -> list[dict[str, str]]:
    """A fixed CFT sample: arithmetic word problems, multi-step solutions, critiques (~300 tokens)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b, c = rng.randint(10, 99), rng.randint(2, 9), rng.randint(100, 999)
        wrong = rng.random() < 0.5
        product = a * b + (rng.randint(1, 5) if wrong else 0)
        steps = "\n".join(
            f"Step {k}: we carry the partial result {product + k * c} forward and check units."
            for k in range(1, rng.randint(4, 9))
        )
        solution = f"First, {a} boxes of {b} items give {product} items.\n{steps}\n"
        solution += f"Adding {c} more gives \\boxed{{{product + c}}}."
        critique_lines = [
            f"The solution multiplies {a} by {b}; the correct product is {a * b}.",
            *(
                f"Line {k} of the solution re-states the running total; this is "
                f"{'consistent' if not wrong else 'built on the wrong product'}."
                for k in range(1, rng.randint(4, 10))
            ),
        ]
        verdict = "wrong" if wrong else "right"
        question = f"A shop has {a} boxes of {b} items and receives {c} more items. How many items does it have?"
        instruction, input_text = critique_row_fields(question, solution)
        rows.append(
            {
                "instruction": instruction,
                "input": input_text,
                "output": "\n".join(critique_lines) + f"\nConclusion: {verdict} [END]",
            }
        )
    return rows


@dataclass
class SideResult:
    """What one side measured."""

    side: str
    tokens_per_second: float
    peak_memory_mb: float
    baseline_memory_mb: float
    timed_steps: int
    tokens: int
    losses: list[float]


def _memory_mb(device: str) -> float:
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _run_trainer_side(spec: dict[str, Any], work: Path) -> SideResult:
    """`cfteval train`'s own trainer, minus checkpoint writing; records each step's rows."""
    from transformers import TrainerCallback

    from cfteval.train.config import Precision, TrainConfig
    from cfteval.train.trainer import METRICS_LOG, build_trainer, load_tokenizer, prepare_data

    config = TrainConfig(
        model=spec["model"],
        data=spec["data"],
        out=work / "train",
        lr=spec["lr"],
        max_steps=spec["steps"],
        batch_size=spec["batch_size"],
        max_length=spec["max_length"],
        save_steps=10**9,
        precision=Precision(spec["precision"]),
    )
    config.out.mkdir(parents=True)
    tokenizer = load_tokenizer(config.model)
    data = prepare_data(config, tokenizer)
    marks: list[tuple[float, float]] = []

    class _Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            _sync(spec["device"])
            marks.append((time.perf_counter(), state.global_step))

    trainer = build_trainer(config, tokenizer, data, [_Clock()])
    trainer.args.save_strategy = "no"
    baseline = _current_rss_mb() if spec["device"] == "cpu" else _memory_mb("cuda")
    trainer.train()
    steps = [json.loads(line) for line in (config.out / METRICS_LOG).read_text().splitlines()]
    rows_per_step = [record["rows"] for record in steps if record["kind"] == "step"]
    losses = [record["loss"] for record in steps if record["kind"] == "log" and "loss" in record]
    (work / "batches.json").write_text(json.dumps(rows_per_step))
    tokens = _tokens_of(rows_per_step[1:], data, tokenizer)
    elapsed = marks[-1][0] - marks[0][0]
    return SideResult("cfteval train", tokens / elapsed, _memory_mb(spec["device"]), baseline,
                      len(marks) - 1, tokens, losses)  # fmt: skip


def _tokens_of(rows_per_step: list[list[str]], data: Any, tokenizer: Any) -> int:
    from cfteval.train.trainer import row_hash

    lengths = {row_hash(row.input_ids): len(row.input_ids) for row in data.rows}
    return sum(lengths[h] for step in rows_per_step for h in step)


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def _run_reference_side(spec: dict[str, Any], work: Path) -> SideResult:
    """A plain PyTorch loop over the very batches the trainer side trained on."""
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM

    from cfteval.train.config import TrainConfig
    from cfteval.train.trainer import load_tokenizer, prepare_data, row_hash

    config = TrainConfig(model=spec["model"], data=spec["data"], max_length=spec["max_length"])
    tokenizer = load_tokenizer(config.model)
    data = prepare_data(config, tokenizer)
    by_hash = {row_hash(row.input_ids): row for row in data.rows}
    batches = [
        [by_hash[h] for h in step] for step in json.loads((work / "batches.json").read_text())
    ]
    device = torch.device(spec["device"])
    model = AutoModelForCausalLM.from_pretrained(config.model, dtype=torch.float32).to(device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=spec["lr"], weight_decay=0.0)
    total, warmup = len(batches), math.ceil(0.1 * len(batches))

    def cosine(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=spec["precision"] == "bf16")
    baseline = _current_rss_mb() if spec["device"] == "cpu" else _memory_mb("cuda")
    marks, losses, tokens = [], [], 0
    for index, batch in enumerate(batches):
        width = max(len(row.input_ids) for row in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for i, row in enumerate(batch):
            n = len(row.input_ids)
            ids[i, :n] = torch.tensor(row.input_ids)
            attention[i, :n] = 1
            kept = torch.tensor(row.completion_mask, dtype=torch.bool)
            labels[i, :n] = torch.where(kept, torch.tensor(row.input_ids), -100)
        ids, labels, attention = ids.to(device), labels.to(device), attention.to(device)
        with autocast:
            logits = model(input_ids=ids, attention_mask=attention).logits
        loss = F.cross_entropy(
            logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten(), ignore_index=-100
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        _sync(spec["device"])
        marks.append(time.perf_counter())
        if index > 0:
            tokens += int(attention.sum())
    elapsed = marks[-1] - marks[0]
    return SideResult("hand-written loop", tokens / elapsed, _memory_mb(spec["device"]), baseline,
                      len(marks) - 1, tokens, losses)  # fmt: skip


def _worker(side: str, spec_path: str, work: str) -> None:
    """Entry point of one side's process (`python -m cfteval.train.bench SIDE SPEC WORK`)."""
    spec = json.loads(Path(spec_path).read_text())
    run = _run_trainer_side if side == "trainer" else _run_reference_side
    result = run(spec, Path(work))
    (Path(work) / f"{side}.json").write_text(json.dumps(asdict(result)))


def bench_train(
    model: str, steps: int, batch_size: int, max_length: int, n_rows: int, lr: float = 1e-5
) -> tuple[SideResult, SideResult]:
    """Run both sides in turn (trainer first: the reference replays its batches)."""
    import torch

    if steps < 3:
        raise UserError("--steps must be at least 3 (step 1 is not timed)")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    precision = "bf16" if device == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    with tempfile.TemporaryDirectory(prefix="cfteval-bench-train-") as scratch:
        work = Path(scratch)
        data = work / "sample.jsonl"
        data.write_text("".join(json.dumps(row) + "\n" for row in sample_rows(n_rows)))
        spec = {"model": model, "data": str(data), "steps": steps, "batch_size": batch_size,
                "max_length": max_length, "lr": lr, "device": device, "precision": precision}  # fmt: skip
        (work / "spec.json").write_text(json.dumps(spec))
        results = []
        for side in ("trainer", "reference"):
            command = [
                sys.executable,
                "-m",
                "cfteval.train.bench",
                side,
                str(work / "spec.json"),
                scratch,
            ]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                tail = "\n".join(done.stderr.strip().splitlines()[-15:])
                raise RuntimeError(f"bench side {side} failed:\n{tail}")
            results.append(SideResult(**json.loads((work / f"{side}.json").read_text())))
    return results[0], results[1]


if __name__ == "__main__":
    _worker(*sys.argv[1:4])
