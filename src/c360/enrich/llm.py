"""Keyword genres from any OpenAI-compatible chat-completions server (SPEC 2.7).

Keywords go most frequent first, in batches, over a bounded number of concurrent requests. Each
answer is JSON, validated against the taxonomy; a batch is retried with exponential backoff and
jitter on 429, 5xx, timeouts and malformed or undecodable answers (``Retry-After`` honoured up
to a cap). Keywords an answer left out go back to the front of the queue and fill the next
batch beside keywords not asked yet (each request carries the whole prompt and counts against
the budget and the server's rate limit); a keyword is asked ``max_asks`` times in all. Valid
answers are stored as they arrive (:class:`~c360.enrich.store.AnswerStore`), so an interrupted
run resumes without paying twice. A budget of requests, tokens and seconds stops the run
cleanly; a keyword the LLM did not answer keeps the answer stored before (an offline run's
genre, or ``Unknown``), and is asked on the next run. A server that refuses the key or does not
know the endpoint or model stops the run at once, and a run in which nothing was answered is an
error.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from c360.config import SEARCH_CATEGORIES
from c360.console import NullReporter, Reporter
from c360.enrich.store import Answer, AnswerStore
from c360.errors import C360Error, ConfigError, TransientError
from c360.reports import ClassifyReport

#: The environment variable holding the API key (never a flag, never logged).
API_KEY_VARIABLE = "C360_LLM_API_KEY"
PROMPT_VERSION = "genre-v1"
PROMPT = f"""You label search keywords typed into a Vietnamese OTT TV service (films, series,
TV channels, sports, music, shows). Keywords may be Vietnamese with or without diacritics
("nguoi phan xu" = "Người Phán Xử"), English, romanised Korean or Chinese titles, actor names,
channel names, and may contain typos or be truncated. Decide the genre of what the user most
likely wanted to watch.

Allowed labels, exactly as written: {", ".join(SEARCH_CATEGORIES)}.
Use "C Drama" for Chinese and "K Drama" for Korean series, "TV Channel" for channel names
(VTV3, HTV7, K+...), "Other" when it is none of these or cannot be told.

