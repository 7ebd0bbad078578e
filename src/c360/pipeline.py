"""The content pipeline: discover → ingest (bronze) → transform (gold) → publish (warehouse).

Engine- and sink-agnostic: it calls the engine for decoding and execution, the pure rules for
every business decision, and the sink to publish. Each stage is idempotent, so a re-run after a
crash completes without duplicates, and a run only ingests files that are new or changed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import ibis.expr.types as ir

from c360.config import C360Config
from c360.console import NullReporter, Reporter
from c360.daily import DAILY_TABLES, DailyContent, DailyLayout, DateGroup, fact_partition
from c360.engines.base import Engine
from c360.errors import InputError, QualityError
from c360.io.files import FileScan, SourceFile, find_content_files, scan
from c360.io.state import FileRecord, IngestState, digest, write_atomic
from c360.quality.checks import (
    InputCounts,
    RunRows,
    foreign_key_probes,
    missing_days,
    reject_rates,
    row_drift,
    table_probes,
)
from c360.quality.records import (
    RUNS_SCHEMA,
    append_history,
    lineage,
    write_history,
)
from c360.quality.runner import QualityRunner
from c360.reports import RunReport
from c360.rules import content as content_rules
from c360.rules import star, unified
from c360.search import SearchPipeline, answers_path, months_path
from c360.sinks.base import Partitioned, Sink, TableFiles, table_paths, table_rows

CONTENT = "content"


@dataclass(frozen=True)
class RunRequest:
    """What to process and where to put it."""

    content: Path
    lake: Path
    start: date | None = None
    end: date | None = None
    search: Path | None = None
    mapping: Path | None = None
    bridge: Path | None = None


class LakeLayout:
    """Where each layer lives inside the lake folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def bronze(self, source: SourceFile) -> Path:
        return (
            self.root / "bronze" / CONTENT / f"date={source.file_date}" / f"{source.name}.parquet"
        )

    def gold(self, table: str) -> Path:
        return self.root / "gold" / f"{table}.parquet"

    @property
    def state(self) -> Path:
        return self.root / "_state" / "ingested_files.parquet"

    def history(self, table: str) -> Path:
        """A run-record history (``pipeline_runs``, ``dq_results``, ``table_lineage``)."""
        return self.root / "_state" / f"{table}.parquet"

    @property
    def bridge(self) -> Path:
        """The last run's contract ↔ user bridge."""
        return self.root / "_state" / "bridge.parquet"

    @property
    def scratch(self) -> Path:
        return self.root / "_tmp"


