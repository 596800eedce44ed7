"""Prompt rendering against the protocol's exact strings."""

from __future__ import annotations

import pytest

from cfteval.errors import UserError
from cfteval.prompts import build_messages, render_prompt, template_fingerprint
from cfteval.records import Problem

QWEN25_MATH_COT = (
    "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}."
    "<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"
)


def _problem(question: str, choices: list[str] | None = None) -> Problem:
    answer_type = "multiple_choice" if choices else "math"
    return Problem("test", "1", question, "A", answer_type, choices=choices)


def test_qwen25_math_cot_is_the_protocol_string() -> None:
    question = "What is $1+1$?"
    rendered = render_prompt(_problem(question), "qwen25-math-cot")
    assert rendered == QWEN25_MATH_COT.replace("{question}", question)


def test_mmlu_pro_prompt_lists_lettered_options() -> None:
    problem = _problem("Which is largest?", ["1", "2", "3"])
    messages = build_messages(problem, "mmlu-pro-cot")
    assert messages.system == (
        'Please reason step by step, and put your answer with "the answer is (X)" '
        "where X is the correct letter choice."
    )
    assert messages.user == (
        "Question:\nWhich is largest?\nOptions:\nA. 1\nB. 2\nC. 3\nAnswer: Let's think step by step."
    )


def test_gpqa_prompt_has_answer_choices_line() -> None:
    problem = _problem("Pick one.", ["red", "green", "blue", "cyan"])
    messages = build_messages(problem, "gpqa")
    assert messages.system == "You are a helpful assistant."
    assert messages.user == "Pick one.\nAnswer Choices: (A) red (B) green (C) blue (D) cyan"
    rendered = render_prompt(problem, "gpqa")
    assert rendered.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n")
    assert rendered.endswith("<|im_start|>assistant\n")


def test_chat_format_uses_the_tokenizers_template(tiny_model_dir) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    problem = _problem("What is 2+2?")
    rendered = render_prompt(problem, "qwen25-math-cot", "chat", tokenizer)
    expected = tokenizer.apply_chat_template(
        build_messages(problem, "qwen25-math-cot").as_list(),
        tokenize=False,
        add_generation_prompt=True,
    )
    assert rendered == expected
    assert "What is 2+2?" in rendered


def test_chat_format_without_a_template_is_a_user_error() -> None:
    class NoTemplate:
        chat_template = None

    with pytest.raises(UserError, match="chat template"):
        render_prompt(_problem("x"), "qwen25-math-cot", "chat", NoTemplate())


def test_unknown_template_and_format_are_user_errors() -> None:
    with pytest.raises(UserError, match="unknown prompt template"):
        render_prompt(_problem("x"), "nope")
    with pytest.raises(UserError, match="unknown prompt format"):
        render_prompt(_problem("x"), "qwen25-math-cot", "xml")


def test_template_fingerprint_changes_with_template() -> None:
    assert template_fingerprint("qwen25-math-cot", "chatml") != template_fingerprint(
        "gpqa", "chatml"
    )
    assert template_fingerprint("gpqa", "chatml") == template_fingerprint("gpqa", "chatml")


def test_self_critique_prompt_is_the_papers_instruction() -> None:
    rendered = render_prompt(_problem("What is $2+2$?"), "self-critique")
    assert rendered == (
        "<|im_start|>system\nPlease reason step by step to solve this problem and then critique "
        "your solution. If any errors are found, provide a corrected solution. Please put your "
        "final answer within \\boxed{}.<|im_end|>\n<|im_start|>user\nWhat is $2+2$?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_critique_prompt_is_the_cft_training_format() -> None:
    from cfteval.prompts import CritiqueTemplate, render_critique

    rendered = render_critique("What is $2+2$?", "  It is \\boxed{4}.\n", CritiqueTemplate.PAPER)
    # WebInstruct-CFT: instruction + "\n" + input, under "You are a helpful assistant."
    assert rendered == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        "Please critique whether the following solution to the question is correct.\n\n\n"
        "Question:\nWhat is $2+2$?\n\nSolution:\nIt is \\boxed{4}.\n<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_critique_prompt_through_the_chat_template(tiny_model_dir) -> None:
    from transformers import AutoTokenizer

    from cfteval.prompts import CritiqueTemplate, critique_messages, render_critique

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    rendered = render_critique("Q?", "S.", CritiqueTemplate.CHAT, tokenizer)
    expected = tokenizer.apply_chat_template(
        critique_messages("Q?", "S.").as_list(), tokenize=False, add_generation_prompt=True
    )
    assert rendered == expected and "Question:\nQ?\n\nSolution:\nS.\n" in rendered
    with pytest.raises(UserError):
        render_critique("Q?", "S.", CritiqueTemplate.CHAT, tokenizer=object())
