"""Equivalence classes from grading round 2, with our own strings: tuples against bare lists,
Python float golds, arbitrary constants, ordinals with what they count, constant inequalities;
and the inputs the LaTeX parser must never see."""

from __future__ import annotations

import time

import pytest

from cfteval.grading.equivalence import is_equivalent
from cfteval.grading.safety import is_safe_to_parse, script_nesting


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("(1, 2, 3)", "1,2,3", True),
        ("1, 2, 3", "(1,2,3)", True),
        ("(3, 2, 1)", "1, 2, 3", False),  # the bare list is the tuple without brackets: ordered
        ("-\\frac{1}{3}", "-1./3", True),
        ("-1.5", "-3./2", True),
        ("-2.5", "-3./2", False),
        ("0.3333", "1./3", True),
        ("C e^{-2t}", "c e^{-2t}", True),
        ("A e^{-2t}", "C e^{-2t}", True),
        ("C_1 \\cos t", "c_1 \\cos t", True),
        ("C e^{-3t}", "C e^{-2t}", False),
        ("c_1 \\cos 2t + c_2 \\sin 2t", "A \\cos 2t + B \\sin 2t", True),
        ("c_2 \\cos 2t + c_1 \\sin 2t", "A \\cos 2t + B \\sin 2t", True),
        ("c_1 \\cos 2t + c_2 \\sin 3t", "A \\cos 2t + B \\sin 2t", False),
        ("c_1 \\cos 2t + c_1 \\sin 2t", "A \\cos 2t + B \\sin 2t", False),
        ("2b", "2a", False),  # not constant names
        ("2C", "2A", False),  # no variable: a value, not a family of solutions
        ("C^2 e^{t}", "A^2 e^{t}", False),  # not linear in the constant
        ("12^{\\mathrm{th}}\\text{ grade}", "12", True),
        ("5^{\\text{th}}\\text{ place}", "5", True),
        ("3rd day", "3", True),
        ("13^{\\text{th}}", "12", False),
        ("0 < 1", "\\sqrt{3} > \\sqrt{2}", False),
        ("2 > 1", "\\pi > 3", False),
        ("3 > 2", "e > 2", False),
        ("3 \\ge x", "x \\le 3", True),
    ],
)
def test_round_two_classes(pred: str, gold: str, expected: bool) -> None:
    assert is_equivalent(pred, gold, "math") is expected


SLOW_FOR_THE_PARSER = [
    "1" * 4000,
    "(" * 40 + "1" + ")" * 40,
    "x" + "_{x" * 38 + "}" * 38,
    "\\binom{10^9}{5\\cdot10^8}",
    "\\binom{100000}{50000}",
    "\\exp(\\exp(\\exp(100)))",
    "\\det\\begin{pmatrix}"
    + "\\\\".join("&".join(f"a_{{{i}{j}}}" for j in range(8)) for i in range(8))
    + "\\end{pmatrix}",
    "\\prod_{k=1}^{2000} (1 + \\frac{1}{k})",
    "\\sum_{k=1}^{100000} \\frac{1}{k^2}",
    "\\sum_{k=1}^{10^{9}} k",
]


@pytest.mark.parametrize("text", SLOW_FOR_THE_PARSER)
def test_slow_inputs_are_refused_before_parsing(text: str) -> None:
    assert not is_safe_to_parse(text)
    is_equivalent("x + 1", "1 + x", "math")  # warm-up is not the input's cost
    start = time.perf_counter()
    assert is_equivalent(text, "1", "math") is False
    assert time.perf_counter() - start < 3.0  # a generous bound on the default time limit


@pytest.mark.parametrize(
    "text",
    [
        "\\binom{10}{3}",
        "\\binom{2024}{2}",
        "\\sum_{k=1}^{n} k^2",
        "\\sum_{k=1}^{100} k",
        "\\exp(x^2)",
        "\\det\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}",
        "a_{n_{1}}",
        "\\left(\\frac{1}{2}\\right)^{\\frac{1}{3}}",
    ],
)
def test_ordinary_answers_still_reach_the_parser(text: str) -> None:
    assert is_safe_to_parse(text)


def test_script_nesting_counts_braced_scripts_only() -> None:
    assert script_nesting("x_{1}^{2}") == 1
    assert script_nesting("x_{a_{b_{c}}}") == 3
    assert script_nesting("\\frac{\\sqrt{2}}{3}") == 0
