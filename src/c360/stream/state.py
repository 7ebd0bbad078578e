"""The stream state: what a micro-batch processor counted, committed with its checkpoint.

One DuckDB database under the landing zone's ``_checkpoint/`` holds, for every engine that
processes the streams (the DuckDB processor, Spark's ``foreachBatch``): the offsets, the event-time
clocks, the ids counted (for the maximum age, D97), the running totals and the window state, the
quarantine, the batches and the files each counted. :meth:`StreamState.commit` counts one
micro-batch in **one transaction**: the lines an engine validated (``checked_<stream>``) minus
ids counted before and repeats inside the batch are added to the totals and windows, and the
checkpoint moves past the files; a ``kill -9`` at any point loses the whole batch (it is done
again) or none of it.

The live tables are then computed from the state and published, keyed by batch id: to the lake
(Parquet, renamed into place) and to the warehouse (one transaction). Publishing is idempotent,
so a processor killed between its commit and its publish publishes on restart; a publish that
fails is tried again (D96).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from c360.engines.duckdb import connect
from c360.errors import EngineError, TransientError
from c360.lake.ledger import write_atomic
from c360.rules import live
from c360.stream.landing import LandedFile, LandingZone

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends.duckdb import Backend

    from c360.config import C360Config
    from c360.console import Reporter
    from c360.lake.layout import LakeLayout
    from c360.sinks.base import Sink
    from c360.stream.broker import JetStreamLanding

#: Streams and the rules that validate them.
STREAMS = ("votes", "events")
#: The latest batches published in ``live_batches`` (each carries the running totals).
LIVE_BATCHES = 100
#: The latest quarantined lines published in ``live_quarantine`` (all stay in the state).
LIVE_QUARANTINE = 1000
#: Leaves a stream's validated lines in ``checked_<stream>`` and returns the bounds used:
#: ``check(stream, now, clock)``.
Check = Callable[[str, datetime, datetime | None], live.Bounds]
#: The status a processor leaves after each batch, for ``c360 stream status``.
STATUS_FILE = "status.json"

_STATE_SQL = """
CREATE TABLE IF NOT EXISTS offsets (stream VARCHAR PRIMARY KEY, next BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS clocks (stream VARCHAR PRIMARY KEY, latest TIMESTAMP);
CREATE TABLE IF NOT EXISTS seen_votes (record_id VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS seen_events (record_id VARCHAR NOT NULL);
ALTER TABLE seen_votes ADD COLUMN IF NOT EXISTS ts TIMESTAMP;
ALTER TABLE seen_events ADD COLUMN IF NOT EXISTS ts TIMESTAMP;
CREATE TABLE IF NOT EXISTS song_totals (song VARCHAR PRIMARY KEY, votes BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS vote_seconds (
    song VARCHAR NOT NULL, second TIMESTAMP NOT NULL, votes BIGINT NOT NULL,
    PRIMARY KEY (song, second));
CREATE TABLE IF NOT EXISTS usage_minutes (
    category VARCHAR NOT NULL, minute TIMESTAMP NOT NULL, total_duration BIGINT NOT NULL,
    events BIGINT NOT NULL, PRIMARY KEY (category, minute));
CREATE TABLE IF NOT EXISTS quarantine (
    batch_id BIGINT, stream VARCHAR, file VARCHAR, line_no BIGINT, reason VARCHAR, raw VARCHAR);
CREATE TABLE IF NOT EXISTS batches (
    batch_id BIGINT PRIMARY KEY, committed_at TIMESTAMP, files INTEGER, lines BIGINT,
    counted BIGINT, duplicates BIGINT, quarantined BIGINT, late BIGINT, seconds DOUBLE,
    clock TIMESTAMP, watermark TIMESTAMP, lines_total BIGINT, counted_total BIGINT,
    duplicates_total BIGINT, quarantined_total BIGINT);
CREATE TABLE IF NOT EXISTS batch_files (
    batch_id BIGINT, stream VARCHAR, first BIGINT, next BIGINT, name VARCHAR);
CREATE TABLE IF NOT EXISTS published (batch_id BIGINT, published_at TIMESTAMP);
"""


@dataclass
class BatchReport:
    """One committed micro-batch."""

    batch_id: int
    files: int = 0
    lines: int = 0
    counted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    #: Counted events older than the watermark (in the totals, in no window).
    late: int = 0
    seconds: float = 0.0
    by_stream: dict[str, int] = field(default_factory=dict)


@dataclass
class ProcessReport:
    """What a processor did."""

    batches: list[BatchReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counted(self) -> int:
        return sum(b.counted for b in self.batches)

    @property
    def lines(self) -> int:
        return sum(b.lines for b in self.batches)


def _now() -> datetime:
    """The processor's clock, naive UTC (event times are stored naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


class StreamState:
    """The state every stream processor counts into (DuckDB, one file per landing zone)."""

    def __init__(
        self,
        landing: LandingZone,
        *,
        config: C360Config,
        reporter: Reporter,
        lake: LakeLayout,
        sink: Sink | None = None,
    ) -> None:
        self.landing = landing
        self.config = config
        self.settings = config.stream
        self.reporter = reporter
        self.lake = lake
        self.sink = sink
        landing.checkpoint.mkdir(parents=True, exist_ok=True)
        try:
            self.con: Backend = connect(database=str(landing.checkpoint / "state.duckdb"))
            self.con.raw_sql(_STATE_SQL)
        except Exception as exc:
            raise EngineError(
                f"cannot open the stream state in {landing.checkpoint}: {exc}"
            ) from exc
        self._unpublished = False
        #: Per stream, the horizon of the last time old ids were forgotten.
        self._forgotten: dict[str, datetime] = {}
        self.publish_pending()

    def close(self) -> None:
        self.con.disconnect()

    def __enter__(self) -> StreamState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one micro-batch --------------------------------------------------------------------

    def commit(
        self, files: Mapping[str, Sequence[LandedFile]], check: Check, *, started: float
    ) -> BatchReport:
        """Count ``files`` as one micro-batch, in one transaction of the state, and publish.

        Args:
            files: the landed files of the batch, per stream.
            check: leaves each stream's validated lines in ``checked_<stream>`` (the columns of
                ``rules.live.validate_stream``) and returns the bounds it validated with.
            started: when the batch began (``time.monotonic()``, before its lines were read):
                the batch's ``seconds`` count from there.
        """
        batch = BatchReport(batch_id=self._last_batch() + 1)
        batch.files = sum(len(f) for f in files.values())
        con = self.con
        con.raw_sql("BEGIN TRANSACTION")
        try:
            now = _now()
            clock = self._clocks()
            for stream in STREAMS:
                if files.get(stream):
                    bounds = check(stream, now, clock.get(stream))
                    self.apply(stream, batch, bounds=bounds)
            for stream, chosen in files.items():
                if chosen:
                    # An engine may take a stream's files out of order: the offset only grows.
                    con.con.execute(
                        "INSERT INTO offsets VALUES (?, ?) ON CONFLICT (stream) DO UPDATE "
                        "SET next = greatest(offsets.next, excluded.next)",
                        [stream, max(f.next for f in chosen)],
                    )
                    con.con.executemany(
                        "INSERT INTO batch_files VALUES (?, ?, ?, ?, ?)",
                        [[batch.batch_id, stream, f.first, f.next, f.path.name] for f in chosen],
                    )
            batch.seconds = time.monotonic() - started
            latest = self._clocks().get("votes")
            watermark = latest - timedelta(seconds=self.settings.lateness_s) if latest else None
            # Running totals ride along, so the last batches alone tell the whole story.
            con.con.execute(
                "INSERT INTO batches SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "coalesce(sum(lines), 0) + ?, coalesce(sum(counted), 0) + ?, "
                "coalesce(sum(duplicates), 0) + ?, coalesce(sum(quarantined), 0) + ? "
                "FROM batches",
                [
                    batch.batch_id, now, batch.files, batch.lines, batch.counted,
                    batch.duplicates, batch.quarantined, batch.late, batch.seconds, latest,
                    watermark, batch.lines, batch.counted, batch.duplicates, batch.quarantined,
                ],
            )  # fmt: skip
            con.raw_sql("COMMIT")
        except BaseException:
            con.raw_sql("ROLLBACK")
            raise
        self.publish(batch.batch_id)
        return batch

    def done_files(self, stream: str, names: Sequence[str]) -> set[str]:
        """Which of ``names`` (landed files of ``stream``) a committed batch counted."""
        rows = self.con.con.execute(
            "SELECT name FROM batch_files WHERE stream = ? AND list_contains(?, name)",
            [stream, list(names)],
        ).fetchall()
        return {str(r[0]) for r in rows}

    def check_decoded(
        self, stream: str, decode_sql: str, now: datetime, clock: datetime | None
    ) -> live.Bounds:
        """Validate the lines ``decode_sql`` decodes (DuckDB) into ``checked_<stream>``."""
        decoded = self._temp(f"decoded_{stream}", decode_sql)
        found = self.con.con.execute(
            f"SELECT max(ts) FROM decoded_{stream} WHERE ts <= ?", [self.latest_allowed(now)]
        ).fetchone()
        bounds = self.bounds(now=now, clock=clock, found=found[0] if found else None)
        checked = live.validate_stream(stream, decoded, bounds=bounds, content=self.config.content)
        self._materialize(f"checked_{stream}", checked)
        return bounds

    def latest_allowed(self, now: datetime) -> datetime:
        """The latest event time a batch begun at ``now`` accepts (later: ``future_timestamp``)."""
        return now + timedelta(seconds=self.settings.max_future_s)

    def bounds(
        self, *, now: datetime, clock: datetime | None, found: datetime | None
    ) -> live.Bounds:
        """The event-time bounds of a batch: ``clock`` (the stream's latest event time so far)
        moved to ``found`` (the batch's latest event time that is not in the future)."""
        candidates = [t for t in (clock, found) if t is not None]
        latest = max(candidates) if candidates else None
        s = self.settings
        return live.Bounds(
            latest_allowed=self.latest_allowed(now),
            oldest_allowed=(latest or now) - timedelta(seconds=s.max_age_s),
            clock=latest,
            now=now,
        )

    def apply(self, stream: str, batch: BatchReport, *, bounds: live.Bounds) -> None:
        """Count the validated lines in ``checked_<stream>`` (inside the batch's transaction):
        the quarantine, the ids never counted, the totals, the window state, the clock."""
        con = self.con
        con.con.execute(
            f"INSERT INTO quarantine SELECT ?, ?, file, line_no, reason, raw FROM checked_{stream} "
            "WHERE reason IS NOT NULL",
            [batch.batch_id, stream],
        )
        checked = con.table(f"checked_{stream}")
        valid = checked.filter(checked.reason.isnull())
        seen = con.table(f"seen_{stream}")
        new = self._materialize(f"new_{stream}", live.first_occurrences(valid, seen))
        con.raw_sql(f"INSERT INTO seen_{stream} SELECT record_id, ts FROM new_{stream}")
        quarantined, valid_rows, counted = self._counts(stream)
        latest = bounds.clock
        # Later events of the batch move the clock; the watermark follows the new clock.
        if latest is not None and counted:
            row = con.con.execute(f"SELECT max(ts) FROM new_{stream}").fetchone()
            if row and row[0] is not None and row[0] > latest:
                latest = row[0]
        if latest is not None:
            con.con.execute(
                "INSERT INTO clocks VALUES (?, ?) ON CONFLICT (stream) DO UPDATE "
                "SET latest = excluded.latest",
                [stream, latest],
            )
            self._forget(stream, latest - timedelta(seconds=self.settings.max_age_s))
        watermark = (latest or bounds.now) - timedelta(seconds=self.settings.lateness_s)
        late = con.con.execute(
            f"SELECT count(*) FROM new_{stream} WHERE ts < ?", [watermark]
        ).fetchone()
        batch.late += int(late[0]) if late else 0
        if stream == "votes":
            self._upsert("song_totals", live.song_totals(new), ("song",), ("votes",))
            self._upsert(
                "vote_seconds", live.vote_seconds(new, watermark=watermark),
                ("song", "second"), ("votes",),
            )  # fmt: skip
            con.con.execute("DELETE FROM vote_seconds WHERE second < ?", [watermark])
        else:
            self._upsert(
                "usage_minutes", live.usage_minutes(new), ("category", "minute"),
                ("total_duration", "events"),
            )  # fmt: skip
        batch.lines += quarantined + valid_rows
        batch.quarantined += quarantined
        batch.counted += counted
        batch.duplicates += valid_rows - counted
        batch.by_stream[stream] = counted

    def _forget(self, stream: str, horizon: datetime) -> None:
        """Forget the ids of events older than ``horizon`` (the stream's clock minus the maximum
        age, D97): a repeat of such an event is ``too_old`` whatever its id, so the ids kept
        are a day of events, not the whole stream. Done when the horizon has moved by a
        24th of the maximum age (an hour by default), not at every batch."""
        last = self._forgotten.get(stream)
        if last is not None and horizon - last < timedelta(seconds=self.settings.max_age_s / 24):
            return
        self.con.con.execute(f"DELETE FROM seen_{stream} WHERE ts < ?", [horizon])
        self._forgotten[stream] = horizon

    def _counts(self, stream: str) -> tuple[int, int, int]:
        row = self.con.con.execute(
            f"SELECT count(*) FILTER (WHERE reason IS NOT NULL), "
            f"count(*) FILTER (WHERE reason IS NULL), (SELECT count(*) FROM new_{stream}) "
            f"FROM checked_{stream}"
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    def _upsert(self, table: str, expr: ir.Table, key: Sequence[str], added: Sequence[str]) -> None:
        """Add ``expr``'s measures to ``table``'s rows of the same key (new keys inserted)."""
        import ibis

        columns = ", ".join([*key, *added])
        updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in added)
        select = ibis.to_sql(expr, dialect="duckdb")
        self.con.raw_sql(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM ({select}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
        )

    def _temp(self, name: str, sql: str) -> ir.Table:
        self.con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        return self.con.table(name)

    def _materialize(self, name: str, expr: ir.Table) -> ir.Table:
        import ibis

        sql = ibis.to_sql(expr, dialect="duckdb")
        self.con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        return self.con.table(name)

    # -- state ------------------------------------------------------------------------------

    def offsets(self) -> dict[str, int]:
        """Per stream, the position (or sequence) the next batch begins at."""
        rows = self.con.con.execute("SELECT stream, next FROM offsets").fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def _clocks(self) -> dict[str, datetime]:
        rows = self.con.con.execute("SELECT stream, latest FROM clocks").fetchall()
        return {str(r[0]): r[1] for r in rows if r[1] is not None}

    def _last_batch(self) -> int:
        row = self.con.con.execute("SELECT coalesce(max(batch_id), 0) FROM batches").fetchone()
        return int(row[0]) if row else 0

    # -- publishing -------------------------------------------------------------------------

    def live_tables(self) -> dict[str, pa.Table]:
        """The live tables as of the last committed batch."""
        import ibis

        con = self.con
        clock = self._clocks().get("votes")
        board = live.leaderboard(con.table("song_totals"), con.table("vote_seconds"), clock=clock)
        usage = con.table("usage_minutes")
        usage = usage.order_by(["minute", "category"])
        batches = con.table("batches").order_by(ibis.desc("batch_id")).limit(LIVE_BATCHES)
        batches = batches.order_by("batch_id")
        quarantine = con.table("quarantine")
        recent = quarantine.order_by([ibis.desc("batch_id"), "stream", "file", "line_no"])
        return {
            "live_quarantine": con.to_pyarrow(recent.limit(LIVE_QUARANTINE)),
            "live_leaderboard": con.to_pyarrow(board.order_by("rank")),
            "live_usage": con.to_pyarrow(usage),
            "live_batches": con.to_pyarrow(batches),
        }

    def publish(self, batch_id: int) -> bool:
        """Publish the live tables of ``batch_id`` (the last committed) to the lake and the
        warehouse, and leave the status; recorded, so a restart publishes a batch it missed.

        A warehouse that cannot be reached (or a lake that cannot be written) is said once and
        tried again at the next trigger: the batch is committed, so nothing is lost meanwhile.
        Returns whether the tables were published.
        """
        tables = self.live_tables()
        try:
            paths = {n: write_atomic(table, self.lake.gold(n)) for n, table in tables.items()}
            if self.sink is not None:
                self.sink.publish_live(paths)
        except (TransientError, OSError) as exc:
            if not self._unpublished:
                self.reporter.warn(
                    f"batch {batch_id} is counted but not published ({exc}); trying again at "
                    "every trigger"
                )
            self._unpublished = True
            return False
        self.con.con.execute("INSERT INTO published VALUES (?, ?)", [batch_id, _now()])
        self._write_status()
        if self._unpublished:
            self.reporter.info(f"published again, up to batch {batch_id}")
            self._unpublished = False
        return True

    @property
    def unpublished(self) -> bool:
        """Whether the last publish failed (it is tried again)."""
        return self._unpublished

    def publish_pending(self) -> None:
        """Publish the last committed batch when it was not (a crash, a warehouse away)."""
        last = self._last_batch()
        row = self.con.con.execute("SELECT max(batch_id) FROM published").fetchone()
        published = row[0] if row else None
        if last and published != last:
            if not self._unpublished:
                self.reporter.info(f"batch {last} was committed but not published; publishing it")
            self.publish(last)

    def _write_status(self) -> None:
        status = stream_status_from_state(self.con.con)
        path = self.landing.checkpoint / STATUS_FILE
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(status, default=str, indent=1))
        tmp.replace(path)


def stream_status_from_state(con: Any) -> dict[str, Any]:
    """What ``c360 stream status`` shows of a processor's state."""
    offsets = dict(con.execute("SELECT stream, next FROM offsets").fetchall())
    clocks = dict(con.execute("SELECT stream, latest FROM clocks").fetchall())
    totals = con.execute(
        "SELECT count(*), coalesce(sum(lines), 0), coalesce(sum(counted), 0), "
        "coalesce(sum(duplicates), 0), coalesce(sum(quarantined), 0), coalesce(sum(late), 0), "
        "coalesce(sum(seconds), 0), max(committed_at) FROM batches"
    ).fetchone()
    reasons = dict(
        con.execute("SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY 1").fetchall()
    )
    recent = con.execute(
        "SELECT sum(lines), min(committed_at), max(committed_at), count(*) FROM "
        "(SELECT * FROM batches ORDER BY batch_id DESC LIMIT 10)"
    ).fetchone()
    return {
        "offsets": offsets,
        "clocks": {k: v.isoformat() if v else None for k, v in clocks.items()},
        "batches": int(totals[0]),
        "events": int(totals[1]),
        "counted": int(totals[2]),
        "duplicates": int(totals[3]),
        "quarantined": int(totals[4]),
        "late": int(totals[5]),
        "busy_seconds": float(totals[6]),
        "last_commit": totals[7].isoformat() if totals[7] else None,
        "quarantine_reasons": reasons,
        "recent": {
            "events": int(recent[0] or 0),
            "first_commit": recent[1].isoformat() if recent[1] else None,
            "last_commit": recent[2].isoformat() if recent[2] else None,
            "batches": int(recent[3] or 0),
        },
    }


def read_status(landing: LandingZone) -> dict[str, Any] | None:
    """The status the processor left (None: it never committed a batch)."""
    path = landing.checkpoint / STATUS_FILE
    if not path.exists():
        return None
    return dict(json.loads(path.read_text()))


class Processor(ABC):
    """A stream processor on one engine: which lines each micro-batch takes and how they are
    decoded and validated; the counting is its :class:`StreamState`'s."""

    def __init__(
        self,
        landing: LandingZone,
        *,
        config: C360Config,
        reporter: Reporter,
        lake: LakeLayout,
        sink: Sink | None = None,
        broker: JetStreamLanding | None = None,
    ) -> None:
        self.landing = landing
        self.broker = broker
        self.settings = config.stream
        self.reporter = reporter
        self.state = StreamState(landing, config=config, reporter=reporter, lake=lake, sink=sink)

    @abstractmethod
    def run(
        self, *, trigger_s: float = 2.0, once: bool = False, max_seconds: float | None = None,
        stop: Any = None,
    ) -> ProcessReport:  # fmt: skip
        """Process a micro-batch every ``trigger_s`` seconds (``once``: what is landed now,
        then return), until ``max_seconds`` pass or ``stop`` (a ``threading.Event``) is set."""

    def close(self) -> None:
        self.state.close()

    def __enter__(self) -> Processor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
