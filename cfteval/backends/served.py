"""What an OpenAI-compatible server serves: base URLs, `/v1/models`, and the model's identity.

With `--backend openai`, `--model` is the *served* model name, not a local folder. Its cache
identity must still change when the server's checkpoint changes and stay the same across server
restarts and replicas, so it is built from what `/v1/models` reports (vLLM and SGLang report the
`root` the server loaded, vLLM also `max_model_len`) plus, when that root is a checkpoint folder
visible from here, the same content fingerprint local models get. The base URL is deliberately
left out: replicas behind different URLs serve the same model and share one cache.
"""

from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from cfteval.errors import UserError
from cfteval.models import ModelInfo, local_fingerprint

logger = logging.getLogger(__name__)


class BackendUnavailableError(UserError):
    """A server stayed unreachable (or kept failing) through every retry.

    Everything that finished before was handed to the caller (and stored), so rerunning the
    same command resumes. Exit code 3 lets scripts tell "server down, rerun later" apart from
    a mistake in the command (2).
    """

    exit_code = 3


class ServerRequestError(UserError):
    """The server refused a request for a reason retrying cannot fix (bad key, unknown model)."""


@dataclass(frozen=True)
class ServedModel:
    """One entry of `/v1/models`: the served name and what the server says about it."""

    name: str
    root: str | None = None
    max_model_len: int | None = None
    owned_by: str | None = None

    @property
    def is_vllm(self) -> bool:
        """vLLM servers accept extensions (per-choice `token_ids`) other servers may refuse."""
        return self.owned_by == "vllm"


@dataclass(frozen=True)
class ServerOptions:
    """How requests reach OpenAI-compatible servers: the options every role shares."""

    api_key: str | None = None
    concurrency: int = 128
    connect_timeout: float = 10.0
    request_timeout: float = 1800.0
    max_retries: int = 6

    def engine_options(self, base_urls: list[str], chat: bool) -> dict[str, Any]:
        """The openai backend's keyword options for these servers.

        `chat`: prompts are rendered as JSON messages (no local tokenizer); the backend sends
        them to the chat endpoint, where the server applies its chat template.
        """
        return {
            "base_urls": base_urls,
            "api_key": self.api_key,
            "concurrency": self.concurrency,
            "connect_timeout": self.connect_timeout,
            "request_timeout": self.request_timeout,
            "max_retries": self.max_retries,
            "chat_prompts": chat,
        }

    def recorded(self, base_urls: list[str]) -> dict[str, Any]:
        """These settings as manifests record them and replay restores them: the URLs
        normalised and without a password they may hold, and never the API key (manifests
        travel with results)."""
        from cfteval.manifest import redacted_url

        urls = [redacted_url(url) for url in parse_base_urls(base_urls)] if base_urls else []
        return {
            "base_urls": urls,
            "concurrency": self.concurrency,
            "connect_timeout": self.connect_timeout,
            "request_timeout": self.request_timeout,
            "max_retries": self.max_retries,
        }


def normalize_base_url(url: str) -> str:
    """`http://host:8000` → `http://host:8000/v1`; a URL with a path (a router's prefix) is kept.

    OpenAI clients take the URL *with* `/v1`; users often paste the server's address without it.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(f"--base-url {url!r} is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")
    path = parts.path.rstrip("/")
    if not path:
        path = "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def parse_base_urls(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """A comma-separated `--base-url` (or a list) → normalised, de-duplicated URLs."""
    items = value.split(",") if isinstance(value, str) else list(value)
    urls = [normalize_base_url(item) for item in items if item.strip()]
    if not urls:
        raise UserError("--backend openai needs --base-url URL[,URL...]")
    return list(dict.fromkeys(urls))


def api_key_or_env(api_key: str | None) -> str | None:
    """`--api-key`, else $OPENAI_API_KEY (for library callers; the CLI reads the env itself)."""
    return api_key if api_key is not None else os.environ.get("OPENAI_API_KEY") or None


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential back-off with "equal jitter": between half and all of min(cap, base·2^attempt).

    The jitter spreads the retries of many concurrent requests so that a recovering server is
    not hit by all of them in the same instant.
    """
    ceiling = min(cap, base * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)  # timing jitter, not security


