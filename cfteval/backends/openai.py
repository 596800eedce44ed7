"""OpenAI-compatible backend: any vLLM / SGLang server, or a router in front of many replicas.

This is how a run scales past one machine: the servers run on a cluster, cfteval sends requests
with bounded concurrency and stores each completion as it arrives. Design choices:

- httpx's async client, driven by an event loop in a background thread; `stream` hands
  completions to the caller's thread through a queue, so it is a plain iterator. Breaking out
  of it cancels the requests in flight (closing their connections makes vLLM abort them).
- Several `--base-url`s share the load: each request goes to the live URL with the fewest
  requests in flight; a failed attempt is retried (exponential back-off with jitter) on
  whichever URL is best then, so a dead replica only slows a run down. When a request has used
  up its retries the backend stops, after handing out everything that finished, and raises
  `BackendUnavailableError` naming the URL; rerunning the command resumes from the store.
- Prompts render as in the offline backends; requests that carry chat `messages`
  (`--prompt-format chat`) go to the chat endpoint and the server applies its chat template.
- Token counts per choice: vLLM servers return each choice's `token_ids` (requested with
  `return_token_ids`), which count exactly what the offline backend counts. Other servers get
  `logprobs` when n > 1 (one entry per generated token); with n = 1, `usage.completion_tokens` is
  exact. Only when a server gives neither is a total split across choices by text length.
- Sampling is passed through exactly (seed from the request key, n, stop, max_tokens,
  temperature, top_p). vLLM servers also get top_k/min_p/repetition_penalty switched off,
  since they would otherwise take those defaults from the checkpoint's generation_config while
  the offline engine does not.

Reading the replies (choices into Completions, error wording, Retry-After) is openai_replies.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from cfteval.backends import openai_replies
from cfteval.backends.base import Backend, TokenCallback
from cfteval.backends.decoding import request_seed
from cfteval.backends.served import (
    BackendUnavailableError,
    ServerRequestError,
    api_key_or_env,
    auth_headers,
    backoff_delay,
    error_message,
    find_served_model,
    parse_base_urls,
    server_version,
)
from cfteval.errors import UserError
from cfteval.manifest import redacted_url
from cfteval.records import Completion, Request

logger = logging.getLogger(__name__)


@dataclass
class _End:
    """Last item on the results queue: the run is over, with the error that ended it if any."""

    error: BaseException | None = None


class OpenAIBackend(Backend):
    """Streams completions from one or more OpenAI-compatible servers serving `model`."""

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_urls: str | Sequence[str],
        api_key: str | None = None,
        concurrency: int = 128,
        connect_timeout: float = 10.0,
        request_timeout: float = 1800.0,
        max_retries: int = 6,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        seed: int = 0,
        max_model_len: int | None = None,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        chat_prompts: bool = False,
    ) -> None:
        if tensor_parallel_size != 1:
            raise UserError("--tp is the server's setting with --backend openai; drop it here")
        del seed, max_model_len, dtype  # the server's settings; seeds come from request keys
        self.model = model
        self.base_urls = parse_base_urls(base_urls)
        self._api_key = api_key_or_env(api_key)
        self.concurrency = concurrency
        self.chat_prompts = chat_prompts
        self.max_retries = max_retries
        self._backoff = (backoff_base, backoff_cap)
        self._timeouts = (connect_timeout, request_timeout)
        self.served = find_served_model(
            model, self.base_urls, self._api_key, timeout=connect_timeout
        )
        # Per-URL state, touched only on the event loop's thread.
        self._in_flight = dict.fromkeys(self.base_urls, 0)
        self._failures = dict.fromkeys(self.base_urls, 0)
        self._down_until = dict.fromkeys(self.base_urls, 0.0)
        self.requests_served = dict.fromkeys(self.base_urls, 0)
        self.peak_in_flight = 0
        self._stop_limit: int | None = None  # learnt from a server that refuses long stop lists
        self._next = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="cfteval-openai", daemon=True
        )
        self._thread.start()
        self._client: Any = asyncio.run_coroutine_threadsafe(
            self._open_client(), self._loop
        ).result()
        self._version = server_version(self.base_urls[0], self._api_key, connect_timeout)

    def version(self) -> str:
        """The server software (vLLM reports its version) and where it was reached."""
        server = self.served.owned_by or "unknown server"
        if self._version:
            server = f"{server} {self._version}"
        urls = ", ".join(redacted_url(url) for url in self.base_urls)  # it goes into manifests
        return f"{server} via the OpenAI API at {urls}"

    async def _open_client(self) -> Any:
        connect, read = self._timeouts
        connections = self.concurrency * len(self.base_urls)
        return httpx.AsyncClient(
            headers=auth_headers(self._api_key),
            timeout=httpx.Timeout(read, connect=connect),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    def stream(
        self, requests: Sequence[Request], on_tokens: TokenCallback | None = None
    ) -> Iterator[Completion]:
        """Yield each Completion as its response arrives; see the module docstring."""
        unique = list({request.key: request for request in requests}.values())
        if not unique:
            return
        results: queue.Queue[Completion | _End] = queue.Queue()
        task = asyncio.run_coroutine_threadsafe(self._start(unique, results), self._loop).result()
        ended = False
        try:
            while True:
                item = results.get()
                if isinstance(item, _End):
                    ended = True
                    if item.error is not None:
                        raise item.error
                    return
                if on_tokens is not None:
                    on_tokens(sum(item.token_counts))
                yield item
        finally:
            if not ended:
                # The consumer stopped early: cancel what is in flight and wait until the
                # connections are closed, so the backend is idle and usable again.
                self._loop.call_soon_threadsafe(task.cancel)
                while not isinstance(results.get(), _End):
                    pass

    async def _start(self, requests: list[Request], results: queue.Queue) -> asyncio.Task:
        """Start the run; its end (success, error or cancellation) is always queued as `_End`,
        by a done callback, which runs even when the task is cancelled before it starts."""
        task = asyncio.create_task(self._run(requests, results))

        def finish(done: asyncio.Task) -> None:
            results.put(_End(None if done.cancelled() else done.exception()))

        task.add_done_callback(finish)
        return task

    async def _run(self, requests: list[Request], results: queue.Queue) -> None:
        """Send every request with `concurrency` workers per URL; the first error stops all."""
        pending = deque(requests)

        async def worker() -> None:
            while pending:
                request = pending.popleft()
                results.put(await self._complete(request))

        workers = [
            asyncio.create_task(worker())
            for _ in range(min(len(requests), self.concurrency * len(self.base_urls)))
        ]
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    def _pick_url(self) -> str:
        """The URL not in back-off with the fewest requests in flight (round-robin on ties)."""
        now = time.monotonic()
        count = len(self.base_urls)
        order = [self.base_urls[(self._next + i) % count] for i in range(count)]
        self._next = (self._next + 1) % count
        return min(order, key=lambda url: (self._down_until[url] > now, self._in_flight[url]))

    def _record_failure(self, url: str, outcome: str) -> None:
        self._failures[url] += 1
        if self._failures[url] == 1:
            logger.warning("%s: %s; retrying with back-off", url, outcome)
        pause = backoff_delay(self._failures[url] - 1, *self._backoff)
        self._down_until[url] = time.monotonic() + pause

    async def _complete(self, request: Request) -> Completion:
        """One request, retried on connection errors, timeouts, 408/429 and 5xx."""
        path, body = self._payload(request)
        started = time.perf_counter()
        attempt = 0
        while True:
            url = self._pick_url()
            self._in_flight[url] += 1
            self.peak_in_flight = max(self.peak_in_flight, sum(self._in_flight.values()))
            retry_after = None
            try:
                response = await self._client.post(url + path, json=body)
            except httpx.TransportError as error:
                outcome = f"{type(error).__name__}: {error}".rstrip(": ")
            else:
                status = response.status_code
                if status == 200:
                    try:
                        data = response.json()
                    except ValueError:
                        data = None
                    if isinstance(data, dict) and isinstance(data.get("choices"), list):
                        self._failures[url] = 0
                        self._down_until[url] = 0.0
                        self.requests_served[url] += 1
                        return openai_replies.to_completion(
                            request, data, time.perf_counter() - started
                        )
                    outcome = "a response without choices"
                else:
                    message = error_message(response)
                    if status == 400 and openai_replies.TOO_LONG.search(message):
                        return openai_replies.too_long(request, message)
                    if status == 400 and self._learn_stop_limit(message, len(body.get("stop", []))):
                        path, body = self._payload(request)
                        continue  # not a failure: resend at once with fewer stop strings
                    if status not in (408, 429) and status < 500:
                        raise ServerRequestError(
                            f"the server at {url} refused a request (HTTP {status}): {message}"
                        )
                    outcome = f"HTTP {status}: {message}"
                    retry_after = openai_replies.retry_after(response)
            finally:
                self._in_flight[url] -= 1
            self._record_failure(url, outcome)
            if attempt == self.max_retries:
                raise BackendUnavailableError(
                    f"the server at {url} is unavailable ({outcome}; gave up after "
                    f"{self.max_retries} retries); completions that finished are kept: rerun "
                    "the same command to resume"
                )
            delay = retry_after or backoff_delay(attempt, *self._backoff)
            attempt += 1
            logger.debug("%s: %s; retry %d in %.1f s", url, outcome, attempt, delay)
            await asyncio.sleep(delay)

    def _learn_stop_limit(self, message: str, sent: int) -> bool:
        """True when the server refused the request for having more than N stop strings.

        OpenAI's API, and vLLM unless started with a larger VLLM_MAX_STOP_STRINGS, accept at
        most 4; the protocols' stop lists have up to 8. From then on the first N go to the
        server and every stop string is still applied to the returned text
        (`openai_replies.to_completion`), so texts are those of the offline backends; only token counts then include the
        tokens generated past a stop string that the server did not know about.
        """
        match = openai_replies.STOP_LIMIT.search(message)
        if match is None or "stop" not in message:
            return False
        limit = int(match.group(1))
        if limit >= sent:
            return False
        if self._stop_limit is None or limit < self._stop_limit:
            logger.warning(
                "the server accepts at most %d stop strings; sending the first %d and applying "
                "the rest to the returned text", limit, limit,
            )  # fmt: skip
            self._stop_limit = limit
        return True

    def _payload(self, request: Request) -> tuple[str, dict[str, Any]]:
        sampling = request.sampling
        greedy = sampling.temperature == 0
        # Greedy samples are identical: one is generated and copied (as in the offline backends).
        n = 1 if greedy else sampling.n
        body: dict[str, Any] = {
            "model": self.model,
            "n": n,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if sampling.stop:
            body["stop"] = list(sampling.stop)[: self._stop_limit]
        if not greedy:
            body["seed"] = request_seed(request)
        want_logprobs = False
        if self.served.is_vllm:
            body.update(return_token_ids=True, top_k=0, min_p=0.0, repetition_penalty=1.0)
        else:
            want_logprobs = n > 1
        messages = self._messages(request)
        if messages is not None:
            body["messages"] = messages
            if want_logprobs:
                body["logprobs"] = True
            return "/chat/completions", body
        body["prompt"] = request.prompt
        if want_logprobs:
            body["logprobs"] = 0
        return "/completions", body

    def _messages(self, request: Request) -> list[dict[str, str]] | None:
        """The chat messages of `request`: its `messages`, or with `chat_prompts` its prompt
        when that is the JSON list of messages `--prompt-format chat` renders without a
        tokenizer (see `prompts.render_prompt`)."""
        if request.messages is not None:
            return [{"role": role, "content": text} for role, text in request.messages]
        if not self.chat_prompts:
            return None
        try:
            parsed = json.loads(request.prompt)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(
            isinstance(m, dict)
            and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str)
            for m in parsed
        ):
            return [{"role": m["role"], "content": m["content"]} for m in parsed]
        return None

    def close(self) -> None:
        """Close the connections and stop the event loop's thread."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._client.aclose(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        served = ", ".join(f"{url}: {count}" for url, count in self.requests_served.items())
        logger.info("openai backend: requests answered per server: %s", served)
