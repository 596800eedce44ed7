"""Building CFT data: questions → noisy solutions → grader → teacher critiques → verified rows.

Both models generate through the same `Generator` and completion store as `cfteval eval`, so a
run streams every finished completion to disk and a rerun (after a crash or Ctrl-C) generates
only what is missing. The grader sees each solution before the teacher does: `--wrong-ratio`
then trims the larger side first, so no teacher call is spent on a row that balancing would
drop anyway, and trims again after verification has dropped disagreeing critiques.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfteval.backends.served import ServerOptions
from cfteval.cftdata.balance import balance, check_ratio
from cfteval.cftdata.config import CftDataConfig, RoleSettings
from cfteval.cftdata.questions import REFERENCE_META, QuestionSet, load_questions
from cfteval.cftdata.records import Candidate, CritiquedRow, SolutionSource
from cfteval.cftdata.verify import DropReason, compare, critique_verdict, keeps
from cfteval.completion_store import CompletionStore, StoreLock
from cfteval.errors import RunInterrupted, UserError
from cfteval.evaluate import check_output_folder
from cfteval.generation import Generator, resolve_model_for
from cfteval.grading.sandbox import grade_items
from cfteval.grading.types import GradeItem
from cfteval.models import ModelInfo, load_tokenizer, model_slug
from cfteval.progress import Progress
from cfteval.prompts import (
    TEACHER_STOP,
    build_messages,
    question_with_choices,
    render_messages,
    teacher_messages,
)
from cfteval.records import Completion, Problem, Request, Sampling

MODE = "cft-data"


@dataclass
class Role:
    """A role's settings with its resolved model and, for offline chat prompts, its tokenizer."""

    settings: RoleSettings
    model: ModelInfo
    tokenizer: Any = None

    def render(self, messages: Any) -> str:
        return render_messages(messages, self.settings.prompt_format, self.tokenizer)


@dataclass
class CftDataResult:
    """What a run made: the questions, every candidate, every critiqued row, and the timings."""

    questions: QuestionSet
    solver: Role | None
    teacher: Role
    candidates: list[Candidate]
    critiqued: list[CritiquedRow]
    pre_balance_dropped: int
    generators: dict[str, Generator]
    completions: dict[str, list[Completion]]  # per role, for the manifest's provenance
    store_paths: list[Path]
    wall_seconds: float = 0.0


def _role(settings: RoleSettings, server: ServerOptions) -> Role:
    model = resolve_model_for(settings.backend, settings.model, settings.base_urls, server.api_key)
    offline_chat = settings.prompt_format == "chat" and settings.backend != "openai"
    return Role(settings, model, load_tokenizer(model) if offline_chat else None)


class _Generators:
    """One Generator per role, sharing one store (and its lock) when both roles use one model,
    and one Generator (one model load) when they also use the same backend settings."""

    def __init__(self, config: CftDataConfig, stack: ExitStack) -> None:
        self._config = config
        self._stack = stack
        self._stores: dict[Path, CompletionStore] = {}
        self.by_role: dict[str, Generator] = {}
        self._by_options: dict[str, Generator] = {}

    def store_path(self, role: Role) -> Path:
        return (
            self._config.out / "completions" / model_slug(role.settings.model) / "completions.jsonl"
        )

    def get(self, name: str, role: Role) -> Generator:
        config = self._config
        path = self.store_path(role)
        if path not in self._stores:
            self._stack.enter_context(StoreLock(path))
            self._stores[path] = CompletionStore(path)
        options = role.settings.backend_options(
            role.model, config.seed, config.dtype, config.max_model_len, config.server
        )
        signature = f"{path}|{options!r}"
        if signature not in self._by_options:
            generator = Generator(
                options,
                self._stores[path],
                overwrite=config.overwrite,
                restart_partial=config.restart_partial,
            )
            self._stack.callback(generator.close)
            self._by_options[signature] = generator
        self.by_role[name] = self._by_options[signature]
        return self.by_role[name]

    def release(self, name: str) -> None:
        """Close a role's model when no other role uses it (frees memory for the next model)."""
        generator = self.by_role[name]
        if all(other is not generator for role, other in self.by_role.items() if role != name):
            generator.close()

    @property
    def paths(self) -> list[Path]:
        return list(self._stores)


