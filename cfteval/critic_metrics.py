"""How good is the model as a critic of its own solutions, judged against the grader?

Every critique verdict is compared with the grade of the solution it judged:
- precision of "Correct" = judged-Correct solutions that are correct / all judged Correct
  (how far a Correct verdict can be trusted); recall of "Correct" = correct solutions judged
  Correct / all correct solutions (how many good solutions it lets through);
- the same two for "Incorrect" against the wrong solutions.
An unparseable verdict is neither Correct nor Incorrect: it lowers both recalls and is reported
as its own share. Flips compare the first solution's grade with the final one (wrong→right is
what self-critique is for; right→wrong is what it costs). With several samples per problem, the
critique-filtered majority vote keeps only the samples the model itself judged Correct (all
samples when it judged none Correct).
"""

from __future__ import annotations

from collections import defaultdict

from cfteval.metrics import majority_correct
from cfteval.records import Sample
from cfteval.verdict import Verdict


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def judgements(sample: Sample) -> list[tuple[str, bool]]:
    """(verdict, was the judged solution correct) for every critique in `sample`."""
    pairs = []
    for stage in sample.stages:
        if "attempt" in stage and stage.get("verdict") is not None:
            pairs.append((stage["verdict"], bool(stage["correct"])))
        elif stage.get("stage") == "self-critique" and stage.get("first_correct") is not None:
            verdict = Verdict.INCORRECT.value if stage["declared_wrong"] else stage["verdict"]
            pairs.append((verdict, bool(stage["first_correct"])))
    return pairs


def first_correct(sample: Sample) -> bool | None:
    """Was the sample's first solution correct (None when it had no first answer)?"""
    for stage in sample.stages:
        if "attempt" in stage:
            return bool(stage["correct"])
        if stage.get("stage") == "self-critique":
            return stage.get("first_correct")
    return None


def judged_correct(sample: Sample) -> bool:
    """Did the model itself accept the sample's final solution?"""
    if not sample.stages:
        return False
    last = sample.stages[-1]
    if "attempt" in last:
        return last.get("verdict") == Verdict.CORRECT.value
    return not last.get("declared_wrong", False)


def critic_metrics(samples: list[Sample]) -> dict:
    """The critic's metrics of one run; empty for runs without critiques (direct mode)."""
    if not any(sample.stages for sample in samples):
        return {}
    pairs = [pair for sample in samples for pair in judgements(sample)]
    said_correct = [ok for verdict, ok in pairs if verdict == Verdict.CORRECT.value]
    said_incorrect = [ok for verdict, ok in pairs if verdict == Verdict.INCORRECT.value]
    n_good = sum(ok for _, ok in pairs)
    n_bad = len(pairs) - n_good
    flips = [(first_correct(s), s.correct) for s in samples if first_correct(s) is not None]
    attempts = [sum("attempt" in stage for stage in s.stages) for s in samples]
    metrics: dict = {
        "verdicts": len(pairs),
        "verdicts_correct": len(said_correct),
        "verdicts_incorrect": len(said_incorrect),
        "verdicts_unparseable": len(pairs) - len(said_correct) - len(said_incorrect),
        "unparseable_share": _percent(
            len(pairs) - len(said_correct) - len(said_incorrect), len(pairs)
        ),
        "precision_correct": _percent(sum(said_correct), len(said_correct)),
        "recall_correct": _percent(sum(said_correct), n_good),
        "precision_incorrect": _percent(
            len(said_incorrect) - sum(said_incorrect), len(said_incorrect)
        ),
        "recall_incorrect": _percent(len(said_incorrect) - sum(said_incorrect), n_bad),
        "flips_wrong_to_right": sum(not first and final for first, final in flips),
        "flips_right_to_wrong": sum(first and not final for first, final in flips),
    }
    if any(attempts):
        metrics["mean_attempts"] = round(sum(attempts) / len(attempts), 3)
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[sample.problem_id].append(sample)
    n = min((len(group) for group in groups.values()), default=0)
    if n > 1:
        votes = []
        for group in groups.values():
            accepted = [s for s in group if judged_correct(s)]
            votes.append(majority_correct(accepted or group))
        metrics[f"critique_maj@{n}"] = round(100.0 * sum(votes) / len(votes), 2)
    return metrics
