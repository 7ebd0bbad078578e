"""The online store: every customer profile of one publish in Redis, for fast look-ups.

A publish's profiles go into Redis hashes under its own prefix — ``c360:<publish>:customers``
(contract → profile JSON) and ``c360:<publish>:users`` (user id → its contracts) — and only when
all are written does ``c360:current`` switch to it, in one command: a reader sees the old
publish or the new one, never a mix. The previous publish's hashes then expire.

A reader holds the pointer for at most :data:`POINTER_TTL` seconds and then asks for one field
of one publish's hash (one ``HGET`` on a connection of its thread's own): a replaced publish
stays readable for :data:`RETIRE_S` seconds, so an answer read through a held pointer is still
the whole old publish, named as such.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from c360.errors import ConfigError, TransientError
from c360.serving import queries

if TYPE_CHECKING:
    import redis

    from c360.serving.snapshot import Snapshot

POINTER = "c360:current"
#: How long a replaced publish's hashes stay readable (requests under way finish with them).
RETIRE_S = 300
#: How long a reader holds the pointer to the served publish before asking again (seconds).
POINTER_TTL = 1.0
BATCH = 5_000


@dataclass(frozen=True)
class OnlinePublish:
    """What an online publish wrote."""

    publish_id: str
    run_id: str | None
    customers: int
    users: int


class OnlineStore:
    """Customer profiles in Redis, one publish at a time."""

    def __init__(self, url: str) -> None:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"online store {url!r}: give a redis:// URL")
        try:
            import redis
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("the online store needs redis: pip install 'c360[online]'") from exc
        from c360.sinks import redact, split_url

        if not url.startswith("unix://"):
            split_url(url, what="online store")
        self.url = url
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._redis = redis.Redis
        try:
            self.client: redis.Redis = self._connect()
        except ValueError as exc:  # e.g. a database number that is not a number
            raise ConfigError(f"online store {redact(url)!r}: {exc}") from exc
        # Look-ups: one connection per thread (no pool to take it from and give it back to),
        # and the served publish held for POINTER_TTL seconds.
        self._local = threading.local()
        self._pointer: tuple[float, tuple[str, str | None] | None] = (-POINTER_TTL, None)

    def _connect(self, *, single_connection: bool = False) -> redis.Redis:
        """A client of the store: pooled, or holding one connection (one per reader thread)."""
        return self._redis.from_url(
            self.url, socket_timeout=0.5, socket_connect_timeout=0.5, decode_responses=True,
            single_connection_client=single_connection,
        )  # fmt: skip

    def describe(self) -> str:
        from c360.sinks import redact

        return redact(self.url)

    def _call(self, action: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._errors as exc:
            raise TransientError(f"online store {self.describe()} {action}: {exc}") from exc

    # -- writing --------------------------------------------------------------------------------

    def publish(self, snapshot: Snapshot) -> OnlinePublish:
        """Write every profile of ``snapshot`` under its publish's prefix, then switch to it."""
        publish_id = snapshot.publish_id or snapshot.loaded_at.strftime("%Y%m%dT%H%M%S%f")
        prefix = f"c360:{publish_id}"
        customers = users = 0
        pipe = self.client.pipeline(transaction=False)
        for batch in _batches(snapshot):
            for row in batch:
                profile = queries.profile_of(row)
                pipe.hset(f"{prefix}:customers", row["contract"], queries.profile_json(profile))
                customers += 1
            self._call("could not be written", pipe.execute)
        users_sql = (
            "SELECT user_id, list(contract ORDER BY contract) AS contracts FROM customer_360 "
            "WHERE user_id IS NOT NULL GROUP BY user_id"
        )
        for batch in _batches(snapshot, users_sql):
            for row in batch:
                pipe.hset(f"{prefix}:users", row["user_id"], json.dumps(row["contracts"]))
                users += 1
            self._call("could not be written", pipe.execute)
        pipe.hset(f"{prefix}:meta", "publish_id", publish_id)
        pipe.hset(f"{prefix}:meta", "run_id", snapshot.run_id or "")
        self._call("could not be written", pipe.execute)
        old = self._call("could not be read", self.client.getset, POINTER, publish_id)
        if old and old != publish_id:
            retire = self.client.pipeline(transaction=False)
            for part in ("customers", "users", "meta"):
                retire.expire(f"c360:{old}:{part}", RETIRE_S)
            self._call("could not retire the old publish", retire.execute)
        return OnlinePublish(publish_id, snapshot.run_id, customers, users)

    # -- reading --------------------------------------------------------------------------------

    def current(self) -> tuple[str, str | None] | None:
        """The publish being served online and its run (None: nothing published online)."""
        publish_id = self._call("is unreachable", self.client.get, POINTER)
        if not publish_id:
            return None
        run_id = self._call("is unreachable", self.client.hget, f"c360:{publish_id}:meta", "run_id")
        return str(publish_id), (str(run_id) if run_id else None)

    def lookup(self, contract: str) -> tuple[str, str | None, str | None] | None:
        """(publish, run, the profile's JSON or None) of the served publish; None when nothing
        was published online."""
        read_at, current = self._pointer
        if time.monotonic() - read_at >= POINTER_TTL:
            current = self.current()
            self._pointer = (time.monotonic(), current)
        if current is None:
            return None
        publish_id, run_id = current
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = self._connect(single_connection=True)
        text = self._call("is unreachable", reader.hget, f"c360:{publish_id}:customers", contract)
        return publish_id, run_id, (str(text) if text is not None else None)


def _batches(
    snapshot: Snapshot, sql: str = "SELECT * FROM customer_360"
) -> Iterator[list[dict[str, Any]]]:
    """The rows of ``sql`` on the snapshot, :data:`BATCH` at a time."""
    reader = snapshot.cursor().execute(sql).to_arrow_reader(BATCH)
    for batch in reader:
        yield batch.to_pylist()
