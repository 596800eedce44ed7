"""Reading an OpenAI-compatible server's replies: pure functions of what came back.

A 200's choices become a Completion (generated tokens counted per choice, see `_token_counts`);
a 400's wording tells a prompt that does not fit the server's context (`TOO_LONG`, answered by
`too_long`'s empty completion) and the most stop strings the server accepts (`STOP_LIMIT`); a
Retry-After header gives the wait before a retry. They live apart from `openai.py`, which keeps
the transport (scheduling across URLs, retries, request bodies), because they depend only on a
reply, never on the backend's state.
"""

from __future__ import annotations

import re
from typing import Any

from cfteval.backends.base import prompt_too_long_completion
from cfteval.backends.decoding import truncate_at_stop
from cfteval.records import Completion, Request

# How servers word "the prompt does not fit" in a 400 (vLLM, OpenAI, SGLang).
TOO_LONG = re.compile(
    r"maximum context length|maximum model length|context_length_exceeded|longer than the "
    r"model's context length",
    re.IGNORECASE,
)
# Pydantic's wording when a list field is too long (vLLM's `stop`: "at most 4 items").
STOP_LIMIT = re.compile(r"at most (\d+) items")
_PROMPT_LENGTH = re.compile(r"(\d+) input tokens|prompt \(length (\d+)\)|input \((\d+) tokens\)")


def to_completion(request: Request, data: dict[str, Any], seconds: float) -> Completion:
    """A 200 reply's choices as the Completion of `request` (greedy: one choice copied n times)."""
    choices = sorted(data["choices"], key=lambda choice: choice.get("index", 0))
    usage = data.get("usage") or {}
    texts, reasons = [], []
    for choice in choices:
        message = choice.get("message") or {}
        text = choice.get("text") if "text" in choice else message.get("content")
        # Servers exclude the stop string; cut anyway, for one that includes it.
        text, found = truncate_at_stop(text or "", request.sampling.stop)
        reason = choice.get("finish_reason") or "length"
        texts.append(text)
        reasons.append("stop" if found else reason)
    counts = _token_counts(choices, texts, int(usage.get("completion_tokens") or 0))
    copies = request.sampling.n if request.sampling.temperature == 0 else 1
    return Completion(
        key=request.key,
        texts=texts * copies,
        token_counts=counts * copies,
        finish_reasons=reasons * copies,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        seconds=seconds,
    )


def _token_counts(choices: list[dict[str, Any]], texts: list[str], total: int) -> list[int]:
    """Generated tokens per choice: exact from token ids or logprobs, else from `usage`."""
    counts: list[int | None] = []
    for choice in choices:
        if isinstance(choice.get("token_ids"), list):
            counts.append(len(choice["token_ids"]))
            continue
        logprobs = choice.get("logprobs") or {}
        entries = logprobs.get("tokens") or logprobs.get("content")
        counts.append(len(entries) if isinstance(entries, list) else None)
    if all(count is not None for count in counts):
        return [int(count or 0) for count in counts]
    if len(choices) == 1:
        return [total]
    # Last resort: split the exact total in proportion to text length (approximate per choice).
    lengths = [max(1, len(text)) for text in texts]
    shares = [total * length // sum(lengths) for length in lengths]
    shares[-1] += total - sum(shares)
    return shares


def retry_after(response: Any) -> float | None:
    """A numeric Retry-After header (seconds), capped so that a server cannot stall us for hours."""
    value = response.headers.get("retry-after", "")
    try:
        return min(60.0, max(0.0, float(value)))
    except ValueError:
        return None


def too_long(request: Request, message: str) -> Completion:
    """The empty completion of a prompt that does not fit the server's context (no retry)."""
    match = _PROMPT_LENGTH.search(message)
    prompt_tokens = int(next(group for group in match.groups() if group)) if match else 0
    return prompt_too_long_completion(request, prompt_tokens)
