"""Ingestion: poll the source's event streams and land every answer before asking again.

The source (``c360 simulate``, or any service with its API) numbers what it serves; each poll
asks for the positions after the last landed file, or the last message in NATS JetStream
(``from``), so a poll that failed, or an
ingester killed between a poll and its write, is simply asked again: nothing fetched is lost,
and nothing is landed twice. Errors of the source (5xx, a broken answer, no connection) and of
the landing zone (a full disk) are retried with a capped exponential backoff, said once when
they start and once when they end; an answer that cannot succeed (4xx) stops with one line.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from c360.errors import ConfigError, InputError

if TYPE_CHECKING:
    import httpx

    from c360.console import Reporter
    from c360.stream.broker import JetStreamLanding
    from c360.stream.landing import LandingZone

#: The event streams of the source, each its own endpoint and landing folder.
STREAMS = ("votes", "events")
#: Backoff after a failure: the first wait, and the longest.
FIRST_WAIT_S = 0.1
LONGEST_WAIT_S = 5.0
#: Wait after polls that were not full (the source had fewer events than asked for): the next
#: file then holds more events, so a slow stream does not land thousands of tiny files.
SHORT_WAIT_S = 0.1


@dataclass
class IngestReport:
    """What an ingester landed."""

    events: dict[str, int] = field(default_factory=dict)
    files: int = 0
    retries: int = 0
    #: Failures by kind ("HTTP 503", "connection", "landing zone", "malformed answer").
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: Streams whose source said it has nothing more to serve.
    done: list[str] = field(default_factory=list)


class _Retry(Exception):
    """A failure worth retrying, with its kind and one-line description."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Ingester:
    """Polls ``source`` and lands what it serves in ``landing``."""

    def __init__(
        self,
        source: str,
        landing: LandingZone | JetStreamLanding,
        *,
        reporter: Reporter,
        streams: Sequence[str] = STREAMS,
        count: int = 1000,
        timeout_s: float = 10.0,
    ) -> None:
        parts = urlsplit(source)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"--source {source!r} is not an http(s) URL (e.g. http://127.0.0.1:8361)"
            )
        unknown = sorted(set(streams) - set(STREAMS))
        if unknown:
            raise ConfigError(f"unknown streams {', '.join(unknown)}; known: {', '.join(STREAMS)}")
        self.source = source.rstrip("/")
        self.landing = landing
        self.reporter = reporter
        self.streams = tuple(streams)
        self.count = count
        self.timeout_s = timeout_s
        self.report = IngestReport(events=dict.fromkeys(self.streams, 0))
        self._failing: str | None = None
        self._failing_since = 0.0
        self._random = random.Random()

    def run(
        self, *, follow: bool = False, max_seconds: float | None = None,
        stop: threading.Event | None = None,
    ) -> IngestReport:  # fmt: skip
        """Poll until every stream is done (``follow``: until stopped), ``max_seconds`` pass
        or ``stop`` is set; return what was landed."""
        import httpx

        started = time.monotonic()
        self.landing.clean()
        positions = {s: self.landing.next_position(s) for s in self.streams}
        active = list(self.streams)
        wait = FIRST_WAIT_S
        with httpx.Client(timeout=self.timeout_s) as client:
            while active and not (stop is not None and stop.is_set()):
                if max_seconds is not None and time.monotonic() - started >= max_seconds:
                    break
                full = False
                try:
                    for stream in list(active):
                        events, done = self._poll(client, stream, positions[stream])
                        if events:
                            positions[stream] = self._land(stream, positions[stream], events)
                        full = full or len(events) >= self.count
                        if done and not follow:
                            active.remove(stream)
                            self.report.done.append(stream)
                except _Retry as failure:
                    self.report.retries += 1
                    self.report.errors[failure.kind] = self.report.errors.get(failure.kind, 0) + 1
                    self._failed(failure, wait)
                    _sleep(wait * (0.5 + self._random.random() / 2), stop)
                    wait = min(wait * 2, LONGEST_WAIT_S)
                    continue
                self._recovered()
                wait = FIRST_WAIT_S
                if not full and active:
                    _sleep(SHORT_WAIT_S, stop)
        self.report.seconds = time.monotonic() - started
        return self.report

    def _poll(self, client: httpx.Client, stream: str, start: int) -> tuple[list[Any], bool]:
        """One poll of ``stream`` from position ``start``: (events, the source is done)."""
        import httpx

        url = f"{self.source}/{stream}"
        try:
            answer = client.get(url, params={"count": self.count, "from": start})
        except httpx.HTTPError as exc:
            raise _Retry("connection", f"cannot reach {url}: {_reason(exc)}") from exc
        if answer.status_code >= 500 or answer.status_code == 429:
            raise _Retry(f"HTTP {answer.status_code}", f"{url} answered HTTP {answer.status_code}")
        if answer.status_code >= 400:
            raise InputError(
                f"{url} answered HTTP {answer.status_code} ({answer.text[:200].strip()}); "
                "check --source"
            )
        try:
            body = answer.json()
            data = body["data"]
            events = data[stream]
            first, done = int(data.get("from", start)), bool(data.get("done", False))
            if not isinstance(events, list) or first != start:
                raise ValueError(f"positions from {first} where {start} was asked")
        except (ValueError, KeyError, TypeError) as exc:
            raise _Retry(
                "malformed answer", f"{url} answered something unreadable ({exc})"
            ) from exc
        return events, done

    def _land(self, stream: str, start: int, events: list[Any]) -> int:
        """Land ``events`` (a failing disk or broker is retried until it works or the run is
        stopped); return the next position."""
        try:
            self.landing.write(stream, start, events)
        except OSError as exc:
            raise _Retry(
                "landing zone",
                f"cannot land in {self.landing.root}: {exc.strerror or exc}; "
                f"{len(events):,} fetched events are asked for again",
            ) from exc
        self.report.events[stream] += len(events)
        self.report.files += 1
        return start + len(events)

    def _failed(self, failure: _Retry, wait: float) -> None:
        if self._failing != failure.kind:
            self.reporter.warn(f"{failure}; retrying (backoff up to {LONGEST_WAIT_S:g} s)")
            self._failing, self._failing_since = failure.kind, time.monotonic()

    def _recovered(self) -> None:
        if self._failing is not None:
            took = time.monotonic() - self._failing_since
            self.reporter.info(f"the source answers again ({self._failing} for {took:.1f} s)")
            self._failing = None


def _sleep(seconds: float, stop: threading.Event | None) -> None:
    if stop is None:
        time.sleep(seconds)
    else:
        stop.wait(seconds)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__
