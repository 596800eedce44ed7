"""Training configuration: a recipe file (YAML) overlaid with the command line's flags.

A recipe holds everything that defines a run except the model, the data and the output folder,
so that "the paper's 7B recipe" is one reviewable file; flags override single values for a
smoke test or a sweep. Unknown keys are refused (a typo must not silently fall back to a
default learning rate).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cfteval.errors import UserError


class TrainMode(str, enum.Enum):
    """What the assistant turn holds: a critique of a noisy solution, or a solution."""

    CFT = "cft"
    SFT = "sft"


class OverLength(str, enum.Enum):
    """What happens to a row whose rendered conversation is longer than max_length.

    drop: the row is left out (default; a truncated critique loses its conclusion, the part the
    paper's models learn to write). truncate: the response is cut at max_length (the prompt is
    kept whole; a prompt that alone fills max_length is still dropped).
    """

    DROP = "drop"
    TRUNCATE = "truncate"


class Precision(str, enum.Enum):
    """auto: bf16 where the hardware supports it (CUDA with bf16), else fp32."""

    AUTO = "auto"
    BF16 = "bf16"
    FP32 = "fp32"


@dataclass
class LoraSettings:
    """Optional LoRA (peft); None in TrainConfig means full fine-tuning."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"


@dataclass
class TrainConfig:
    """Everything one `cfteval train` run needs; field names are the recipe's keys."""

    mode: TrainMode = TrainMode.CFT
    model: str = ""
    data: str = ""
    data_config: str | None = None  # hub config name, e.g. WebInstruct-CFT-4K
    format: dict[str, str] = field(default_factory=dict)  # logical field -> column name
    out: Path = Path("checkpoints")
    lr: float = 5e-6
    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = 8  # per device
    grad_accum: int = 1
    max_length: int = 2048
    overlength: OverLength = OverLength.DROP
    seed: int = 0
    warmup_ratio: float = 0.1
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    precision: Precision = Precision.AUTO
    gradient_checkpointing: bool = False
    padding_free: bool = False  # pack rows into one sequence per batch (needs flash attention)
    save_steps: int = 50
    save_total_limit: int | None = None  # None keeps every checkpoint (selection scores them all)
    logging_steps: int = 1
    limit: int | None = None  # use only the first K rows (smoke tests)
    lora: LoraSettings | None = None
    tensorboard: bool = False


_ENUMS = {"mode": TrainMode, "overlength": OverLength, "precision": Precision}
_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _coerce(name: str, value: Any, where: str) -> Any:
    """Turn a recipe or flag value into the field's type, or say which key is wrong."""
    if value is None:
        return None
    if name in _ENUMS:
        enum_type = _ENUMS[name]
        try:
            return enum_type(str(value).lower())
        except ValueError:
            known = ", ".join(member.value for member in enum_type)
            raise UserError(f"{where}: {name} must be one of {known}, not {value!r}") from None
    if name == "lora":
        if value is False:
            return None
        if value is True:
            return LoraSettings()
        if not isinstance(value, dict):
            raise UserError(f"{where}: lora must be a mapping (r, alpha, dropout, target_modules)")
        allowed = {f.name for f in dataclasses.fields(LoraSettings)}
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise UserError(f"{where}: unknown lora key(s) {unknown}; known: {sorted(allowed)}")
        return LoraSettings(**value)
    if name == "out":
        return Path(value)
    if name == "format":
        if not isinstance(value, dict):
            raise UserError(f"{where}: format must be a mapping of field=column")
        return {str(k): str(v) for k, v in value.items()}
    if name in {"lr", "epochs", "warmup_ratio", "weight_decay", "max_grad_norm"}:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise UserError(f"{where}: {name} must be a number, not {value!r}") from None
    if name in {"max_steps", "batch_size", "grad_accum", "max_length", "seed", "save_steps",
                "save_total_limit", "logging_steps", "limit"}:  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{where}: {name} must be an integer, not {value!r}")
        return value
    if name in {"gradient_checkpointing", "padding_free", "tensorboard"}:
        if not isinstance(value, bool):
            raise UserError(f"{where}: {name} must be true or false, not {value!r}")
        return value
    return value


def load_recipe(path: Path) -> dict[str, Any]:
    """The recipe's keys and values, checked against TrainConfig's fields."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"cannot read recipe {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}{line}: malformed YAML") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{path}: a recipe is a mapping of settings")
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise UserError(f"{path}: unknown recipe key(s) {unknown}; known: {sorted(_FIELDS)}")
    return {name: _coerce(name, value, str(path)) for name, value in raw.items()}


def build_config(recipe: Path | None, overrides: dict[str, Any]) -> TrainConfig:
    """Recipe values, then every flag the user gave (None = not given), then sanity checks."""
    values = load_recipe(recipe) if recipe is not None else {}
    for name, value in overrides.items():
        if value is not None:
            values[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    config = TrainConfig(**values)
    _check(config)
    return config


def _check(config: TrainConfig) -> None:
    if not config.model:
        raise UserError("no model: give --model (a checkpoint folder or hub id)")
    if not config.data:
        raise UserError("no data: give --data (a JSON/JSONL/parquet file or a hub dataset id)")
    positive = ("batch_size", "grad_accum", "max_length", "save_steps", "logging_steps")
    for name in positive:
        if getattr(config, name) < 1:
            raise UserError(f"{name} must be at least 1, not {getattr(config, name)}")
    if config.lr <= 0:
        raise UserError(f"lr must be positive, not {config.lr}")
    if config.max_steps <= 0 and config.epochs <= 0:
        raise UserError("give a positive number of epochs or max_steps")
    if not 0 <= config.warmup_ratio < 1:
        raise UserError(f"warmup_ratio must be in [0, 1), not {config.warmup_ratio}")


def config_record(config: TrainConfig) -> dict[str, Any]:
    """JSON-ready view of the config (enums as values, paths as strings) for the run folder."""

    def plain(value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {name: plain(value) for name, value in dataclasses.asdict(config).items()}