def list_models(
    base_url: str,
    api_key: str | None,
    *,
    timeout: float = 10.0,
    max_retries: int = 3,
    backoff_base: float = 0.5,
) -> list[ServedModel]:
    """GET `<base_url>/models`, retrying connection errors and 5xx a few times."""
    last = ""
    for attempt in range(max_retries + 1):
        if attempt:
            delay = backoff_delay(attempt - 1, backoff_base, 10.0)
            logger.debug("%s/models: %s; retry %d/%d in %.2f s", base_url, last, attempt,
                         max_retries, delay)  # fmt: skip
            time.sleep(delay)
        try:
            response = httpx.get(
                f"{base_url}/models", headers=auth_headers(api_key), timeout=timeout
            )
        except httpx.TransportError as error:
            last = f"{type(error).__name__}: {error}"
            continue
        if response.status_code == 429 or response.status_code >= 500:
            last = f"HTTP {response.status_code}"
            continue
        if response.status_code != 200:
            raise ServerRequestError(
                f"{base_url}/models answered HTTP {response.status_code}: {error_message(response)}"
            )
        return [_served_model(entry) for entry in response.json().get("data", [])]
    raise BackendUnavailableError(
        f"cannot reach the server at {base_url} ({last}, after {max_retries} retries); "
        "start it or fix --base-url, then rerun"
    )


def _served_model(entry: dict[str, Any]) -> ServedModel:
    max_len = entry.get("max_model_len")
    return ServedModel(
        name=str(entry.get("id", "")),
        root=entry.get("root"),
        max_model_len=int(max_len) if isinstance(max_len, int) else None,
        owned_by=entry.get("owned_by"),
    )


def find_served_model(
    name: str, base_urls: str | list[str], api_key: str | None, **options: Any
) -> ServedModel:
    """The entry for `name` from the first reachable server; unreachable replicas are warned about
    (requests sent there are retried on the others) but at least one must answer."""
    api_key = api_key_or_env(api_key)
    failures: list[str] = []
    urls = parse_base_urls(base_urls)
    for url in urls:
        try:
            served = list_models(url, api_key, **options)
        except BackendUnavailableError as error:
            failures.append(str(error))
            if len(urls) > 1:
                logger.warning("%s", error)
            continue
        for model in served:
            if model.name == name:
                return model
        names = ", ".join(model.name for model in served) or "none"
        raise UserError(f"the server at {url} does not serve model {name!r} (it serves: {names})")
    if not failures:
        raise UserError("--backend openai needs --base-url URL[,URL...]")
    if len(failures) == 1:
        raise BackendUnavailableError(failures[0])
    raise BackendUnavailableError("no server answered: " + "; ".join(failures))


def resolve_served_model(
    name: str, base_urls: str | list[str], api_key: str | None, **options: Any
) -> ModelInfo:
    """`--model` of `--backend openai`: identity `openai:<name>@<root>[#<folder hash>]`."""
    served = find_served_model(name, base_urls, api_key, **options)
    root = served.root or name
    digest = None
    folder = Path(root)
    if folder.is_dir() and (folder / "config.json").is_file():
        digest = local_fingerprint(folder)
    identity = f"openai:{name}@{root}" + (f"#{digest}" if digest else "")
    return ModelInfo(path=name, identity=identity, revision_or_hash=digest or root, is_local=False)


def server_version(base_url: str, api_key: str | None, timeout: float) -> str | None:
    """The server's own version where it says (vLLM: GET /version); None otherwise."""
    try:
        response = httpx.get(
            base_url.removesuffix("/v1") + "/version",
            headers=auth_headers(api_key),
            timeout=timeout,
        )
        version = response.json().get("version") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return str(version) if version else None


def error_message(response: Any) -> str:
    """The server's error text from an OpenAI-style error body, else the raw body, on one line
    (it ends up in a one-line error message) and shortened."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        text = str(error["message"])
    elif isinstance(body, dict) and body.get("message"):  # some servers: {"message": ...}
        text = str(body["message"])
    else:
        text = str(body)
    return " ".join(text.split())[:500]
