"""Search logs: day folders (``YYYYMMDD/`` of Parquet parts) → bronze, one file per day.

Each day folder is normalised once into bronze (every row with its event time, effective date,
normalised keyword and verdict) and recorded in the ledger; a run reads only new or changed
folders (a folder's fingerprint is its parts' names, sizes and mtimes). Days are read up to
:data:`DAYS_PER_PASS` at a time: a day is ~80 k rows, and each pass costs a few queries.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date

from c360.context import SEARCH, Window
from c360.engines.base import in_passes
from c360.errors import InputError
from c360.io.files import SearchDay, find_search_days, inspect_search_parts
from c360.lake.ledger import FileRecord, digest
from c360.quality.checks import search_probes
from c360.reports import SearchReport
from c360.rules import search as search_rules
from c360.sources.base import Counts, Source

DAYS_PER_PASS = 31


class SearchDays(Source[SearchDay]):
    """The window's search day folders."""

    name = SEARCH

    def rules_version(self) -> str:
        cfg = self.ctx.config.search
        return digest(cfg.user_pattern, list(cfg.placeholders), search_rules.SKIP_REASONS)

    @staticmethod
    def day(item: SearchDay) -> date:
        return item.day

    @staticmethod
    def key(item: SearchDay) -> str:
        return item.name

    @staticmethod
    def rejected(record: FileRecord) -> int:
        return record.rows_read - record.rows_accepted

    def discover(self) -> list[SearchDay]:
        request, reporter = self.ctx.request, self.ctx.reporter
        if request.search is None:
            raise InputError("no search folder given (--search DIR)")
        days, skipped = find_search_days(request.search, start=request.start, end=request.end)
        for entry in skipped:
            reporter.warn(str(entry))
        if not days:
            raise InputError(
                f"no search day folders (YYYYMMDD/ with *.parquet) in {request.search}"
            )
        self.ctx.report.search = SearchReport(
            days_found=len(days), folders=tuple(str(d.folder.resolve()) for d in days)
        )
        self.ctx.search_days = [d.name for d in days]
        self.ctx.inputs["bronze/search"] = [("folder", f) for f in self.ctx.report.search.folders]
        return days

    def unchanged(self, item: SearchDay) -> bool:
        record = self.recorded(item.name, self.ctx.lake.bronze(SEARCH, item.day))
        return record is not None and record.checksum == item.fingerprint()

    def write(self, todo: Sequence[SearchDay]) -> None:
        self.ctx.reporter.stage("search", total=len(todo))
        for chunk in in_passes(todo, DAYS_PER_PASS):
            self._write_days(chunk)

    def _write_days(self, days: Sequence[SearchDay]) -> None:
        """One pass over the parts of ``days``: normalised, written as each day's bronze file,
        counted per day, recorded."""
        ctx, cfg = self.ctx, self.ctx.config.search
        engine = ctx.engine
        started = time.perf_counter()
        readable = []
        for day in days:
            # The day as read (parts without columns left out); its record keeps every part.
            kept, warnings = inspect_search_parts(day, search_rules.SOURCE_COLUMNS)
            readable.append(kept)
            for warning in warnings:
                ctx.reporter.warn(warning)
        normalised = search_rules.normalise_search(
            engine.decode_search(readable), user_pattern=cfg.user_pattern,
            placeholders=cfg.placeholders,
        )  # fmt: skip
        paths = {day.day: ctx.lake.bronze(SEARCH, day.day) for day in days}
        engine.write_values(normalised.mutate(_part=normalised.file_date), "_part", paths)
        written = engine.read_parquet(list(paths.values()), name="bronze_search_pass")
        counts = {
            row["file_date"]: row
            for row in engine.to_pyarrow(
                written.group_by("file_date").aggregate(
                    rows=written.count().cast("int64"),
                    counted=written.skip_reason.isnull().sum().cast("int64"),
                    junk=written.skip_reason.isin(search_rules.JUNK).sum().cast("int64"),
                )
            ).to_pylist()
        }
        seconds = time.perf_counter() - started
        assert ctx.report.search is not None  # set by discover()
        for day in days:
            count = counts.get(day.day, {})
            rows = int(count.get("rows") or 0)
            self.record(
                day.name, path=day.folder, day=day.day,
                size=sum(p.stat().st_size for p in day.parts),
                mtime_ns=max(p.stat().st_mtime_ns for p in day.parts),
                checksum=day.fingerprint(),
                counts=Counts(rows, int(count.get("counted") or 0), int(count.get("junk") or 0)),
                bronze=paths[day.day],
            )  # fmt: skip
            ctx.report.search.days_ingested += 1
            ctx.reporter.info(
                f"search {day.name}: {rows:,} rows, {len(day.parts)} parts "
                f"({len(days)} days in {seconds:.1f} s)"
            )
            ctx.reporter.advance(day.name)

    def summarise(self, items: Sequence[SearchDay], records: Sequence[FileRecord]) -> None:
        assert self.ctx.report.search is not None  # set by discover()
        self.ctx.report.search.rows_read = sum(r.rows_read for r in records)

    def extra_checks(self, window: Window) -> None:
        """Null rates of the window's search rows."""
        ctx = self.ctx
        bronze = ctx.engine.read_parquet([ctx.lake.bronze(SEARCH, d) for d in window.dates])
        ctx.quality.probe(ctx.stage or "ingest", search_probes(bronze), {SEARCH: bronze})
