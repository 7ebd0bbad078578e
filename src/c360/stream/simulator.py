"""The streaming simulator behind ``c360 simulate`` (SPEC 8.2): song votes and viewing events
over HTTP, with injected faults.

``GET /votes?count=N&delay=S&from=K`` and ``GET /events?count=N&from=K`` answer::

    {"status": "success",
     "data": {"count": 2, "votes": [{…}, {…}], "from": 40, "next": 42, "done": false}}

Each event has a position in its stream and is a pure function of it
(:mod:`c360.generate.stream_events`). Without ``from``, a cursor per stream hands out the next
positions; with it, positions ``K…`` are served as they were the first time and the cursor
stays, so a client that lost a batch asks for it again. With a rate, position ``p`` exists from
``p / rate`` seconds after launch; with ``total``, positions end there and ``done`` turns true.
``dump`` gets one JSON line for every position the first time it is served: the ground truth
that a test compares the processor's output with.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from c360.errors import ConfigError, OutputError
from c360.generate.stream_events import STREAMS, EventSource, FaultRates, Served

DEFAULT_COUNT = 100
MAX_COUNT = 10_000
MAX_DELAY_S = 10.0
#: The highest ``from`` (far past any stream a run serves).
MAX_POSITION = 10**15 - 1
#: What an injected error answers, one or the other.
ERROR_STATUSES = (500, 503)
JSON_TYPE = "application/json"


class ParameterError(ValueError):
    """A query parameter that is not a number in its range (answered 422)."""


@dataclass(frozen=True)
class Batch:
    """Positions ``first`` to ``next - 1`` of a stream, as served."""

    stream: str
    first: int
    served: tuple[Served, ...]
    done: bool

    @property
    def next(self) -> int:
        return self.first + len(self.served)

    def body(self) -> dict[str, Any]:
        """The answer's JSON body."""
        data = {"count": len(self.served), self.stream: [s.event for s in self.served],
                "from": self.first, "next": self.next, "done": self.done}  # fmt: skip
        return {"status": "success", "data": data}


class Simulator:
    """What the endpoints share: an event source and a cursor per stream, the error draws and
    the dump. Not thread-safe: the application calls it under one lock.

    Args:
        seed: The same seed serves the same events, faults included.
        rate: Events a second per stream; position ``p`` exists ``p / rate`` seconds after
            launch. ``0``: every position exists at once.
        total: Positions per stream; ``None``: no end.
        dump: A JSON-lines file each newly served position is appended to.
        faults: How often to inject each fault.
        start: Event time of position 0 (default: now).
        songs: How many songs votes go to.
    """

    def __init__(
        self,
        *,
        seed: int,
        rate: float,
        total: int | None = None,
        dump: Path | str | None = None,
        faults: FaultRates = FaultRates(),
        start: datetime | None = None,
        songs: int = 200,
    ) -> None:
        if total is not None and total < 0:
            raise ConfigError(f"total is {total}; use 0 or more events (--total)")
        self.rate = rate
        self.total = total
        self.faults = faults
        self.start = start or datetime.now(UTC)
        self.sources = {
            name: EventSource(
                name, seed=seed, rate=rate, start=self.start, faults=faults, songs=songs
            )
            for name in STREAMS
        }
        self.cursors = dict.fromkeys(STREAMS, 0)
        self._launched = time.monotonic()
        self._errors = random.Random(seed)
        self._dumped = {name: _Spans() for name in STREAMS}
        self._dump = _open_dump(Path(dump)) if dump is not None else None

    def available(self) -> int | None:
        """How many positions of each stream exist now (``None``: all of them)."""
        limit = self.total
        if self.rate > 0:
            made = math.floor((time.monotonic() - self._launched) * self.rate)
            limit = made if limit is None else min(limit, made)
        return limit

    def injected_error(self) -> int | None:
        """The status of the error injected into this request, or ``None`` to answer it."""
        if self._errors.random() < self.faults.error:
            return self._errors.choice(ERROR_STATUSES)
        return None

    def take(self, stream: str, *, count: int, first: int | None = None) -> Batch:
        """Up to ``count`` positions from ``first`` (default: the stream's cursor, which then
        moves past them), as many as exist yet."""
        low = self.cursors[stream] if first is None else first
        limit = self.available()
        high = low + count if limit is None else max(low, min(low + count, limit))
        source = self.sources[stream]
        try:
            served = tuple(source.at(position) for position in range(low, high))
        except OverflowError as exc:  # an event time past the year 9999
            raise ParameterError(f"positions from {low} have no event time; ask for less") from exc
        batch = Batch(stream, low, served, done=self.total is not None and high >= self.total)
        self._write_dump(batch)
        if first is None:
            self.cursors[stream] = high
        return batch

    def close(self) -> None:
        if self._dump is not None:
            self._dump.close()

    def _write_dump(self, batch: Batch) -> None:
        if self._dump is None or not batch.served:
            return
        spans = self._dumped[batch.stream]
        served_at = time.time()
        lines = [
            _dump_line(batch.stream, served, served_at)
            for low, high in spans.missing(batch.first, batch.next)
            for served in batch.served[low - batch.first : high - batch.first]
        ]
        if lines:
            self._dump.write("\n".join(lines) + "\n")
            self._dump.flush()
        spans.add(batch.first, batch.next)


