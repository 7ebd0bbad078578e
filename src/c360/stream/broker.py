"""NATS JetStream as the landing zone (``--broker nats://host:4222``).

Each fetched event is published to the JetStream stream ``c360_<stream>`` (subject
``c360.<stream>``; another prefix than ``c360`` with ``nats://host:4222/<prefix>``) with its id
as message id (JetStream drops a repeat of an id within its duplicate window) and its source
position in the ``C360-Position`` header; the ingester waits for every acknowledgement before it
polls again, and resumes after the position of the stream's last message. The processor reads
the stream from the sequence after its checkpoint: stream sequences play the part the landed
files' positions play in a folder.

nats-py is asyncio-only; :class:`JetStreamLanding` runs its own event loop so the ingester and
the processor stay plain synchronous code.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from c360.errors import ConfigError

#: The header holding an event's source position.
POSITION = "C360-Position"
#: Messages fetched from JetStream at most in one request.
FETCH_BATCH = 10_000
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class BrokerBatch:
    """Messages read from one stream: their lines and the sequences they cover."""

    lines: pa.Table  # stream, file, line_no (the stream sequence), line
    first: int  # first sequence read
    next: int  # the sequence after the last one read


class JetStreamLanding:
    """A NATS JetStream server holding what the ingester fetched."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        parts = urlsplit(url)
        prefix = parts.path.strip("/") or "c360"
        if parts.scheme != "nats" or not parts.hostname or not _NAME.fullmatch(prefix):
            raise ConfigError(
                f"--broker {url!r} is not a nats:// URL (e.g. nats://127.0.0.1:4222, or "
                "nats://127.0.0.1:4222/PREFIX with letters, digits, - and _)"
            )
        self.url = url
        self.prefix = prefix
        self._server = f"nats://{parts.netloc}"
        self.root = url  # what messages name as the landing zone
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._nc: Any = None
        self._js: Any = None
        self._streams: set[str] = set()

    # -- connection -----------------------------------------------------------------------

    def _run(self, coroutine: Any) -> Any:
        return self._loop.run_until_complete(coroutine)

    def _connected(self) -> Any:
        """The JetStream context, connecting first (an unreachable server is a
        ``ConnectionError``: the ingester retries it like a full disk)."""
        if self._js is None:
            import nats

            try:
                self._nc = self._run(
                    asyncio.wait_for(
                        nats.connect(
                            self._server, connect_timeout=self.timeout_s,
                            max_reconnect_attempts=0, allow_reconnect=False,
                            error_cb=_quiet, disconnected_cb=_quiet_event,
                        ),
                        timeout=self.timeout_s,
                    )
                )  # fmt: skip
            except Exception as exc:
                reason = "no answer" if isinstance(exc, TimeoutError) else _reason(exc)
                raise ConnectionError(f"cannot reach NATS at {self.url}: {reason}") from exc
            self._js = self._nc.jetstream(timeout=self.timeout_s)
        return self._js

    def _stream(self, stream: str) -> Any:
        """The JetStream context with ``stream``'s JetStream stream created if missing."""
        js = self._connected()
        if stream not in self._streams:
            from nats.js.api import StreamConfig
            from nats.js.errors import NotFoundError

            try:
                self._run(js.stream_info(self.stream_name(stream)))
            except NotFoundError:
                name, subjects = self.stream_name(stream), [self.subject(stream)]
                self._run(js.add_stream(StreamConfig(name=name, subjects=subjects)))
            self._streams.add(stream)
        return js

    def stream_name(self, stream: str) -> str:
        return f"{self.prefix}_{stream}"

    def subject(self, stream: str) -> str:
        return f"{self.prefix}.{stream}"

    def close(self) -> None:
        if self._nc is not None:
            try:
                self._run(self._nc.close())
            except Exception:
                self._nc = None
        self._loop.close()

    def __enter__(self) -> JetStreamLanding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, exc: Exception) -> ConnectionError:
        """A broker error as the ``ConnectionError`` the ingester retries; the connection is
        dropped, so the retry connects again."""
        self._nc = self._js = None
        self._streams.clear()
        return ConnectionError(f"NATS at {self.url}: {_reason(exc)}")

    # -- the ingester's side --------------------------------------------------------------------

    def clean(self) -> None:
        """Nothing is half-written in a broker."""

    def next_position(self, stream: str) -> int:
        """The source position after the last message of ``stream`` (0 when empty)."""
        from nats.js.errors import NotFoundError

        js = self._stream(stream)
        try:
            last = self._run(js.get_last_msg(self.stream_name(stream), self.subject(stream)))
        except NotFoundError:
            return 0
        except Exception as exc:
            raise self._fail(exc) from exc
        return int((last.headers or {}).get(POSITION, -1)) + 1

    def write(self, stream: str, first: int, events: Iterable[Any]) -> int:
        """Publish ``events`` (source positions from ``first``) and wait for every
        acknowledgement; return the next position.

        Raises:
            ConnectionError: the broker did not take them all (they are fetched again).
        """
        js = self._stream(stream)
        publishes = []
        position = first
        for event in events:
            event_id = event.get("id") if isinstance(event, dict) else None
            message_id = event_id if isinstance(event_id, str) and event_id else f"#{position}"
            data = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
            headers = {"Nats-Msg-Id": f"{stream}:{message_id}", POSITION: str(position)}
            publishes.append(js.publish(self.subject(stream), data, headers=headers))
            position += 1

        async def publish_all() -> None:
            await asyncio.gather(*publishes)

        try:
            self._run(publish_all())
        except Exception as exc:
            raise self._fail(exc) from exc
        return position

    # -- the processor's side -------------------------------------------------------------------

    def last_sequence(self, stream: str) -> int:
        """The sequence of ``stream``'s last message (0 when empty)."""
        js = self._stream(stream)
        try:
            info = self._run(js.stream_info(self.stream_name(stream)))
        except Exception as exc:
            raise self._fail(exc) from exc
        return int(info.state.last_seq)

    def read(self, stream: str, start: int, *, limit: int) -> BrokerBatch | None:
        """Up to ``limit`` messages of ``stream`` from sequence ``start`` (1-based) on, up to
        the stream's last message when the read began."""
        last = self.last_sequence(stream)
        if last < start:
            return None
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        js = self._stream(stream)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
            ack_policy=AckPolicy.NONE, inactive_threshold=60.0,
        )  # fmt: skip
        wanted = min(limit, last - start + 1)

        async def fetch() -> list[Any]:
            sub = await js.pull_subscribe(self.subject(stream), stream=self.stream_name(stream),
                                          config=config)  # fmt: skip
            got: list[Any] = []
            try:
                while len(got) < wanted:
                    more = await sub.fetch(min(wanted - len(got), FETCH_BATCH),
                                           timeout=self.timeout_s)  # fmt: skip
                    got.extend(more)
                    if int(got[-1].metadata.sequence.stream) >= last:
                        break
                return got
            finally:
                await sub.unsubscribe()

        try:
            messages = self._run(fetch())
        except Exception as exc:
            raise self._fail(exc) from exc
        if not messages:
            return None
        sequences = [int(m.metadata.sequence.stream) for m in messages]
        lines = pa.table(
            {
                "stream": pa.repeat(stream, len(messages)),
                "file": pa.repeat(f"{self.stream_name(stream)}", len(messages)),
                "line_no": pa.array(sequences, pa.int64()),
                "line": pa.array([m.data.decode("utf-8", "replace") for m in messages]),
            }
        )
        return BrokerBatch(lines, sequences[0], sequences[-1] + 1)


async def _quiet(exc: Exception) -> None:
    """nats-py logs each connection error itself; c360 reports them as one line instead."""


async def _quiet_event() -> None:
    """See :func:`_quiet`."""


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__
