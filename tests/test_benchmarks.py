"""The benchmark registry: YAML specs, loading the real local copies, gold derivation, errors."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from cfteval import benchmarks
from cfteval.benchmarks import (
    BENCHMARK_NAMES,
    data_fingerprint,
    data_source,
    get_spec,
    last_boxed,
    load_problems,
    resolve_benchmarks,
)
from cfteval.errors import UserError
from cfteval.records import ANSWER_TYPES
from cfteval.rows import parse_row

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"local benchmark copies not found at {SHARED}"
)
REPO = Path(__file__).resolve().parents[1]
CFTEVAL = Path(sys.executable).parent / "cfteval"

PROTOCOL_STOP = ("</s>", "<|im_end|>", "<|endoftext|>", "(END)", "\\[END\\]", "**END**", "[END]")
EXPECTED_ROWS = {
    "math": 5000,
    "minerva_math": 272,
    "gsm8k": 1319,
    "olympiadbench": 675,
    "aime24": 30,
    "amc23": 40,
    "gpqa_diamond": 198,
    "theoremqa": 800,
    "mmlu_pro": 12032,
    "math500": 500,
}
BOOL_SUFFIX = " Answer with \\boxed{True} or \\boxed{False}."


@pytest.fixture(autouse=True)
def _no_data_dir_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The Makefile exports CFTEVAL_DATA_DIR; each test says explicitly where its data is.
    monkeypatch.delenv(benchmarks.DATA_DIR_ENV, raising=False)


@pytest.fixture(scope="module")
def loaded() -> dict[str, list]:
    if not SHARED.is_dir():
        pytest.skip(f"local benchmark copies not found at {SHARED}")
    return {name: load_problems(name, SHARED) for name in BENCHMARK_NAMES}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _gpqa_rows() -> list[dict[str, str]]:
    with zipfile.ZipFile(SHARED / "gpqa" / "dataset.zip") as archive:
        text = archive.read("dataset/gpqa_diamond.csv", pwd=b"deserted-untie-orchid").decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


# --- registry -------------------------------------------------------------------------------


def test_registry_lists_the_ten_benchmarks_in_the_papers_order() -> None:
    assert BENCHMARK_NAMES == tuple(EXPECTED_ROWS)


@pytest.mark.parametrize("name", list(EXPECTED_ROWS))
def test_every_spec_follows_the_protocol(name: str) -> None:
    spec = get_spec(name)
    assert spec.max_tokens == 2048
    assert spec.stop[: len(PROTOCOL_STOP)] == PROTOCOL_STOP
    assert spec.expected_rows == EXPECTED_ROWS[name]
    assert spec.hub_id and spec.split and spec.revision and spec.local_file
    expected_template = {"mmlu_pro": "mmlu-pro-cot", "gpqa_diamond": "gpqa"}
    assert spec.prompt_template == expected_template.get(name, "qwen25-math-cot")
    assert ("Question:" in spec.stop) == (name == "mmlu_pro")


def test_multi_config_hub_spec_exposes_its_configs() -> None:
    spec = get_spec("math")
    assert len(spec.configs) == 7 and spec.config.startswith("algebra,")
    assert get_spec("gsm8k").config == "main"
    assert get_spec("math500").config is None


def test_resolve_benchmarks() -> None:
    assert resolve_benchmarks("all") == list(EXPECTED_ROWS)
    assert resolve_benchmarks(" gsm8k, math500 ,gsm8k") == ["gsm8k", "math500"]
    with pytest.raises(UserError, match=r"unknown benchmark 'gsm9k'.*gsm8k.*math500"):
        resolve_benchmarks("gsm8k,gsm9k")
    with pytest.raises(UserError, match="no benchmark named"):
        resolve_benchmarks(" , ")


def test_unknown_benchmark_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown benchmark 'aime25'; valid: math, minerva_math"):
        load_problems("aime25", SHARED)


def test_a_new_benchmark_is_one_yaml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = tmp_path / "registry"
    _write(
        registry / "tiny.yaml",
        textwrap.dedent("""\
        name: tiny
        rows: 2
        answer_type: math
        prompt_template: qwen25-math-cot
        stop: ['[END]']
        local: {file: tiny/test.jsonl, format: jsonl}
        hub: {id: someone/tiny, split: test}
        fields: {id: key, question: q}
        gold: {rule: last_boxed_of_solution, field: sol}
        meta: {level: lvl}
        """),
    )
    data = tmp_path / "data"
    _write(
        data / "tiny" / "test.jsonl",
        '{"key": "a", "q": " 1+1? ", "sol": "so \\\\boxed{2}", "lvl": 1}\n'
        '{"key": "b", "q": "2+2?", "sol": "\\\\boxed{4}"}\n',
    )
    monkeypatch.setenv(benchmarks.REGISTRY_ENV, str(registry))
    problems = load_problems("tiny", data)
    assert [(p.id, p.question, p.gold, p.meta) for p in problems] == [
        ("a", "1+1?", "2", {"level": 1}),
        ("b", "2+2?", "4", {}),
    ]
    assert get_spec("tiny").revision == "main"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("colour: blue", "unknown key.*colour"),
        ("gold: {rule: telepathy, field: a}", "gold.rule must be one of"),
        ("gold: {rule: options_letter, field: answer}", "options_letter needs options"),
    ],
)
def test_a_broken_yaml_names_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, message: str
) -> None:
    base = {
        "name": "name: broken",
        "answer_type": "answer_type: math",
        "local": "local: {file: x.jsonl, format: jsonl}",
        "hub": "hub: {id: a/b, split: test}",
        "fields": "fields: {question: q}",
        "gold": "gold: {rule: field, field: a}",
    }
    key = line.split(":")[0]
    base[key] = line
    _write(tmp_path / "broken.yaml", "\n".join(base.values()) + "\n")
    monkeypatch.setenv(benchmarks.REGISTRY_ENV, str(tmp_path))
    with pytest.raises(UserError, match=message) as caught:
        get_spec("broken")
    assert str(tmp_path / "broken.yaml") in str(caught.value)


# --- the real local copies ------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("name", list(EXPECTED_ROWS))
def test_every_benchmark_loads_completely(loaded: dict[str, list], name: str) -> None:
    problems = loaded[name]
    assert len(problems) == EXPECTED_ROWS[name]
    assert len({p.id for p in problems}) == len(problems)
    assert all(p.gold.strip() and p.question.strip() for p in problems)
    assert all(p.benchmark == name and p.answer_type in ANSWER_TYPES for p in problems)
    if get_spec(name).answer_type == "multiple_choice":
        letters = "ABCDEFGHIJ"
        assert all(p.choices and p.gold in letters[: len(p.choices)] for p in problems)
    else:
        assert all(p.choices is None for p in problems)


@needs_shared
def test_golds_match_the_files(loaded: dict[str, list]) -> None:
    first = {name: loaded[name][0] for name in EXPECTED_ROWS}
    assert (first["gsm8k"].id, first["gsm8k"].gold) == ("0", "18")
    assert (first["math"].id, first["math"].gold) == ("0", "2")
    assert first["math"].meta == {"level": "Level 3", "subject": "Algebra"}
    assert (first["amc23"].gold, first["aime24"].gold, first["aime24"].id) == ("27", "204", "60")
    assert (first["olympiadbench"].id, first["olympiadbench"].gold) == ("1606", "2")
    assert (first["minerva_math"].gold, first["math500"].id) == ("1.6", "test/precalculus/807.json")
    assert first["math500"].gold == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert (first["theoremqa"].gold, first["theoremqa"].answer_type) == ("11760", "integer")
    assert (first["mmlu_pro"].id, first["mmlu_pro"].gold) == ("70", "I")
    with (SHARED / "mmlu_pro" / "test.jsonl").open() as handle:
        raw_mmlu = json.loads(handle.readline())
    assert first["mmlu_pro"].choices == raw_mmlu["options"] and len(raw_mmlu["options"]) == 9
    by_id = {p.id: p for p in loaded["olympiadbench"]}
    assert "$" not in "".join(p.gold for p in loaded["olympiadbench"])
    assert any(p.gold == "(1,8,19), (2,7,13), (4,5,7)" for p in by_id.values())


@needs_shared
def test_gsm8k_gold_drops_thousands_separators(loaded: dict[str, list]) -> None:
    raw = [json.loads(line) for line in (SHARED / "gsm8k" / "test.jsonl").open()]
    index = next(i for i, row in enumerate(raw) if row["answer"].endswith("#### 2,125"))
    assert loaded["gsm8k"][index].gold == "2125"


@needs_shared
def test_math_golds_agree_with_math500_answers(loaded: dict[str, list]) -> None:
    # MATH-500 is a subset of MATH whose `answer` was extracted by its authors: the last
    # \boxed{} of the MATH solution must give the same text.
    math_gold = {p.question: p.gold for p in loaded["math"]}
    pairs = [(math_gold[p.question], p.gold) for p in loaded["math500"] if p.question in math_gold]
    assert len(pairs) == 500
    assert all(ours.replace(" ", "") == theirs.replace(" ", "") for ours, theirs in pairs)


@needs_shared
def test_theoremqa_types_suffix_and_picture_flag(loaded: dict[str, list]) -> None:
    problems = loaded["theoremqa"]
    counts = {kind: sum(p.answer_type == kind for p in problems) for kind in ANSWER_TYPES}
    assert counts == {
        "math": 0,
        "multiple_choice": 0,
        "bool": 115,
        "integer": 216,
        "float": 378,
        "option": 18,
        "list": 73,
    }
    for problem in problems:
        assert problem.question.endswith(BOOL_SUFFIX) == (problem.answer_type == "bool")
    assert {p.gold for p in problems if p.answer_type == "bool"} == {"True", "False"}
    assert sum(p.meta["picture"] for p in problems) == 53
    lists = [p for p in problems if p.answer_type == "list"]
    assert lists[0].gold == "[0, 5]" and lists[0].meta["answer_subtype"] == "list of integer"


@needs_shared
def test_gpqa_shuffle_is_deterministic_per_seed_and_keeps_the_right_answer() -> None:
    rows = {row["Record ID"]: row for row in _gpqa_rows()}
    seed0 = load_problems("gpqa_diamond", SHARED, gpqa_seed=0)
    again = load_problems("gpqa_diamond", SHARED, gpqa_seed=0)
    seed1 = load_problems("gpqa_diamond", SHARED, gpqa_seed=1)
    assert [p.choices for p in seed0] == [p.choices for p in again]
    assert sum(a.choices != b.choices for a, b in zip(seed0, seed1, strict=True)) > 100
    for problem in seed0 + seed1:
        row = rows[problem.id]
        correct = problem.choices["ABCD".index(problem.gold)]
        assert correct == row["Correct Answer"].strip()
        assert sorted(problem.choices) == sorted(
            row[name].strip()
            for name in (
                "Correct Answer",
                "Incorrect Answer 1",
                "Incorrect Answer 2",
                "Incorrect Answer 3",
            )
        )
        assert problem.question == row["Question"].strip()
    assert {p.meta["shuffle_seed"] for p in seed1} == {1}
    assert len({p.gold for p in seed0}) == 4  # the correct answer is not always in one place
    # A question's order does not depend on which other questions were loaded.
    assert [p.choices for p in load_problems("gpqa_diamond", SHARED, limit=3)] == [
        p.choices for p in seed0[:3]
    ]


@needs_shared
def test_limit_takes_the_first_rows() -> None:
    full = load_problems("mmlu_pro", SHARED)
    assert load_problems("mmlu_pro", SHARED, limit=5) == full[:5]
    assert load_problems("theoremqa", SHARED, limit=0) == []
    with pytest.raises(UserError, match="limit must be zero or more"):
        load_problems("gsm8k", SHARED, limit=-1)


@needs_shared
def test_data_dir_from_environment_source_and_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(benchmarks.DATA_DIR_ENV, str(SHARED))
    assert len(load_problems("aime24")) == 30
    path = SHARED / "aime24" / "test.jsonl"
    assert data_source("aime24") == str(path)
    assert data_fingerprint("aime24") == hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.delenv(benchmarks.DATA_DIR_ENV)
    assert data_source("gsm8k") == "openai/gsm8k"
    assert data_fingerprint("math500") == (
        "hub:HuggingFaceH4/MATH-500@ff5b20257d8185524591543f8ff5993951537bb8"
    )


# --- gold rules on hand-made rows -----------------------------------------------------------


def test_mmlu_pro_drops_na_options_and_reindexes_the_gold(tmp_path: Path) -> None:
    row = {
        "question_id": 7,
        "question": "Which?",
        "category": "math",
        "src": "x",
        "options": ["w", "N/A", "x", "y", "N/A", "z"],
        "answer": "D",
        "answer_index": 3,
    }
    _write(tmp_path / "mmlu_pro" / "test.jsonl", json.dumps(row) + "\n")
    (problem,) = load_problems("mmlu_pro", tmp_path)
    assert problem.choices == ["w", "x", "y", "z"]
    assert problem.gold == "C"  # "y" was D before the N/A in position B was dropped
    assert problem.meta["dropped_na"] == 2

    row["answer"] = "B"  # the N/A itself
    _write(tmp_path / "mmlu_pro" / "test.jsonl", json.dumps(row) + "\n")
    with pytest.raises(UserError, match=r"test.jsonl:1: the correct option B is 'N/A'"):
        load_problems("mmlu_pro", tmp_path)


def test_hub_rows_use_the_hub_field_names() -> None:
    minerva = parse_row(
        get_spec("minerva_math").hub_rules,
        {"question": "Find x.", "answer": "4.5e33"},
        3,
        "hub row 3",
    )
    assert (minerva.id, minerva.question, minerva.gold) == ("3", "Find x.", "4.5e33")
    # The TheoremQA hub copy stores every answer as a string and the picture as an image.
    theorem = parse_row(
        get_spec("theoremqa").hub_rules,
        {
            "id": "t/1.json",
            "Question": "Is it?",
            "Answer": "True",
            "Answer_type": "bool",
            "Picture": object(),
            "subfield": "Algebra",
            "field": "Math",
            "theorem": "x",
        },
        0,
        "hub row 0",
    )
    assert (theorem.gold, theorem.answer_type) == ("True", "bool")
    assert theorem.question == "Is it?" + BOOL_SUFFIX and theorem.meta["picture"] is True
    gsm = parse_row(
        get_spec("gsm8k").hub_rules,
        {"question": "Q?", "answer": "steps\n#### 1,000"},
        5,
        "hub row 5",
    )
    assert (gsm.id, gsm.gold) == ("5", "1000")


# --- errors a user can fix ------------------------------------------------------------------


def test_missing_file_names_the_expected_path(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        load_problems("math", tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "math" / "test.jsonl") in message
    assert "--data-dir" in message and "CFTEVAL_DATA_DIR" in message


def test_malformed_line_names_path_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "gsm8k" / "test.jsonl",
        '{"question": "a?", "answer": "#### 1", "idx": 0}\n{"question": "b?", "answ\n',
    )
    with pytest.raises(UserError, match=rf"{path}:2: malformed JSON line"):
        load_problems("gsm8k", tmp_path)


def test_row_problems_name_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "gsm8k" / "test.jsonl"
    good = '{"question": "a?", "answer": "x #### 1", "idx": 0}\n'
    cases = [
        ('\n{"question": "b?", "idx": 1}\n', "3: missing field 'answer'"),
        ('{"question": "b?", "answer": "no marks", "idx": 1}\n', "2: no '####'"),
        ('{"question": "b?", "answer": "#### ", "idx": 1}\n', "2: empty gold"),
        ('{"question": "b?", "answer": "#### 2", "idx": 0}\n', "2: duplicate id '0'"),
        ("[1, 2]\n", "2: expected a JSON object"),
    ]
    for second, message in cases:
        _write(path, good + second)
        with pytest.raises(UserError, match=f"{path}:{message}"):
            load_problems("gsm8k", tmp_path)


def test_math_solution_without_a_box_is_reported(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "math" / "test.jsonl",
        '{"problem": "p", "solution": "it is 3", "level": "Level 1", "type": "Algebra"}\n',
    )
    with pytest.raises(UserError, match=rf"{path}:1: no \\boxed"):
        load_problems("math", tmp_path)


def test_broken_json_array_and_zip(tmp_path: Path) -> None:
    path = _write(tmp_path / "theoremqa" / "test.json", '[\n  {"Question": "q",\n  oops\n]')
    with pytest.raises(UserError, match=rf"{path}:3: malformed JSON"):
        load_problems("theoremqa", tmp_path)
    archive = tmp_path / "gpqa" / "dataset.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("dataset/other.csv", "a,b\n1,2\n")
    with pytest.raises(UserError, match="no member 'dataset/gpqa_diamond.csv'"):
        load_problems("gpqa_diamond", tmp_path)
    archive.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="not a readable zip"):
        load_problems("gpqa_diamond", tmp_path)


# --- last_boxed -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
        ("first \\boxed{1}, then \\boxed{x^{2}+1}", "x^{2}+1"),
        ("\\boxed{2} or \\fbox{3}", "3"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
        ("\\boxed{\\left\\{ x \\right.}", "\\left\\{ x \\right."),
        ("$\\boxed 5$", "5"),
        ("no box here", None),
        ("\\boxed{unclosed", None),
    ],
)
def test_last_boxed(text: str, expected: str | None) -> None:
    assert last_boxed(text) == expected


# --- the hub path and the command, in clean processes ----------------------------------------


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != benchmarks.DATA_DIR_ENV}
    # Never touch the network: offline mode and an empty cache make the hub path fail at once.
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    return env


def test_hub_path_offline_is_a_user_error_and_datasets_rows_parse_alike(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "gsm8k_copy" / "test.jsonl",
        '{"question": "a?", "answer": "x\\n#### 1,500"}\n{"question": "b?", "answer": "#### 7"}\n',
    ).parent
    script = textwrap.dedent(f"""\
        from cfteval.benchmarks import get_spec, load_problems
        from cfteval.errors import UserError
        from cfteval.loaders import read_hub_rows
        from cfteval.rows import parse_row
        try:
            load_problems("gsm8k")
        except UserError as error:
            print("ERROR", error)
        # A local folder stands in for a hub repository: the rows come through `datasets`.
        rules = get_spec("gsm8k").hub_rules
        rows = read_hub_rows({str(folder)!r}, [None], "test", "main")
        print("ROWS", [(p.id, p.gold) for i, (w, r) in enumerate(rows)
                       for p in [parse_row(rules, r, i, w)]])
        """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    error = next(line for line in result.stdout.splitlines() if line.startswith("ERROR"))
    assert "cannot load openai/gsm8k/main@main" in error
    assert "<data_dir>/gsm8k/test.jsonl" in error and "CFTEVAL_DATA_DIR" in error
    assert "ROWS [('0', '1500'), ('1', '7')]" in result.stdout


@needs_shared
def test_benchmarks_command_prints_the_table(tmp_path: Path) -> None:
    env = {**_clean_env(tmp_path), "COLUMNS": "200"}
    result = subprocess.run(
        [str(CFTEVAL), "benchmarks", "--data-dir", str(SHARED)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for name, rows in EXPECTED_ROWS.items():
        row = next(line for line in lines if f" {name} " in line)
        assert f" {rows} " in row and str(SHARED / get_spec(name).local_file) in row
    assert "per_row" in result.stdout and "multiple_choice" in result.stdout

    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run(
        [str(CFTEVAL), "benchmarks", "--data-dir", str(empty)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    # Nothing loads: the table and the reasons, then a one-line error and exit code 2.
    assert result.returncode == 2, result.stderr
    assert "no benchmark could be loaded" in result.stderr
    assert result.stdout.count("unavailable") == len(EXPECTED_ROWS)
    assert f"expected the local file {empty / 'gpqa' / 'dataset.zip'}" in result.stdout
