"""The hub code path, offline: a dataset repository saved in the hub's own format (parquet files
in a `owner/name` folder) is loaded through `datasets.load_dataset` with HF_DATASETS_OFFLINE set,
so the hub field mapping and gold rules run exactly as they do on downloaded data. Also: with no
network and no local files, `cfteval benchmarks` fails fast, says once what to do, exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfteval.benchmarks import load_problems
from tests.helpers import run_cfteval

datasets = pytest.importorskip("datasets")


@pytest.fixture
def hub_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # `load_dataset("owner/name")` finds the folder here first
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("CFTEVAL_DATA_DIR", raising=False)
    return tmp_path


def _save(folder: Path, repo: str, split: str, columns: dict[str, list]) -> None:
    target = folder / repo / "data"
    target.mkdir(parents=True)
    datasets.Dataset.from_dict(columns).to_parquet(str(target / f"{split}-00000-of-00001.parquet"))


def test_math500_from_a_hub_format_folder(hub_folder: Path) -> None:
    _save(
        hub_folder,
        "HuggingFaceH4/MATH-500",
        "test",
        {
            "problem": ["What is $1+1$?", "Simplify $\\frac{2}{4}$."],
            "answer": ["2", "\\frac{1}{2}"],
            "unique_id": ["test/a/1.json", "test/b/2.json"],
            "level": [1, 2],
            "subject": ["Algebra", "Prealgebra"],
        },
    )
    problems = load_problems("math500", data_dir=None)
    assert [p.gold for p in problems] == ["2", "\\frac{1}{2}"]
    assert [p.id for p in problems] == ["test/a/1.json", "test/b/2.json"]
    assert problems[1].meta["subject"] == "Prealgebra"


def test_theoremqa_typed_golds_from_a_hub_format_folder(hub_folder: Path) -> None:
    _save(
        hub_folder,
        "TIGER-Lab/TheoremQA",
        "test",
        {
            "id": ["q1", "q2", "q3"],
            "Question": ["Is 7 prime?", "How many edges has K_4?", "List the roots of x^2-1."],
            "Answer": ["True", "6", "[-1, 1]"],
            "Answer_type": ["bool", "integer", "list of integer"],
            "Picture": [None, None, None],
            "subfield": ["Number theory", "Graph theory", "Algebra"],
            "field": ["Math", "Math", "Math"],
            "theorem": ["primes", "complete graphs", "polynomials"],
        },
    )
    problems = load_problems("theoremqa", data_dir=None)
    assert [p.answer_type for p in problems] == ["bool", "integer", "list"]
    assert problems[0].question.endswith("Answer with \\boxed{True} or \\boxed{False}.")


def test_benchmarks_without_network_or_files_fail_fast_once(tmp_path: Path) -> None:
    # conftest keeps the hub offline; with no local files nothing can load.
    result = run_cfteval(
        "benchmarks", "--data-dir", str(tmp_path / "none"), env={"COLUMNS": "250"}, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "no benchmark could be loaded" in result.stderr


def test_an_unreachable_hub_is_said_once(tmp_path: Path) -> None:
    # No offline flags and a hub address that cannot resolve: the quick probe answers for all.
    env = {
        "HF_DATASETS_OFFLINE": "0",
        "HF_HUB_OFFLINE": "0",
        "COLUMNS": "250",
        "HF_ENDPOINT": "https://hub.invalid",
        "CFTEVAL_DATA_DIR": "",
    }
    result = run_cfteval("benchmarks", env=env, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.count("the dataset hub is unreachable") == 1
    assert "retry" not in (result.stdout + result.stderr).lower()
    assert json.dumps("no benchmark could be loaded")[1:-1] in result.stderr