def new_run_id(now: datetime) -> str:
    """Sortable and unique: ``20220430T101500Z-1a2b3c``."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def rules_hash(config: C360Config) -> str:
    """Fingerprint of the validation settings (a change makes every file ingest again)."""
    return digest(config.content.contract_pattern, config.content.max_duration)


def config_hash(config: C360Config) -> str:
    payload = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class ContentPipeline:
    """Runs the content pipeline with one engine and one sink."""

    def __init__(
        self,
        engine: Engine,
        sink: Sink,
        config: C360Config,
        *,
        reporter: Reporter | None = None,
    ) -> None:
        self.engine = engine
        self.sink = sink
        self.config = config
        self.reporter: Reporter = reporter or NullReporter()
        #: Fingerprint of the settings that decide a row's verdict; a change re-ingests files.
        self.rules_hash = rules_hash(config)

    def run(self, request: RunRequest) -> RunReport:
        now = datetime.now(UTC)
        report = RunReport(run_id=new_run_id(now), started_at=now, lake=request.lake)
        report.warehouse = self.sink.describe()
        layout = LakeLayout(request.lake)
        quality = QualityRunner(
            self.engine, self.config.quality, run_id=report.run_id, reporter=self.reporter
        )
        inputs: dict[str, list[tuple[str, str]]] = {}
        tables: dict[str, TableFiles] = {}
        #: Partition values each partitioned table got from this run (the others are kept).
        fresh: dict[str, list[int]] = {}
        try:
            with self._timed(report, "discover"):
                self.sink.check()
                files = self._discover(request)
            report.files_found = len(files)
            report.window_start = request.start or min(f.file_date for f in files)
            report.window_end = request.end or max(f.file_date for f in files)
            inputs["bronze/content"] = [("file", str(f.path.resolve())) for f in files]
            state = IngestState(layout.state)
            with self._timed(report, "ingest"):
                self._ingest(files, state, layout, report)
                self._check_ingest(files, state, report, quality)
            with self._timed(report, "transform"):
                tables = self._transform(files, state, layout, request, report, fresh)
            if request.search is not None:
                with self._timed(report, "search"):
                    search_tables, report.search = SearchPipeline(
                        self.engine, self.config, reporter=self.reporter
                    ).run(
                        request.search,
                        lake=request.lake,
                        state=state,
                        run_id=report.run_id,
                        start=request.start,
                        end=request.end,
                        mapping=request.mapping,
                        checks=quality,
                    )
                tables.update(search_tables)
                inputs["bronze/search"] = [("folder", f) for f in report.search.folders]
                answers = answers_path(request.lake).relative_to(request.lake)
                inputs["state/keyword_answers"] = [("lake file", str(answers))]
                if request.mapping is not None:
                    inputs["reference/mapping"] = [("file", str(request.mapping.resolve()))]
            else:
                months_path(request.lake).unlink(missing_ok=True)  # nothing to reclassify
            tables["customer_360"] = self._unified(tables, layout, self._bridge(request, layout))
            if request.bridge is not None:
                inputs["reference/bridge"] = [("file", str(request.bridge.resolve()))]
            with self._timed(report, "checks"):
                self._check_tables(tables, quality, fresh=fresh)
                report.rows_out = {name: table_rows(files) for name, files in tables.items()}
                current = RunRows(report.rows_out, _days(report.window_start, report.window_end))
                quality.add(row_drift(current, self._history(layout), self.config.quality))
                quality.enforce()
            # The warehouse copy of the run record says "succeeded": it is published in the same
            # transaction as the tables, so it exists only if they do. The lake's own run
            # history is updated after the publish returns.
            report.status = "succeeded"
            tables["ingested_files"] = write_atomic(state.table(), layout.gold("ingested_files"))
            tables.update(self._records(report, layout, quality, inputs, tables, history=False))
            with self._timed(report, "publish"):
                self.reporter.stage("publish", total=1)
                report.tables = self.sink.publish(tables)
                self.reporter.advance(self.sink.describe())
            self._records(report, layout, quality, inputs, tables, history=True)
        except BaseException as exc:
            report.status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            report.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            try:
                records = self._records(report, layout, quality, inputs, tables, history=True)
                if isinstance(exc, QualityError):
                    # Nothing else is published, but the warehouse shows why (`c360 quality`).
                    self.sink.publish(records)
            except Exception as record_exc:  # never hide the original error
                self.reporter.warn(f"could not record the failed run: {record_exc}")
            raise
        finally:
            report.checks = [r for r, _ in quality.results]
        return report

    # -- checks -----------------------------------------------------------------------------

    def _check_ingest(
        self, files: list[SourceFile], state: IngestState, report: RunReport, quality: QualityRunner
    ) -> None:
        """The window's row counts; reject rate per file and days missing from the window.
        Stops on a failure."""
        cfg = self.config.quality
        records = [state.records[(CONTENT, f.name)] for f in files]
        report.input_files = [f.name for f in files]
        report.rows_read = sum(r.rows_read for r in records)
        report.rows_accepted = sum(r.rows_accepted for r in records)
        report.rows_quarantined = sum(r.rows_quarantined for r in records)
        counts = [
            InputCounts(r.name, r.file_date, r.rows_read, r.rows_quarantined) for r in records
        ]
        quality.add(
            reject_rates(counts, cfg, check="content_reject_rate", stage="ingest", table=CONTENT)
        )
        assert report.window_start is not None and report.window_end is not None
        quality.add(
            missing_days(
                [f.file_date for f in files], report.window_start, report.window_end, cfg,
                check="content_missing_days", stage="ingest", table=CONTENT,
            )
        )  # fmt: skip
        quality.enforce()

    def _check_tables(
        self,
        tables: dict[str, TableFiles],
        quality: QualityRunner,
        *,
        fresh: dict[str, list[int]],
    ) -> None:
        """Keys, references and value domains of every output table, on the engine.

        References from a partitioned table are checked in the partitions this run wrote
        (``fresh``).
        """
        exprs: dict[str, ir.Table] = {}
        new_rows: dict[str, ir.Table] = {}
        for name, files in tables.items():
            if paths := table_paths(files):
                exprs[name] = table = self.engine.read_parquet(paths)
                if isinstance(files, Partitioned) and name in fresh:
                    # Each partition file holds one value: the others are skipped by their
                    # statistics, not read.
                    new_rows[name] = table.filter(table[files.column].isin(fresh[name]))
        probes = [p for name, t in exprs.items() for p in table_probes(name, t, self.config)]
        probes += foreign_key_probes(exprs, fresh=new_rows)
        self.reporter.stage("checks", total=1)
        quality.probe("transform", probes, exprs)
        self.reporter.advance(f"{len(quality.results)} checks")

    def _history(self, layout: LakeLayout) -> list[RunRows]:
        """Rows per table of the earlier successful runs, oldest first."""
        path = layout.history("pipeline_runs")
        if not path.exists():
            return []
        runs = pq.read_table(path)
        if "rows_out" not in runs.column_names:
            return []
        columns = ["status", "rows_out", "window_start", "window_end"]
        return [
            RunRows(json.loads(r["rows_out"]), _days(r["window_start"], r["window_end"]))
            for r in runs.select(columns).to_pylist()
            if r["status"] == "succeeded" and r["rows_out"]
        ]

    # -- stages -----------------------------------------------------------------------------

    def _discover(self, request: RunRequest) -> list[SourceFile]:
        files, misnamed = find_content_files(request.content, start=request.start, end=request.end)
        for path in misnamed:
            self.reporter.warn(f"skipped {path}: the name is not a date (YYYYMMDD.json[.gz])")
        for sources in _by_day(files).values():
            if len(sources) > 1:
                names = ", ".join(s.name for s in sources)
                self.reporter.warn(
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
        return files

    def _ingest(
        self, files: list[SourceFile], state: IngestState, layout: LakeLayout, report: RunReport
    ) -> None:
        todo: list[SourceFile] = []
        for source in files:
            record = state.get(CONTENT, source.name)
            fresh = (
                record is not None
                and (record.size, record.mtime_ns) == (source.size, source.mtime_ns)
                and self._reusable(record, source, layout)
            )
            if fresh:
                report.files_unchanged += 1
            else:
                todo.append(source)
        self.reporter.stage("ingest", total=len(todo))
        if not todo:
            return
        self.engine_prepare()
        # Checksums run in a thread (hashlib releases the GIL) while the engine ingests.
        pool = ThreadPoolExecutor(max_workers=1)
        # Files written to bronze but not yet counted and recorded (a crash re-ingests them).
        pending: list[tuple[SourceFile, FileScan]] = []
        # Plain-text files waiting to be decoded together (engines reading many files at once).
        batch: list[tuple[SourceFile, FileScan]] = []

        def flush(files: list[tuple[SourceFile, FileScan]]) -> None:
            nonlocal pending
            self._write_bronze(files, layout)
            pending += files
            for source, _ in files:
                self.reporter.advance(source.name)
            if len(pending) >= self.engine.dates_per_pass:
                self._record_ingested(pending, state, layout, report)
                pending = []

        try:
            scans: dict[str, Future[FileScan]] = {s.name: pool.submit(scan, s.path) for s in todo}
            for source in todo:
                file_scan = scans[source.name].result()
                record = state.get(CONTENT, source.name)
                if (
                    record is not None
                    and record.checksum == file_scan.checksum
                    and self._reusable(record, source, layout)
                ):
                    # Touched but identical: remember the new mtime, keep the bronze file.
                    state.put(_replace_stat(record, source))
                    report.files_unchanged += 1
                    self.reporter.advance(f"{source.name} unchanged")
                    continue
                if not file_scan.plain_text:
                    flush([(source, file_scan)])  # the exact reader takes one file at a time
                    continue
                batch.append((source, file_scan))
                if len(batch) >= self.engine.files_per_read:
                    flush(batch)
                    batch = []
            if batch:
                flush(batch)
            self._record_ingested(pending, state, layout, report)
        finally:
            # On an error or Ctrl-C, do not wait for the checksums of files not reached.
            pool.shutdown(wait=True, cancel_futures=True)

    def _reusable(self, record: FileRecord | None, source: SourceFile, layout: LakeLayout) -> bool:
        """The recorded ingest still stands: same validation settings and its bronze file exists.

        Callers add the content test: size and mtime, or the checksum.
        """
        return (
            record is not None
            and record.rules_hash == self.rules_hash
            and layout.bronze(source).exists()
        )

    def engine_prepare(self) -> None:
        """Give the engine hints that make decoding cheaper without changing results."""
        self.engine.known_apps = tuple(self.config.content.app_categories)

    def _write_bronze(self, files: list[tuple[SourceFile, FileScan]], layout: LakeLayout) -> None:
        """Decode, validate and write the bronze files of ``files`` (plain-text files, or one
        file for the exact reader) in one pass."""
        cfg = self.config.content
        plain = all(file_scan.plain_text for _, file_scan in files)
        if not plain:
            self.reporter.warn(
                f"{files[0][0].name}: bytes that are not UTF-8 or control bytes; "
                "reading it line by line (slower), bad lines are quarantined"
            )
        sources = [source for source, _ in files]
        decoded = self.engine.decode_content(sources, plain_text=plain)
        validated = content_rules.validate_content(
            decoded, contract_pattern=cfg.contract_pattern, max_duration=cfg.max_duration
        )
        self.engine.write_files(
            validated, "source_file", {source.name: layout.bronze(source) for source in sources}
        )

    def _record_ingested(
        self,
        written: list[tuple[SourceFile, FileScan]],
        state: IngestState,
        layout: LakeLayout,
        report: RunReport,
    ) -> None:
        """Count the lines of files just written to bronze (one query for all of them) and
        record each file: after its data, so a crash before this re-ingests it."""
        if not written:
            return
        bronze = self.engine.read_parquet(
            [layout.bronze(source) for source, _ in written], name="bronze_files"
        )
        counts = {
            row["source_file"]: row
            for row in self.engine.to_pyarrow(content_rules.line_counts(bronze)).to_pylist()
        }
        for source, file_scan in written:
            count = counts.get(source.name, {})
            read, accepted, quarantined = (
                int(count.get(k) or 0) for k in ("rows_read", "rows_accepted", "rows_quarantined")
            )
            self.reporter.info(f"{source.name}: {accepted:,} accepted, {quarantined:,} quarantined")
            state.put(
                FileRecord(
                    source=CONTENT,
                    name=source.name,
                    path=str(source.path.resolve()),
                    file_date=source.file_date,
                    size=source.size,
                    mtime_ns=source.mtime_ns,
                    checksum=file_scan.checksum,
                    rows_read=read,
                    rows_accepted=accepted,
                    rows_quarantined=quarantined,
                    bronze_path=str(layout.bronze(source)),
                    rules_hash=self.rules_hash,
                    run_id=report.run_id,
                    ingested_at=datetime.now(UTC),
                )
            )
            report.files_ingested += 1

    def _transform(
        self,
        files: list[SourceFile],
        state: IngestState,
        layout: LakeLayout,
        request: RunRequest,
        report: RunReport,
        fresh: dict[str, list[int]],
    ) -> dict[str, TableFiles]:
        assert report.window_end is not None  # set by run() before the transform

        daily = DailyContent(
            self.engine,
            DailyLayout(layout.root),
            bronze=layout.bronze,
            mapping=self.config.content.app_categories,
            reporter=self.reporter,
            timed=lambda stage: self._timed(report, f"transform.{stage}"),
        )
        result = daily.run(self._date_groups(files, state))
        report.dates_built = result.dates_built
        report.totals_mode = result.totals_mode
        self.reporter.info(
            f"{result.dates_built} of {len(result.fact)} dates built, totals {result.totals_mode}, "
            f"{result.repeated_ids} id hashes on more than one date"
        )

        out: dict[str, TableFiles] = {}
        steps = 10  # 4 dimensions, profile, 3 daily summaries, top apps, quarantine
        self.reporter.stage("gold", total=steps)
        for name in DAILY_TABLES:
            out[name] = layout.gold(name)
            self._write(name, self.engine.read_parquet(result.daily[name]), layout.gold(name))
        contracts, pairs = (
            self.engine.read_parquet([result.totals[name]])
            for name in ("contract_totals", "device_pairs")
        )
        mapping = self.config.content.app_categories
        days = self.engine.read_parquet([layout.gold("daily_active_contracts")])
        daily_apps = self.engine.read_parquet([layout.gold("daily_app_usage")])
        fact = self.engine.read_parquet([result.fact[day] for day in sorted(result.fact)])
        tables = {
            "dim_contract": star.dim_contract(contracts, pairs),
            "dim_device": star.dim_device(pairs),
            "dim_app": star.dim_app(daily_apps, mapping),
            "dim_date": star.dim_date(days),
            "customer_content_stats": content_rules.profile_contracts(
                contracts, pairs, window_end=report.window_end, profile=self.config.profile
            ),
            "top_apps": star.top_apps(daily_apps, fact),
        }
        for name, expr in tables.items():
            out[name] = layout.gold(name)
            rows_written = self._write(name, expr, layout.gold(name))
            if name == "customer_content_stats":
                report.contracts_profiled = rows_written
        out["fact_usage"] = Partitioned(
            "date_key", {fact_partition(day): path for day, path in result.fact.items()}
        )
        fresh["fact_usage"] = [fact_partition(day) for day in result.built]
        usage_days = self.engine.read_parquet([layout.gold("daily_category_usage")])
        kept = self.engine.to_pyarrow(usage_days.aggregate(n=usage_days.records.sum()))
        report.duplicates = report.rows_accepted - int(kept.column("n")[0].as_py() or 0)

        out["quarantine_content"] = layout.gold("quarantine_content")
        bronze = self.engine.read_parquet([layout.bronze(f) for f in files], line_numbers=True)
        quarantine = content_rules.quarantined_rows(bronze)
        self.engine.write_parquet(quarantine, layout.gold("quarantine_content"))
        quarantine = self.engine.read_parquet([layout.gold("quarantine_content")])
        reasons = self.engine.to_pyarrow(
            quarantine.group_by("reason").aggregate(rows=quarantine.count())
        )
        report.quarantine_reasons = {str(r["reason"]): int(r["rows"]) for r in reasons.to_pylist()}
        self.reporter.advance("quarantine_content")
        return out

    def _date_groups(self, files: list[SourceFile], state: IngestState) -> list[DateGroup]:
        """The window's files grouped by date, each group versioned by its files' checksums."""
        groups = []
        for day, sources in sorted(_by_day(files).items()):
            checksums = [(s.name, state.records[(CONTENT, s.name)].checksum) for s in sources]
            version = digest(checksums, self.rules_hash)
            groups.append(DateGroup(day, tuple(sources), version))
        return groups

    def _bridge(self, request: RunRequest, layout: LakeLayout) -> pa.Table | None:
        """The run's bridge, kept in the lake so that a reclassification rebuilds the same view."""
        if request.bridge is None:
            layout.bridge.unlink(missing_ok=True)
            return None
        if request.search is None:
            self.reporter.warn("--bridge is used with --search only; customer_360 has no search")
        bridge = read_bridge(request.bridge)
        write_atomic(bridge, layout.bridge)
        return bridge

    def _unified(
        self, tables: dict[str, TableFiles], layout: LakeLayout, bridge: pa.Table | None
    ) -> Path:
        """``customer_360``: the content profile, with the search profile through the bridge."""
        profile = self.engine.read_parquet([layout.gold("customer_content_stats")])
        search = tables.get("customer_search_stats")
        stats = self.engine.read_parquet([search]) if isinstance(search, Path) else None
        path = layout.gold("customer_360")
        self._write(
            "customer_360",
            unified.customer_360(
                profile, stats, ibis.memtable(bridge) if bridge is not None else None
            ),
            path,
        )
        return path

    def reclassify(self, lake: Path, *, mapping: dict[str, str]) -> dict[str, int]:
        """Republish the tables that carry a keyword's category after a classification:
        ``keyword_category``, ``search_monthly_top``, ``customer_search_stats``, ``customer_360``.
        ``mapping`` is the user's mapping as the last run used it (it decides first).
        """
        layout = LakeLayout(lake)
        self.sink.check()
        tables: dict[str, TableFiles] = dict(
            SearchPipeline(self.engine, self.config, reporter=self.reporter).reclassify(
                lake, mapping=mapping
            )
        )
        bridge = pq.read_table(layout.bridge) if layout.bridge.exists() else None
        tables["customer_360"] = self._unified(tables, layout, bridge)
        return self.sink.publish(tables)

    def _write(self, name: str, expr: ir.Table, path: Path) -> int:
        start = time.perf_counter()
        rows = self.engine.write_parquet(expr, path)
        self.reporter.info(f"{name}: {rows:,} rows in {time.perf_counter() - start:.1f} s")
        self.reporter.advance(name)
        return rows

    # -- records ----------------------------------------------------------------------------

    def _records(
        self,
        report: RunReport,
        layout: LakeLayout,
        quality: QualityRunner,
        inputs: dict[str, list[tuple[str, str]]],
        tables: dict[str, TableFiles],
        *,
        history: bool,
    ) -> dict[str, TableFiles]:
        """The run's record, check results and lineage, appended to the lake's histories when
        ``history``, and always written as the gold copies that the warehouse publishes."""
        outputs = [n for n in tables if n not in RECORD_TABLES and n != "ingested_files"]
        rows = {
            "pipeline_runs": pa.Table.from_pylist([self._run_row(report, quality)], RUNS_SCHEMA),
            "dq_results": quality.table(),
            "table_lineage": lineage(report.run_id, outputs, inputs=inputs),
        }
        out: dict[str, TableFiles] = {}
        for name, new in rows.items():
            path = layout.history(name)
            full = (
                write_history(path, new, report.run_id)
                if history
                else append_history(path, new, report.run_id)
            )
            out[name] = write_atomic(full, layout.gold(name))
        return out

    def _run_row(self, report: RunReport, quality: QualityRunner) -> dict[str, object]:
        return {
            "run_id": report.run_id,
            "command": "run",
            "engine": self.engine.name,
            "config_hash": config_hash(self.config),
            "window_start": report.window_start,
            "window_end": report.window_end,
            "files_found": report.files_found,
            "files_ingested": report.files_ingested,
            "input_files": json.dumps(report.input_files),
            "rows_read": report.rows_read,
            "rows_accepted": report.rows_accepted,
            "rows_quarantined": report.rows_quarantined,
            "duplicates": report.duplicates,
            "contracts_profiled": report.contracts_profiled,
            "rows_out": json.dumps(report.rows_out, sort_keys=True) if report.rows_out else None,
            "timings": json.dumps({k: round(v, 3) for k, v in report.stages.items()}),
            "step_timings": json.dumps({k: round(v, 3) for k, v in report.steps.items()}),
            "failed_stage": report.failed_stage,
            "checks_failed": len(quality.failures),
            "checks_warned": len(quality.warnings),
            "dq_failures_allowed": bool(quality.failures) and self.config.quality.allow_failures,
            "status": report.status,
            "error": report.error,
            "started_at": report.started_at,
            "finished_at": datetime.now(UTC),
        }

    @contextmanager
    def _timed(self, report: RunReport, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            (report.steps if "." in stage else report.stages)[stage] = seconds


#: The run's own records (published with every run, even one stopped by a check).
RECORD_TABLES = ("pipeline_runs", "dq_results", "table_lineage")


def read_bridge(path: Path) -> pa.Table:
    """The ``contract,user_id`` CSV as text columns; rows missing either value are an error."""
    import pyarrow.csv as pcsv

    if not path.is_file():
        raise InputError(f"bridge {path} does not exist")
    try:
        table = pcsv.read_csv(
            path,
            convert_options=pcsv.ConvertOptions(
                column_types={"contract": pa.string(), "user_id": pa.string()},
                include_columns=["contract", "user_id"],
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, KeyError) as exc:
        raise InputError(
            f"bridge {path}: expected a CSV with columns contract,user_id ({exc})"
        ) from exc
    table = table.set_column(0, "contract", pa.compute.utf8_trim_whitespace(table["contract"]))
    table = table.set_column(1, "user_id", pa.compute.utf8_trim_whitespace(table["user_id"]))
    missing = table["contract"].null_count + table["user_id"].null_count
    if missing:
        raise InputError(f"bridge {path}: {missing} rows lack a contract or a user_id")
    return table


def _by_day(files: list[SourceFile]) -> dict[date, list[SourceFile]]:
    by_day: dict[date, list[SourceFile]] = {}
    for source in files:
        by_day.setdefault(source.file_date, []).append(source)
    return by_day


def _days(start: date | None, end: date | None) -> int:
    """Days in the window [start, end] (0 when unknown)."""
    return (end - start).days + 1 if start and end else 0


def _replace_stat(record: FileRecord, source: SourceFile) -> FileRecord:
    return replace(record, size=source.size, mtime_ns=source.mtime_ns)
