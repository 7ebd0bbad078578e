"""The micro-batch processor: landed events → ``live_leaderboard`` and ``live_usage``, each
event counted exactly once.

Every trigger takes the landed files after the checkpoint (at most ``max_batch_events``), and
in **one transaction** of its state database (DuckDB, under the landing zone's
``_checkpoint/``): decodes and validates them (the quarantine keeps each rejected line with its
reason), drops ids counted before (kept for the maximum age, D97) and repeats inside the batch,
adds the rest to the running totals and the window state, and moves the checkpoint past the
files. A ``kill -9`` at any point either loses the whole batch (it is done again) or none of it.

The counting, the checkpoint and the publish are the stream state's (:mod:`c360.stream.state`),
shared with the Spark processor; this module is the DuckDB engine's loop: which lines a batch
takes (landed files, or JetStream messages after the state's sequences) and their decoding.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from c360.engines.duckdb import VIEW_DECODE_SQL, VOTE_DECODE_SQL
from c360.rules import live
from c360.stream.landing import LandedFile, LandingZone
from c360.stream.state import STREAMS, BatchReport, Processor, ProcessReport

if TYPE_CHECKING:
    from c360.stream.broker import JetStreamLanding


class StreamProcessor(Processor):
    """Processes the landing zone's streams (or JetStream's) into the live tables on DuckDB."""

    def __init__(self, landing: LandingZone, **where: Any) -> None:
        super().__init__(landing, **where)
        #: The broker was away at the last trigger (said once).
        self._source_away = False

    # -- the loop ---------------------------------------------------------------------------

    def run(
        self, *, trigger_s: float = 2.0, once: bool = False, max_seconds: float | None = None,
        stop: Any = None,
    ) -> ProcessReport:  # fmt: skip
        report = ProcessReport()
        started = time.monotonic()
        while not (stop is not None and stop.is_set()):
            tick = time.monotonic()
            self.state.publish_pending()
            try:
                batch = self.process_batch()
            except ConnectionError as exc:  # a broker away: nothing was read, nothing is lost
                if once:
                    raise
                if not self._source_away:
                    self.reporter.warn(f"{exc}; trying again at every trigger")
                self._source_away = True
                batch = None
            else:
                if self._source_away:
                    self.reporter.info("the broker answers again")
                self._source_away = False
            if batch is not None:
                report.batches.append(batch)
                self.reporter.info(
                    f"batch {batch.batch_id}: {batch.lines:,} events, {batch.counted:,} counted, "
                    f"{batch.duplicates:,} repeats, {batch.quarantined:,} quarantined "
                    f"({batch.seconds:.2f} s)"
                )
                if once:
                    continue  # more may be landed than one batch takes
            elif once:
                break
            if max_seconds is not None and time.monotonic() - started >= max_seconds:
                break
            wait = trigger_s - (time.monotonic() - tick)
            if wait > 0:
                if stop is not None:
                    stop.wait(wait)
                else:
                    time.sleep(wait)
        report.seconds = time.monotonic() - started
        return report

    def process_batch(self) -> BatchReport | None:
        """Commit one micro-batch and publish the live tables; None when nothing is landed."""
        started = time.monotonic()
        offsets = self.state.offsets()
        limit = self.settings.max_batch_events
        if self.broker is not None:
            return self._broker_batch(self.broker, offsets, limit, started=started)
        files = {s: self.landing.pending(s, offsets.get(s, 0), limit=limit) for s in STREAMS}
        if not any(files.values()):
            return None
        return self._commit_lines(files, _read_lines(files), started=started)

    def _broker_batch(
        self, broker: JetStreamLanding, offsets: Mapping[str, int], limit: int, *, started: float
    ) -> BatchReport | None:
        """A micro-batch of the messages after the checkpoint's sequence of each stream."""
        read = {s: broker.read(s, max(1, offsets.get(s, 1)), limit=limit) for s in STREAMS}
        batches = {s: b for s, b in read.items() if b is not None}
        if not batches:
            return None
        # A run of sequences plays the part of a landed file.
        files = {
            s: [LandedFile(b.first, b.next, Path(broker.stream_name(s)))]
            for s, b in batches.items()
        }
        lines = pa.concat_tables(b.lines for b in batches.values())
        return self._commit_lines(files, lines, started=started)

    def _commit_lines(
        self, files: Mapping[str, Sequence[LandedFile]], lines: pa.Table, *, started: float
    ) -> BatchReport:
        """Commit ``lines`` (``stream, file, line_no, line``), the lines of ``files``."""
        con = self.state.con.con
        con.register("landed_lines", lines)
        try:
            return self.state.commit(files, self._check_landed, started=started)
        finally:
            con.unregister("landed_lines")

    def _check_landed(self, stream: str, now: datetime, clock: datetime | None) -> live.Bounds:
        """Decode and validate one stream's landed lines (``landed_lines``) on DuckDB."""
        sql = VOTE_DECODE_SQL if stream == "votes" else VIEW_DECODE_SQL
        return self.state.check_decoded(
            stream, sql.replace("{relation}", "landed_lines"), now, clock
        )


def _read_lines(files: Mapping[str, Sequence[LandedFile]]) -> pa.Table:
    """Every line of ``files`` but blank ones as ``stream, file, line_no, line`` (bytes that
    are not UTF-8 replaced)."""
    parts = []
    for stream, chosen in files.items():
        for landed in chosen:
            lines = landed.path.read_bytes().split(b"\n")
            if lines and not lines[-1]:
                lines.pop()
            raw = pa.array(lines, pa.binary())
            try:
                text = raw.cast(pa.string())
            except pa.ArrowInvalid:
                text = pa.array([line.decode("utf-8", "replace") for line in lines], pa.string())
            count = len(lines)
            table = pa.table(
                {
                    "stream": pa.repeat(stream, count),
                    "file": pa.repeat(landed.path.name, count),
                    "line_no": pa.array(range(1, count + 1), pa.int64()),
                    "line": text,
                }
            )
            parts.append(table.filter(pc.not_equal(pc.utf8_trim_whitespace(text), "")))
    if not parts:
        return pa.table({"stream": [], "file": [], "line_no": pa.array([], pa.int64()), "line": []})
    return pa.concat_tables(parts)
