"""`cfteval cft-data`'s pipeline with scripted in-memory backends (the real-model run is in
test_cft_data_end_to_end.py): which rows are critiqued, kept and dropped, the manifest, resume."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

import cfteval.backends
from cfteval.backends.base import Backend, TokenCallback
from cfteval.cftdata.config import CftDataConfig, RoleSettings
from cfteval.cftdata.output import write_outputs
from cfteval.cftdata.pipeline import build_cft_data
from cfteval.cftdata.verify import KeepPolicy
from cfteval.errors import UserError
from cfteval.partials import PartialDelta
from cfteval.records import Completion, Request
from cfteval.train.config import TrainMode
from cfteval.train.data import load_rows

GOLDS = {"q1": "7", "q2": "12", "q3": "5", "q4": "9"}
QUESTIONS = {"q1": "What is 3 + 4?", "q2": "What is 3 * 4?", "q3": "What is 9 - 4?", "q4": "3 ^ 2?"}


class ScriptedBackend(Backend):
    """Answers each request from a script of (request) -> texts and records every request."""

    name = "scripted"

    def __init__(self, script: Callable[[Request], list[str]]) -> None:
        self.script = script
        self.requests: list[Request] = []

    def version(self) -> str:
        return "0"

    def stream(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> Iterator[Completion]:
        for request in requests:
            self.requests.append(request)
            texts = self.script(request)
            yield Completion(
                request.key, texts, [len(t.split()) for t in texts], ["stop"] * len(texts)
            )


def solver_script(request: Request) -> list[str]:
    """q1: right and a wrong one; q2: wrong twice (identical, counted once); q3: right; q4: wrong."""
    answers = {
        "q1": ["3 + 4 = 7. \\boxed{7}", "3 + 4 = 8. \\boxed{8}"],
        "q2": ["3 * 4 = 13. \\boxed{13}", "3 * 4 = 13. \\boxed{13}"],
        "q3": ["9 - 4 = 5. \\boxed{5}", "  "],
        "q4": ["3 ^ 2 = 6. \\boxed{6}", "3 ^ 2 = 9. \\boxed{9}"],
    }
    return answers[request.problem_id][: request.sampling.n]


def teacher_script(request: Request) -> list[str]:
    """Right about q1 and q3, calls everything of q2 right (contradicts), no conclusion on q4."""
    question = request.problem_id
    if question == "q4":
        return ["I am not sure what to make of this."]
    if question == "q2":
        return ["Looks fine to me.\n\nConclusion: right "]
    solution = request.prompt.split("Solution:\n", 1)[1]
    says_right = "= 7." in solution or "= 5." in solution
    return [f"Checked each step.\n\nConclusion: {'right' if says_right else 'wrong'} "]


@pytest.fixture
def questions_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    rows = [{"id": qid, "problem": QUESTIONS[qid], "gold": GOLDS[qid]} for qid in GOLDS]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _model(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text("{}")
    return folder


@pytest.fixture
def backends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, ScriptedBackend]:
    made = {"solver": ScriptedBackend(solver_script), "teacher": ScriptedBackend(teacher_script)}
    loads: list[str] = []

    def load(name: str, model_path: str, **kwargs) -> Backend:
        loads.append(model_path)
        return made[Path(model_path).name]

    monkeypatch.setattr(cfteval.backends, "load_backend", load)
    made["loads"] = loads  # type: ignore[assignment]
    return made


def _config(tmp_path: Path, questions: Path, **options) -> CftDataConfig:
    return CftDataConfig(
        questions=str(questions),
        out=tmp_path / "out",
        solver=RoleSettings(str(_model(tmp_path, "solver")), temperature=0.7, max_tokens=64),
        teacher=RoleSettings(str(_model(tmp_path, "teacher")), max_tokens=64),
        fields={"question": "problem", "answer": "gold"},
        n=2,
        grade_timeout=10.0,
        **options,
    )


def _run(config: CftDataConfig) -> dict:
    result = build_cft_data(config)
    return write_outputs(config.out, config, result, "now")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rows_are_verified_against_the_grader_and_only_agreeing_critiques_kept(
    tmp_path: Path, questions_file: Path, backends: dict
) -> None:
    config = _config(tmp_path, questions_file)
    manifest = _run(config)
    rows = _jsonl(config.out / "rows.jsonl")
    # q1: 2 distinct, q2: 1 (duplicate dropped), q3: 1 (blank dropped), q4: 2 → 6 critiqued.
    assert [(r["question_id"], r["solution_correct"]) for r in rows] == [
        ("q1", True), ("q1", False), ("q2", False), ("q3", True), ("q4", False), ("q4", True),
    ]  # fmt: skip
    assert [r["agreement"] for r in rows] == [
        "agree", "agree", "contradict", "agree", "unparseable", "unparseable",
    ]  # fmt: skip
    assert [r["kept"] for r in rows] == [True, True, False, True, False, False]
    assert rows[2]["dropped_because"] == "contradict (--keep agree)"
    data = _jsonl(config.out / "cft.jsonl")
    assert len(data) == 3 and all(set(row) == {"instruction", "input", "output"} for row in data)
    assert data[1]["input"] == "Question:\nWhat is 3 + 4?\n\nSolution:\n3 + 4 = 8. \\boxed{8}\n"
    assert data[1]["output"] == "Checked each step.\n\nConclusion: wrong [END]"
    counts, agreement = manifest["counts"], manifest["teacher_agreement"]
    assert counts["solutions"] == 6 and counts["solutions_right"] == 3
    assert counts["kept"] == 3 and counts["dropped_contradict"] == 1
    assert counts["dropped_unparseable"] == 2
    assert agreement["agreement"] == 0.5 and agreement["unparseable"] == 2
    assert agreement["precision_on_wrong"] == 1.0 and agreement["recall_on_wrong"] == round(
        1 / 3, 4
    )
    assert manifest["teacher"]["prompt_hash"] and manifest["solutions"]["prompt_hash"]
    assert manifest["solutions"]["backend"]["name"] == "scripted"
    # The rows are what `cfteval train --mode cft` reads.
    train_rows = load_rows(str(config.out / "cft.jsonl"), TrainMode.CFT)
    assert len(train_rows) == 3 and train_rows[1].response.endswith("Conclusion: wrong [END]")


def test_keep_all_keeps_flagged_rows(tmp_path: Path, questions_file: Path, backends: dict) -> None:
    config = _config(tmp_path, questions_file, keep=KeepPolicy.ALL)
    manifest = _run(config)
    assert manifest["counts"]["kept"] == 6
    assert len(_jsonl(config.out / "cft.jsonl")) == 6


def test_a_rerun_generates_nothing_and_writes_the_same_data(
    tmp_path: Path, questions_file: Path, backends: dict
) -> None:
    config = _config(tmp_path, questions_file)
    _run(config)
    first = (config.out / "cft.jsonl").read_text()
    asked = len(backends["solver"].requests) + len(backends["teacher"].requests)
    manifest = _run(config)
    assert len(backends["solver"].requests) + len(backends["teacher"].requests) == asked
    assert (config.out / "cft.jsonl").read_text() == first
    assert manifest["teacher"]["backend"]["from_cache"] == 6
    assert manifest["teacher"]["backend"]["generated_by"] == {"scripted 0": 6}


def test_wrong_ratio_spares_teacher_calls_and_sets_the_share(
    tmp_path: Path, questions_file: Path, backends: dict
) -> None:
    """3 right and 3 wrong solutions, ratio 0.25: one wrong one is critiqued (3 right need 1)."""
    config = _config(tmp_path, questions_file, wrong_ratio=0.25, keep=KeepPolicy.ALL)
    manifest = _run(config)
    assert len(backends["teacher"].requests) == 4
    counts = manifest["counts"]
    assert counts["not_critiqued_for_balance"] == 2
    assert counts["kept"] == 4 and counts["kept_wrong"] == 1


def test_same_model_as_solver_and_teacher_is_loaded_once(
    tmp_path: Path, questions_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def script(request: Request) -> list[str]:
        return solver_script(request) if request.stage == "solve" else teacher_script(request)

    backend = ScriptedBackend(script)
    loads = []
    monkeypatch.setattr(
        cfteval.backends, "load_backend", lambda *a, **k: loads.append(a) or backend
    )
    model = str(_model(tmp_path, "both"))
    config = _config(tmp_path, questions_file)
    config.solver.model = config.teacher.model = model
    manifest = _run(config)
    assert len(loads) == 1
    assert manifest["counts"]["kept"] == 3
    assert len(list((config.out / "completions").iterdir())) == 1


def test_reference_solutions_from_a_column_need_no_solver(tmp_path: Path, backends: dict) -> None:
    path = tmp_path / "with_solutions.jsonl"
    rows = [
        {"question": "What is 3 + 4?", "answer": 7, "solutions": ["3 + 4 = 7. \\boxed{7}"]},
        {"question": "What is 9 - 4?", "answer": "5", "solutions": "9 - 4 = 6. \\boxed{6}"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    config = CftDataConfig(
        questions=str(path),
        out=tmp_path / "out",
        teacher=RoleSettings(str(_model(tmp_path, "teacher"))),
        solutions_column="solutions",
        grade_timeout=10.0,
    )
    manifest = _run(config)
    assert backends["solver"].requests == []
    assert manifest["solutions"] == {"source": "reference", "column": "solutions"}
    rows_out = _jsonl(config.out / "rows.jsonl")
    assert [(r["question_id"], r["solution_correct"]) for r in rows_out] == [
        ("1", True),
        ("2", False),
    ]


@pytest.mark.parametrize(
    ("content", "fields", "message"),
    [
        ('{"question": "q"}\n', {}, r"questions\.jsonl:1: no field 'answer'"),
        (
            '{"question": "q", "answer": "1"}\n{"question": "", "answer": "2"}\n',
            {},
            r":2: empty question",
        ),
        ('{"question": "q", "answer": null}\n', {}, r":1: field 'answer' must be text or a number"),
        ('{"q": "x", "answer": "1"}\n', {"question": "problem"}, r"no field 'problem'"),
        (
            '{"id": "a", "question": "q", "answer": "1"}\n{"id": "a", "question": "r", "answer": "2"}\n',
            {},
            r":2: id 'a' already used at .*:1",
        ),
        ("", {}, "no rows"),
        ('{"question": "q", "answer": "1"\n', {}, r"questions\.jsonl:1"),
    ],
)
def test_bad_question_rows_are_reported_with_file_and_line(
    tmp_path: Path, backends: dict, content: str, fields: dict, message: str
) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text(content)
    config = _config(tmp_path, path)
    config.fields = fields
    with pytest.raises(UserError, match=message):
        build_cft_data(config)
    assert backends["loads"] == []  # refused before any model loads


def test_neither_solver_nor_solutions_column_is_refused(
    tmp_path: Path, questions_file: Path
) -> None:
    config = _config(tmp_path, questions_file)
    config.solver = None
    with pytest.raises(UserError, match="--solver"):
        build_cft_data(config)


def test_a_solution_the_grader_timed_out_on_is_not_critiqued(
    tmp_path: Path, questions_file: Path, backends: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its truth is unknown: a critique of it could be neither verified nor refuted."""
    import cfteval.cftdata.pipeline as pipeline
    from cfteval.grading.types import GradeResult

    real = pipeline.grade_items

    def grade_with_one_timeout(items, **kwargs):
        results = real(items, **kwargs)
        results[0] = GradeResult(extracted=None, correct=False, timed_out=True)
        return results

    monkeypatch.setattr(pipeline, "grade_items", grade_with_one_timeout)
    config = _config(tmp_path, questions_file)
    manifest = _run(config)
    assert manifest["counts"]["grader_timeouts"] == 1
    assert manifest["counts"]["critiqued"] == 5 == len(backends["teacher"].requests)
    assert all(
        r["question_id"] != "q1" or r["solution_index"] != 0
        for r in _jsonl(config.out / "rows.jsonl")
    )


