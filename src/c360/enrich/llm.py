"""Keyword genres from any OpenAI-compatible chat-completions server (SPEC 2.7).

Keywords go most frequent first, in batches, over a bounded number of concurrent requests. Each
answer is JSON, validated against the taxonomy; a batch is retried with exponential backoff and
jitter on 429, 5xx, timeouts and malformed answers (``Retry-After`` honoured), and keywords the
answer left out are asked again in a later batch. Valid answers are stored as they arrive
(:class:`~c360.enrich.store.AnswerStore`), so an interrupted run resumes without paying twice.
A budget of requests and tokens stops the run cleanly; what is left stays ``Unknown``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from c360.config import SEARCH_CATEGORIES
from c360.enrich.store import Answer, AnswerStore
from c360.errors import ConfigError
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
    #: Times a keyword left out of an answer is asked again before it stays Unknown.
    max_asks: int = 3
    budget_requests: int | None = None
    budget_tokens: int | None = None
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0

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


class LLMClassifier:
    """Classifies keywords with one OpenAI-compatible server and stores every answer."""

    def __init__(self, settings: LLMSettings, store: AnswerStore) -> None:
        self.settings = settings
        self.store = store
        self.report = ClassifyReport()

    def classify(self, keywords: Sequence[str]) -> ClassifyReport:
        """Ask for every keyword without a stored answer (in the given order: most frequent
        first); returns what happened."""
        started = time.perf_counter()
        todo = self.store.missing(list(dict.fromkeys(keywords)))
        self.report.asked = len(todo)
        asyncio.run(self._run(todo))
        self.report.seconds = time.perf_counter() - started
        return self.report

    async def _run(self, todo: list[str]) -> None:
        s = self.settings
        queue: asyncio.Queue[list[str]] = asyncio.Queue()
        for start in range(0, len(todo), s.batch_size):
            queue.put_nowait(todo[start : start + s.batch_size])
        asks: dict[str, int] = {}
        headers = {"Authorization": f"Bearer {s.api_key}"} if s.api_key else {}
        limits = httpx.Limits(max_connections=s.concurrency)
        async with httpx.AsyncClient(
            base_url=s.base_url.rstrip("/") + "/", headers=headers, timeout=s.timeout_s,
            limits=limits,
        ) as client:  # fmt: skip
            workers = [
                asyncio.create_task(self._worker(client, queue, asks))
                for _ in range(max(1, s.concurrency))
            ]
            await asyncio.gather(*workers)

    async def _worker(
        self, client: httpx.AsyncClient, queue: asyncio.Queue[list[str]], asks: dict[str, int]
    ) -> None:
        while not queue.empty() and not self.report.budget_exhausted:
            batch = queue.get_nowait()
            for keyword in batch:
                asks[keyword] = asks.get(keyword, 0) + 1
            try:
                labels = await self._ask(client, batch)
            except _Budget:
                self.report.budget_exhausted = True
                return
            if labels is None:
                self.report.failed_batches += 1
                continue
            answers = [
                Answer(k, labels[k], "llm", 1.0, self.settings.version)
                for k in batch
                if labels.get(k) in SEARCH_CATEGORIES
            ]
            # In a thread: the commit's fsync must not stall the other requests in flight.
            stored = await asyncio.to_thread(self.store.add, answers)
            self.report.answered += stored  # after the await: no other task's update is lost
            again = [
                k
                for k in batch
                if labels.get(k) not in SEARCH_CATEGORIES and asks[k] < self.settings.max_asks
            ]
            if again:
                queue.put_nowait(again)

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
            self._spend()
            wait: float | None = None
            try:
                response = await client.post("chat/completions", json=payload)
            except httpx.TimeoutException:
                self._error("timeout")
            except httpx.TransportError:
                self._error("connection")
            else:
                if response.status_code == 200:
                    labels = self._labels(response)
                    if labels is not None:
                        return labels
                    self._error("malformed answer")
                elif response.status_code in RETRY_STATUSES:
                    self._error(f"HTTP {response.status_code}")
                    wait = retry_after(response.headers.get("retry-after"))
                else:
                    self._error(f"HTTP {response.status_code}")
                    return None
            if attempt + 1 < s.max_attempts:
                self.report.retries += 1
                await asyncio.sleep(max(wait or 0.0, self._backoff(attempt)))
        return None

    def _spend(self) -> None:
        s, r = self.settings, self.report
        if s.budget_requests is not None and r.requests >= s.budget_requests:
            raise _Budget
        if s.budget_tokens is not None and r.tokens >= s.budget_tokens:
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

    def _error(self, kind: str) -> None:
        self.report.errors[kind] = self.report.errors.get(kind, 0) + 1


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
