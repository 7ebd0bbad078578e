"""Content logs: daily NDJSON files (``YYYYMMDD.json[.gz]``) → bronze, one file per input file.

A file is new or changed when its size or mtime differ from the ledger's and then its checksum
does; checksums run in a thread (hashlib releases the GIL) while the engine decodes. Every line
of a written file is in bronze with its verdict; the file is recorded in the ledger after its
data, so a crash re-ingests at most the files not yet recorded (their bronze is replaced).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

from c360.context import CONTENT
from c360.errors import InputError
from c360.io.files import FileScan, SourceFile, find_content_files, scan
from c360.lake.ledger import FileRecord, digest
from c360.rules import content as content_rules
from c360.sources.base import Counts, Source

#: Files written to bronze are counted and recorded together (one query), at the latest once
#: this many bytes were read: a crash re-reads at most about two full days.
RECORD_AFTER_BYTES = 512 << 20


class ContentFiles(Source[SourceFile]):
    """The window's content files."""

    name = CONTENT

    def rules_version(self) -> str:
        cfg = self.ctx.config.content
        return digest(
            cfg.contract_pattern, cfg.max_duration, cfg.max_line_bytes, content_rules.REASONS
        )

    @staticmethod
    def day(item: SourceFile) -> date:
        return item.file_date

    @staticmethod
    def key(item: SourceFile) -> str:
        return item.name

    @staticmethod
    def rejected(record: FileRecord) -> int:
        return record.rows_quarantined

    def discover(self) -> list[SourceFile]:
        request, reporter = self.ctx.request, self.ctx.reporter
        if request.content is None:
            raise InputError("no content folder given (--content DIR)")
        files, skipped = find_content_files(request.content, start=request.start, end=request.end)
        for entry in skipped:
            reporter.warn(str(entry))
        by_day: dict[date, list[SourceFile]] = {}
        for source in files:
            by_day.setdefault(source.file_date, []).append(source)
        for sources in by_day.values():
            if len(sources) > 1:
                names = ", ".join(s.name for s in sources)
                reporter.warn(
                    f"{len(sources)} files for one day ({names}): all are read, and a repeated "
                    "_id counts once"
                )
        if not files:
            window = ""
            if request.start or request.end:
                window = f" between {request.start or '…'} and {request.end or '…'}"
            raise InputError(
                f"no content files (YYYYMMDD.json or .json.gz) in {request.content}{window}"
            )
        self.ctx.inputs["bronze/content"] = [("file", str(f.path.resolve())) for f in files]
        return files

    def unchanged(self, item: SourceFile) -> bool:
        record = self.recorded(item.name, self.ctx.lake.bronze(CONTENT, item.file_date, item.name))
        fresh = record is not None and (record.size, record.mtime_ns) == (item.size, item.mtime_ns)
        if fresh:
            self.ctx.report.files_unchanged += 1
        return fresh

    def write(self, todo: Sequence[SourceFile]) -> None:
        ctx = self.ctx
        ctx.reporter.stage("ingest", total=len(todo))
        if not todo:
            return
        # A hint that makes decoding cheaper without changing results.
        ctx.engine.known_apps = tuple(ctx.config.content.app_categories)
        pool = ThreadPoolExecutor(max_workers=1)
        # Files written to bronze but not yet counted and recorded (a crash re-ingests them).
        pending: list[tuple[SourceFile, FileScan]] = []
        # Plain-text files waiting to be decoded together (engines reading many files at once).
        batch: list[tuple[SourceFile, FileScan]] = []

        def flush(files: list[tuple[SourceFile, FileScan]]) -> None:
            nonlocal pending
            self._write_bronze(files)
            pending += files
            for source, _ in files:
                ctx.reporter.advance(source.name)
            written = sum(source.size for source, _ in pending)
            if len(pending) >= ctx.engine.dates_per_pass or written >= RECORD_AFTER_BYTES:
                self._record(pending)
                pending = []

        try:
            limit = ctx.config.content.max_line_bytes
            scans: dict[str, Future[FileScan]] = {
                s.name: pool.submit(scan, s.path, long_line=limit) for s in todo
            }
            for source in todo:
                file_scan = scans[source.name].result()
                bronze = ctx.lake.bronze(CONTENT, source.file_date, source.name)
                record = self.recorded(source.name, bronze)
                if record is not None and record.checksum == file_scan.checksum:
                    # Touched but identical: remember the new mtime, keep the bronze file.
                    ctx.ledger.put(replace(record, size=source.size, mtime_ns=source.mtime_ns))
                    ctx.report.files_unchanged += 1
                    ctx.reporter.advance(f"{source.name} unchanged")
                    continue
                if _why_exact(source, file_scan, limit):
                    flush([(source, file_scan)])  # the exact reader takes one file at a time
                    continue
                batch.append((source, file_scan))
                if len(batch) >= ctx.engine.files_per_read:
                    flush(batch)
                    batch = []
            if batch:
                flush(batch)
            self._record(pending)
        finally:
            # On an error or Ctrl-C, do not wait for the checksums of files not reached.
            pool.shutdown(wait=True, cancel_futures=True)

    def _write_bronze(self, files: list[tuple[SourceFile, FileScan]]) -> None:
        """Decode, validate and write the bronze files of ``files`` (plain-text files, or one
        file for the exact reader) in one pass."""
        ctx, cfg = self.ctx, self.ctx.config.content
        why = _why_exact(*files[0], cfg.max_line_bytes)
        if why:
            ctx.reporter.warn(
                f"{files[0][0].name}: {why}; reading it line by line (slower), bad lines are "
                "quarantined"
            )
        sources = [source for source, _ in files]
        targets = self._decode_and_write(sources, plain_text=not why)
        # An engine whose JSON parser is stricter than the rules' reads such files again (D78).
        misread = ctx.engine.misread_json(targets)
        for source in (s for s in sources if s.name in misread):
            ctx.reporter.info(f"{source.name}: JSON that only a lenient parser reads; read again")
            self._decode_and_write([source], reference_json=True)

    def _decode_and_write(
        self, sources: list[SourceFile], *, plain_text: bool = False, reference_json: bool = False
    ) -> dict[str, Path]:
        ctx, cfg = self.ctx, self.ctx.config.content
        decoded = ctx.engine.decode_content(
            sources,
            plain_text=plain_text,
            max_line_bytes=cfg.max_line_bytes,
            reference_json=reference_json,
        )
        validated = content_rules.validate_content(
            decoded, contract_pattern=cfg.contract_pattern, max_duration=cfg.max_duration
        )
        targets = {s.name: ctx.lake.bronze(CONTENT, s.file_date, s.name) for s in sources}
        ctx.engine.write_files(validated, "source_file", targets)
        return targets

    def _record(self, written: list[tuple[SourceFile, FileScan]]) -> None:
        """Count the lines of files just written to bronze (one query for all of them) and
        record each file: after its data, so a crash before this re-ingests it."""
        if not written:
            return
        ctx = self.ctx
        paths = {s.name: ctx.lake.bronze(CONTENT, s.file_date, s.name) for s, _ in written}
        bronze = ctx.engine.read_parquet(list(paths.values()), name="bronze_files")
        counts = {
            row["source_file"]: row
            for row in ctx.engine.to_pyarrow(content_rules.line_counts(bronze)).to_pylist()
        }
        for source, file_scan in written:
            count = counts.get(source.name, {})
            read, accepted, quarantined = (
                int(count.get(k) or 0) for k in ("rows_read", "rows_accepted", "rows_quarantined")
            )
            ctx.reporter.info(f"{source.name}: {accepted:,} accepted, {quarantined:,} quarantined")
            self.record(
                source.name, path=source.path, day=source.file_date, size=source.size,
                mtime_ns=source.mtime_ns, checksum=file_scan.checksum,
                counts=Counts(read, accepted, quarantined), bronze=paths[source.name],
            )  # fmt: skip
            ctx.report.files_ingested += 1

    def summarise(self, items: Sequence[SourceFile], records: Sequence[FileRecord]) -> None:
        report, window = self.ctx.report, self.ctx.windows[CONTENT]
        report.files_found = len(items)
        report.window_start, report.window_end = window.first, window.last
        report.input_files = [item.name for item in items]
        report.rows_read = sum(r.rows_read for r in records)
        report.rows_accepted = sum(r.rows_accepted for r in records)
        report.rows_quarantined = sum(r.rows_quarantined for r in records)


def _why_exact(source: SourceFile, file_scan: FileScan, limit: int) -> str | None:
    """Why a file needs the exact line splitter (None: the engine's fast reader takes it)."""
    if not file_scan.plain_text:
        return "bytes that are not UTF-8 or control bytes"
    if file_scan.long_line:
        return f"a line of about {limit // 2:,} bytes or more (lines over {limit:,} are refused)"
    if not source.usual_name:
        return "the suffix is not in lower case (.json, .json.gz)"
    return None