Answer with one JSON object: {{"labels": {{"<keyword exactly as given>": "<label>", ...}}}}
with every keyword of the request. No other text."""
#: Statuses worth retrying: rate limits and server errors.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
#: Statuses that say the key, the URL or the model is wrong: no request can succeed.
FATAL_STATUSES = {
    401: "refused the API key; set a valid one in " + API_KEY_VARIABLE,
    403: "refused the API key for this model; set a valid one in " + API_KEY_VARIABLE,
    404: "has no such endpoint or model; check --llm-base-url (it usually ends in /v1) and "
    "--llm-model",
}
#: A wait at least this long (seconds) is said as a warning.
LONG_WAIT_S = 10.0
#: Batches that failed every attempt, with nothing answered yet, after which the run gives up.
GIVE_UP_AFTER = 3


@dataclass(frozen=True)
class LLMSettings:
    """How to reach the server and how hard to push it."""

    base_url: str
    model: str
    api_key: str | None = None
    concurrency: int = 8
    batch_size: int = 100
    timeout_s: float = 60.0
    max_attempts: int = 5
    #: Asks in all (the first one included) for a keyword the answers leave out; after the
    #: last, it keeps the answer stored before (an offline genre, or none: ``Unknown``).
    max_asks: int = 3
    budget_requests: int | None = None
    budget_tokens: int | None = None
    #: Seconds after which no request is started and no wait begun.
    budget_seconds: float | None = None
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    #: The longest ``Retry-After`` honoured; a longer one is cut to it.
    max_wait_s: float = 120.0

    def __post_init__(self) -> None:
        # Checked here: without a scheme httpx would fail every request as a connection error.
        try:
            parts = urlsplit(self.base_url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - parsing the port is part of the check
        except ValueError:
            valid = False
        if not valid:
            raise ConfigError(
                f"--llm-base-url {self.base_url!r} is not an http(s) URL; write it as "
                "http://host:port/v1 (e.g. http://127.0.0.1:8000/v1)"
            )

    @classmethod
    def from_environment(cls, base_url: str, model: str, **options: object) -> LLMSettings:
        if not base_url or not model:
            raise ConfigError("the LLM needs both --llm-base-url and --llm-model")
        return cls(base_url, model, api_key=os.environ.get(API_KEY_VARIABLE), **options)  # type: ignore[arg-type]

    @property
    def version(self) -> str:
        return f"{self.model}/{PROMPT_VERSION}"


class _Budget(Exception):
    """The request or token budget is spent."""


class _Pending:
    """The keywords still to ask, most frequent first, handed out in batches of ``batch_size``.

    Keywords an answer left out go back to the front and fill the next batch beside keywords not
    asked yet, rather than going alone: every request carries the whole prompt. A smaller batch
    goes only when no request is in flight whose left-out keywords could still join it (the
    run's tail). A keyword is handed out ``max_asks`` times at most.
    """

    def __init__(self, keywords: Sequence[str], *, batch_size: int, max_asks: int) -> None:
        self._keywords = deque(keywords)
        self._batch_size = batch_size
        self._max_asks = max_asks
        self._asks: dict[str, int] = {}
        self._in_flight = 0
        self._changed = asyncio.Condition()

    async def take(self, halted: Callable[[], bool]) -> list[str] | None:
        """The next batch; None when nothing is left to ask or ``halted()`` says to stop."""
        async with self._changed:
            while not halted():
                waiting = len(self._keywords)
                if waiting >= self._batch_size or (waiting and not self._in_flight):
                    size = min(waiting, self._batch_size)
                    batch = [self._keywords.popleft() for _ in range(size)]
                    for keyword in batch:
                        self._asks[keyword] = self._asks.get(keyword, 0) + 1
                    self._in_flight += 1
                    return batch
                if not self._in_flight:
                    return None
                await self._changed.wait()
            return None

    async def done(self, left_out: Sequence[str]) -> None:
        """A batch's request has ended; ``left_out`` are its keywords to ask again."""
        async with self._changed:
            again = [k for k in left_out if self._asks[k] < self._max_asks]
            self._keywords.extendleft(reversed(again))
            self._in_flight -= 1
            self._changed.notify_all()


class LLMClassifier:
    """Classifies keywords with one OpenAI-compatible server and stores every answer."""

    def __init__(
        self, settings: LLMSettings, store: AnswerStore, *, reporter: Reporter | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.reporter: Reporter = reporter or NullReporter()
        self.report = ClassifyReport()
        self._deadline = float("inf")
        #: Why the run stopped early (a refused key, a server that answers nothing).
        self._stop: C360Error | None = None
        self._last_error = ""

    def classify(self, keywords: Sequence[str]) -> ClassifyReport:
        """Ask for every keyword without a stored answer (in the given order: most frequent
        first); returns what happened.

        Raises:
            ConfigError: the server refused the key, or has no such endpoint or model.
            TransientError: nothing was answered (the server unreachable, or failing every
                request); answers stored before stay.
        """
        started = time.perf_counter()
        if self.settings.budget_seconds is not None:
            self._deadline = time.monotonic() + self.settings.budget_seconds
        todo = self.store.missing(list(dict.fromkeys(keywords)))
        self.report.asked = len(todo)
        asyncio.run(self._run(todo))
        self.report.seconds = time.perf_counter() - started
        if self._stop is not None:
            raise self._stop
        r = self.report
        if r.asked and not r.answered and not r.budget_exhausted:
            raise TransientError(
                f"LLM server {self.settings.base_url} answered no keyword in {r.requests} "
                f"requests ({_errors(r.errors)}{self._last_error}); check that it is running "
                "and the URL, or classify offline (without --llm-base-url)"
            )
        return self.report

    async def _run(self, todo: list[str]) -> None:
        s = self.settings
        pending = _Pending(todo, batch_size=s.batch_size, max_asks=s.max_asks)
        headers = {"Authorization": f"Bearer {s.api_key}"} if s.api_key else {}
        limits = httpx.Limits(max_connections=s.concurrency)
        async with httpx.AsyncClient(
            base_url=s.base_url.rstrip("/") + "/", headers=headers, timeout=s.timeout_s,
            limits=limits,
        ) as client:  # fmt: skip
            workers = [
                asyncio.create_task(self._worker(client, pending))
                for _ in range(max(1, s.concurrency))
            ]
            await asyncio.gather(*workers)

    async def _worker(self, client: httpx.AsyncClient, pending: _Pending) -> None:
        while (batch := await pending.take(self._halted)) is not None:
            left_out: list[str] = []
            try:
                left_out = await self._answer(client, batch)
            except _Budget:
                self.report.budget_exhausted = True
            finally:
                await pending.done(left_out)

    async def _answer(self, client: httpx.AsyncClient, batch: list[str]) -> list[str]:
        """Ask for one batch and store its valid answers; returns the keywords left out."""
        labels = await self._ask(client, batch)
        if labels is None:
            self.report.failed_batches += 1
            return []
        answers = [
            Answer(k, labels[k], "llm", 1.0, self.settings.version)
            for k in batch
            if labels.get(k) in SEARCH_CATEGORIES
        ]
        # In a thread: the commit's fsync must not stall the other requests in flight.
        stored = await asyncio.to_thread(self.store.add, answers)
        self.report.answered += stored  # after the await: no other task's update is lost
        return [k for k in batch if labels.get(k) not in SEARCH_CATEGORIES]

    def _halted(self) -> bool:
        return self.report.budget_exhausted or self._stopping()

    def _stopping(self) -> bool:
        """A fatal answer, or the first batches all failed with nothing answered: the server
        answers nothing, and asking for every other batch would only repeat it."""
        r = self.report
        return self._stop is not None or (r.failed_batches >= GIVE_UP_AFTER and not r.answered)

    async def _ask(self, client: httpx.AsyncClient, batch: list[str]) -> dict[str, str] | None:
        """One batch's labels (keyword → label as answered), or None when every attempt failed."""
        s = self.settings
        payload = {
            "model": s.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": PROMPT},
                {"role": "user", "content": json.dumps({"keywords": batch}, ensure_ascii=False)},
            ],
        }
        for attempt in range(s.max_attempts):
            if self._stop is not None:
                return None
            self._spend()
            wait: float | None = None
            try:
                response = await client.post("chat/completions", json=payload)
            except httpx.TimeoutException:
                self._error("timeout")
            except httpx.TransportError as exc:
                self._error("connection", exc)
            except httpx.DecodingError as exc:  # a body its Content-Encoding cannot undo
                self._error("malformed answer", exc)
            else:
                status = response.status_code
                if status == 200:
                    labels = self._labels(response)
                    if labels is not None:
                        return labels
                    self._error("malformed answer")
                elif status in FATAL_STATUSES:
                    self._error(f"HTTP {status}")
                    self._stop = ConfigError(
                        f"LLM server {s.base_url} {FATAL_STATUSES[status]} (HTTP {status}); "
                        "answers stored so far are kept"
                    )
                    return None
                elif status in RETRY_STATUSES:
                    self._error(f"HTTP {status}")
                    wait = self._server_wait(response.headers.get("retry-after"))
                else:
                    self._error(f"HTTP {status}")
                    return None
            if attempt + 1 < s.max_attempts:
                self.report.retries += 1
                pause = max(wait or 0.0, self._backoff(attempt))
                if time.monotonic() + pause >= self._deadline:
                    raise _Budget  # the time budget ends before the wait would
                await asyncio.sleep(pause)
        return None

    def _server_wait(self, header: str | None) -> float | None:
        """The ``Retry-After`` wait, cut to ``max_wait_s``; a long one is said."""
        asked = retry_after(header)
        if asked is None:
            return None
        wait = min(asked, self.settings.max_wait_s)
        if wait < asked or wait >= LONG_WAIT_S:
            cut = f"; waiting {wait:g} s (classify.llm_max_wait)" if wait < asked else ""
            self.reporter.warn(
                f"LLM server {self.settings.base_url} asks to wait {asked:g} s before retrying{cut}"
            )
        return wait

    def _spend(self) -> None:
        s, r = self.settings, self.report
        if s.budget_requests is not None and r.requests >= s.budget_requests:
            raise _Budget
        if s.budget_tokens is not None and r.tokens >= s.budget_tokens:
            raise _Budget
        if time.monotonic() >= self._deadline:
            raise _Budget
        r.requests += 1

    def _labels(self, response: httpx.Response) -> dict[str, str] | None:
        try:
            body = response.json()
            usage = body.get("usage") or {}
            self.report.tokens += int(usage.get("total_tokens") or 0)
            content = body["choices"][0]["message"]["content"]
            parsed = json.loads(_strip_fences(content))
            labels = parsed.get("labels", parsed) if isinstance(parsed, dict) else None
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None
        # Keyword → label text, nothing else; a label outside the taxonomy is judged per keyword.
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            return None
        return {str(k): v.strip() for k, v in labels.items()}

    def _backoff(self, attempt: int) -> float:
        s = self.settings
        ceiling = min(s.backoff_cap_s, s.backoff_base_s * float(2**attempt))
        return ceiling * (0.5 + random.random() / 2)  # jitter: half to all of the ceiling

    def _error(self, kind: str, exc: Exception | None = None) -> None:
        self.report.errors[kind] = self.report.errors.get(kind, 0) + 1
        if exc is not None and str(exc):
            self._last_error = f"; last: {str(exc).splitlines()[0]}"


def _errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items())) or "no errors"


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, float(parsedate_to_datetime(value).timestamp()) - time.time())
    except (TypeError, ValueError):
        return None


def _strip_fences(text: str) -> str:
    """The JSON inside a ```json fenced block, as some servers answer despite the request."""
    match = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    return match.group(1) if match else text
