"""Prompt templates and how they are rendered into the text a backend receives.

A template is a (system, user) pair built from a Problem. Rendering turns it into one string:
- `chatml` (default, the paper's protocol): a raw ChatML string, used for base models too,
  exactly as the Qwen2.5-Math evaluation does (no tokenizer chat template involved);
- `chat`: the model tokenizer's own chat template (`apply_chat_template`), for instruct models
  trained with another format. With `--backend openai` the messages themselves are sent to the
  server's chat endpoint, which applies its template; the prompt is then the messages as JSON
  (rendered without a tokenizer), which is what is sent and what samples.jsonl records.
Offline backends only ever see the rendered text, so the request key covers the exact prompt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cfteval.errors import UserError
from cfteval.records import Problem

QWEN25_MATH_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
MMLU_PRO_SYSTEM = (
    'Please reason step by step, and put your answer with "the answer is (X)" '
    "where X is the correct letter choice."
)
HELPFUL_SYSTEM = "You are a helpful assistant."
# Table 8's single-pass self-critique: solve, critique, correct, in one generation.
SELF_CRITIQUE_SYSTEM = (
    "Please reason step by step to solve this problem and then critique your solution. "
    "If any errors are found, provide a corrected solution. "
    "Please put your final answer within \\boxed{}."
)
# The instruction CFT models were trained on (WebInstruct-CFT's `instruction` field).
CRITIQUE_INSTRUCTION = "Please critique whether the following solution to the question is correct."

# What `cfteval cft-data` adds for the teacher: the paper's critiques end this way.
TEACHER_FORMAT = (
    "Check the solution step by step and point out any error. End your critique with the line "
    '"Conclusion: right [END]" if the final answer of the solution is correct, or '
    '"Conclusion: wrong [END]" if it is not.'
)

# Where a critique ends: the protocol's stop strings, whatever the questions' benchmark adds
# (MMLU-Pro's "Question:" would cut a critique that quotes the question).
TEACHER_STOP = ("</s>", "<|im_end|>", "<|endoftext|>", "(END)", "\\[END\\]", "**END**", "[END]")

PROMPT_FORMATS = ("chatml", "chat")
LETTERS = "ABCDEFGHIJKLMNOP"


@dataclass(frozen=True)
class Messages:
    """A system and a user message: what every template produces before rendering."""

    system: str
    user: str

    def as_list(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


def _qwen25_math_cot(problem: Problem) -> Messages:
    return Messages(QWEN25_MATH_SYSTEM, problem.question)


def _mmlu_pro_cot(problem: Problem) -> Messages:
    options = "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(problem.choices or []))
    user = f"Question:\n{problem.question}\nOptions:\n{options}\nAnswer: Let's think step by step."
    return Messages(MMLU_PRO_SYSTEM, user)


def _gpqa(problem: Problem) -> Messages:
    return Messages(HELPFUL_SYSTEM, question_with_choices(problem))


def _self_critique(problem: Problem) -> Messages:
    return Messages(SELF_CRITIQUE_SYSTEM, problem.question)


TEMPLATES: dict[str, Callable[[Problem], Messages]] = {
    "qwen25-math-cot": _qwen25_math_cot,
    "self-critique": _self_critique,
    "mmlu-pro-cot": _mmlu_pro_cot,
    "gpqa": _gpqa,
}


def build_messages(problem: Problem, template: str) -> Messages:
    """The (system, user) messages of `template` for `problem`."""
    if template not in TEMPLATES:
        raise UserError(f"unknown prompt template {template!r}; known: {', '.join(TEMPLATES)}")
    return TEMPLATES[template](problem)


def render_chatml(messages: Messages) -> str:
    """The raw ChatML string of the protocol, ending with an open assistant turn."""
    return (
        f"<|im_start|>system\n{messages.system}<|im_end|>\n"
        f"<|im_start|>user\n{messages.user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def render_with_tokenizer(messages: Messages, tokenizer: Any) -> str:
    """The model's own chat template, with the generation prompt appended."""
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(
            "--prompt-format chat needs a tokenizer with a chat template; this model has none "
            "(use --prompt-format chatml)"
        )
    return tokenizer.apply_chat_template(
        messages.as_list(), tokenize=False, add_generation_prompt=True
    )


