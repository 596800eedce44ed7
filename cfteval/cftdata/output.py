"""What `cfteval cft-data` writes into --out: the data set, every critiqued row, a manifest.

- `cft.jsonl`: the kept rows in WebInstruct-CFT's form (instruction, input, output), which
  `cfteval train --mode cft --data OUT/cft.jsonl` reads as is;
- `rows.jsonl`: every critiqued row with the solution's graded answer, the critique's
  conclusion, the agreement and, for a dropped row, why it was dropped: for auditing a teacher;
- `manifest.json`: models, backends, prompts with their hashes, sampling, seeds, counts and the
  teacher's agreement with the grader.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cfteval import __version__
from cfteval.backends.served import ServerOptions
from cfteval.cftdata.config import CftDataConfig
from cfteval.cftdata.pipeline import CftDataResult, Role
from cfteval.cftdata.records import CritiquedRow, SolutionSource
from cfteval.cftdata.verify import DropReason, TeacherAgreement
from cfteval.generation import backend_record
from cfteval.grading.types import FinishReason
from cfteval.manifest import git_revision, hardware_summary, redacted_command, software_versions
from cfteval.prompts import (
    TEACHER_STOP,
    build_messages,
    critique_row_fields,
    question_with_choices,
    teacher_messages,
)
from cfteval.records import Problem
from cfteval.store import write_json_atomic, write_jsonl_atomic

END_MARK = "[END]"
DATA_FILE, ROWS_FILE, MANIFEST_FILE = "cft.jsonl", "rows.jsonl", "manifest.json"


def training_output(critique: str) -> str:
    """The critique as a training target: ending in "[END]", which generation stopped at (and
    left out), so that a CFT model learns to stop where the protocol's stop strings expect."""
    text = critique.rstrip()
    return text if text.endswith(END_MARK) else f"{text} {END_MARK}"


def cft_row(row: CritiquedRow) -> dict[str, str]:
    """One WebInstruct-CFT row: the critique prompt's instruction and input, the critique."""
    instruction, input_text = critique_row_fields(
        question_with_choices(row.candidate.problem), row.candidate.solution
    )
    return {
        "instruction": instruction,
        "input": input_text,
        "output": training_output(row.critique),
    }


def audit_row(row: CritiquedRow) -> dict[str, Any]:
    candidate = row.candidate
    return {
        "question_id": candidate.problem.id,
        "solution_index": candidate.index,
        "source": candidate.source,
        "question": candidate.problem.question,
        "gold": candidate.problem.gold,
        "solution": candidate.solution,
        "solution_finish_reason": candidate.finish_reason,
        "extracted": candidate.extracted,
        "solution_correct": candidate.correct,
        "grader_timed_out": candidate.timed_out,
        "critique": row.critique,
        "critique_finish_reason": row.critique_finish_reason,
        "teacher_verdict": row.verdict.value,
        "agreement": row.agreement.value,
        "kept": row.kept,
        "dropped_because": row.dropped_because,
    }


def counts(result: CftDataResult) -> dict[str, Any]:
    """The numbers of the run, stage by stage (also the summary table's)."""
    candidates, rows = result.candidates, result.critiqued
    kept = [row for row in rows if row.kept]
    dropped = Counter(row.drop_reason for row in rows if row.drop_reason is not None)
    kept_wrong = sum(not row.candidate.correct for row in kept)
    return {
        "questions": len(result.questions.problems),
        "solutions": len(candidates),
        "solutions_right": sum(c.correct for c in candidates),
        "solutions_wrong": sum(not c.correct for c in candidates),
        "solutions_cut_off": sum(c.finish_reason == FinishReason.LENGTH for c in candidates),
        "grader_timeouts": sum(c.timed_out for c in candidates),
        "not_critiqued_for_balance": result.pre_balance_dropped,
        "critiqued": len(rows),
        "dropped_contradict": dropped[DropReason.CONTRADICT],
        "dropped_unparseable": dropped[DropReason.UNPARSEABLE],
        "dropped_for_balance": dropped[DropReason.BALANCE],
        "kept": len(kept),
        "kept_wrong": kept_wrong,
        "kept_wrong_share": round(kept_wrong / len(kept), 4) if kept else None,
    }


def teacher_agreement(result: CftDataResult) -> TeacherAgreement:
    return TeacherAgreement.of((row.verdict, row.candidate.correct) for row in result.critiqued)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _role_record(
    name: str, role: Role, result: CftDataResult, prompt: str, server: ServerOptions
) -> dict[str, Any]:
    settings = role.settings
    generator = result.generators[name]
    return {
        "model": {
            "name": settings.model,
            "path": role.model.path,
            "identity": role.model.identity,
            "revision_or_hash": role.model.revision_or_hash,
        },
        "backend": backend_record(generator, result.completions.get(name, []))
        | (server.recorded(settings.base_urls) if settings.backend == "openai" else {}),
        "prompt_format": settings.prompt_format,
        "prompt_hash": _hash(prompt),
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
    }


def build_manifest(config: CftDataConfig, result: CftDataResult, started_at: str) -> dict[str, Any]:
    """manifest.json: everything needed to tell how the data was made, and to make it again."""
    probe = Problem("probe", "0", "{question}", "", "math")
    questions = result.questions
    manifest: dict[str, Any] = {
        "kind": "cft-data",
        "questions": {
            "source": questions.source,
            "fingerprint": questions.fingerprint,
            "fields": config.fields or None,
            "answer_type": None
            if questions.source.startswith("benchmark:")
            else config.answer_type,
            "limit": config.limit,
            "n_questions": len(questions.problems),
        },
        "solutions": {"source": SolutionSource.REFERENCE, "column": config.solutions_column}
        if result.solver is None
        else {
            "source": SolutionSource.SOLVER,
            "n_per_question": config.n,
            "template": questions.prompt_template,
        }
        | _role_record(
            "solver",
            result.solver,
            result,
            result.solver.render(build_messages(probe, questions.prompt_template)),
            config.server,
        ),  # fmt: skip
        "teacher": _role_record(
            "teacher",
            result.teacher,
            result,
            result.teacher.render(teacher_messages("{question}", "{solution}")),
            config.server,
        ),  # fmt: skip
        "stop": {"solver": list(questions.stop), "teacher": list(TEACHER_STOP)},
        "seed": config.seed,
        "keep": config.keep.value,
        "wrong_ratio": config.wrong_ratio,
        "grading": {"profile": config.grade_profile, "timeout_seconds": config.grade_timeout},
        "counts": counts(result),
        "teacher_agreement": teacher_agreement(result).as_dict(),
        "files": {"data": DATA_FILE, "rows": ROWS_FILE},
        "started_at": started_at,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(result.wall_seconds, 2),
        "cfteval_version": __version__,
        "git_revision": git_revision(),
        "software": software_versions(),
        "hardware": hardware_summary(),
        "command": redacted_command(sys.argv),
    }
    return manifest


def write_outputs(out: Path, config: CftDataConfig, result: CftDataResult, started_at: str) -> dict:
    """Write the three files (each atomically) and return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(out / DATA_FILE, (cft_row(row) for row in result.critiqued if row.kept))
    write_jsonl_atomic(out / ROWS_FILE, (audit_row(row) for row in result.critiqued))
    manifest = build_manifest(config, result, started_at)
    write_json_atomic(out / MANIFEST_FILE, manifest)
    return manifest
