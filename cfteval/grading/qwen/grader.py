"""The `qwen` grading profile: the Qwen2.5-Math evaluation toolkit's semantics, re-implemented.

The CFT paper graded with that toolkit (plus the official GPQA / MMLU-Pro scripts), so numbers are
only comparable with the paper's under the same rules, leniencies included:
- percent: every number also matches its ×100 and ÷100 (`25` equals `0.25`);
- commas are deleted in numbers and spaces everywhere (`6, 8` equals `68`);
- interval bracket types are ignored (`(1,2)` equals `[1,2]`);
- `3\\frac12` is read as 3·½ (juxtaposition is multiplication, not a mixed number);
- MMLU-Pro: the *first* "answer is (X)" wins, even when the model later corrects itself.
The one deliberate difference: where MMLU-Pro's script guesses a random letter for an output
with no answer, this returns no answer (a guess scores 1/10 in expectation, so published
MMLU-Pro numbers can be a few tenths of a point higher than this profile's).

Safety (the reference calls `parse_expr`/`parse_latex` on model text): here only
latex2sympy2_extended's LaTeX parser is used, and inputs that can explode (power towers, huge
exponents or factorials, very long strings) are refused before parsing. Every call still runs
under the sandbox's per-item time limit.
"""

from __future__ import annotations

import math
import re

from cfteval.grading.qwen.normalize import strip_string
from cfteval.grading.qwen.symbolic import symbolic_equal as _symbolic_equal

# --------------------------------------------------------------------------- extraction


def _after_last_boxed(text: str) -> str:
    """Content of the last `boxed` (brace-matched), or up to the next `$` for `\\boxed 5`."""
    tail = text.split("boxed")[-1]
    if not tail:
        return ""
    if tail[0] != "{":
        return tail.split("$")[0].strip()
    depth, content = 1, []
    for char in tail[1:]:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                break
        content.append(char)
    return "".join(content)


def _extract_math(text: str) -> str:
    if "final answer is $" in text and "$. I hope" in text:  # Minerva's few-shot phrasing
        answer = text.split("final answer is $", 1)[1].split("$. I hope", 1)[0].strip()
    elif "boxed" in text:
        answer = _after_last_boxed(text)
    elif "he answer is" in text:
        answer = text.split("he answer is")[-1].strip()
    elif "final answer is" in text:
        answer = text.split("final answer is")[-1].strip()
    elif "答案是" in text:
        answer = text.split("答案是")[1].strip().split("\n\n")[0].strip()
    else:
        numbers = re.findall(r"-?\d*\.?\d+", text.replace(",", ""))
        answer = numbers[-1] if numbers else ""
    answer = re.sub(r"\n\s*", "", answer)
    if answer.startswith(":"):
        answer = answer[1:]
    if answer.endswith("."):
        answer = answer[:-1]
    if answer.endswith("/"):
        answer = answer[:-1]
    return answer


def _extract_mmlu_pro(text: str) -> str | None:
    """MMLU-Pro's official rule: first "answer is (X)", else the last "Answer: X", else the last
    standalone capital A-J (the random-letter guess after that is not reproduced)."""
    match = re.search(r"answer is \(?([A-J])\)?", text)
    if match:
        return match.group(1)
    # The script's `.*[aA]nswer:\s*([A-J])` (no DOTALL) takes the last "Answer: X" of the first
    # line holding one, and `\b[A-J]\b(?!.*\b[A-J]\b)` the last lone letter; both written
    # without their quadratic backtracking.
    answers = list(re.finditer(r"[aA]nswer:\s*([A-J])", text))
    if answers:
        first_line = text.count("\n", 0, answers[0].start())
        same_line = [m for m in answers if text.count("\n", 0, m.start()) == first_line]
        return same_line[-1].group(1)
    letters = re.findall(r"\b[A-J]\b", text)
    return letters[-1] if letters else None


def _extract_gpqa(text: str) -> str | None:
    """The CFT GPQA script: the first A-D after the first "answer is", else the last lone A-D."""
    position = text.find("answer is")
    if position >= 0:
        match = re.search(r"\b([A-D])\b", text[position + len("answer is") :])
        if match:
            return match.group(1)
    letters = re.findall(r"\b([A-D])\b", text)
    return letters[-1] if letters else None


def _theoremqa_bool(answer: str) -> str:
    """The reference's TheoremQA rule: any "yes"/"true" means True, else any "no"/"false"."""
    lowered = answer.lower()
    if "yes" in lowered or "true" in lowered:
        return "True"
    if "no" in lowered or "false" in lowered:
        return "False"
    return answer


def qwen_extract_answer(text: str, answer_type: str, *, n_choices: int | None = None) -> str | None:
    """The answer the reference toolkit would take from `text`, or None if it finds none.

    For free-form answers this is the raw extracted span (before `strip_string`, which
    `qwen_is_equivalent` applies with the benchmark's settings, as the reference does).
    """
    text = text.replace("\u043a\u0438", "")
    if answer_type == "multiple_choice":
        return _extract_gpqa(text) if (n_choices or 10) <= 4 else _extract_mmlu_pro(text)
    answer = _extract_math(text)
    if answer_type == "bool":
        answer = _theoremqa_bool(answer)
    return answer or None


# --------------------------------------------------------------------------- equivalence


def _parse_number(text: str) -> float | None:
    """The reference's `parse_digits`: commas deleted; a trailing `%` divides by 100."""
    text = text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        pass
    if text.endswith("%"):
        text = text[:-1].removesuffix("\\")
        try:
            return float(text) / 100
        except ValueError:
            return None
    return None