def _solve_requests(role: Role, questions: QuestionSet, config: CftDataConfig) -> list[Request]:
    settings = role.settings
    sampling = Sampling(
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        # Greedy decoding gives one text however often it is asked.
        n=config.n if settings.temperature > 0 else 1,
        seed=config.seed,
        stop=questions.stop,
    )
    return [
        Request(
            problem.id,
            role.render(build_messages(problem, questions.prompt_template)),
            sampling,
            role.model.identity,
            mode=MODE,
            stage="solve",
        )
        for problem in questions.problems
    ]


def _distinct(texts: list[tuple[str, str | None]]) -> Iterator[tuple[str, str | None]]:
    """Non-empty texts, each once: two identical solutions would make two identical rows."""
    seen: set[str] = set()
    for text, finish in texts:
        if text.strip() and text.strip() not in seen:
            seen.add(text.strip())
            yield text, finish


def _candidates(
    problem: Problem, texts: list[tuple[str, str | None]], source: SolutionSource
) -> list[Candidate]:
    return [
        Candidate(problem, index, text, source, finish)
        for index, (text, finish) in enumerate(_distinct(texts))
    ]


def _grade(candidates: list[Candidate], config: CftDataConfig, progress: Progress) -> None:
    items = [
        GradeItem(
            text=c.solution,
            gold=c.problem.gold,
            answer_type=c.problem.answer_type,
            benchmark="" if c.problem.benchmark == "questions" else c.problem.benchmark,
            n_choices=len(c.problem.choices) if c.problem.choices else None,
            finish_reason=c.finish_reason,
        )
        for c in candidates
    ]
    advance = progress.stage("grading solutions", len(items))
    results = grade_items(
        items, profile=config.grade_profile, timeout=config.grade_timeout, progress=advance
    )
    for candidate, result in zip(candidates, results, strict=True):
        candidate.extracted, candidate.correct = result.extracted, result.correct
        candidate.timed_out = result.timed_out


def _critique_request(
    role: Role, candidate: Candidate, stop: tuple[str, ...], seed: int
) -> Request:
    settings = role.settings
    sampling = Sampling(
        temperature=settings.temperature, max_tokens=settings.max_tokens, seed=seed, stop=stop
    )
    question = question_with_choices(candidate.problem)
    prompt = role.render(teacher_messages(question, candidate.solution))
    return Request(
        candidate.problem.id, prompt, sampling, role.model.identity, mode=MODE, stage="critique"
    )


def _verify(
    candidates: list[Candidate], critiques: dict[int, tuple[str, str | None]], config: CftDataConfig
) -> list[CritiquedRow]:
    rows = []
    for candidate in candidates:
        text, finish = critiques[id(candidate)]
        verdict = critique_verdict(text, finish)
        agreement = compare(verdict, candidate.correct)
        reason = None if keeps(config.keep, agreement) else DropReason(agreement.value)
        rows.append(CritiquedRow(candidate, text, finish, verdict, agreement, reason))
    kept_rows = [row for row in rows if row.kept]
    balanced = {
        id(row)
        for row in balance(
            kept_rows,
            _row_is_wrong,
            lambda row: row.candidate.row_id,
            config.wrong_ratio,
            config.seed,
        )
    }
    for row in kept_rows:
        if id(row) not in balanced:
            row.drop_reason = DropReason.BALANCE
    return rows


def _row_is_wrong(row: CritiquedRow) -> bool:
    return not row.candidate.correct


