"""Self-critique modes through the real pipeline (run_eval, grader, metrics, run folders) with a
scripted in-memory backend whose answers each test chooses: wrong or right solutions, Correct or
Incorrect critiques. The model folder is a bare config (never loaded); the benchmark is a local
three-problem copy of MATH-500's format."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

import cfteval.backends
from cfteval.backends.base import Backend, TokenCallback
from cfteval.evaluate import EvalConfig, run_eval
from cfteval.modes import ModeName
from cfteval.records import Completion, Request

GOLDS = {"p0": "5", "p1": "12", "p2": "\\frac{1}{2}"}
RIGHT = "We compute carefully. The answer is \\boxed{{{gold}}}."
WRONG = "We compute hastily. The answer is \\boxed{{999}}."

# script(request, gold) -> text
Script = Callable[[Request, str], str]


class ScriptedBackend(Backend):
    """Answers from a test's script and records every call (one call = one batch)."""

    name = "scripted"

    def __init__(self, script: Script) -> None:
        self.script = script
        self.calls: list[list[Request]] = []

    def version(self) -> str:
        return "0"

    def stream(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> Iterator[Completion]:
        self.calls.append(list(requests))
        for request in requests:
            texts = []
            for _ in range(request.sampling.n):
                texts.append(self.script(request, GOLDS[request.problem_id]))
            yield Completion(
                request.key, texts, [len(t.split()) for t in texts], ["stop"] * len(texts)
            )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "math500"
    folder.mkdir(parents=True)
    rows = [
        {"unique_id": pid, "problem": f"Question {pid}: what is it?", "answer": gold}
        for pid, gold in GOLDS.items()
    ]
    (folder / "test.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return tmp_path / "data"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def _run(
    script: Script,
    data_dir: Path,
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    **options,
) -> tuple[ScriptedBackend, dict]:
    backend = ScriptedBackend(script)
    monkeypatch.setattr(cfteval.backends, "load_backend", lambda *args, **kwargs: backend)
    config = EvalConfig(
        model=str(model_dir),
        benchmarks=["math500"],
        data_dir=data_dir,
        out=data_dir.parent / "runs",
        grade_timeout=10.0,
        **options,
    )
    results = run_eval(config)
    return backend, {(r.mode, r.temperature): r for r in results}


def _samples(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]


def _stages(calls: list[list[Request]]) -> list[set[tuple[str, str]]]:
    return [{(request.mode, request.stage) for request in call} for call in calls]


# Per problem, per attempt: (solution is right?, critique text).
TWO_STAGE_SCRIPT = {
    # right, judged right: one attempt
    "p0": [(True, "Every step checks out.\nConclusion: right [END]")],
    # wrong, judged Incorrect; then right, judged Correct: a wrong→right flip in two attempts
    "p1": [
        (False, "Step 2 is wrong.\n\nCritique Conclusion: Incorrect"),
        (True, "**Conclusion:** Correct"),
    ],
    # right but judged wrong; wrong without a verdict; wrong judged incorrect: three attempts
    # (the maximum), the last solution stands, a right→wrong flip
    "p2": [
        (True, "## Conclusion\n\nThe solution is wrong."),
        (False, "Hmm, I cannot tell."),
        (False, "Conclusion: incorrect [END]"),
    ],
}


def _two_stage_script(request: Request, gold: str) -> str:
    right, critique = TWO_STAGE_SCRIPT[request.problem_id][request.round]
    if request.mode == ModeName.TWO_STAGE.value and request.stage == "critique":
        return critique
    return RIGHT.format(gold=gold) if right else WRONG.format()


def test_two_stage_attempts_verdicts_flips_and_critic_metrics(
    data_dir: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, runs = _run(
        _two_stage_script,
        data_dir,
        model_dir,
        monkeypatch,
        modes=[ModeName.DIRECT, ModeName.TWO_STAGE],
        temperatures=[0.6],
        max_attempts=3,
    )
    # One backend call per stage per round, each with every unresolved chain of the round.
    # The first attempt (draw 0, n = 1) is the direct mode's request itself: same prompt, same
    # sampling, same key, so the two modes share one generation.
    assert [len(call) for call in backend.calls] == [3, 3, 2, 2, 1, 1]
    assert {stage for _, stage in _stages(backend.calls)[0]} == {"solve"}
    assert _stages(backend.calls)[1:] == [
        {("two-stage", "critique")},
        {("two-stage", "solve")},
        {("two-stage", "critique")},
        {("two-stage", "solve")},
        {("two-stage", "critique")},
    ]
    # A fresh attempt is a new draw: new key (and so a new seed), same prompt.
    solves = [
        r for call in backend.calls for r in call if r.mode == "two-stage" and r.stage == "solve"
    ]
    assert len({r.key for r in solves}) == len(solves) == 6
    assert sorted(r.draw for r in solves if r.problem_id == "p2") == [0, 1, 2]
    # The critique prompt holds the question and the solution it judges, in the CFT format.
    critique = next(r for r in backend.calls[1] if r.problem_id == "p1")
    assert "Please critique whether the following solution to the question is correct." in (
        critique.prompt
    )
    assert "Question:\nQuestion p1: what is it?" in critique.prompt
    assert "Solution:\nWe compute hastily. The answer is \\boxed{999}." in critique.prompt

    result = runs[("two-stage", 0.6)]
    samples = {s["problem_id"]: s for s in _samples(result.run_dir)}
    assert [len(samples[p]["stages"]) for p in ("p0", "p1", "p2")] == [1, 2, 3]
    assert [s["verdict"] for s in samples["p2"]["stages"]] == ["incorrect", "none", "incorrect"]
    assert [s["correct"] for s in samples["p2"]["stages"]] == [True, False, False]
    assert samples["p1"]["stages"][1]["critique"] == "**Conclusion:** Correct"
    assert samples["p1"]["stages"][0]["extracted"] == "999"
    assert [samples[p]["correct"] for p in ("p0", "p1", "p2")] == [True, True, False]

    metrics = result.metrics
    assert metrics["accuracy"] == pytest.approx(66.67)
    assert metrics["mean_attempts"] == 2.0
    # Verdicts vs grades: (C, right) (I, wrong) (C, right) (I, right) (none, wrong) (I, wrong)
    assert metrics["verdicts"] == 6 and metrics["verdicts_unparseable"] == 1
    assert metrics["precision_correct"] == 100.0
    assert metrics["recall_correct"] == pytest.approx(66.67)
    assert metrics["precision_incorrect"] == pytest.approx(66.67)
    assert metrics["recall_incorrect"] == pytest.approx(66.67)
    assert metrics["unparseable_share"] == pytest.approx(16.67)
    assert metrics["flips_wrong_to_right"] == 1 and metrics["flips_right_to_wrong"] == 1
    # Every solution and critique counts as compute.
    words = sum(
        len(st["solution"].split()) + len(st["critique"].split())
        for s in samples.values()
        for st in s["stages"]
    )
    assert metrics["tokens_generated"] == words
    assert metrics["tokens_per_problem"] == pytest.approx(words / 3, abs=0.1)
    assert runs[("direct", 0.6)].metrics["accuracy"] == pytest.approx(66.67)  # = attempt 0
    assert "verdicts" not in runs[("direct", 0.6)].metrics
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["mode"] == "two-stage" and manifest["sampling"]["max_attempts"] == 3
    assert result.run_dir.parts[-2:] == ("two-stage", "t0.6")


def test_two_stage_critique_temperature_and_greedy_single_attempt(
    data_dir: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never_satisfied(request: Request, gold: str) -> str:
        return "Conclusion: wrong" if request.stage == "critique" else WRONG.format()

    backend, runs = _run(
        never_satisfied,
        data_dir,
        model_dir,
        monkeypatch,
        modes=[ModeName.TWO_STAGE],
        temperatures=[0.0, 0.3],
        critique_temperature=0.0,
        max_attempts=4,
    )
    # Greedy retries would repeat themselves: one attempt at T=0; four at T=0.3.
    assert runs[("two-stage", 0.0)].metrics["mean_attempts"] == 1.0
    assert runs[("two-stage", 0.3)].metrics["mean_attempts"] == 4.0
    critiques = [r for call in backend.calls for r in call if r.stage == "critique"]
    assert critiques and {r.sampling.temperature for r in critiques} == {0.0}
    assert len(backend.calls) == 8  # 4 rounds × (solve, critique)


def test_two_stage_with_n_samples_has_one_chain_per_sample_and_a_filtered_vote(
    data_dir: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Samples 0 and 1 agree on a wrong answer the critic rejects; sample 2 is right and accepted.
    def script(request: Request, gold: str) -> str:
        sample = request.draw % 3
        if request.stage == "critique":
            return "Conclusion: right" if sample == 2 else "Conclusion: wrong"
        return RIGHT.format(gold=gold) if sample == 2 else WRONG.format()

    backend, runs = _run(
        script,
        data_dir,
        model_dir,
        monkeypatch,
        modes=[ModeName.TWO_STAGE],
        temperatures=[0.6],
        n=3,
        max_attempts=1,
    )
    first = backend.calls[0]
    assert len(first) == 9 and all(r.sampling.n == 1 for r in first)
    assert len({r.key for r in first}) == 9
    metrics = runs[("two-stage", 0.6)].metrics
    assert metrics["maj@3"] == 0.0  # the plain vote follows the repeated wrong answer
    assert metrics["critique_maj@3"] == 100.0  # the critic's filter keeps the right one
    assert metrics["precision_correct"] == 100.0 and metrics["recall_incorrect"] == 100.0


def test_single_pass_records_declared_errors_and_changed_answers(
    data_dir: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def script(request: Request, gold: str) -> str:
        assert "then critique your solution" in request.prompt
        return {
            # wrong first, declared incorrect, corrected: wrong→right
            "p0": "First: \\boxed{999}. Conclusion: incorrect.\n\nCorrected: \\boxed{5}.",
            # right and confirmed
            "p1": "So \\boxed{12}.\n\nConclusion: correct.",
            # right first, "corrected" into a wrong answer without a verdict: right→wrong
            "p2": "So \\boxed{\\frac{1}{2}}. On second thought \\boxed{2}.",
        }[request.problem_id]

    backend, runs = _run(
        script,
        data_dir,
        model_dir,
        monkeypatch,
        modes=[ModeName.SINGLE_PASS],
        temperatures=[0.1],
    )
    assert len(backend.calls) == 1
    result = runs[("single-pass", 0.1)]
    samples = {s["problem_id"]: s for s in _samples(result.run_dir)}
    records = {pid: s["stages"][0] for pid, s in samples.items()}
    assert records["p0"] | {} == records["p0"]
    assert (records["p0"]["first_answer"], records["p0"]["first_correct"]) == ("999", False)
    assert records["p0"]["declared_wrong"] and records["p0"]["answer_changed"]
    assert records["p1"]["verdict"] == "correct" and not records["p1"]["answer_changed"]
    assert records["p1"]["first_correct"] is True
    assert records["p2"]["verdict"] == "none" and records["p2"]["declared_wrong"]
    assert [samples[p]["correct"] for p in ("p0", "p1", "p2")] == [True, True, False]
    metrics = result.metrics
    assert metrics["flips_wrong_to_right"] == 1 and metrics["flips_right_to_wrong"] == 1
    # (I, wrong) (C, right) (I, right)
    assert metrics["precision_correct"] == 100.0
    assert metrics["precision_incorrect"] == 50.0 and metrics["recall_incorrect"] == 100.0
