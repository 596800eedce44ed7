"""`cfteval train`: masked-loss CFT/SFT on TRL's SFTTrainer, read top to bottom.

The data is read, validated and tokenised here (with our own prompt-prefix masking and an
explicit over-length rule), then handed to SFTTrainer as a pre-tokenised prompt/completion
dataset (`input_ids` + `completion_mask`, completion-only loss). Everything a trainer already
does well — optimiser, cosine schedule with warm-up, gradient accumulation, mixed precision,
gradient checkpointing, DDP/FSDP/DeepSpeed through accelerate, checkpoints, resume — is
TRL/transformers'. A rerun with the same output folder resumes from its last checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfteval.errors import UserError
from cfteval.train.config import Precision, TrainConfig, config_record
from cfteval.train.data import data_fingerprint, load_rows
from cfteval.train.masking import EncodedData, encode_rows

logger = logging.getLogger(__name__)

RUN_RECORD = "train_config.json"
METRICS_LOG = "metrics.jsonl"
DATA_REPORT = "data_report.json"
# A resumed run must train the same thing; these settings decide what that is.
_RESUME_KEYS = ("mode", "model", "data", "data_config", "format", "max_length", "overlength",
                "seed", "batch_size", "grad_accum", "limit", "lora")  # fmt: skip


@dataclass
class TrainResult:
    """What a finished run produced."""

    out: Path
    global_step: int
    resumed_from: str | None
    data: dict[str, int]
    checkpoints: list[Path]


def load_tokenizer(model: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot load the tokenizer of {model}: {error}") from None
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(f"{model} has no chat template; CFT rows are rendered with it")
    return tokenizer


def prepare_data(config: TrainConfig, tokenizer: Any) -> EncodedData:
    """Read, validate and encode the rows (the same on every process: it is deterministic)."""
    rows = load_rows(config.data, config.mode, config.format, config.data_config, config.limit)
    return encode_rows(tokenizer, rows, config.max_length, config.overlength)


def row_hash(token_ids: list[int]) -> str:
    """A short fingerprint of one trained row: identifies repeats across a resume."""
    return hashlib.sha1(repr(token_ids).encode()).hexdigest()[:12]


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _use_bf16(precision: Precision) -> bool:
    import torch

    if precision is Precision.BF16:
        return True
    if precision is Precision.FP32:
        return False
    return _has_cuda() and torch.cuda.is_bf16_supported()


def _check_resume(out: Path, config: TrainConfig) -> None:
    """Refuse to continue a run in `out` that trained something else."""
    record_path = out / RUN_RECORD
    if not record_path.is_file():
        return
    before = json.loads(record_path.read_text(encoding="utf-8"))
    now = config_record(config)
    changed = [key for key in _RESUME_KEYS if before.get(key) != now.get(key)]
    if changed:
        raise UserError(
            f"{out} holds checkpoints of a run with different {', '.join(changed)}; "
            "use a new --out or the same settings"
        )


def sft_config(config: TrainConfig) -> Any:
    """TRL's SFTConfig from ours. Sequences are already cut to length (max_length=None)."""
    from trl import SFTConfig

    return SFTConfig(
        output_dir=str(config.out),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.lr,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,  # a float in [0, 1) is a ratio of all steps
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        bf16=_use_bf16(config.precision),
        gradient_checkpointing=config.gradient_checkpointing,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        logging_steps=config.logging_steps,
        seed=config.seed,
        data_seed=config.seed,
        max_length=None,
        completion_only_loss=True,
        padding_free=config.padding_free,
        # Without a varlen attention kernel, rows flattened into one sequence would attend to
        # each other: padding-free batches need flash attention (a GPU and flash-attn).
        model_init_kwargs={"attn_implementation": "flash_attention_2"}
        if config.padding_free
        else None,
        report_to=["tensorboard"] if config.tensorboard else "none",
        disable_tqdm=True,
        dataloader_pin_memory=_has_cuda(),
        # On a machine without CUDA this makes a multi-process launch DDP over gloo on CPUs.
        use_cpu=not _has_cuda(),
        shuffle_dataset=False,  # the sampler shuffles each epoch, reproducibly from the seed
    )


def _peft_config(config: TrainConfig) -> Any:
    if config.lora is None:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=config.lora.target_modules,
        task_type="CAUSAL_LM",
    )


