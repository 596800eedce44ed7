"""Training data: reading and validating rows, the recipe, and the supervised-token mask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfteval.errors import UserError
from cfteval.train.config import OverLength, TrainMode, build_config
from cfteval.train.data import SYSTEM_PROMPT, load_rows, parse_format
from cfteval.train.masking import encode_row, encode_rows
from tests.train_data import cft_rows, sft_rows, write_jsonl


def _supervised_text(tokenizer, encoded) -> str:
    ids = [t for t, m in zip(encoded.input_ids, encoded.completion_mask, strict=True) if m]
    return tokenizer.decode(ids)


@pytest.fixture(scope="module")
def chatml_tokenizer(tiny_model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def smollm2_tokenizer(smollm2_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_dir)


@pytest.mark.parametrize("which", ["chatml_tokenizer", "smollm2_tokenizer"])
def test_supervised_tokens_are_exactly_the_critique_and_end_of_turn(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    tokenizer = request.getfixturevalue(which)
    rows = load_rows(str(write_jsonl(tmp_path / "cft.jsonl", cft_rows(6))), TrainMode.CFT)
    for row, raw in zip(rows, cft_rows(6), strict=True):
        encoded = encode_row(tokenizer, row)
        assert _supervised_text(tokenizer, encoded) == raw["output"] + "<|im_end|>"
        # The masked part is the whole prompt: system, the user's instruction + input.
        prompt = tokenizer.decode(
            [t for t, m in zip(encoded.input_ids, encoded.completion_mask, strict=True) if not m]
        )
        assert prompt.startswith(f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>")
        assert raw["instruction"] + "\n" + raw["input"] in prompt
        assert raw["output"] not in prompt
        # The single supervised run ends on the end-of-turn token; only the template's
        # trailing newline follows it, unsupervised.
        last = max(i for i, m in enumerate(encoded.completion_mask) if m)
        assert tokenizer.convert_ids_to_tokens(encoded.input_ids[last]) == "<|im_end|>"
        assert tokenizer.decode(encoded.input_ids[last + 1 :]) == "\n"


def test_sft_rows_supervise_the_solution(chatml_tokenizer, tmp_path: Path) -> None:
    raw = sft_rows(3)
    rows = load_rows(str(write_jsonl(tmp_path / "sft.jsonl", raw)), TrainMode.SFT)
    for row, source in zip(rows, raw, strict=True):
        assert row.messages[1]["content"] == source["question"]
        encoded = encode_row(chatml_tokenizer, row)
        assert _supervised_text(chatml_tokenizer, encoded) == source["solution"] + "<|im_end|>"


def test_template_whose_prompt_is_not_a_prefix_is_refused(tiny_model_dir: Path, tmp_path: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    # Renders the user turn differently once an assistant turn follows (as some templates
    # do with reasoning traces): the prompt alone is then no prefix of the conversation.
    tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'user' and messages[-1]['role'] == 'assistant' %}"
        "{{ '<|im_start|>user\n[done] ' + m['content'] + '<|im_end|>\n' }}{% else %}"
        "{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endif %}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    [row] = load_rows(str(write_jsonl(tmp_path / "one.jsonl", cft_rows(1))), TrainMode.CFT)
    with pytest.raises(UserError, match=r"one\.jsonl:1: .*not a token prefix"):
        encode_row(tokenizer, row)


def test_over_length_rows_are_dropped_or_truncated_and_counted(chatml_tokenizer, tmp_path):
    raw = cft_rows(4)
    raw[1]["output"] = "The solution is right. " * 80 + "Conclusion: right [END]"
    rows = load_rows(str(write_jsonl(tmp_path / "cft.jsonl", raw)), TrainMode.CFT)
    lengths = [len(encode_row(chatml_tokenizer, row).input_ids) for row in rows]
    limit = max(lengths[0], lengths[2], lengths[3])
    assert lengths[1] > limit
    dropped = encode_rows(chatml_tokenizer, rows, limit, OverLength.DROP)
    assert dropped.summary()["rows_kept"] == 3
    assert dropped.summary()["rows_dropped_over_length"] == 1
    cut = encode_rows(chatml_tokenizer, rows, limit, OverLength.TRUNCATE)
    assert cut.summary()["rows_truncated"] == 1 and cut.summary()["rows_kept"] == 3
    truncated = [row for row in cut.rows if row.truncated]
    assert len(truncated) == 1 and len(truncated[0].input_ids) == limit
    # Too short even for a prompt: every row goes, and the user is told how to fix it.
    with pytest.raises(UserError, match="every row is longer than max_length 8"):
        encode_rows(chatml_tokenizer, rows, 8, OverLength.TRUNCATE)


def test_missing_field_names_the_file_and_line(tmp_path: Path) -> None:
    raw = cft_rows(3)
    del raw[2]["input"]  # input is optional (Alpaca rows without context)
    del raw[1]["output"]
    path = write_jsonl(tmp_path / "cft.jsonl", raw)
    with pytest.raises(UserError, match=r"cft\.jsonl:2: missing field 'output'"):
        load_rows(str(path), TrainMode.CFT)


def test_empty_critique_and_wrong_types_are_refused(tmp_path: Path) -> None:
    raw = cft_rows(2)
    raw[1]["output"] = "  \n"
    with pytest.raises(UserError, match=r"cft\.jsonl:2: empty critique"):
        load_rows(str(write_jsonl(tmp_path / "cft.jsonl", raw)), TrainMode.CFT)
    raw[1]["output"] = 42
    with pytest.raises(UserError, match=r"cft\.jsonl:2: field 'output' must be text"):
        load_rows(str(write_jsonl(tmp_path / "cft.jsonl", raw)), TrainMode.CFT)


def test_json_array_parquet_and_format_mapping(tmp_path: Path) -> None:
    import pandas as pd

    raw = [{"problem": r["question"], "answer": r["solution"]} for r in sft_rows(3)]
    array = tmp_path / "sft.json"
    array.write_text(json.dumps(raw))
    parquet = tmp_path / "sft.parquet"
    pd.DataFrame(raw).to_parquet(parquet)
    columns = parse_format("question=problem,solution=answer", TrainMode.SFT)
    for path in (array, parquet):
        rows = load_rows(str(path), TrainMode.SFT, columns)
        assert [row.response for row in rows] == [r["answer"] for r in raw]
    with pytest.raises(UserError, match=r"sft\.json item 1: missing field 'question'"):
        load_rows(str(array), TrainMode.SFT)
    with pytest.raises(UserError, match="not a sft field"):
        parse_format("critique=answer", TrainMode.SFT)


def test_missing_data_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load_rows(str(tmp_path / "nope.jsonl"), TrainMode.CFT)


def test_recipe_values_flags_override_and_unknown_keys(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("mode: sft\nlr: 5.0e-6\nmax_length: 1024\nmodel: m\ndata: d.jsonl\n")
    config = build_config(recipe, {"lr": 1e-4, "max_steps": None, "overlength": "truncate"})
    assert config.mode is TrainMode.SFT and config.lr == 1e-4 and config.max_length == 1024
    assert config.overlength is OverLength.TRUNCATE
    recipe.write_text("learning_rate: 1e-5\n")
    with pytest.raises(UserError, match=r"r\.yaml: unknown recipe key\(s\) \['learning_rate'\]"):
        build_config(recipe, {})
    recipe.write_text("model: m\ndata: d\nbatch_size: eight\n")
    with pytest.raises(UserError, match="batch_size must be an integer"):
        build_config(recipe, {})


@pytest.mark.parametrize("name", ["cft-7b", "cft-32b-4k", "sft-7b", "tiny-cpu"])
def test_shipped_recipes_load(name: str) -> None:
    recipe = Path(__file__).resolve().parents[1] / "train" / f"{name}.yaml"
    config = build_config(recipe, {"model": "m", "data": "d.jsonl"})
    if name == "cft-7b":  # the paper's numbers
        assert (config.lr, config.warmup_ratio, config.epochs, config.max_length) == (
            5e-6,
            0.1,
            1.0,
            2048,
        )
        assert config.batch_size * config.grad_accum * 8 == 512 and config.save_steps == 2


def test_cli_reports_bad_rows_and_recipes_in_one_line(tiny_model_dir: Path, tmp_path: Path):
    from tests.helpers import run_cfteval

    raw = cft_rows(3)
    raw[2]["output"] = ""
    data = write_jsonl(tmp_path / "bad.jsonl", raw)
    result = run_cfteval("train", "--model", str(tiny_model_dir), "--data", str(data),
                         "--out", str(tmp_path / "out"))  # fmt: skip
    assert result.returncode == 2
    assert "bad.jsonl:3: empty critique" in result.stderr and "Traceback" not in result.stderr
    recipe = tmp_path / "r.yaml"
    recipe.write_text("lr: 1e-5\nwarmup: 0.1\n")
    result = run_cfteval("train", "--recipe", str(recipe), "--model", "m", "--data", str(data))
    assert result.returncode == 2 and "unknown recipe key(s) ['warmup']" in result.stderr