def create_simulator(
    *,
    seed: int,
    rate: float,
    total: int | None = None,
    dump: Path | str | None = None,
    faults: FaultRates = FaultRates(),
    start: datetime | None = None,
    songs: int = 200,
) -> Starlette:
    """The simulator as an ASGI application (run it with uvicorn); see :class:`Simulator`."""
    simulator = Simulator(
        seed=seed, rate=rate, total=total, dump=dump, faults=faults, start=start, songs=songs
    )
    # Positions, the cursor and the dump change together, one request at a time.
    lock = asyncio.Lock()

    def endpoint(stream: str) -> Any:
        async def answer(request: Request) -> Response:
            try:
                count, delay, first = _parameters(request.query_params)
            except ParameterError as exc:
                return _error(422, str(exc))
            if delay:
                await asyncio.sleep(delay)
            async with lock:
                status = simulator.injected_error()
                if status is not None:
                    return _error(status, "injected fault")
                try:
                    # Thousands of events take a while: the event loop keeps answering meanwhile.
                    body = await run_in_threadpool(_render, simulator, stream, count, first)
                except ParameterError as exc:
                    return _error(422, str(exc))
            return Response(body, media_type=JSON_TYPE)

        return answer

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return _error(404, f"nothing at {request.url.path}; try /votes, /events or /healthz")
        if status == 405:
            return _error(405, f"{request.method} is not answered here; use GET")
        detail = exc.detail if isinstance(exc, HTTPException) else type(exc).__name__
        return _error(status, str(detail))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            simulator.close()

    routes = [Route(f"/{name}", endpoint(name), methods=["GET"]) for name in STREAMS]
    routes.append(Route("/healthz", healthz, methods=["GET"]))
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: http_error},
        lifespan=lifespan,
    )
    app.state.simulator = simulator
    return app


def _render(simulator: Simulator, stream: str, count: int, first: int | None) -> bytes:
    batch = simulator.take(stream, count=count, first=first)
    return json.dumps(batch.body(), ensure_ascii=False, separators=(",", ":")).encode()


def _parameters(query: Mapping[str, str]) -> tuple[int, float, int | None]:
    """``count``, ``delay`` and ``from`` of a request, each checked against its range."""
    count = _whole(query, "count", low=1, high=MAX_COUNT)
    first = _whole(query, "from", low=0, high=MAX_POSITION)
    text = query.get("delay")
    delay = 0.0
    if text is not None:
        try:
            delay = float(text)
        except ValueError:
            delay = math.nan
        if not 0.0 <= delay <= MAX_DELAY_S:  # nan fails too
            raise ParameterError(
                f"delay must be a number of seconds from 0 to {MAX_DELAY_S:g}, not {text!r}"
            )
    return DEFAULT_COUNT if count is None else count, delay, first


def _whole(query: Mapping[str, str], name: str, *, low: int, high: int) -> int | None:
    text = query.get(name)
    if text is None:
        return None
    value = int(text) if re.fullmatch(r"[0-9]{1,16}", text) else None
    if value is None or not low <= value <= high:
        raise ParameterError(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return value


def _dump_line(stream: str, served: Served, served_at: float) -> str:
    line = {"stream": stream, "position": served.position, "served_at": served_at,
            "fault": served.fault, "event": served.event}  # fmt: skip
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def _error(status: int, message: str) -> Response:
    return JSONResponse({"status": "error", "message": message}, status_code=status)


def _open_dump(path: Path) -> IO[str]:
    try:
        # Appended to: a restarted simulator serves its positions again and dumps them again.
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write the dump {path}: {exc.strerror or exc}") from exc


class _Spans:
    """Disjoint ranges ``[low, high)`` of positions, merged as they grow (usually one)."""

    def __init__(self) -> None:
        self._spans: list[tuple[int, int]] = []

    def missing(self, low: int, high: int) -> list[tuple[int, int]]:
        """The parts of ``[low, high)`` not covered yet."""
        parts = []
        at = low
        for start, end in self._spans:
            if end <= at:
                continue
            if start >= high:
                break
            if start > at:
                parts.append((at, start))
            at = max(at, end)
            if at >= high:
                break
        if at < high:
            parts.append((at, high))
        return parts

    def add(self, low: int, high: int) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted([*self._spans, (low, high)]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._spans = merged
