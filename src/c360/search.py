"""The search part of a run: day folders → bronze → the search tables (SPEC 1.2, 2.5–2.6).

Each day folder is normalised once into ``bronze/search/date=D/part.parquet`` (every row with its
event time, effective date, normalised keyword and verdict) and recorded in the ingestion state;
a run reads only new or changed folders. The window's tables are then computed from bronze: search
logs are small (~5 MB a day), so they are recomputed whole, which keeps ``eventID``
de-duplication across days and month boundaries exact.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from c360.config import C360Config
from c360.engines.base import in_passes
from c360.enrich.store import Answer, AnswerStore
from c360.errors import InputError
from c360.io.files import SearchDay, find_search_days, inspect_search_parts
from c360.io.reference import read_keyword_labels
from c360.io.state import FileRecord, IngestState, digest, read_json_state, write_json_atomic
from c360.quality.checks import InputCounts, missing_days, reject_rates, search_probes
from c360.quality.runner import QualityRunner
from c360.reports import SearchReport
from c360.rules import keywords as keyword_rules
from c360.rules import search as search_rules

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from c360.console import Reporter
    from c360.engines.base import Engine

SEARCH = "search"
#: Skip reasons that mark a row as junk (quarantined), not merely as "not a user's search".
JUNK = ("bad_user_id", "no_letters")
#: Search days read in one pass: a day is ~80 k rows, and each pass costs a few queries.
DAYS_PER_PASS = 31
#: The search tables that carry a keyword's category (recomputed after a classification).
CATEGORISED = ("keyword_category", "search_monthly_top", "customer_search_stats")


class SearchPipeline:
    """Ingests search day folders and computes the search tables with one engine."""

    def __init__(self, engine: Engine, config: C360Config, *, reporter: Reporter) -> None:
        self.engine = engine
        self.config = config
        self.reporter = reporter

    def bronze(self, lake: Path, day: SearchDay) -> Path:
        return lake / "bronze" / SEARCH / f"date={day.day}" / "part.parquet"

    def run(
        self,
        folder: Path,
        *,
        lake: Path,
        state: IngestState,
        run_id: str,
        start: date | None,
        end: date | None,
        mapping: Path | None,
        checks: QualityRunner | None = None,
    ) -> tuple[dict[str, Path], SearchReport]:
        report = SearchReport()
        days, skipped = find_search_days(folder, start=start, end=end)
        for path in skipped:
            self.reporter.warn(f"skipped {path}: not a day folder (YYYYMMDD/) with Parquet parts")
        if not days:
            raise InputError(f"no search day folders (YYYYMMDD/ with *.parquet) in {folder}")
        report.days_found = len(days)
        report.folders = tuple(str(d.folder.resolve()) for d in days)
        self._ingest(days, lake, state, run_id, report)

        bronze = self.engine.read_parquet([self.bronze(lake, d) for d in days])
        if checks is not None:
            self._check(days, state, bronze, checks)
        losers = self.engine.materialize(
            search_rules.duplicate_event_losers(bronze), "search_losers"
        )
        searches = self.engine.materialize(
            search_rules.counted_searches(bronze, losers), "counted_searches"
        )
        gold = lake / "gold"
        # Compared: the last two months of the day folders, not of the effective dates (a
        # window's last day spills a few searches into the next month).
        previous, current = _last_two(tuple(sorted({f"{d.day:%Y-%m}" for d in days})))
        decided = decisions(read_keyword_labels(mapping) if mapping else {}, _stored_answers(lake))
        out = self._categorised(
            searches, decided, search_rules.monthly_top(searches), gold,
            previous=previous, current=current,
        )  # fmt: skip
        write_json_atomic({"previous": previous, "current": current}, months_path(lake))
        top = self.engine.read_parquet([out["search_monthly_top"]])
        months = self.engine.to_pyarrow(top.select("month").distinct().order_by("month"))
        report.months = tuple(str(m) for m in months.column("month").to_pylist())

        out["search_quality"] = gold / "search_quality.parquet"
        self.engine.write_parquet(search_quality(bronze, losers), out["search_quality"])
        out["quarantine_search"] = gold / "quarantine_search.parquet"
        junk = bronze.filter(bronze.skip_reason.isin(JUNK))
        self.engine.write_parquet(
            junk.select(
                "file_date", "source_file", "line_no", reason=junk.skip_reason,
                event_id=junk.event_id, user_id=junk.user_id, keyword=junk.keyword,
                datetime=junk.datetime,
            ),
            out["quarantine_search"],
        )  # fmt: skip

        totals = self.engine.to_pyarrow(
            searches.aggregate(n=searches.count(), users=searches.user_id.nunique())
        ).to_pylist()[0]
        report.searches_counted, report.users = int(totals["n"]), int(totals["users"])
        report.rows_read = sum(state.records[(SEARCH, d.name)].rows_read for d in days)
        quality = self.engine.read_parquet([out["search_quality"]])
        skipped_rows = self.engine.to_pyarrow(
            quality.group_by("reason").aggregate(rows=quality.rows.sum())
        )
        report.skipped = {str(r["reason"]): int(r["rows"]) for r in skipped_rows.to_pylist()}
        report.duplicates = report.skipped.get("duplicate_event", 0)
        return out, report

    def _check(
        self, days: list[SearchDay], state: IngestState, bronze: ir.Table, checks: QualityRunner
    ) -> None:
        """Per day: rows not counted as a user's search; days missing; null rates. Stops on a
        failure."""
        cfg = self.config.quality
        records = [state.records[(SEARCH, d.name)] for d in days]
        counts = [
            InputCounts(r.name, r.file_date, r.rows_read, r.rows_read - r.rows_accepted)
            for r in records
        ]
        checks.add(
            reject_rates(counts, cfg, check="search_reject_rate", stage=SEARCH, table=SEARCH)
        )
        checks.add(
            missing_days(
                [d.day for d in days], days[0].day, days[-1].day, cfg,
                check="search_missing_days", stage=SEARCH, table=SEARCH,
            )
        )  # fmt: skip
        checks.probe(SEARCH, search_probes(bronze), {SEARCH: bronze})
        checks.enforce()

    def reclassify(self, lake: Path, *, mapping: dict[str, str]) -> dict[str, Path]:
        """Recompute the category columns of the last run's search tables from the stored
        answers; ``mapping`` (see :func:`mapped_keywords`) still decides first."""
        gold = lake / "gold"
        months = read_json_state(months_path(lake))
        paths = [gold / "keyword_category.parquet", gold / "search_monthly_top.parquet"]
        if not months or not all(p.exists() for p in paths):
            raise InputError(
                f"no search tables in the lake {lake}; run `c360 run --search DIR` first"
            )
        keywords = self.engine.materialize(
            self.engine.read_parquet([paths[0]]).select("keyword_norm"), "keywords_seen"
        )
        top = self.engine.materialize(
            self.engine.read_parquet([paths[1]]).drop("category"), "monthly_top_seen"
        )
        return self._categorised(
            keywords, decisions(mapping, _stored_answers(lake)), top, gold,
            previous=str(months["previous"]), current=str(months["current"]),
        )  # fmt: skip

    def _categorised(
        self,
        searches: ir.Table,
        decided: ir.Table,
        top: ir.Table,
        gold: Path,
        *,
        previous: str,
        current: str,
    ) -> dict[str, Path]:
        """The tables that carry a keyword's category: ``keyword_category``,
        ``search_monthly_top`` and ``customer_search_stats``."""
        out = {name: gold / f"{name}.parquet" for name in CATEGORISED}
        self.engine.write_parquet(
            keyword_rules.keyword_categories(searches, decided), out["keyword_category"]
        )
        categories = self.engine.read_parquet([out["keyword_category"]])
        self.engine.write_parquet(
            search_rules.with_categories(top, categories), out["search_monthly_top"]
        )
        top = self.engine.read_parquet([out["search_monthly_top"]])
        stats = search_rules.taste_change(top, previous=previous, current=current)
        self.engine.write_parquet(stats, out["customer_search_stats"])
        return out

    def _ingest(
        self,
        days: list[SearchDay],
        lake: Path,
        state: IngestState,
        run_id: str,
        report: SearchReport,
    ) -> None:
        todo = []
        for day in days:
            record = state.get(SEARCH, day.name)
            fresh = (
                record is not None
                and record.checksum == day.fingerprint()
                and record.rules_hash == search_rules_hash(self.config)
                and self.bronze(lake, day).exists()
            )
            if not fresh:
                todo.append(day)
        self.reporter.stage("search", total=len(todo))
        for chunk in in_passes(todo, DAYS_PER_PASS):
            self._ingest_days(chunk, lake, state, run_id, report)

    def _ingest_days(
        self,
        days: Sequence[SearchDay],
        lake: Path,
        state: IngestState,
        run_id: str,
        report: SearchReport,
    ) -> None:
        """One pass over the parts of ``days``: normalised, written as each day's bronze file,
        counted per day, recorded."""
        cfg = self.config.search
        started = time.perf_counter()
        for day in days:
            for warning in inspect_search_parts(day, search_rules.SOURCE_COLUMNS):
                self.reporter.warn(warning)
        normalised = search_rules.normalise_search(
            self.engine.decode_search(days),
            user_pattern=cfg.user_pattern,
            placeholders=cfg.placeholders,
        )
        paths = {day.day: self.bronze(lake, day) for day in days}
        self.engine.write_values(normalised.mutate(_part=normalised.file_date), "_part", paths)
        written = self.engine.read_parquet(list(paths.values()), name="bronze_search_pass")
        counts = {
            row["file_date"]: row
            for row in self.engine.to_pyarrow(
                written.group_by("file_date").aggregate(
                    rows=written.count().cast("int64"),
                    counted=written.skip_reason.isnull().sum().cast("int64"),
                    junk=written.skip_reason.isin(JUNK).sum().cast("int64"),
                )
            ).to_pylist()
        }
        seconds = time.perf_counter() - started
        for day in days:
            count = counts.get(day.day, {})
            rows = int(count.get("rows") or 0)
            state.put(
                FileRecord(
                    source=SEARCH,
                    name=day.name,
                    path=str(day.folder.resolve()),
                    file_date=day.day,
                    size=sum(p.stat().st_size for p in day.parts),
                    mtime_ns=max(p.stat().st_mtime_ns for p in day.parts),
                    checksum=day.fingerprint(),
                    rows_read=rows,
                    rows_accepted=int(count.get("counted") or 0),
                    rows_quarantined=int(count.get("junk") or 0),
                    bronze_path=str(paths[day.day]),
                    rules_hash=search_rules_hash(self.config),
                    run_id=run_id,
                    ingested_at=datetime.now(UTC),
                )
            )
            report.days_ingested += 1
            self.reporter.info(
                f"search {day.name}: {rows:,} rows, {len(day.parts)} parts "
                f"({len(days)} days in {seconds:.1f} s)"
            )
            self.reporter.advance(day.name)


def search_rules_hash(config: C360Config) -> str:
    return digest(config.search.user_pattern, list(config.search.placeholders))


def decisions(mapping: dict[str, str], answers: list[Answer]) -> ir.Table:
    """One decision per keyword: the user's mapping first, then stored classifier answers."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    decided = {a.keyword: a for a in answers}
    decided.update({k: Answer(k, c, "mapping", 1.0, "mapping", now) for k, c in mapping.items()})
    rows = list(decided.values())
    return ibis.memtable(
        pa.table(
            {
                "keyword": pa.array([a.keyword for a in rows], pa.string()),
                "category": pa.array([a.category for a in rows], pa.string()),
                "source": pa.array([a.source for a in rows], pa.string()),
                "confidence": pa.array([a.confidence for a in rows], pa.float64()),
                "version": pa.array([a.version for a in rows], pa.string()),
                "decided_at": pa.array([a.decided_at for a in rows], pa.string()),
            }
        )
    )