def test_multiple_choice_critiques_show_the_options() -> None:
    from cfteval.prompts import question_with_choices, render_prompt
    from cfteval.records import Problem

    problem = Problem("gpqa_diamond", "1", "Which is a noble gas?", "B", "multiple_choice",
                      choices=["N2", "Ne", "O2", "H2"])  # fmt: skip
    shown = question_with_choices(problem)
    assert shown == "Which is a noble gas?\nAnswer Choices: (A) N2 (B) Ne (C) O2 (D) H2"
    assert shown in render_prompt(problem, "gpqa")  # the solver saw the same options
    plain = Problem("math500", "2", "What is 1 + 1?", "2", "math")
    assert question_with_choices(plain) == "What is 1 + 1?"


class InterruptingBackend(ScriptedBackend):
    """Answers `before` requests, then behaves as if the user pressed Ctrl-C."""

    def __init__(self, script: Callable[[Request], list[str]], before: int) -> None:
        super().__init__(script)
        self.before = before

    def stream(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> Iterator[Completion]:
        for index, completion in enumerate(super().stream(requests, on_tokens)):
            if index == self.before:
                raise KeyboardInterrupt
            yield completion


def test_an_interrupted_run_keeps_what_finished_and_the_rerun_generates_only_the_rest(
    tmp_path: Path, questions_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfteval.errors import RunInterrupted

    made = {
        "solver": ScriptedBackend(solver_script),
        "teacher": InterruptingBackend(teacher_script, 2),
    }
    monkeypatch.setattr(
        cfteval.backends, "load_backend", lambda name, path, **k: made[Path(path).name]
    )
    config = _config(tmp_path, questions_file)
    with pytest.raises(RunInterrupted) as interrupted:
        build_cft_data(config)
    assert interrupted.value.saved == 4 + 2  # every solution, two critiques
    assert not (config.out / "cft.jsonl").exists()

    made["teacher"] = ScriptedBackend(teacher_script)
    made["solver"] = ScriptedBackend(solver_script)
    manifest = _run(config)
    assert made["solver"].requests == []  # every solution came from the store
    assert len(made["teacher"].requests) == 6 - 2
    assert manifest["teacher"]["backend"]["from_cache"] == 2
    assert manifest["counts"]["kept"] == 3


class ContinuingBackend(InterruptingBackend):
    """As the vLLM backend does: saves each request's progress before answering it, and
    records which kept progress each call was given to continue."""

    continues_partial_answers = True

    def __init__(self, script: Callable[[Request], list[str]], before: int) -> None:
        super().__init__(script, before)
        self.given: list[set[str]] = []

    def stream_resumable(self, requests, on_tokens=None, continuation=None):  # type: ignore[no-untyped-def]
        self.given.append(set(continuation.partials) if continuation else set())
        for request in requests:
            if continuation is not None:
                continuation.save([PartialDelta(request.key, 0, 0, [11, 12, 13])])
        yield from self.stream(requests, on_tokens)


@pytest.mark.parametrize("restart_partial", [False, True])
def test_solutions_left_part_way_are_continued_unless_restart_partial(
    tmp_path: Path, questions_file: Path, monkeypatch: pytest.MonkeyPatch, restart_partial: bool
) -> None:
    """`cft-data --restart-partial` as `eval --restart-partial`: kept progress is not continued."""
    from cfteval.errors import RunInterrupted

    made = {
        "solver": ContinuingBackend(solver_script, 2),
        "teacher": ScriptedBackend(teacher_script),
    }
    monkeypatch.setattr(
        cfteval.backends, "load_backend", lambda name, path, **k: made[Path(path).name]
    )
    with pytest.raises(RunInterrupted):
        build_cft_data(_config(tmp_path, questions_file))
    made["solver"] = ContinuingBackend(solver_script, 99)
    _run(_config(tmp_path, questions_file, restart_partial=restart_partial))
    [given] = made["solver"].given
    assert len(made["solver"].requests) == 2  # the two solutions the killed run did not store
    assert given == (set() if restart_partial else {r.key for r in made["solver"].requests})
