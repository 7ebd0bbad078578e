"""What the server answers from: the served tables of one publish, held in memory.

A snapshot is read from the warehouse in one consistent read (:meth:`Sink.read_consistent`) and
kept in an in-memory DuckDB database, so every answer comes from the tables of one publish —
never a mix of two runs — and the warehouse is free for the next publish while the server
answers. :class:`ServedWarehouse` watches the warehouse (:meth:`Sink.version`, a cheap token
that changes with every publish) and swaps in a new snapshot once it is loaded whole; until then,
and if loading fails, the previous snapshot keeps answering.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from c360.engines.duckdb import NFC_FUNCTION_SQL
from c360.errors import C360Error, OutputError, UnavailableError

if TYPE_CHECKING:
    from c360.console import Reporter
    from c360.sinks.base import Sink

log = logging.getLogger("c360.serve")
#: Tables a snapshot copies whole (those absent from the warehouse are left out: a run without
#: search logs has no search tables).
SERVED_TABLES = (
    "customer_360",
    "customer_search_stats",
    "search_monthly_top",
    "keyword_category",
    "daily_category_usage",
    "daily_active_contracts",
    "top_apps",
    "pipeline_runs",
    "dq_results",
)
#: Tables a snapshot only counts, by these columns (their rows stay in the warehouse).
COUNTED_TABLES = {
    "quarantine_content": ("reason",),
    "quarantine_search": ("reason",),
}
#: Indexes that make a look-up a probe, not a scan.
INDEXES = {"customer_search_stats": ("user_id",)}
#: The profiles: looked up by contract without SQL (see :meth:`Snapshot.profile_row`).
PROFILES = "customer_360"


@dataclass
class Snapshot:
    """The served tables of one publish, in an in-memory DuckDB database."""

    con: duckdb.DuckDBPyConnection
    tables: frozenset[str]
    #: ``customer_360`` sorted by contract, and its contracts as bytes (for look-ups).
    profiles: pa.Table | None
    contract_keys: np.ndarray[Any, Any] | None
    publish_id: str | None
    published_at: str | None
    #: The latest run in ``pipeline_runs`` (any status).
    run_id: str | None
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _local: threading.local = field(default_factory=threading.local, repr=False)
    #: ``profiles``' columns as single arrays: a row read value by value is ~4 × faster than
    #: a one-row slice turned into a dict.
    _columns: tuple[tuple[str, pa.Array], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.profiles is not None and not self._columns:
            table = self.profiles
            self._columns = tuple(
                (name, column.combine_chunks())
                for name, column in zip(table.column_names, table.columns, strict=True)
            )

    @classmethod
    def build(cls, read: dict[str, pa.Table], marker: dict[str, Any] | None) -> Snapshot:
        """A snapshot of the tables ``read`` (name → rows; ``count:<table>`` for counts)."""
        con = duckdb.connect(":memory:")
        con.execute(NFC_FUNCTION_SQL)  # the rules' keyword normalisation runs here too
        profiles, keys = None, None
        if PROFILES in read:
            # Also kept as Arrow, sorted by contract: a look-up is a binary search on the
            # contracts (microseconds), not a query. (Registered Arrow views are not seen by
            # other cursors, so SQL gets its own copy below.)
            profiles = read[PROFILES].sort_by("contract")
            keys = profiles.column("contract").to_numpy(zero_copy_only=False).astype("S")
        for name, rows in read.items():
            table = name.replace(":", "_")
            con.register("_incoming", rows)
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _incoming')
            con.unregister("_incoming")
            for column in INDEXES.get(name, ()):
                if column in rows.column_names:
                    con.execute(f'CREATE INDEX "{table}_{column}" ON "{table}" ("{column}")')
        run_id = None
        if "pipeline_runs" in read and read["pipeline_runs"].num_rows:
            row = con.execute(
                "SELECT run_id FROM pipeline_runs ORDER BY started_at DESC LIMIT 1"
            ).fetchone()
            run_id = str(row[0]) if row else None
        marker = marker or {}
        names = {n.replace(":", "_") for n in read}
        return cls(
            con=con,
            tables=frozenset(names),
            profiles=profiles,
            contract_keys=keys,
            publish_id=marker.get("publish_id"),
            published_at=marker.get("published_at"),
            run_id=run_id,
        )

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the snapshot (a DuckDB connection is not shared by threads)."""
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self.con.cursor()
        return cur

    def profile_row(self, contract: str) -> dict[str, Any] | None:
        """The ``customer_360`` row of ``contract`` (None: no such customer)."""
        keys, profiles = self.contract_keys, self.profiles
        if keys is None or profiles is None:
            return None
        needle = contract.encode("utf-8")
        i = int(np.searchsorted(keys, needle))
        if i < len(keys) and keys[i] == needle:
            return {name: column[i].as_py() for name, column in self._columns}
        return None

    def has(self, table: str) -> bool:
        return table in self.tables

    def rows(self, sql: str, params: list[object] | None = None) -> list[dict[str, Any]]:
        """The rows of a parameterised query, as dicts."""
        # Through Arrow: zoned timestamps become datetimes without DuckDB's pytz dependency.
        rows: list[dict[str, Any]] = (
            self.cursor().execute(sql, params or []).to_arrow_table().to_pylist()
        )
        return rows

    def close(self) -> None:
        self.con.close()