def render_prompt(
    problem: Problem, template: str, prompt_format: str = "chatml", tokenizer: Any = None
) -> str:
    """Render `problem` with `template` in `prompt_format` into the text sent to the model.

    `chat` without a tokenizer means a server renders the chat template: the prompt is then
    the messages as JSON, which is what is sent and what samples.jsonl records.
    """
    return render_messages(build_messages(problem, template), prompt_format, tokenizer)


def render_messages(
    messages: Messages, prompt_format: str = "chatml", tokenizer: Any = None
) -> str:
    """Render `messages` in `prompt_format`: raw ChatML, the tokenizer's chat template, or (chat
    without a tokenizer, for a server that applies its own template) the messages as JSON."""
    if prompt_format == "chatml":
        return render_chatml(messages)
    if prompt_format == "chat" and tokenizer is None:
        return json.dumps(messages.as_list(), ensure_ascii=False)
    if prompt_format == "chat":
        return render_with_tokenizer(messages, tokenizer)
    raise UserError(
        f"unknown prompt format {prompt_format!r}; choose one of {', '.join(PROMPT_FORMATS)}"
    )


def template_fingerprint(template: str, prompt_format: str, tokenizer: Any = None) -> str:
    """A short hash identifying the rendered template, recorded in run manifests.

    Rendering a fixed probe problem captures the template text and, in chat mode, the
    tokenizer's chat template, so any change to either changes the hash.
    """
    probe = Problem("probe", "0", "{question}", "", "math", choices=["{a}", "{b}", "{c}", "{d}"])
    text = render_prompt(probe, template, prompt_format, tokenizer)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class CritiqueTemplate(str, Enum):
    """How the stage-2 critique prompt is framed (`--critique-template`)."""

    PAPER = "paper"  # the CFT training format in the raw ChatML frame
    CHAT = "chat"  # the same messages through the model tokenizer's chat template


def critique_messages(question: str, solution: str) -> Messages:
    """The critique prompt exactly as CFT models saw it in training.

    WebInstruct-CFT rows are Alpaca style: instruction "…correct.\\n\\n", input
    "Question:\\n{q}\\n\\nSolution:\\n{s}\\n", joined by "\\n" under the system prompt
    "You are a helpful assistant." A model fine-tuned this way answers in the format it learned
    (ending "Conclusion: right/wrong [END]"), so the prompt adds no instruction of its own.
    """
    instruction, input_text = critique_row_fields(question, solution)
    return Messages(HELPFUL_SYSTEM, f"{instruction}\n{input_text}")


def question_with_choices(problem: Problem) -> str:
    """A multiple-choice question with its options after it, GPQA's way; other questions as
    they are. Critics see questions this way too: without the options, "(C)" cannot be checked."""
    if not problem.choices:
        return problem.question
    options = " ".join(f"({LETTERS[i]}) {text}" for i, text in enumerate(problem.choices))
    return f"{problem.question}\nAnswer Choices: {options}"


def critique_row_fields(question: str, solution: str) -> tuple[str, str]:
    """WebInstruct-CFT's (instruction, input) for a critique of `solution`: one definition for
    the data `cfteval cft-data` writes, the rows `cfteval train` reads and the eval prompt."""
    return (
        f"{CRITIQUE_INSTRUCTION}\n\n",
        f"Question:\n{question}\n\nSolution:\n{solution.strip()}\n",
    )


def teacher_messages(question: str, solution: str) -> Messages:
    """What a teacher is asked when it writes training critiques (`cfteval cft-data`).

    The critique prompt a CFT model sees, plus the ending the training data needs: a model
    that was never trained on WebInstruct-CFT does not know it should end with a conclusion.
    """
    messages = critique_messages(question, solution)
    return Messages(messages.system, f"{messages.user}\n{TEACHER_FORMAT}")


def render_critique(
    question: str, solution: str, template: CritiqueTemplate, tokenizer: Any = None
) -> str:
    """The stage-2 prompt of the two-stage mode, rendered for the backend."""
    messages = critique_messages(question, solution)
    if template is CritiqueTemplate.PAPER:
        return render_chatml(messages)
    return render_with_tokenizer(messages, tokenizer)


def critique_fingerprint(template: CritiqueTemplate, tokenizer: Any = None) -> str:
    """A short hash of the rendered critique prompt (as `template_fingerprint` for solve prompts)."""
    text = render_critique("{question}", "{solution}", template, tokenizer)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
