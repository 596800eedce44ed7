"""Decoding rules shared by every backend: when generation ends, and how sampling is seeded.

Two stopping traps this module exists for:
- A stop string such as `<|im_end|>` is usually a *special token*. Engines decode with
  `skip_special_tokens=True`, so the string never shows up in the text and a text-level stop
  never fires; the model then rambles on to `max_tokens`. The reference code patched this only
  for paths containing "qwen2". Here every stop string that is a single special token of the
  tokenizer also becomes a stop *token id*, for any model path.
- The end of a turn is not always the tokenizer's `eos_token`: base Qwen models declare
  `<|endoftext|>` but chat-format prompts end turns with `<|im_end|>`; `generation_config.json`
  often lists several ids. All of them stop generation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from cfteval.records import Request


def eos_token_ids(tokenizer: Any, generation_eos: int | list[int] | None = None) -> set[int]:
    """The tokenizer's eos id plus every eos id declared by the model's generation_config."""
    ids: set[int] = set()
    if getattr(tokenizer, "eos_token_id", None) is not None:
        ids.add(int(tokenizer.eos_token_id))
    if isinstance(generation_eos, int):
        ids.add(generation_eos)
    elif generation_eos:
        ids.update(int(token_id) for token_id in generation_eos)
    return ids


def special_token_stop_ids(tokenizer: Any, stop: Iterable[str]) -> set[int]:
    """Ids of the stop strings that are single special (added) tokens of this tokenizer."""
    get_added = getattr(tokenizer, "get_added_vocab", None)
    added: dict[str, int] = dict(get_added()) if callable(get_added) else {}
    special = set(getattr(tokenizer, "all_special_tokens", []) or [])
    ids = set()
    for text in stop:
        if text in added:
            ids.add(int(added[text]))
        elif text in special:
            ids.add(int(tokenizer.convert_tokens_to_ids(text)))
    return ids


def truncate_at_stop(text: str, stop: Iterable[str]) -> tuple[str, bool]:
    """Cut `text` at the earliest stop string (excluded, as vLLM does); True when one was found."""
    cut = len(text)
    for marker in stop:
        if marker:
            position = text.find(marker)
            if position != -1:
                cut = min(cut, position)
    return text[:cut], cut < len(text)


def request_seed(request: Request) -> int:
    """A per-request sampling seed derived from the request key (which includes `sampling.seed`).

    Seeding each request on its own makes its samples independent of what else shares the batch
    and of batch order, and keeps different problems from drawing the same random stream;
    changing `--seed` changes every request's seed.
    """
    return int(request.key[:8], 16) & 0x7FFFFFFF


def sample_seed(request: Request, index: int) -> int:
    """The seed of sample `index` of an n-sample request, as vLLM derives it (seed + index).

    A sample generated on its own (the others of its request having been stored or kept as
    partial progress) gets exactly the tokens it would have had in the n-sample request.
    """
    return request_seed(request) + index


def continuation_seed(request: Request, index: int, kept_tokens: int) -> int:
    """The seed of sample `index` continued after `kept_tokens` tokens kept from a killed run.

    The engine cannot restore the random state it had reached, so the continuation draws from a
    fresh stream; deriving it from the key, the sample and the kept length makes a rerun after
    the same interruption reproducible.
    """
    blob = f"{request.key}:{index}:{kept_tokens}".encode()
    return int(hashlib.sha256(blob).hexdigest()[:8], 16) & 0x7FFFFFFF
