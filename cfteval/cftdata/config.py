"""What `cfteval cft-data` was asked to do: the questions, the two models' roles, the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfteval.backends.served import ServerOptions
from cfteval.cftdata.verify import KeepPolicy
from cfteval.generation import BackendOptions
from cfteval.models import ModelInfo


@dataclass
class RoleSettings:
    """One model's part (the solver that writes noisy solutions, or the teacher that critiques
    them): which model, through which backend, with which prompt format and sampling."""

    model: str
    backend: str = "auto"
    base_urls: list[str] = field(default_factory=list)
    prompt_format: str = "chatml"
    temperature: float = 0.0
    max_tokens: int = 2048

    def backend_options(
        self, model: ModelInfo, seed: int, dtype: str, max_model_len: int | None,
        server: ServerOptions,
    ) -> BackendOptions:  # fmt: skip
        engine: dict[str, Any] = {}
        if self.backend == "openai":
            engine = server.engine_options(self.base_urls, chat=self.prompt_format == "chat")
        return BackendOptions(
            name=self.backend,
            model_path=model.path,
            seed=seed,
            max_model_len=max_model_len,
            dtype=dtype,
            engine_kwargs=engine,
        )


@dataclass
class CftDataConfig:
    """Everything `cfteval cft-data` was asked to do."""

    questions: str  # a JSONL/JSON/parquet file, or a registered benchmark's name
    out: Path
    teacher: RoleSettings
    solver: RoleSettings | None = None  # None: solutions come from `solutions_column`
    solutions_column: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    answer_type: str = "math"
    data_dir: Path | None = None
    limit: int | None = None
    n: int = 1  # solutions sampled per question (one when the solver decodes greedily)
    keep: KeepPolicy = KeepPolicy.AGREE
    wrong_ratio: float | None = None
    seed: int = 0
    dtype: str = "auto"
    max_model_len: int | None = None
    server: ServerOptions = field(default_factory=ServerOptions)
    grade_profile: str = "cfteval"
    grade_timeout: float = 3.0
    overwrite: bool = False
    # Generate solutions and critiques a killed run left part-way from their start.
    restart_partial: bool = False