def answers_path(lake: Path) -> Path:
    """Where classifier answers are kept, durably, between runs."""
    return lake / "_state" / "keyword_answers.sqlite"


def model_path(lake: Path) -> Path:
    """Where ``c360 classify --train-from-llm`` keeps the trained offline classifier."""
    return lake / "_state" / "keyword_model.pickle"


def mapped_keywords(engine: Engine, lake: Path) -> dict[str, str]:
    """The keywords the user's mapping decided in the last run (kept in ``keyword_category``)."""
    path = lake / "gold" / "keyword_category.parquet"
    if not path.exists():
        return {}
    table = engine.read_parquet([path])
    mapped = table.filter(table.source == "mapping").select("keyword_norm", "category")
    rows = engine.to_pyarrow(mapped).to_pylist()
    return {str(r["keyword_norm"]): str(r["category"]) for r in rows}


def months_path(lake: Path) -> Path:
    """The months the last run compared (``customer_search_stats``)."""
    return lake / "_state" / "search_months.json"


def _stored_answers(lake: Path) -> list[Answer]:
    path = answers_path(lake)
    if not path.exists():
        return []
    store = AnswerStore(path)
    try:
        return store.all()
    finally:
        store.close()


def keyword_frequencies(engine: Engine, lake: Path) -> list[str]:
    """Counted keywords of every ingested search day, most searched first (ties by keyword)."""
    days = sorted((lake / "bronze" / SEARCH).glob("date=*/part.parquet"))
    if not days:
        raise InputError(f"no search logs in the lake {lake}; run `c360 run --search DIR` first")
    rows = engine.read_parquet(days)
    counted = rows.filter(rows.skip_reason.isnull())
    ranked = counted.group_by("keyword_norm").aggregate(n=counted.count())
    ranked = ranked.order_by([ibis.desc("n"), "keyword_norm"]).select("keyword_norm")
    return [str(k) for k in engine.to_pyarrow(ranked).column(0).to_pylist()]


def search_quality(rows: ir.Table, losers: ir.Table) -> ir.Table:
    """Per folder date and reason: rows not counted as a user's search (and clock skews)."""
    marked = rows.left_join(losers.mutate(_dup=True), ["source_file", "line_no"])
    reason = ibis.ifelse(marked._dup.notnull(), "duplicate_event", marked.skip_reason)
    labelled = marked.select(file_date=marked.file_date, reason=reason.fill_null("counted"))
    per_reason = labelled.group_by("file_date", "reason").aggregate(
        rows=labelled.count().cast("int64")
    )
    skews = (
        rows.filter(rows.clock_skew)
        .group_by("file_date")
        .aggregate(rows=lambda t: t.count().cast("int64"))
    )
    return per_reason.union(
        skews.mutate(reason=ibis.literal("clock_skew")).select("file_date", "reason", "rows")
    )


def _last_two(months: tuple[str, ...]) -> tuple[str, str]:
    """The previous and current month: the last two present (one month: compared to none)."""
    if not months:
        return "", ""
    if len(months) == 1:
        return "", months[0]
    return months[-2], months[-1]
