"""The public grading API: extract, verify, grade a batch under the sandbox, and a reward function.

    from cfteval.grading import extract_answer, verify, grade_batch, MathReward

These signatures are stable (new parameters are keyword-only with defaults). Everything takes the
benchmark's name for its rules (tolerance, answer type, number of choices: the `grading:`
section of its YAML); without one, free-form maths with the defaults.

- `extract_answer(text, ...)`: the final answer stated in a model's text, or None.
- `verify(gold, prediction, ...)`: is the prediction (a whole text or a bare answer) right?
  In-process by default (fast; the parser only ever sees bounded input); pass `timeout` to run
  it in a worker process under a hard time limit, as untrusted text at scale should be.
- `grade_batch(predictions, golds, ...)`: many items in a worker pool, each under a hard time
  limit; results in input order.
- `MathReward`: a reward function in the shape TRL's `GRPOTrainer(reward_funcs=...)` expects —
  `reward(completions, **columns) -> list[float]`, 1.0 for a right answer and 0.0 otherwise
  (a time-out or no answer is 0.0). It keeps one sandbox pool open across training steps and
  needs no TRL import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cfteval.grading.extract import extract_answer as _extract
from cfteval.grading.profiles import grade_one
from cfteval.grading.rules import infer_typed_answer, rules_for
from cfteval.grading.sandbox import GradingPool, grade_items
from cfteval.grading.types import GradeItem, GradeResult
from cfteval.records import AnswerType

DEFAULT_TIMEOUT_S = 3.0


def _answer_type(benchmark: str | None, gold: str, answer_type: str | None) -> str:
    """The given type, else the benchmark's (a typed benchmark's from its gold), else maths."""
    if answer_type is not None:
        return AnswerType(answer_type).value
    if benchmark:
        from cfteval.grading.grade_file import infer_answer_type

        return str(infer_answer_type(benchmark, gold)[0])
    return AnswerType.MATH.value


def extract_answer(
    text: str,
    answer_type: str = "math",
    *,
    benchmark: str | None = None,
    n_choices: int | None = None,
    finish_reason: str | None = None,
) -> str | None:
    """The final answer stated in `text` as written, or None when none is stated."""
    rules = rules_for(benchmark or "")
    return _extract(
        text,
        AnswerType(answer_type).value,
        n_choices=n_choices or rules.choices,
        finish_reason=finish_reason,
        plain_number_answers=rules.plain_number_answers,
    )


def _item(
    gold: str,
    prediction: str,
    benchmark: str | None,
    answer_type: str | None,
    finish_reason: str | None = None,
) -> GradeItem:
    rules = rules_for(benchmark or "")
    if rules.typed_answers and answer_type is None:
        answer_type = infer_typed_answer(gold)
    return GradeItem(
        text=prediction,
        gold=gold,
        answer_type=_answer_type(benchmark, gold, answer_type),
        benchmark=benchmark or "",
        n_choices=rules.choices,
        finish_reason=finish_reason,
        rules=rules,
    )


def verify(
    gold: str,
    prediction: str,
    *,
    benchmark: str | None = None,
    answer_type: str | None = None,
    timeout: float | None = None,
) -> bool:
    """Whether `prediction` (a model's whole text or a bare answer) states the `gold` answer.

    `timeout=None` grades in this process; a number runs it in a sandbox worker under that
    hard limit (a time-out is False).
    """
    item = _item(gold, prediction, benchmark, answer_type)
    if timeout is None:
        return grade_one(item).correct
    return grade_items([item], timeout=timeout, workers=1)[0].correct


def grade_batch(
    predictions: Sequence[str],
    golds: Sequence[str],
    *,
    benchmark: str | None = None,
    answer_type: str | None = None,
    finish_reasons: Sequence[str | None] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    workers: int | None = None,
    pool: GradingPool | None = None,
) -> list[GradeResult]:
    """Grade `predictions[i]` against `golds[i]` in worker processes, each item under `timeout`
    seconds. Pass an open `pool` to reuse its workers across calls (no start-up per call)."""
    if len(predictions) != len(golds):
        raise ValueError(f"{len(predictions)} predictions but {len(golds)} golds")
    reasons = list(finish_reasons) if finish_reasons is not None else [None] * len(golds)
    if len(reasons) != len(golds):
        raise ValueError(f"{len(reasons)} finish reasons but {len(golds)} golds")
    items = [
        _item(str(gold), str(prediction), benchmark, answer_type, reason)
        for prediction, gold, reason in zip(predictions, golds, reasons, strict=True)
    ]
    if pool is not None:
        return pool.grade(items, timeout=timeout)
    return grade_items(items, timeout=timeout, workers=workers)


def _completion_text(completion: Any) -> str:
    """TRL passes plain strings, or for conversational data a list of messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(
            str(message.get("content", "")) if isinstance(message, dict) else str(message)
            for message in completion
        )
    return str(completion)


class MathReward:
    """A TRL-style reward function: `reward(completions, answer=[...], **other_columns)`.

    `gold_column` names the dataset column holding the gold answers (TRL passes every dataset
    column as a keyword argument). Rewards are `correct_reward` / `wrong_reward`; grading runs in
    a sandbox pool kept open across calls (`close()` or garbage collection stops it).
    """

    def __init__(
        self,
        gold_column: str = "answer",
        *,
        benchmark: str | None = None,
        answer_type: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        workers: int | None = None,
        correct_reward: float = 1.0,
        wrong_reward: float = 0.0,
    ) -> None:
        self.gold_column = gold_column
        self.benchmark, self.answer_type, self.timeout = benchmark, answer_type, timeout
        self.correct_reward, self.wrong_reward = correct_reward, wrong_reward
        self._pool = GradingPool(workers)
        self.__name__ = "cfteval_math_reward"  # TRL logs rewards under their function's name

    def __call__(self, completions: Sequence[Any], **columns: Any) -> list[float]:
        if self.gold_column not in columns:
            raise KeyError(
                f"reward needs the gold answers in column {self.gold_column!r}; "
                f"got columns {sorted(columns)}"
            )
        golds = [str(gold) for gold in columns[self.gold_column]]
        results = grade_batch(
            [_completion_text(c) for c in completions],
            golds,
            benchmark=self.benchmark,
            answer_type=self.answer_type,
            timeout=self.timeout,
            pool=self._pool,
        )
        return [self.correct_reward if r.correct else self.wrong_reward for r in results]

    def close(self) -> None:
        """Stop the sandbox workers (a later call starts them again)."""
        self._pool.close()