def load_snapshot(
    sink: Sink,
    tables: Sequence[str] = SERVED_TABLES,
    counted: Mapping[str, Sequence[str]] = COUNTED_TABLES,
) -> Snapshot:
    """Read the served tables (or only ``tables`` and ``counted``) of the warehouse's latest
    publish into memory."""
    read, marker = sink.read_consistent(tables, counted)
    if not read:
        raise UnavailableError(
            f"the warehouse {sink.describe()} has no published tables yet; run `c360 run` first"
        )
    return Snapshot.build(read, marker)


@dataclass
class ServingStatus:
    """What ``/readyz`` tells: whether answers can be given, and from which publish."""

    ready: bool
    warehouse: str
    run_id: str | None
    publish_id: str | None
    published_at: str | None
    loaded_at: datetime | None
    error: str | None
    #: The online store's state, when one is used.
    online: str | None = None


class ServedWarehouse:
    """The warehouse as the server sees it: the latest snapshot, refreshed in the background.

    ``poll_s`` is how often the warehouse's version is asked; a changed version loads a new
    snapshot, swapped in only once it is whole.
    """

    def __init__(
        self, sink: Sink, *, poll_s: float = 1.0, reporter: Reporter | None = None
    ) -> None:
        self.sink = sink
        self.poll_s = poll_s
        self.reporter = reporter
        self._snapshot: Snapshot | None = None
        self._version: object = None
        self._error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> ServedWarehouse:
        """Load the first snapshot (a failure is kept for ``/readyz``) and start watching."""
        self.refresh()
        self._thread = threading.Thread(target=self._watch, name="c360-snapshot", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ServedWarehouse:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.refresh()

    # -- snapshots ----------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Load a new snapshot when the warehouse changed; True when one was swapped in."""
        try:
            version = self.sink.version()
            if version is not None and version == self._version and self._snapshot is not None:
                return False
            snapshot = load_snapshot(self.sink)
        except Exception as exc:  # the watcher outlives any failed refresh; /readyz tells it
            self._error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if not isinstance(exc, C360Error | OSError):
                log.warning("refreshing the snapshot failed: %s", self._error, exc_info=exc)
            return False
        with self._lock:
            old, self._snapshot = self._snapshot, snapshot
            self._version, self._error = version, None
        if old is not None:
            # Requests that took the old snapshot finish with it; close it a little later.
            threading.Timer(30.0, old.close).start()
        if self.reporter is not None:
            self.reporter.info(f"serving publish {snapshot.publish_id} (run {snapshot.run_id})")
        return True

    def current(self) -> Snapshot:
        """The snapshot to answer from (the same one for the whole of a request)."""
        snapshot = self._snapshot
        if snapshot is None:
            raise UnavailableError(
                self._error or f"the warehouse {self.sink.describe()} is not loaded yet"
            )
        return snapshot

    def status(self) -> ServingStatus:
        snapshot = self._snapshot
        return ServingStatus(
            ready=snapshot is not None,
            warehouse=self.sink.describe(),
            run_id=snapshot.run_id if snapshot else None,
            publish_id=snapshot.publish_id if snapshot else None,
            published_at=snapshot.published_at if snapshot else None,
            loaded_at=snapshot.loaded_at if snapshot else None,
            error=self._error,
        )

    def wait_for(self, publish_id: str, timeout_s: float = 10.0) -> Snapshot:
        """Wait until the snapshot of ``publish_id`` is served."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.publish_id == publish_id:
                return snapshot
            time.sleep(0.05)
        raise OutputError(f"publish {publish_id} was not served within {timeout_s:.0f} s")