def _numbers_equal(prediction: str, reference: str) -> bool:
    """Both numbers, and the prediction matches the reference, ×100 or ÷100 (rel. tol. 1e-4)."""
    pred, ref = _parse_number(prediction), _parse_number(reference)
    if pred is None or ref is None:
        return False
    return any(
        math.isclose(candidate, pred, rel_tol=1e-4) for candidate in (ref / 100, ref, ref * 100)
    )


def _choice_clean(prediction: str) -> str:
    prediction = prediction.strip("\n").rstrip(".").rstrip("/").strip(" ").lstrip(":")
    letters = re.findall(r"\b(A|B|C|D|E)\b", prediction.upper())
    chosen = letters[-1] if letters else prediction.strip().strip(".")
    return chosen.rstrip(".").rstrip("/")


def _is_list(text: str) -> bool:
    return re.match(r"(\(|\[).+(\)|\])", text) is not None


def _is_matrix(text: str) -> bool:
    return text.startswith(("\\begin{pmatrix}", "\\begin{bmatrix}")) and text.endswith(
        ("\\end{pmatrix}", "\\end{bmatrix}")
    )


def _braces_to_pmatrix(text: str) -> str:
    """`{1,2}` style rows → pmatrix, used when only the prediction is a pmatrix."""
    rows = re.findall(r"\{.*,.*\}", text.strip())
    return ", ".join(
        r"\begin{pmatrix}" + row.strip("{}").replace(",", "\\") + r"\end{pmatrix}" for row in rows
    )


def _lists_equal(prediction: str, reference: str) -> bool:
    pred_parts, ref_parts = prediction[1:-1].split(","), reference[1:-1].split(",")
    return len(pred_parts) == len(ref_parts) and all(
        qwen_math_equal(p, r) for p, r in zip(pred_parts, ref_parts, strict=True)
    )


def _matrix_rows(text: str) -> list[list[str]]:
    body = text[len("\\begin{pmatrix}") : -len("\\end{pmatrix}")]
    return [line.strip().split("&") for line in body.split("\\\\") if line.strip()]


def _matrices_equal(prediction: str, reference: str) -> bool:
    pred_rows, ref_rows = _matrix_rows(prediction), _matrix_rows(reference)
    if len(pred_rows) != len(ref_rows):
        return False
    for pred_row, ref_row in zip(pred_rows, ref_rows, strict=True):
        if len(pred_row) != len(ref_row):
            return False
        if not all(qwen_math_equal(p, r) for p, r in zip(pred_row, ref_row, strict=True)):
            return False
    return True


def _as_difference(equation: str) -> str:
    left, right = equation.split("=")[:2]
    return f"{left.strip()} - ({right.strip()})"


def qwen_math_equal(prediction: str | None, reference: str | None) -> bool:
    """The reference's `math_equal` (percent and closeness on), on already-stripped strings."""
    if prediction is None or reference is None:
        return False
    if prediction.strip().lower() == reference.strip().lower():
        return True
    if reference in ("A", "B", "C", "D", "E") and _choice_clean(prediction) == reference:
        return True
    if _numbers_equal(prediction, reference):
        return True
    if not prediction:
        return False
    reference, prediction = reference.strip(), prediction.strip()
    if "pmatrix" in prediction and "pmatrix" not in reference:
        reference = _braces_to_pmatrix(reference)
    # Brackets: outer ones are stripped unless the two are a "(...)"/"[...]" pair, then all
    # round and curly brackets go: this is how `(1,2)` comes to equal `[1,2]`.
    pred_bare, ref_bare = prediction, reference
    wrapped = lambda s, a, b: s.startswith(a) and s.endswith(b)  # noqa: E731
    if (wrapped(pred_bare, "[", "]") and not wrapped(ref_bare, "(", ")")) or (
        wrapped(pred_bare, "(", ")") and not wrapped(ref_bare, "[", "]")
    ):
        pred_bare, ref_bare = pred_bare.strip("[]()"), ref_bare.strip("[]()")
    for bracket in "{}()":
        pred_bare, ref_bare = pred_bare.replace(bracket, ""), ref_bare.replace(bracket, "")
    if pred_bare.lower() == ref_bare.lower():
        return True
    if _is_list(prediction) and _is_list(reference):
        return _lists_equal(prediction, reference)
    if _is_matrix(prediction) and _is_matrix(reference):
        return _matrices_equal(prediction, reference)
    if prediction.count("=") == 1 and reference.count("=") == 1:
        pred_diff, ref_diff = _as_difference(prediction), _as_difference(reference)
        return _symbolic_equal(pred_diff, ref_diff) or _symbolic_equal(f"-({pred_diff})", ref_diff)
    if (
        prediction.count("=") == 1
        and len(prediction.split("=")[0].strip()) <= 2
        and "=" not in reference
    ):
        return qwen_math_equal(prediction.split("=")[1], reference)
    if (
        reference.count("=") == 1
        and len(reference.split("=")[0].strip()) <= 2
        and "=" not in prediction
    ):
        return qwen_math_equal(prediction, reference.split("=")[1])
    return _symbolic_equal(prediction, reference)


def qwen_is_equivalent(pred: str, gold: str, answer_type: str, *, benchmark: str = "") -> bool:
    """Would the reference toolkit score `pred` (from `qwen_extract_answer`) equal to `gold`?"""
    if answer_type == "multiple_choice":
        return pred.strip().upper() == gold.strip().upper()
    minerva = benchmark.startswith("minerva")
    # The reference strips the prediction twice (in extraction and again before grading) and
    # leaves Minerva's units alone; Minerva's gold gets only the relation-symbol renames.
    prediction = strip_string(strip_string(pred, skip_unit=minerva), skip_unit=minerva)
    if minerva:
        reference = gold.replace("\\neq", "\\ne").replace("\\leq", "\\le").replace("\\geq", "\\ge")
    else:
        reference = strip_string(gold)
    return qwen_math_equal(prediction, reference)
