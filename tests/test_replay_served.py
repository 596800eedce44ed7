"""Replaying an openai run: its servers come back from the manifest, its API key never goes in.

No server here: these test the manifest record and replay's reconstruction from it; the end to
end replay against a real server is in test_openai_eval.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cfteval.errors import UserError
from cfteval.evaluate import EvalConfig
from cfteval.manifest import REDACTED, redacted_command, redacted_url
from cfteval.replay import served_settings

WHERE = Path("runs/m/gsm8k/direct/t0.0/manifest.json")


def _openai_config(**overrides: object) -> EvalConfig:
    options: dict = {
        "model": "tiny",
        "benchmarks": ["gsm8k"],
        "backend": "openai",
        "base_urls": ["http://a:8000", "http://user:pw@b:8000/v1/"],
        "api_key": "sk-secret",
        "concurrency": 3,
        "max_retries": 2,
        "request_timeout": 60.0,
    }
    return EvalConfig(**(options | overrides))


def test_the_record_holds_normalised_servers_and_no_secret() -> None:
    record = _openai_config().openai_settings()
    assert record == {
        "base_urls": ["http://a:8000/v1", f"http://user:{REDACTED}@b:8000/v1"],
        "concurrency": 3,
        "connect_timeout": 10.0,
        "request_timeout": 60.0,
        "max_retries": 2,
    }
    assert "sk-secret" not in repr(record) and "pw" not in repr(record)
    # The backend itself still gets the key and the URLs as given.
    options = _openai_config().openai_options()
    assert options["api_key"] == "sk-secret"
    assert options["base_urls"] == ["http://a:8000", "http://user:pw@b:8000/v1/"]
    assert _openai_config(backend="vllm").openai_settings() == {}


def test_replay_restores_the_recorded_servers_and_request_settings() -> None:
    backend = {"name": "openai", "version": "vllm 0.x"} | _openai_config().openai_settings()
    settings = served_settings(backend, None, "sk-new", WHERE)
    assert settings == {
        "base_urls": ["http://a:8000/v1", f"http://user:{REDACTED}@b:8000/v1"],
        "api_key": "sk-new",
        "concurrency": 3,
        "connect_timeout": 10.0,
        "request_timeout": 60.0,
        "max_retries": 2,
    }
    replayed = EvalConfig(model="tiny", benchmarks=["gsm8k"], backend="openai", **settings)
    assert replayed.openai_settings() == _openai_config().openai_settings()


def test_base_url_on_the_replay_command_line_wins() -> None:
    backend = {"name": "openai", "base_urls": ["http://old:8000/v1"], "concurrency": 9}
    settings = served_settings(backend, "http://new1:8000/v1,http://new2:8000/v1", None, WHERE)
    assert settings["base_urls"] == ["http://new1:8000/v1", "http://new2:8000/v1"]
    assert settings["concurrency"] == 9


def test_an_openai_manifest_without_servers_asks_for_base_url() -> None:
    with pytest.raises(UserError, match="records no server.*--base-url"):
        served_settings({"name": "openai"}, None, None, WHERE)
    assert served_settings({"name": "openai"}, "http://h:1/v1", None, WHERE)["base_urls"] == [
        "http://h:1/v1"
    ]


def test_offline_runs_take_no_server() -> None:
    assert served_settings({"name": "vllm", "dtype": "float32"}, None, None, WHERE) == {}
    with pytest.raises(UserError, match="--base-url replays a run made with --backend openai"):
        served_settings({"name": "vllm"}, "http://h:1/v1", None, WHERE)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["cfteval", "eval", "--api-key", "sk-1", "--limit", "2"],
         ["cfteval", "eval", "--api-key", REDACTED, "--limit", "2"]),
        (["cfteval", "eval", "--api-key=sk-1"], ["cfteval", "eval", f"--api-key={REDACTED}"]),
        (["--base-url", "http://u:p@h:1/v1,http://h2:1/v1"],
         ["--base-url", f"http://u:{REDACTED}@h:1/v1,http://h2:1/v1"]),
        (["--temperatures", "0,0.6", "--model", "org/name"],
         ["--temperatures", "0,0.6", "--model", "org/name"]),
        (["--api-key"], ["--api-key"]),
    ],
)  # fmt: skip
def test_recorded_commands_hide_secrets(argv: list[str], expected: list[str]) -> None:
    assert redacted_command(argv) == expected


def test_urls_without_a_password_are_unchanged() -> None:
    for url in ("http://h:1/v1", "http://user@h/v1", "not a url", "http://[bad"):
        assert redacted_url(url) == url
