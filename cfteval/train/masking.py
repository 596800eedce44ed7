"""Render rows with the model's chat template and mark which tokens carry the loss.

The loss must fall only on the response (the critique, or the solution) and the end-of-turn
token that ends it. Many chat templates lack `{% generation %}` markers, so the boundary is
found by rendering the prompt alone (with the generation prompt) and checking that its tokens
are a prefix of the full conversation's tokens; when a template re-renders earlier turns
differently once an answer follows, there is no safe boundary and training refuses.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cfteval.errors import UserError
from cfteval.train.config import OverLength
from cfteval.train.data import TrainRow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodedRow:
    """Token ids of one conversation, with 1 on the tokens that carry the loss."""

    input_ids: list[int]
    completion_mask: list[int]
    truncated: bool = False


def _encode(tokenizer: Any, text: str) -> list[int]:
    # The rendered template already holds every special token (BOS included, where it has one).
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _end_of_turn(tokenizer: Any, response_ids: list[int]) -> int:
    """How many response tokens to supervise: up to and including the first special token.

    Templates follow the end-of-turn token with a newline or another turn's opening; those are
    not the model's answer, so they stay masked.
    """
    special = set(tokenizer.all_special_ids)
    for index, token in enumerate(response_ids):
        if token in special:
            return index + 1
    return len(response_ids)


def encode_row(tokenizer: Any, row: TrainRow) -> EncodedRow:
    """Full conversation tokens and the completion mask (critique + end-of-turn token)."""
    messages = list(row.messages)
    try:
        prompt_text = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        full_text = tokenizer.apply_chat_template(
            [*messages, {"role": "assistant", "content": row.response}], tokenize=False
        )
    except Exception as error:  # noqa: BLE001 - a template that cannot render is the model's
        raise UserError(
            f"{row.where}: the model's chat template fails to render: {error}"
        ) from None
    prompt_ids = _encode(tokenizer, prompt_text)
    full_ids = _encode(tokenizer, full_text)
    if full_ids[: len(prompt_ids)] != prompt_ids:
        raise UserError(
            f"{row.where}: the chat template's prompt is not a token prefix of the full "
            "conversation, so the answer's first token cannot be found; use a model whose "
            "template renders earlier turns the same with and without the answer"
        )
    response_ids = full_ids[len(prompt_ids) :]
    supervised = _end_of_turn(tokenizer, response_ids)
    if supervised == 0:
        raise UserError(f"{row.where}: the chat template renders no tokens for the answer")
    mask = [0] * len(prompt_ids) + [1] * supervised + [0] * (len(response_ids) - supervised)
    return EncodedRow(full_ids, mask)


def apply_length_rule(
    encoded: EncodedRow, max_length: int, rule: OverLength
) -> tuple[EncodedRow | None, str]:
    """(the row as trained or None when dropped, one of kept/truncated/dropped)."""
    if len(encoded.input_ids) <= max_length:
        return encoded, "kept"
    if rule is OverLength.DROP:
        return None, "dropped"
    ids, mask = encoded.input_ids[:max_length], encoded.completion_mask[:max_length]
    if not any(mask):
        return None, "dropped"  # the prompt alone fills max_length: nothing left to learn
    return EncodedRow(ids, mask, truncated=True), "truncated"


@dataclass
class EncodedData:
    """Rows ready for the trainer, and what the length rule did (reported to the user)."""

    rows: list[EncodedRow]
    counts: Counter
    supervised_tokens: int
    total_tokens: int

    def as_columns(self) -> dict[str, list[list[int]]]:
        return {
            "input_ids": [row.input_ids for row in self.rows],
            "completion_mask": [row.completion_mask for row in self.rows],
        }

    def summary(self) -> dict[str, int]:
        return {
            "rows_read": sum(self.counts.values()),
            "rows_kept": self.counts["kept"],
            "rows_truncated": self.counts["truncated"],
            "rows_dropped_over_length": self.counts["dropped"],
            "tokens": self.total_tokens,
            "supervised_tokens": self.supervised_tokens,
        }


def encode_rows(
    tokenizer: Any, rows: list[TrainRow], max_length: int, rule: OverLength
) -> EncodedData:
    """Encode every row and apply the over-length rule; refuses when no row survives."""
    kept: list[EncodedRow] = []
    counts: Counter = Counter({"kept": 0, "truncated": 0, "dropped": 0})
    for row in rows:
        result, outcome = apply_length_rule(encode_row(tokenizer, row), max_length, rule)
        counts[outcome] += 1
        if result is not None:
            kept.append(result)
    if not kept:
        raise UserError(
            f"every row is longer than max_length {max_length} tokens; raise --max-length "
            "or use overlength: truncate"
        )
    data = EncodedData(
        kept,
        counts,
        supervised_tokens=sum(sum(row.completion_mask) for row in kept),
        total_tokens=sum(len(row.input_ids) for row in kept),
    )
    logger.info("length rule (%s, max %d): %s", rule.value, max_length, data.summary())
    return data