def _reference_candidates(questions: QuestionSet) -> list[Candidate]:
    """The solutions of the questions file's --solutions-column."""
    return [
        candidate
        for problem in questions.problems
        for candidate in _candidates(
            problem,
            [(text, None) for text in problem.meta[REFERENCE_META]],
            SolutionSource.REFERENCE,
        )
    ]


def _sampled_candidates(
    solver: Role,
    questions: QuestionSet,
    config: CftDataConfig,
    generator: Generator,
    progress: Progress,
) -> tuple[list[Candidate], list[Completion]]:
    """The solver's distinct solutions of every question, and the completions they came from."""
    requests = _solve_requests(solver, questions, config)
    answers = generator.complete(requests, progress)
    completions = [answers[request.key] for request in requests]
    candidates = [
        candidate
        for problem, completion in zip(questions.problems, completions, strict=True)
        for candidate in _candidates(
            problem,
            list(zip(completion.texts, completion.finish_reasons, strict=True)),
            SolutionSource.SOLVER,
        )
    ]
    return candidates, completions


@contextmanager
def _interruptible(generators: _Generators) -> Iterator[None]:
    """Ctrl-C: everything finished is in the stores; say how much, for the resume message."""
    try:
        yield
    except KeyboardInterrupt:
        used = set(generators.by_role.values())
        saved = sum(generator.generated for generator in used)
        part_way = sum(generator.kept_part_way for generator in used)
        paths = generators.paths
        raise RunInterrupted(saved, paths[-1] if paths else Path("."), part_way) from None


def build_cft_data(config: CftDataConfig, progress: Progress | None = None) -> CftDataResult:
    """Run the whole pipeline; the caller writes the result (see output.py)."""
    progress = progress or Progress()
    start = time.perf_counter()
    check_ratio(config.wrong_ratio)
    check_output_folder(config.out)
    if config.solver is None and config.solutions_column is None:
        raise UserError(
            "give a --solver to sample solutions, or --solutions-column to use the file's"
        )
    questions = load_questions(
        config.questions, columns=config.fields, answer_type=config.answer_type,
        solutions_column=config.solutions_column, data_dir=config.data_dir, limit=config.limit,
    )  # fmt: skip
    solver = (
        _role(config.solver, config.server)
        if config.solver and not config.solutions_column
        else None
    )
    teacher = _role(config.teacher, config.server)
    with ExitStack() as stack:
        generators = _Generators(config, stack)
        used: dict[str, list[Completion]] = {}
        with _interruptible(generators):
            if solver is None:
                candidates = _reference_candidates(questions)
            else:
                candidates, used["solver"] = _sampled_candidates(
                    solver, questions, config, generators.get("solver", solver), progress
                )
                generators.get("teacher", teacher)  # first: a shared model stays loaded
                generators.release("solver")
            if not candidates:
                raise UserError("no solution to critique: every solution was empty")
            _grade(candidates, config, progress)
            # A solution the grader could not judge in time has no known truth to check against.
            gradable = [c for c in candidates if not c.timed_out]
            to_critique = balance(
                gradable,
                lambda c: not c.correct,
                lambda c: c.row_id,
                config.wrong_ratio,
                config.seed,
            )
            requests = [
                _critique_request(teacher, c, TEACHER_STOP, config.seed) for c in to_critique
            ]
            answers = generators.get("teacher", teacher).complete(requests, progress)
            used["teacher"] = [answers[request.key] for request in requests]
        critiques = {
            id(c): (answers[r.key].texts[0], answers[r.key].finish_reasons[0])
            for c, r in zip(to_critique, requests, strict=True)
        }
        rows = _verify(to_critique, critiques, config)
        progress.done()
        return CftDataResult(
            questions, solver, teacher, candidates, rows,
            pre_balance_dropped=len(gradable) - len(to_critique),
            generators=dict(generators.by_role), completions=used, store_paths=generators.paths,
            wall_seconds=time.perf_counter() - start,
        )  # fmt: skip