def build_trainer(
    config: TrainConfig, tokenizer: Any, data: EncodedData, callbacks: list, args: Any = None
) -> Any:
    """An SFTTrainer over the encoded rows, recording the rows each step trains on."""
    from accelerate.utils import gather_object
    from datasets import Dataset
    from transformers import PrinterCallback, Trainer
    from trl import SFTTrainer

    seen: list[list[str]] = []  # rows (fingerprints) of each micro-batch, all processes
    tokens: list[int] = []  # tokens of each micro-batch, all processes

    class _Trainer(SFTTrainer):
        def training_step(self, model, inputs, *args, **kwargs):
            hashes = _batch_row_hashes(inputs)
            seen.append(gather_object(hashes))
            tokens.append(sum(gather_object([_batch_tokens(inputs)])))
            return super().training_step(model, inputs, *args, **kwargs)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if _fused_head_pays_off(model):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            # The model's own loss: the shifted cross-entropy over `labels`, which the collator
            # set to -100 outside the completion (TRL folds its completion mask into them).
            return Trainer.compute_loss(self, model, inputs, return_outputs, num_items_in_batch)

    from cfteval.train.callbacks import MetricsLog

    trainer = _Trainer(
        model=config.model,  # TRL loads it (fp32 master weights; bf16 is autocast)
        args=args or sft_config(config),
        train_dataset=Dataset.from_dict(data.as_columns()),
        processing_class=tokenizer,
        peft_config=_peft_config(config),
        callbacks=[MetricsLog(config.out / METRICS_LOG, seen, tokens), *callbacks],
    )
    # Our progress line replaces the raw dict transformers prints when tqdm is off.
    trainer.remove_callback(PrinterCallback)
    return trainer


def _fused_head_pays_off(model: Any) -> bool:
    """Whether TRL's chunked LM head (loss, entropy and token accuracy without the full logits)
    is worth it: on CUDA/XPU it runs Triton kernels and saves the logits' memory. Elsewhere it
    folds its tiles in plain torch and recomputes them in the backward pass, and on CPU the
    model's own loss trains SmolLM2 about 1.3x faster at the same peak memory
    (`cfteval bench train`)."""
    return next(model.parameters()).device.type in ("cuda", "xpu")


def _batch_tokens(inputs: dict[str, Any]) -> int:
    """Tokens of one micro-batch, padding left out (padding-free batches have none)."""
    if "attention_mask" in inputs:
        return int(inputs["attention_mask"].sum())
    return int(inputs["input_ids"].numel())


def _batch_row_hashes(inputs: dict[str, Any]) -> list[str]:
    """Fingerprints of the rows in one micro-batch (padded, or flattened padding-free)."""
    ids = inputs["input_ids"]
    if "attention_mask" in inputs:
        return [
            row_hash(row[mask.bool()].tolist())
            for row, mask in zip(ids, inputs["attention_mask"], strict=True)
        ]
    starts = (inputs["position_ids"][0] == 0).nonzero().flatten().tolist() + [ids.shape[1]]
    flat = ids[0].tolist()
    return [row_hash(flat[a:b]) for a, b in zip(starts, starts[1:], strict=False) if b > a]


def list_checkpoints(out: Path) -> list[Path]:
    """Complete `checkpoint-N` folders in step order.

    The trainer writes trainer_state.json last, so a folder without it is one a crash cut
    short: it is neither resumed from nor scored.
    """
    found = [
        path
        for path in out.glob("checkpoint-*")
        if path.name.split("-")[-1].isdigit() and (path / "trainer_state.json").is_file()
    ]
    return sorted(found, key=checkpoint_step)


def checkpoint_step(path: Path) -> int:
    """The N of `checkpoint-N`."""
    return int(path.name.split("-")[-1])


def run_training(config: TrainConfig, callbacks: list | None = None) -> TrainResult:
    """Train (or resume) and save; returns the final step and the checkpoints written."""
    from accelerate import PartialState
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # shard-writing bars would interleave with our progress
    # The training arguments set up the process group (DDP over NCCL or gloo, DeepSpeed, FSDP)
    # from the launcher's environment; only then may we ask which process this is.
    args = sft_config(config)
    logger.debug("training on %s", args.device)  # `device` is what sets the process group up
    state = PartialState()
    out = config.out
    checkpoints = list_checkpoints(out) if out.is_dir() else []
    if checkpoints:
        _check_resume(out, config)
    tokenizer = load_tokenizer(config.model)
    data = prepare_data(config, tokenizer)
    if state.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        record = config_record(config) | {"data_fingerprint": data_fingerprint(config.data)}
        (out / RUN_RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
        (out / DATA_REPORT).write_text(json.dumps(data.summary(), indent=2), encoding="utf-8")
    state.wait_for_everyone()
    trainer = build_trainer(config, tokenizer, data, callbacks or [], args)
    resume = str(checkpoints[-1]) if checkpoints else None
    if resume:
        logger.info("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume)
    _save_final(trainer, config)
    state.wait_for_everyone()
    return TrainResult(
        out=out,
        global_step=trainer.state.global_step,
        resumed_from=resume,
        data=data.summary(),
        checkpoints=list_checkpoints(out),
    )


def _save_final(trainer: Any, config: TrainConfig) -> None:
    """The final model in `out` itself; with LoRA, merged into the base so engines load it."""
    if config.lora is None:
        trainer.save_model(str(config.out))
        return
    trainer.save_model(str(config.out / "adapter"))
    if trainer.accelerator.is_main_process:
        merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
        merged.save_pretrained(str(config.out), safe_serialization=True)
        trainer.processing_class.save_pretrained(str(config.out))
