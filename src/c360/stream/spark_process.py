"""The micro-batch processor on Spark Structured Streaming (``c360 stream process --engine
spark``): the file source over the landing zone, ``foreachBatch`` into the shared state.

Spark reads each new landed file whole, splits and decodes its lines and validates them with
the same rules (``rules.live`` compiled by Ibis to Spark SQL); the validated rows come back as
Arrow and are counted in the state database's transaction, exactly as the DuckDB processor
counts its own (``StreamProcessor.commit``): de-duplication by event id, totals, windows,
quarantine, and the names of the files counted, in one commit.

Exactly once: Spark's checkpoint (under ``_checkpoint/spark``) says which files each Spark
batch takes, and a Spark batch is done again after a crash; the state says which files were
counted, and a file counted before is left out of the batch that takes it again. So the
output and what it was computed from are committed together, whichever of the two logs a
``kill -9`` interrupts.

From NATS JetStream (``--broker``) the source is a Python data source (``spark_broker``) and
the state's offsets (stream sequences) play the part of the files counted: a message below them
is left out of a batch done again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from c360.engines.duckdb import VIEW_DECODE_SQL as DUCKDB_VIEW_SQL
from c360.engines.duckdb import VOTE_DECODE_SQL as DUCKDB_VOTE_SQL
from c360.engines.spark_session import translated
from c360.engines.spark_stream import VIEW_DECODE_SQL, VOTE_DECODE_SQL, landed_lines
from c360.errors import EngineError
from c360.rules import live
from c360.stream.landing import LandedFile, LandingZone
from c360.stream.state import STREAMS, Processor, ProcessReport

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from c360.config import C360Config

#: Spark's own checkpoint, inside the processor's folder.
SPARK_CHECKPOINT = "spark"


class SparkStreamProcessor(Processor):
    """Processes the landing zone's streams (or JetStream's) into the live tables on Spark."""

    def __init__(self, landing: LandingZone, *, config: C360Config, **where: Any) -> None:
        from c360.engines.spark import SparkEngine

        super().__init__(landing, config=config, **where)
        self.content = config.content
        try:
            self.engine = SparkEngine(config.engine, scratch=str(landing.checkpoint / "scratch"))
        except BaseException:
            self.state.close()
            raise
        self.report = ProcessReport()
        #: The state's offsets after the last batch (read by ``run`` while batches run).
        self._reached: dict[str, int] = {}
        #: Held while a batch (Spark's thread) or a publish (``run``'s) uses the state.
        self._state_lock = threading.Lock()

    def close(self) -> None:
        self.engine.close()
        super().close()

    def run(
        self, *, trigger_s: float = 2.0, once: bool = False, max_seconds: float | None = None,
        stop: Any = None,
    ) -> ProcessReport:  # fmt: skip
        """Start the streaming query (the file source, or JetStream's), with
        :meth:`Processor.run`'s arguments."""
        from pyspark.sql import functions as f

        started = time.monotonic()
        session = self.engine.session
        # The landed files are listed by the driver: a listing job of a task a file costs more
        # than the batch it lists.
        session.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold", "1000000")
        with translated("starting the streaming query"):
            if self.broker is None:
                # A batch takes about max_batch_events: a file holds at most a poll's events.
                per_batch = max(1, self.settings.max_batch_events // self.settings.poll_count)
                source = (
                    session.readStream.format("text")
                    .option("wholetext", True)
                    .option("maxFilesPerTrigger", per_batch)
                    .load(self.landing.glob(STREAMS))
                    .select(f.col("_metadata.file_path").alias("path"), "value")
                )
                each = self._files_batch
            else:
                from c360.stream.spark_broker import NAME, JetStreamSource

                session.dataSource.register(JetStreamSource)
                source = (
                    session.readStream.format(NAME)
                    .option("url", self.broker.url)
                    .option("streams", ",".join(STREAMS))
                    .option("max_batch", str(self.settings.max_batch_events))
                    .option("start", json.dumps(self.state.offsets()))
                    .load()
                )
                each = self._broker_batch
            writer = source.writeStream.foreachBatch(each).option(
                "checkpointLocation", str(self.landing.checkpoint / SPARK_CHECKPOINT)
            )
            # A Python source runs one batch under availableNow: on JetStream, "what is there
            # now" is the last sequences when the run began, waited for below.
            until = self._broker_ends() if once and self.broker is not None else None
            if once and until is None:
                writer = writer.trigger(availableNow=True)
            else:
                writer = writer.trigger(
                    processingTime=f"{max(1, round(trigger_s * 1000))} milliseconds"
                )
            query = writer.start()
        try:
            while query.isActive:
                if stop is not None and stop.is_set():
                    break
                self._publish_again()
                if until is not None and all(
                    self._reached.get(s, 1) >= end for s, end in until.items()
                ):
                    break
                if max_seconds is not None and time.monotonic() - started >= max_seconds:
                    break
                query.awaitTermination(1)
        finally:
            if query.isActive:
                query.stop()
        failure = query.exception()
        if failure is not None:
            raise EngineError(f"the streaming query failed: {_first_line(failure)}")
        self.report.seconds = time.monotonic() - started
        return self.report

    def _publish_again(self) -> None:
        """Publish the live tables again when the last publish failed (D96), between batches:
        Spark runs a batch only when there is new data."""
        if self.state.unpublished and self._state_lock.acquire(blocking=False):
            try:
                self.state.publish_pending()
            finally:
                self._state_lock.release()

    # -- one Spark batch --------------------------------------------------------------------

    def _files_batch(self, frame: DataFrame, spark_batch: int) -> None:
        """Count the files of one Spark batch that no committed batch counted."""
        with self._state_lock:
            self._count_files(frame, spark_batch, started=time.monotonic())

    def _count_files(self, frame: DataFrame, spark_batch: int, *, started: float) -> None:
        from pyspark.sql import functions as f

        # Each file is read once: the batch is kept while its files are listed and decoded. A
        # file is a task of its own in the file source; a task a core does the batch sooner.
        cores = frame.sparkSession.sparkContext.defaultParallelism
        frame = frame.coalesce(cores).persist()
        try:
            with translated("listing the landed files of a batch"):
                paths = [row[0] for row in frame.select("path").collect()]
            files: dict[str, list[LandedFile]] = {stream: [] for stream in STREAMS}
            for path in paths:
                found = LandingZone.landed(path)
                if found is not None and found[0] in files:
                    files[found[0]].append(found[1])
            for stream, chosen in files.items():
                done = self.state.done_files(stream, [f.path.name for f in chosen])
                files[stream] = sorted(f for f in chosen if f.path.name not in done)
            names = [f.path.name for chosen in files.values() for f in chosen]
            named = frame.where(f.element_at(f.split("path", "/"), -1).isin(names))
            self._count(spark_batch, files, landed_lines(named), started=started)
        finally:
            frame.unpersist()

    def _broker_batch(self, frame: DataFrame, spark_batch: int) -> None:
        """Count the messages of one Spark batch after the state's offsets (a batch done again
        after a crash finds its messages counted)."""
        with self._state_lock:
            self._count_messages(frame, spark_batch, started=time.monotonic())

    def _count_messages(self, frame: DataFrame, spark_batch: int, *, started: float) -> None:
        from pyspark.sql import functions as f

        offsets = self.state.offsets()
        after = f.lit(False)
        for stream in STREAMS:
            after = after | (
                (f.col("stream") == stream) & (f.col("line_no") >= offsets.get(stream, 1))
            )
        lines = frame.where(after).persist()
        try:
            with translated("reading a batch of messages"):
                ranges = lines.groupBy("stream").agg(f.min("line_no"), f.max("line_no")).collect()
            assert self.broker is not None
            files = {
                str(stream): [
                    LandedFile(int(low), int(high) + 1, Path(self.broker.stream_name(stream)))
                ]
                for stream, low, high in ranges
            }
            self._count(spark_batch, files, lines, started=started)
        finally:
            lines.unpersist()
        self._reached = self.state.offsets()

    def _broker_ends(self) -> dict[str, int]:
        """The sequence after each stream's last message; where the state has reached."""
        assert self.broker is not None
        self._reached = self.state.offsets()
        return {s: self.broker.last_sequence(s) + 1 for s in STREAMS}

    def _count(
        self, spark_batch: int, files: Mapping[str, Sequence[LandedFile]], lines: DataFrame,
        *, started: float,
    ) -> None:  # fmt: skip
        """Commit ``lines`` (``stream, file, line_no, line``: the lines of ``files``)."""
        if not any(files.values()):
            return
        lines.createOrReplaceTempView("landed_lines")
        check = _SparkCheck(self, lines)
        try:
            batch = self.state.commit(files, check, started=started)
        finally:
            check.release()
        self.report.batches.append(batch)
        self.reporter.info(
            f"batch {batch.batch_id} (Spark batch {spark_batch}): {batch.lines:,} events, "
            f"{batch.counted:,} counted, {batch.duplicates:,} repeats, "
            f"{batch.quarantined:,} quarantined ({batch.seconds:.2f} s)"
        )


class _SparkCheck:
    """Decodes and validates a stream's lines on Spark, into the state's ``checked_<stream>``."""

    def __init__(self, processor: SparkStreamProcessor, lines: DataFrame) -> None:
        import ibis

        self.processor = processor
        self.session = lines.sparkSession
        self.con = ibis.pyspark.connect(session=self.session)
        self._cached: list[DataFrame] = []

    def __call__(self, stream: str, now: datetime, clock: datetime | None) -> live.Bounds:
        from pyspark.sql import functions as f

        from c360.engines.spark import frame_of

        processor, state = self.processor, self.processor.state
        sql = VOTE_DECODE_SQL if stream == "votes" else VIEW_DECODE_SQL
        with translated(f"decoding landed {stream}"):
            # Kept: the batch's latest event time is read from it, then every row.
            decoded = self.session.sql(sql.replace("{relation}", "landed_lines")).persist()
            self._cached.append(decoded)
            latest = f.lit(state.latest_allowed(now))
            found = decoded.where(f.col("ts") <= latest).agg(f.max("ts")).first()
        bounds = state.bounds(now=now, clock=clock, found=found[0] if found else None)
        decoded.createOrReplaceTempView(f"decoded_{stream}")
        checked = live.validate_stream(
            stream, self.con.table(f"decoded_{stream}"), bounds=bounds, content=processor.content
        )
        with translated(f"validating landed {stream}"):
            table = frame_of(self.session, checked).toArrow().cast(checked.schema().to_pyarrow())
        self._store(stream, table, bounds)
        return bounds

    def _store(self, stream: str, table: pa.Table, bounds: live.Bounds) -> None:
        """``checked_<stream>`` in the state: Spark's rows, and DuckDB's reading of the lines
        Spark's JSON parser refused but DuckDB's reads (D78)."""
        con = self.processor.state.con
        con.con.register("spark_checked", table)
        try:
            con.raw_sql(f"CREATE OR REPLACE TEMP TABLE checked_{stream} AS FROM spark_checked")
            misread = con.con.execute(
                "SELECT file, line_no FROM spark_checked "
                "WHERE reason = 'malformed_json' AND json_valid(raw)"
            ).fetchall()
        finally:
            con.con.unregister("spark_checked")
        if not misread:
            return
        wanted = {(str(file), int(line)) for file, line in misread}
        # Rare: the lines themselves, from the batch Spark kept.
        from pyspark.sql import functions as f

        rows = (
            self.session.table("landed_lines")
            .where(f.col("stream") == stream)
            .where(f.col("line_no").isin(sorted({line for _, line in wanted})))
            .collect()
        )
        found = [r for r in rows if (r["file"], r["line_no"]) in wanted]
        lines = pa.table(
            {
                "stream": [r["stream"] for r in found], "file": [r["file"] for r in found],
                "line_no": pa.array([r["line_no"] for r in found], pa.int64()),
                "line": [r["line"] for r in found],
            }
        )  # fmt: skip
        con.con.register("misread_lines", lines)
        try:
            sql = DUCKDB_VOTE_SQL if stream == "votes" else DUCKDB_VIEW_SQL
            decoded = con.sql(sql.replace("{relation}", "misread_lines"))
            reread = live.validate_stream(
                stream, decoded, bounds=bounds, content=self.processor.content
            )
            import ibis

            con.raw_sql(
                f"DELETE FROM checked_{stream} USING misread_lines m "
                f"WHERE checked_{stream}.file = m.file AND checked_{stream}.line_no = m.line_no"
            )
            con.raw_sql(
                f"INSERT INTO checked_{stream} BY NAME {ibis.to_sql(reread, dialect='duckdb')}"
            )
        finally:
            con.con.unregister("misread_lines")

    def release(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        self.session.catalog.dropTempView("landed_lines")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "desc", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
