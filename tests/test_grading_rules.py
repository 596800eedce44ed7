"""Grading rules declared in each benchmark's YAML, looked up by exact name or alias."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfteval.errors import UserError
from cfteval.grading.equivalence import is_equivalent
from cfteval.grading.rules import (
    GradingRules,
    infer_typed_answer,
    known_benchmark,
    parse_rules,
    rules_for,
)


def test_rules_come_from_the_yaml() -> None:
    assert rules_for("gsm8k").relative_tolerance == 0
    assert rules_for("theoremqa").relative_tolerance == 0.04
    assert rules_for("theoremqa").typed_answers
    assert rules_for("gpqa_diamond").choices == 4 and rules_for("mmlu_pro").choices == 10
    assert not rules_for("math500").plain_number_answers
    assert known_benchmark("gpqa") == "gpqa_diamond" and known_benchmark("aime") == "aime24"


def test_no_rule_is_keyed_on_a_name_prefix() -> None:
    # A new benchmark whose name starts like an old one gets the defaults, not the old rules.
    assert rules_for("gsm8k_hard") == GradingRules()
    assert known_benchmark("theoremqa_v2") is None
    assert is_equivalent("18451.5", "18450", "math", benchmark="gsm8k") is False
    assert is_equivalent("18451.5", "18450", "math", benchmark="gsm8k_hard") is True


def test_rules_passed_explicitly_win() -> None:
    loose = GradingRules(relative_tolerance=0.05)
    assert is_equivalent("104", "100.0", "math", rules=loose)
    assert not is_equivalent("104", "100.0", "math", rules=GradingRules())


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"relative_tolerance": "lots"}, "relative_tolerance"),
        ({"choices": 1}, "choices"),
        ({"typed_answers": "yes"}, "typed_answers"),
        ({"colour": "red"}, "unknown key"),
    ],
)
def test_bad_rules_name_the_file(section: dict, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        parse_rules(section, str(Path("benchmarks/x.yaml")))


@pytest.mark.parametrize(
    ("gold", "expected"),
    [
        ("True", "bool"),
        ("(c)", "option"),
        ("[1, 2]", "list"),
        ("-42", "integer"),
        ("3.5e-3", "float"),
        ("\\pi", "math"),
    ],
)
def test_one_typed_answer_inference(gold: str, expected: str) -> None:
    assert infer_typed_answer(gold) == expected
